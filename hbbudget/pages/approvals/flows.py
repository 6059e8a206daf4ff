"""审批流: the flow of each matter kind at the user's unit (inherited or its own), drawn as a diagram; a draft of
steps edited here is saved as a new version (matters in flight keep theirs)."""

import asyncio
from decimal import Decimal

import reflex as rx

from components import tokens
from components.widgets import labelled, section
from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.approvals import templates
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = templates.PERMISSION
CHECKED = ("on", True, "true")  # what a checked checkbox sends in a form
ANY = "any"  # the "不限" option (a select item cannot have an empty value)


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{Decimal(int(fen)) / 100:.2f}"


def _shown(n: int, s: dict) -> dict[str, str]:
    return {"n": str(n), "name": str(s["name"]), "actor": templates.ACTORS[s["actor"]],
            "mode": templates.MODES[s["mode"]], "days": f"{s['days']} 天" if s.get("days") else "不限",
            "collective": "三重一大集体决策" if s.get("collective") else "",
            "condition": templates.describe(s)}


class FlowsState(rx.State):
    kinds: list[str] = list(templates.KINDS)
    kind: str = templates.KINDS[0]
    source: str = ""
    version: str = ""
    steps: list[dict[str, str]] = []  # the version in force
    draft: list[dict[str, str]] = []  # what "保存为新版本" saves
    form_key: int = 0
    _draft: list[dict] = []  # the draft as the service takes it (amount in 元)

    async def _refresh(self, ctx: UserContext) -> None:
        view = await asyncio.to_thread(templates.get_template, ctx, ctx.org_id, self.kind)
        self.source, self.version = view["source"], str(view["version"]) if view["version"] else "默认"
        self.steps = [_shown(i + 1, s) for i, s in enumerate(view["steps"])]
        self._draft = [{**{k: s[k] for k in ("name", "actor", "mode", "days", "collective", "category",
                                              "first_time")}, "min_amount": _yuan(s.get("min_amount"))}
                       for s in view["steps"]]
        self._show_draft()

    def _show_draft(self) -> None:
        self.draft = [_shown(i + 1, templates.check_steps([s])[0]) for i, s in enumerate(self._draft)]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def choose_kind(self, ctx: UserContext, kind: str):
        self.kind = templates.check_kind(kind)
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def add_step(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        if len(self._draft) >= 20:
            raise ValidationError("审批流最多 20 步")
        raw = {"name": args.field(data, "name", "步骤名称", 32, required=True),
               "actor": args.field(data, "actor", "审批人", 16), "mode": args.field(data, "mode", "会签方式", 8),
               "days": args.field(data, "days", "时限", 3) or "0",
               "collective": data.get("collective") in CHECKED,
               "min_amount": args.field(data, "min_amount", "金额条件", 20),
               "category": "" if data.get("category") in (None, "", ANY) else args.field(data, "category", "项目类别", 4),
               "first_time": data.get("first_time") in CHECKED}
        templates.check_steps([raw])  # refused here, not at save
        self._draft = [*self._draft, raw]
        self._show_draft()
        self.form_key += 1

    @rx.event
    @guarded(PERMISSION)
    async def remove_step(self, ctx: UserContext, n: str):
        i = args.as_id(n, "步骤") - 1
        if i >= len(self._draft):
            raise ValidationError("步骤不存在")
        self._draft = self._draft[:i] + self._draft[i + 1:]
        self._show_draft()

    @rx.event
    @guarded(PERMISSION)
    async def move_up(self, ctx: UserContext, n: str):
        i = args.as_id(n, "步骤") - 1
        if not 0 < i < len(self._draft):
            raise ValidationError("不能上移")
        d = list(self._draft)
        d[i - 1], d[i] = d[i], d[i - 1]
        self._draft = d
        self._show_draft()

    @rx.event
    @guarded(PERMISSION)
    async def save(self, ctx: UserContext):
        await asyncio.to_thread(templates.save_template, ctx, ctx.org_id, self.kind, self._draft)
        await self._refresh(ctx)
        return rx.toast.success(f"{self.kind}审批流已保存为第 {self.version} 版")


S = FlowsState


def _box(s) -> rx.Component:
    return rx.vstack(
        rx.text(s["n"], ". ", s["name"], weight="bold"),
        rx.text(s["actor"], " · ", s["mode"], size="1"),
        rx.text("时限：", s["days"], size="1"),
        rx.text("条件：", s["condition"], size="1", color_scheme="gray"),
        rx.cond(s["collective"] != "", rx.badge(s["collective"], color_scheme="amber")),
        spacing="1", style={**tokens.PANEL, "min_width": "11em"}, class_name="flow-step")


def diagram(steps, element_id: str) -> rx.Component:
    """Steps left to right, each with who acts and when it applies."""
    return rx.hstack(rx.badge("提交", color_scheme="gray"), rx.foreach(steps, lambda s: rx.hstack(
        rx.icon("arrow-right", size=18), _box(s), spacing="2", align="center")),
        rx.icon("arrow-right", size=18), rx.badge("通过", color_scheme="green"),
        spacing="2", align="center", style={"flex_wrap": "wrap"}, id=element_id)


def _step_form() -> rx.Component:
    def select(name: str, options: dict, default: str) -> rx.Component:
        return rx.select.root(rx.select.trigger(width="12em"), rx.select.content(
            *[rx.select.item(label, value=code) for code, label in options.items()]), name=name,
            default_value=default)

    return rx.form(rx.hstack(
        labelled("步骤名称", rx.input(name="name", max_length=32, width="10em", id="step-name")),
        labelled("审批人", select("actor", templates.ACTORS, "unit")),
        labelled("会签", select("mode", templates.MODES, "any")),
        labelled("时限（天）", rx.input(name="days", max_length=3, width="5em")),
        labelled("金额≥（元）", rx.input(name="min_amount", max_length=20, style=tokens.AMOUNT_INPUT, id="step-amount")),
        labelled("项目类别", select("category", {ANY: "不限", "1": "人员类", "21": "公用经费", "22": "其他运转类",
                                              "3": "特定目标类"}, ANY)),
        rx.checkbox("首次申报项目", name="first_time"),
        rx.checkbox("三重一大集体决策", name="collective", id="step-collective"),
        rx.button("添加步骤", type="submit", variant="soft", id="step-add"),
        style=tokens.TOOLBAR), on_submit=S.add_step, reset_on_submit=False, key=S.form_key.to_string())


@app_page(routes.APPROVAL_FLOWS, "审批流", "budget.rules", menu="git-branch", on_load=FlowsState.load)
def flows_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text("事项类型"), rx.select(S.kinds, value=S.kind, on_change=S.choose_kind, id="flow-kind"),
                  rx.text("现行版本：", S.version, "（", S.source, "）", size="2"), style=tokens.TOOLBAR),
        section("现行审批流", diagram(S.steps, "flow-current")),
        section("编辑（保存为新版本；在途事项仍按原版本审批）",
                rx.table.root(rx.table.body(rx.foreach(S.draft, lambda s: rx.table.row(
                    rx.table.cell(s["n"]), rx.table.cell(s["name"]), rx.table.cell(s["actor"]),
                    rx.table.cell(s["mode"]), rx.table.cell(s["days"]), rx.table.cell(s["condition"]),
                    rx.table.cell(s["collective"]),
                    rx.table.cell(rx.hstack(
                        rx.button("上移", size="1", variant="soft", on_click=S.move_up(s["n"])),
                        rx.button("删除", size="1", variant="soft", color_scheme="red",
                                  on_click=S.remove_step(s["n"])), spacing="2"))))),
                    size="1", width="100%", id="flow-draft"),
                _step_form(),
                rx.button("保存为新版本", on_click=S.save, id="flow-save"),
                style=tokens.PANEL),
        spacing="4", width="100%",
    )
