"""校验规则: the rules that apply to my org in a year (own and inherited), and my org's budgeting settings."""

import asyncio

import reflex as rx

from components import tokens
from components.widgets import labelled, severity_badge
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.services import budget_settings, rules
from hbbudget.services.errors import ValidationError
from hbbudget.services.permissions import UserContext
from state import args
from state.guard import guarded

from .base import app_page

KINDS = rules.KINDS
SEVERITIES = rules.SEVERITIES


def _years() -> list[str]:
    this = current_fiscal_year()
    return [str(y) for y in range(this + 2, this - 3, -1)]


class RulesState(rx.State):
    year: str = str(current_fiscal_year() + 1)
    years: list[str] = _years()
    org_name: str = ""
    rows: list[dict[str, str]] = []
    new_kind: str = "share_cap"
    form_key: int = 0
    require_targets: bool = True
    code_pattern: str = ""
    finance_bureau: bool = False
    inherited_settings: bool = False
    _rule_ids: list[int] = []
    _editable_ids: list[int] = []

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(rules.list_rules, ctx, ctx.org_id, int(self.year))
        self._rule_ids = [r["id"] for r in rows]
        self._editable_ids = [r["id"] for r in rows if r.get("editable") and not r.get("inherited")]
        self.rows = [{"id": str(r["id"]), "name": str(r["name"]), "kind_label": str(r["kind_label"]),
                      "severity": str(r["severity"]), "severity_label": str(r["severity_label"]),
                      "description": str(r.get("description", "")), "org_name": str(r["org_name"]),
                      "active": "1" if r.get("active") else "",
                      "own": "1" if r["id"] in self._editable_ids else ""} for r in rows]

    async def _load_settings(self, ctx: UserContext) -> None:
        s = await asyncio.to_thread(budget_settings.get, ctx, ctx.org_id)
        self.require_targets, self.code_pattern = bool(s["require_targets"]), str(s["code_pattern"])
        self.finance_bureau, self.inherited_settings = bool(s["finance_bureau"]), bool(s["inherited"])
        self.form_key += 1

    @rx.event
    @guarded("budget.rules")
    async def load(self, ctx: UserContext):
        self.org_name = ctx.org_name
        await self._refresh(ctx)
        await self._load_settings(ctx)

    @rx.event
    @guarded("budget.rules")
    async def choose_year(self, ctx: UserContext, year: str):
        self.year = str(args.as_year(year))
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.rules")
    async def choose_kind(self, ctx: UserContext, kind: str):
        self.new_kind = args.as_choice(kind, KINDS, "规则类型")

    @rx.event
    @guarded("budget.rules")
    async def create(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        kind = args.as_choice(self.new_kind, KINDS, "规则类型")
        severity = args.as_choice(data.get("severity") or "error", SEVERITIES, "严重程度")
        name = args.field(data, "name", "规则名称", 64)
        params = {p: args.field(data, f"{kind}__{p}", KINDS[kind].params[p].label, 200) for p in KINDS[kind].params}
        await asyncio.to_thread(rules.create_rule, ctx, ctx.org_id, int(self.year), kind, severity,
                                {k: v for k, v in params.items() if v}, name)
        self.form_key += 1
        await self._refresh(ctx)
        return rx.toast.success("规则已添加")

    def _own(self, rule_id: object) -> int:
        rid = args.as_id(rule_id, "规则")
        if rid not in self._editable_ids:
            raise ValidationError("只能修改本单位的规则")
        return rid

    @rx.event
    @guarded("budget.rules")
    async def toggle(self, ctx: UserContext, rule_id: str, active: bool):
        if not isinstance(active, bool):
            raise ValidationError("启用状态无效")
        await asyncio.to_thread(rules.update_rule, ctx, self._own(rule_id), {"active": active})
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.rules")
    async def remove(self, ctx: UserContext, rule_id: str):
        await asyncio.to_thread(rules.delete_rule, ctx, self._own(rule_id))
        await self._refresh(ctx)
        return rx.toast.success("规则已删除")

    @rx.event
    @guarded("budget.rules")
    async def save_settings(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        pattern = args.field(data, "code_pattern", "项目编码规则", 64, required=True)
        await asyncio.to_thread(budget_settings.update, ctx, ctx.org_id,
                                require_targets=data.get("require_targets") in ("on", True, "true"),
                                code_pattern=pattern,
                                finance_bureau=data.get("finance_bureau") in ("on", True, "true"))
        await self._load_settings(ctx)
        return rx.toast.success("设置已保存")


S = RulesState


def _param_fields(kind: str) -> rx.Component:
    return rx.hstack(*[labelled(p.label + ("" if p.required else "（可选）"), rx.input(
        name=f"{kind}__{name}", default_value=p.default, max_length=200, width="12em",
        placeholder={"econ": "如 302", "econ_or_total": "total 或 302", "percent": "如 30",
                     "econ_list": "逗号分隔"}.get(p.type, ""), id=f"param-{kind}-{name}"))
        for name, p in KINDS[kind].params.items()], style=tokens.TOOLBAR)


@app_page(routes.RULES, "校验规则", on_load=RulesState.load)
def rules_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(labelled("单位", rx.text(S.org_name, weight="bold")),
                  labelled("预算年度", rx.select(S.years, value=S.year, on_change=S.choose_year)),
                  spacing="5", align="end"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("规则", "类型", "程度", "内容", "制定单位", "启用", "")])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(r["name"]), rx.table.cell(r["kind_label"]),
                rx.table.cell(severity_badge(r["severity"], r["severity_label"])),
                rx.table.cell(r["description"]), rx.table.cell(r["org_name"]),
                rx.table.cell(rx.switch(checked=r["active"] == "1", disabled=r["own"] != "1",
                                        on_change=lambda v: S.toggle(r["id"], v))),
                rx.table.cell(rx.cond(r["own"] == "1", rx.icon_button(
                    rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                    on_click=S.remove(r["id"])))),
            ))),
            variant="surface", size="1", width="100%", id="rules-table",
        ),
        rx.text("内置规则（科目有效、金额为正、用款计划平衡、不超控制数、项目已入库）在未配置同类规则时按“错误”执行。",
                size="1", color_scheme="gray"),
        rx.box(rx.vstack(
            rx.heading("添加规则", size="3"),
            rx.form(rx.vstack(
                rx.hstack(
                    labelled("规则类型", rx.select.root(
                        rx.select.trigger(width="12em"),
                        rx.select.content(*[rx.select.item(k.label, value=code) for code, k in KINDS.items()]),
                        value=S.new_kind, on_change=S.choose_kind)),
                    labelled("程度", rx.select.root(
                        rx.select.trigger(width="13em"),
                        rx.select.content(rx.select.item("错误（阻止上报）", value="error"),
                                          rx.select.item("警告（上报须说明）", value="warning")),
                        name="severity", default_value="error")),
                    labelled("名称（可选）", rx.input(name="name", max_length=64, width="14em")),
                    style=tokens.TOOLBAR,
                ),
                rx.match(S.new_kind, *[(k, _param_fields(k)) for k in KINDS], rx.fragment()),
                rx.button("添加规则", type="submit", id="add-rule"),
                spacing="3"), on_submit=S.create, reset_on_submit=False, key=S.form_key.to_string()),
            spacing="2"), style=tokens.PANEL, width="100%"),
        rx.box(rx.vstack(
            rx.heading("编制设置", size="3"),
            rx.cond(S.inherited_settings, rx.text("当前沿用上级单位的设置；保存后本单位单独设置。", size="1",
                                                  color_scheme="gray")),
            rx.form(rx.vstack(
                rx.checkbox("项目申报须填报绩效目标", name="require_targets", default_checked=S.require_targets),
                rx.checkbox("本单位为财政部门（审核链终点）", name="finance_bureau", default_checked=S.finance_bureau),
                labelled("项目编码规则（占位符 {region} {org} {year} {cat} {seq} {seq:N}）",
                         rx.input(name="code_pattern", default_value=S.code_pattern, max_length=64, width="20em")),
                rx.button("保存设置", type="submit", variant="soft"),
                spacing="3"), on_submit=S.save_settings, reset_on_submit=False, key=S.form_key.to_string()),
            spacing="2"), style=tokens.PANEL, width="100%"),
        spacing="4", width="100%",
    )
