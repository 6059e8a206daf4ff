"""校验规则: the rules that apply to a chosen org (mine or one in my budget.rules scope) in a year, own and
inherited, with add / edit (severity, parameters) / switch / delete; and that org's budgeting settings."""

import asyncio

import reflex as rx

from components import tokens
from components.table import row_table
from components.widgets import labelled, severity_badge
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import rules, settings
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

KINDS = rules.KINDS
SEVERITIES = rules.SEVERITIES
_PLACEHOLDERS = {"econ": "如 302", "econ_or_total": "预算总额 或 302", "percent": "如 30", "econ_list": "逗号分隔"}


def _years() -> list[str]:
    this = current_fiscal_year()
    return [str(y) for y in range(this + 2, this - 3, -1)]


def _shown(value: str) -> str:
    """A parameter as the form shows it: the stored base "total" is 预算总额."""
    return "预算总额" if value == "total" else value


def _params_text(params: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in (params or {}).items()}


class RulesState(rx.State):
    year: str = str(current_fiscal_year() + 1)
    years: list[str] = _years()
    org_name: str = ""  # the chosen org's name
    org_id: str = ""  # the org whose rules and budgeting settings are shown and configured
    orgs: list[dict[str, str]] = []  # {id, label}: orgs in my budget.rules scope
    rows: list[dict[str, str]] = []
    # edit dialog
    edit_id: str = ""
    edit_title: str = ""
    edit_kind: str = ""
    edit_name: str = ""
    edit_severity: str = "error"
    edit_integrity: bool = False
    edit_params: list[dict[str, str]] = []  # {name, label, value, placeholder}
    edit_key: int = 0
    new_kind: str = "share_cap"
    form_key: int = 0
    require_targets: bool = True
    code_pattern: str = ""
    finance_bureau: bool = False
    inherited_settings: bool = False
    _rule_ids: list[int] = []
    _editable_ids: list[int] = []
    _org_ids: list[int] = []
    _org_names: dict[int, str] = {}
    _raw: dict = {}  # rule id → the service row (kind, name, severity, params) for the edit dialog

    @rx.var
    def new_integrity(self) -> bool:
        return self.new_kind in rules.INTEGRITY

    def _oid(self) -> int:
        return int(self.org_id) if self.org_id else 0

    async def _load_orgs(self, ctx: UserContext) -> None:
        found = await asyncio.to_thread(rules.rule_orgs, ctx)
        self._org_ids = [o["id"] for o in found]
        self._org_names = {o["id"]: str(o["name"]) for o in found}
        self.orgs = [{"id": str(o["id"]), "label": "— " * int(o["depth"]) + str(o["name"])} for o in found]
        if self._oid() not in self._org_ids:
            self.org_id = str(ctx.org_id if ctx.org_id in self._org_ids else (self._org_ids or [""])[0])
        self.org_name = self._org_names.get(self._oid(), "")

    async def _refresh(self, ctx: UserContext) -> None:
        self.edit_id = ""
        rows = await asyncio.to_thread(rules.list_rules, ctx, self._oid(), int(self.year))
        self._rule_ids = [r["id"] for r in rows]
        self._editable_ids = [r["id"] for r in rows if r.get("editable") and not r.get("inherited")]
        self._raw = {r["id"]: {"kind": r["kind"], "name": r["name"], "severity": r["severity"],
                               "params": r.get("params") or {}} for r in rows if r["id"] in self._editable_ids}
        self.rows = [{"id": str(r["id"]), "name": str(r["name"]), "kind_label": str(r["kind_label"]),
                      "severity": str(r["severity"]), "severity_label": str(r["severity_label"]),
                      "description": str(r.get("description", "")), "org_name": str(r["org_name"]),
                      "active": "1" if r.get("active") else "",
                      "ignored": "1" if r.get("ignored") else "",
                      "own": "1" if r["id"] in self._editable_ids else ""} for r in rows]

    async def _load_settings(self, ctx: UserContext) -> None:
        s = await asyncio.to_thread(settings.get, ctx, self._oid())
        self.require_targets, self.code_pattern = bool(s["require_targets"]), settings.display_pattern(str(s["code_pattern"]))
        self.finance_bureau, self.inherited_settings = bool(s["finance_bureau"]), bool(s["inherited"])
        self.form_key += 1

    @rx.event
    @guarded("budget.rules")
    async def load(self, ctx: UserContext):
        await self._load_orgs(ctx)
        await self._refresh(ctx)
        await self._load_settings(ctx)

    @rx.event
    @guarded("budget.rules")
    async def choose_org(self, ctx: UserContext, org_id: str):
        oid = args.offered_id(org_id, self._org_ids, "单位", "该单位不在您可配置校验规则的范围内")
        before, self.org_id = self.org_id, str(oid)
        try:
            await self._refresh(ctx)  # the services check the org again
            await self._load_settings(ctx)
        except Exception:
            self.org_id = before
            await self._refresh(ctx)  # the rows of the org still shown
            raise
        self.org_name = self._org_names[oid]

    @rx.event
    @guarded("budget.rules")
    async def choose_year(self, ctx: UserContext, year: str):
        self.year = str(args.as_year(year))
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.rules")
    async def choose_kind(self, ctx: UserContext, kind: str):
        self.new_kind = args.as_choice(kind, KINDS, "规则类型")
        if self.new_kind in rules.INTEGRITY:
            self.form_key += 1  # the severity drop-down offers only 错误 now

    @rx.event
    @guarded("budget.rules")
    async def create(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        kind = args.as_choice(self.new_kind, KINDS, "规则类型")
        severity = args.as_choice(data.get("severity") or "error", SEVERITIES, "严重程度")
        name = args.field(data, "name", "规则名称", 64)
        params = {p: args.field(data, f"{kind}__{p}", KINDS[kind].params[p].label, 200) for p in KINDS[kind].params}
        await asyncio.to_thread(rules.create_rule, ctx, self._oid(), int(self.year), kind, severity,
                                {k: v for k, v in params.items() if v}, name)
        self.form_key += 1
        await self._refresh(ctx)
        return rx.toast.success("规则已添加")

    def _own(self, rule_id: object) -> int:
        return args.offered_id(rule_id, self._editable_ids, "规则", "只能修改本单位的规则")

    @rx.event
    @guarded("budget.rules")
    async def toggle(self, ctx: UserContext, rule_id: str, active: bool):
        if not isinstance(active, bool):
            raise ValidationError("启用状态无效")
        await asyncio.to_thread(rules.update_rule, ctx, self._own(rule_id), {"active": active})
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.rules")
    async def open_edit(self, ctx: UserContext, rule_id: str):
        rid = self._own(rule_id)
        raw = self._raw[rid]
        kind = KINDS[raw["kind"]]
        params = _params_text(raw["params"])
        self.edit_id, self.edit_kind, self.edit_name = str(rid), kind.label, str(raw["name"])
        self.edit_title = f"修改规则：{raw['name']}"
        self.edit_integrity = raw["kind"] in rules.INTEGRITY
        self.edit_severity = "error" if self.edit_integrity else str(raw["severity"])
        self.edit_params = [{"name": n, "label": p.label + ("" if p.required else "（可选）"),
                             "value": _shown(params.get(n, p.default)), "placeholder": _PLACEHOLDERS.get(p.type, "")}
                            for n, p in kind.params.items()]
        self.edit_key += 1

    @rx.event
    @guarded("budget.rules")
    async def close_edit(self, ctx: UserContext):
        self.edit_id = ""

    @rx.event
    @guarded("budget.rules")
    async def save_edit(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        rid = self._own(self.edit_id)
        kind = self._raw[rid]["kind"]
        changes: dict = {"name": args.field(data, "name", "规则名称", 64),
                         "severity": args.as_choice(data.get("severity") or "error", SEVERITIES, "严重程度")}
        if KINDS[kind].params:
            params = {p: args.field(data, f"edit__{p}", KINDS[kind].params[p].label, 200) for p in KINDS[kind].params}
            changes["params"] = {k: v for k, v in params.items() if v}
        await asyncio.to_thread(rules.update_rule, ctx, rid, changes)
        await self._refresh(ctx)
        return rx.toast.success("规则已修改")

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
        await asyncio.to_thread(settings.update, ctx, self._oid(),
                                require_targets=data.get("require_targets") in ("on", True, "true"),
                                code_pattern=pattern,
                                finance_bureau=data.get("finance_bureau") in ("on", True, "true"))
        await self._load_settings(ctx)
        return rx.toast.success("设置已保存")


S = RulesState


def _severity_select(name: str, default: object, integrity: object = False) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="13em"),
        rx.select.content(rx.select.item("错误（阻止上报）", value="error"),
                          rx.cond(integrity, rx.fragment(), rx.select.item("警告（上报须说明）", value="warning"))),
        name=name, default_value=default)


def _param_fields(kind: str) -> rx.Component:
    return rx.hstack(*[labelled(p.label + ("" if p.required else "（可选）"), rx.input(
        name=f"{kind}__{name}", default_value=_shown(p.default), max_length=200, width="12em",
        placeholder=_PLACEHOLDERS.get(p.type, ""), id=f"param-{kind}-{name}"))
        for name, p in KINDS[kind].params.items()], style=tokens.TOOLBAR)


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(S.edit_title),
        rx.form(rx.vstack(
            rx.text("类型：", S.edit_kind, size="2"),
            rx.hstack(
                labelled("程度", _severity_select("severity", S.edit_severity, S.edit_integrity)),
                labelled("名称", rx.input(name="name", default_value=S.edit_name, max_length=64, width="14em")),
                style=tokens.TOOLBAR),
            rx.cond(S.edit_integrity, rx.text("完整性校验只能为“错误”。", size="1", color_scheme="gray")),
            rx.hstack(rx.foreach(S.edit_params, lambda p: labelled(p["label"], rx.input(
                name="edit__" + p["name"], default_value=p["value"], max_length=200, width="12em",
                placeholder=p["placeholder"]))), style=tokens.TOOLBAR),
            rx.hstack(rx.button("保存", type="submit", id="save-rule"),
                      rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=S.close_edit),
                      spacing="2"),
            spacing="3"), on_submit=S.save_edit, reset_on_submit=False, key=S.edit_key.to_string()),
    ), open=S.edit_id != "")


@app_page(routes.RULES, "校验规则", "budget.rules", menu="list-checks", on_load=RulesState.load)
def rules_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(labelled("单位", rx.select.root(
                      rx.select.trigger(width="18em", id="rules-org"),
                      rx.select.content(rx.foreach(S.orgs, lambda o: rx.select.item(o["label"], value=o["id"]))),
                      value=S.org_id, on_change=S.choose_org)),
                  labelled("预算年度", rx.select(S.years, value=S.year, on_change=S.choose_year)),
                  spacing="5", align="end"),
        row_table(("规则", "类型", "程度", "内容", "制定单位", "启用", ""), S.rows, lambda r: rx.table.row(
                rx.table.cell(r["name"]), rx.table.cell(r["kind_label"]),
                rx.table.cell(severity_badge(r["severity"], r["severity_label"]),
                              rx.cond(r["ignored"] == "1", rx.text("不生效：完整性校验只能为错误", size="1",
                                                                   color_scheme="red"))),
                rx.table.cell(r["description"]), rx.table.cell(r["org_name"]),
                rx.table.cell(rx.switch(checked=r["active"] == "1", disabled=r["own"] != "1",
                                        on_change=lambda v: S.toggle(r["id"], v))),
                rx.table.cell(rx.cond(r["own"] == "1", rx.hstack(
                    rx.icon_button(rx.icon("pencil", size=14), size="1", variant="ghost",
                                   on_click=S.open_edit(r["id"]), id="edit-rule-" + r["id"]),
                    rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                                   on_click=S.remove(r["id"])), spacing="2"))),
            ), "rules-table"),
        rx.text("完整性校验（科目有效、金额为正、用款计划平衡、不超控制数、项目已入库）始终按“错误”执行，不能降为警告。",
                size="1", color_scheme="gray"),
        rx.box(rx.vstack(
            rx.heading("添加规则", size="3"),
            rx.form(rx.vstack(
                rx.hstack(
                    labelled("规则类型", rx.select.root(
                        rx.select.trigger(width="12em"),
                        rx.select.content(*[rx.select.item(k.label, value=code) for code, k in KINDS.items()]),
                        value=S.new_kind, on_change=S.choose_kind)),
                    labelled("程度", _severity_select("severity", "error", S.new_integrity)),
                    labelled("名称（可选）", rx.input(name="name", max_length=64, width="14em")),
                    style=tokens.TOOLBAR,
                ),
                rx.match(S.new_kind, *[(k, _param_fields(k)) for k in KINDS], rx.fragment()),
                rx.button("添加规则", type="submit", id="add-rule"),
                spacing="3"), on_submit=S.create, reset_on_submit=False, key=S.form_key.to_string()),
            spacing="2"), style=tokens.PANEL, width="100%"),
        rx.box(rx.vstack(
            rx.heading("编制设置（", S.org_name, "）", size="3"),
            rx.cond(S.inherited_settings, rx.text("当前沿用上级单位的设置；保存后该单位单独设置。", size="1",
                                                  color_scheme="gray")),
            rx.form(rx.vstack(
                rx.checkbox("项目申报须填报绩效目标", name="require_targets", default_checked=S.require_targets),
                rx.checkbox("该单位为财政部门（审核链终点）", name="finance_bureau", default_checked=S.finance_bureau),
                labelled(f"项目编码规则（占位符 {settings.PLACEHOLDER_HELP}）",
                         rx.input(name="code_pattern", default_value=S.code_pattern, max_length=64, width="20em")),
                rx.button("保存设置", type="submit", variant="soft"),
                spacing="3"), on_submit=S.save_settings, reset_on_submit=False, key=S.form_key.to_string()),
            spacing="2"), style=tokens.PANEL, width="100%"),
        spacing="4", width="100%",
    )
