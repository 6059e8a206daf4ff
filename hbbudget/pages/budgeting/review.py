"""预算审核: what waits for me (budgets and projects), my subordinates' budgets, the consolidated view with
drill-down to lines, and control numbers (一下) for the direct children."""

import asyncio
import re

import reflex as rx

from components import tokens
from components.table import pager
from components.widgets import labelled, money_cell, status_badge, unit_switch
from hbbudget import money, routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import projects, review, rollup
from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PAGE_SIZE = 50
BY = {"org": "按单位", "function": "按功能分类", "economic": "按经济分类"}
ACTIONS = {"approve": "审核通过", "return": "退回"}


def _years() -> list[str]:
    this = current_fiscal_year()
    return [str(y) for y in range(this + 2, this - 4, -1)]


class ReviewState(rx.State):
    year: str = str(current_fiscal_year() + 1)
    years: list[str] = _years()
    unit: str = "yuan"
    org_name: str = ""
    tab: str = "pending"
    pending: list[dict[str, str]] = []
    pending_total: int = 0
    pending_projects: list[dict[str, str]] = []
    # approve / return dialog
    dialog_kind: str = ""  # budget | project
    dialog_action: str = ""
    dialog_title: str = ""
    # subordinates
    subs: list[dict[str, str]] = []
    subs_total: int = 0
    subs_offset: int = 0
    # consolidated
    by: str = "org"
    cons_rows: list[dict[str, str]] = []
    cons_total: str = ""
    cons_units: str = ""
    drill_title: str = ""
    drill_rows: list[dict[str, str]] = []
    drill_count: int = 0
    drill_offset: int = 0
    # control numbers
    controls: list[dict[str, str]] = []
    control_key: int = 0

    _pending_ids: list[int] = []
    _project_ids: list[int] = []
    _dialog_id: int = 0
    _raw: dict = {}
    _drill: dict = {}
    _control_ids: list[int] = []

    @rx.var
    def subs_label(self) -> str:
        return display.page_label(self.subs_offset, PAGE_SIZE, self.subs_total)

    @rx.var
    def drill_label(self) -> str:
        return display.page_label(self.drill_offset, PAGE_SIZE, self.drill_count)

    def _y(self) -> int:
        return int(self.year)

    def _format(self) -> None:
        u, raw = self.unit, self._raw
        self.pending = [display.budget(r, u) for r in raw.get("pending", [])]
        self.pending_projects = [display.project(r, u) for r in raw.get("projects", [])]
        self.subs = [{"org_id": str(r.get("org_id", "")), "org_name": str(r.get("org_name", "")),
                      "parent_name": str(r.get("parent_name", "")), "budget_id": str(r.get("budget_id") or 0),
                      "round": str(r.get("round", "")), "status": str(r.get("status") or "未编制"),
                      "step_org_name": str(r.get("step_org_name", "")), "total": display.amount(r.get("total", 0), u),
                      "control": display.amount(r.get("control", 0), u) if r.get("control") else "未下达",
                      "over": "1" if r.get("over_control") else ""} for r in raw.get("subs", [])]
        cons = raw.get("cons") or {}
        self.cons_rows = [{"key": str(r.get("key", "")), "name": str(r.get("name", "")),
                           "total": display.amount(r.get("total", 0), u), "count": str(r.get("count", 0))}
                          for r in cons.get("rows", [])]
        self.cons_total = display.amount(cons.get("total", 0), u) if cons else ""
        self.cons_units = str(cons.get("units", "")) if cons else ""
        self.drill_rows = [display.line(r, u) for r in raw.get("drill", [])]
        self.controls = [{"org_id": str(c.get("org_id", "")), "org_name": str(c.get("org_name", "")),
                          "amount": display.amount(c.get("amount", 0), u) if c.get("amount") else "未下达",
                          "amount_yuan": money.yuan_text(int(c.get("amount") or 0)) if c.get("amount") else "",
                          "status": str(c.get("status") or "未编制"), "round": str(c.get("round", "")),
                          "total": display.amount(c.get("total", 0), u), "budget_id": str(c.get("budget_id") or 0)}
                         for c in raw.get("controls", [])]

    async def _load_pending(self, ctx: UserContext) -> None:
        rows, self.pending_total = await asyncio.to_thread(review.pending_budgets, ctx, 0, PAGE_SIZE)
        prows: list[dict] = []
        if ctx.has("project.review"):
            prows, _ = await asyncio.to_thread(projects.pending_projects, ctx, 0, PAGE_SIZE)
        self._raw = {**self._raw, "pending": rows, "projects": prows}
        self._pending_ids = [r["id"] for r in rows]
        self._project_ids = [r["id"] for r in prows]

    async def _load_subs(self, ctx: UserContext) -> None:
        rows, self.subs_total = await asyncio.to_thread(rollup.subordinates, ctx, ctx.org_id, self._y(),
                                                        self.subs_offset, PAGE_SIZE)
        self._raw = {**self._raw, "subs": rows}

    async def _load_cons(self, ctx: UserContext) -> None:
        cons = await asyncio.to_thread(rollup.consolidated, ctx, ctx.org_id, self._y(), self.by)
        self._raw = {**self._raw, "cons": cons, "drill": []}
        self.drill_title, self.drill_count, self._drill = "", 0, {}

    async def _load_drill(self, ctx: UserContext) -> None:
        rows, self.drill_count = await asyncio.to_thread(
            rollup.consolidated_lines, ctx, ctx.org_id, self._y(), offset=self.drill_offset, limit=PAGE_SIZE,
            **self._drill)
        self._raw = {**self._raw, "drill": rows}

    async def _load_controls(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(review.control_numbers, ctx, ctx.org_id, self._y())
        self._raw = {**self._raw, "controls": rows}
        self._control_ids = [int(r["org_id"]) for r in rows]
        self.control_key += 1

    async def _load_tab(self, ctx: UserContext) -> None:
        if self.tab == "pending":
            await self._load_pending(ctx)
        elif self.tab == "subs":
            await self._load_subs(ctx)
        elif self.tab == "cons":
            await self._load_cons(ctx)
        elif self.tab == "controls":
            await self._load_controls(ctx)
        self._format()

    @rx.event
    @guarded("budget.review")
    async def load(self, ctx: UserContext):
        self.org_name, self.dialog_kind, self.subs_offset, self.drill_offset = ctx.org_name, "", 0, 0
        self._raw = {}
        await self._load_tab(ctx)

    @rx.event
    @guarded("budget.review")
    async def choose_tab(self, ctx: UserContext, tab: str):
        self.tab = args.as_choice(tab, ("pending", "subs", "cons", "controls"), "页签")
        await self._load_tab(ctx)

    @rx.event
    @guarded("budget.review")
    async def choose_year(self, ctx: UserContext, year: str):
        self.year = str(args.as_year(year))
        self.subs_offset = self.drill_offset = 0
        await self._load_tab(ctx)

    @rx.event
    @guarded("budget.review")
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        self._format()

    # ---- approve / return ----

    @rx.event
    @guarded("budget.review")
    async def open_dialog(self, ctx: UserContext, kind: str, action: str, object_id: str):
        kind = args.as_choice(kind, ("budget", "project"), "对象")
        action = args.as_choice(action, ACTIONS, "操作")
        oid = args.offered_id(object_id, self._pending_ids if kind == "budget" else self._project_ids, "编号",
                              "该记录不在待审核列表中，请刷新")
        rows = self._raw.get("pending" if kind == "budget" else "projects", [])
        row = next((r for r in rows if r["id"] == oid), {})
        name = (f"{row.get('org_name', '')} {row.get('fiscal_year', '')} 年度预算（{row.get('round', '')}）"
                if kind == "budget" else f"项目 {row.get('code', '')} {row.get('name', '')}")
        self.dialog_kind, self.dialog_action, self._dialog_id = kind, action, oid
        self.dialog_title = f"{ACTIONS[action]}：{name}"

    @rx.event
    @guarded("budget.review")
    async def close_dialog(self, ctx: UserContext):
        self.dialog_kind = ""

    @rx.event
    @guarded("budget.review")
    async def confirm_dialog(self, ctx: UserContext, form_data: dict):
        kind = args.as_choice(self.dialog_kind, ("budget", "project"), "对象")
        action = args.as_choice(self.dialog_action, ACTIONS, "操作")
        comment = args.field(args.form(form_data), "comment", "审核意见", 500, required=action == "return")
        if kind == "budget":
            if action == "approve":
                await asyncio.to_thread(review.approve, ctx, self._dialog_id, comment)
            else:
                await asyncio.to_thread(review.return_budget, ctx, self._dialog_id, comment)
        else:
            await asyncio.to_thread(projects.transition, ctx, self._dialog_id, action, comment)
        self.dialog_kind = ""
        await self._load_pending(ctx)
        self._format()
        return rx.toast.success(f"已{ACTIONS[action]}")

    # ---- subordinates ----

    @rx.event
    @guarded("budget.review")
    async def subs_next(self, ctx: UserContext):
        if self.subs_offset + PAGE_SIZE < self.subs_total:
            self.subs_offset += PAGE_SIZE
            await self._load_subs(ctx)
            self._format()

    @rx.event
    @guarded("budget.review")
    async def subs_prev(self, ctx: UserContext):
        if self.subs_offset > 0:
            self.subs_offset = max(0, self.subs_offset - PAGE_SIZE)
            await self._load_subs(ctx)
            self._format()

    # ---- consolidated and drill-down ----

    @rx.event
    @guarded("budget.review")
    async def choose_by(self, ctx: UserContext, by: str | list[str]):
        self.by = args.as_choice(by, BY, "汇总方式")
        await self._load_cons(ctx)
        self._format()

    @rx.event
    @guarded("budget.review")
    async def drill(self, ctx: UserContext, key: str):
        rows = (self._raw.get("cons") or {}).get("rows", [])
        row = next((r for r in rows if str(r.get("key")) == str(key)), None)
        if row is None:
            raise NotOffered("汇总行无效，请刷新")
        if self.by == "org":
            self._drill = {"child_org_id": int(row["key"]) if str(row["key"]).isdigit() else 0}
        elif self.by == "function":
            self._drill = {"func_class": str(row["key"])}
        else:
            self._drill = {"econ_class": str(row["key"])}
        self.drill_title = f"{BY[self.by]}：{row.get('name', '')} 的明细"
        self.drill_offset = 0
        await self._load_drill(ctx)
        self._format()

    @rx.event
    @guarded("budget.review")
    async def drill_next(self, ctx: UserContext):
        if self.drill_title and self.drill_offset + PAGE_SIZE < self.drill_count:
            self.drill_offset += PAGE_SIZE
            await self._load_drill(ctx)
            self._format()

    @rx.event
    @guarded("budget.review")
    async def drill_prev(self, ctx: UserContext):
        if self.drill_title and self.drill_offset > 0:
            self.drill_offset = max(0, self.drill_offset - PAGE_SIZE)
            await self._load_drill(ctx)
            self._format()

    # ---- control numbers ----

    @rx.event
    @guarded("budget.review")
    async def issue_controls(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        offered = {f"c{org_id}" for org_id in self._control_ids}
        if any(re.fullmatch(r"c\d+", str(k)) and k not in offered and data[k] for k in data):
            raise NotOffered("该单位不在控制数列表中，请刷新")  # a crafted or stale field
        amounts: dict[int, str] = {}
        for org_id in self._control_ids:
            value = args.field(data, f"c{org_id}", "控制数", 32)
            if value:
                amounts[org_id] = value
        if not amounts:
            raise ValidationError("请至少填写一个下级单位的控制数")
        rows = await asyncio.to_thread(review.issue_control_numbers, ctx, ctx.org_id, self._y(), amounts)
        self._raw = {**self._raw, "controls": rows}
        self.control_key += 1
        self._format()
        return rx.toast.success("控制数已下达")


# ------------------------------------------------------------------ layout

S = ReviewState


def _pending_tab() -> rx.Component:
    return rx.vstack(
        rx.heading("待审核预算", size="3"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("单位", "年度", "阶段", "状态", "合计", "行数", "上报版本", "")])),
            rx.table.body(rx.foreach(S.pending, lambda r: rx.table.row(
                rx.table.cell(rx.link(r["org_name"], href=routes.BUDGETS + "/" + r["id"])),
                rx.table.cell(r["fiscal_year"]), rx.table.cell(r["round"]), rx.table.cell(status_badge(r["status"])),
                money_cell(r["total"]), rx.table.cell(r["line_count"]), rx.table.cell(r["version_no"]),
                rx.table.cell(rx.hstack(
                    rx.link(rx.button("查看明细", size="1", variant="soft"), href=routes.BUDGETS + "/" + r["id"]),
                    rx.button("通过", size="1", color_scheme="green", on_click=S.open_dialog("budget", "approve", r["id"]),
                              id="approve-budget-" + r["id"]),
                    rx.button("退回", size="1", color_scheme="orange", on_click=S.open_dialog("budget", "return", r["id"]),
                              id="return-budget-" + r["id"]),
                    spacing="2")),
                id="pending-budget-" + r["id"]))),
            variant="surface", size="1", width="100%", id="pending-budgets",
        ),
        rx.cond(S.pending.length() == 0, rx.text("没有待审核的预算", color_scheme="gray")),
        rx.heading("待审核项目", size="3", margin_top="1em"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("编码", "名称", "单位", "类别", "总额", "状态", "")])),
            rx.table.body(rx.foreach(S.pending_projects, lambda r: rx.table.row(
                rx.table.cell(r["code"]),
                rx.table.cell(rx.link(r["name"], href=routes.PROJECTS + "/" + r["id"])),
                rx.table.cell(r["org_name"]), rx.table.cell(r["category_label"]), money_cell(r["total"]),
                rx.table.cell(status_badge(r["status"])),
                rx.table.cell(rx.hstack(
                    rx.button("通过", size="1", color_scheme="green",
                              on_click=S.open_dialog("project", "approve", r["id"]), id="approve-project-" + r["id"]),
                    rx.button("退回", size="1", color_scheme="orange",
                              on_click=S.open_dialog("project", "return", r["id"]), id="return-project-" + r["id"]),
                    spacing="2")),
                id="pending-project-" + r["id"]))),
            variant="surface", size="1", width="100%", id="pending-projects",
        ),
        rx.cond(S.pending_projects.length() == 0, rx.text("没有待审核的项目", color_scheme="gray")),
        spacing="2", width="100%",
    )


def _subs_tab() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("单位", "上级", "阶段", "状态", "当前审核", "合计", "控制数", "")])),
            rx.table.body(rx.foreach(S.subs, lambda r: rx.table.row(
                rx.table.cell(r["org_name"]), rx.table.cell(r["parent_name"]), rx.table.cell(r["round"]),
                rx.table.cell(status_badge(r["status"])), rx.table.cell(r["step_org_name"]),
                money_cell(r["total"], style=rx.cond(r["over"] == "1", {"color": rx.color("red", 11)}, {})),
                money_cell(r["control"]),
                rx.table.cell(rx.cond(r["budget_id"] != "0", rx.link(
                    rx.button("查看", size="1", variant="soft"), href=routes.BUDGETS + "/" + r["budget_id"]))),
            ))),
            variant="surface", size="1", width="100%", id="subordinates-table",
        ),
        pager(S.subs_label, S.subs_prev, S.subs_next),
        spacing="2", width="100%",
    )


def _cons_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(*[rx.segmented_control.item(v, value=k) for k, v in BY.items()],
                                      value=S.by, on_change=S.choose_by, id="cons-by"),
            rx.text("合计：", rx.text.strong(S.cons_total, id="cons-total"), "（", S.cons_units, " 个单位）"),
            align="center", spacing="4",
        ),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("编码", "名称", "合计", "行数", "")])),
            rx.table.body(rx.foreach(S.cons_rows, lambda r: rx.table.row(
                rx.table.cell(rx.cond(S.by == "org", "", r["key"])), rx.table.cell(r["name"]), money_cell(r["total"]),
                rx.table.cell(r["count"]),
                rx.table.cell(rx.button("明细", size="1", variant="soft", on_click=S.drill(r["key"]))),
            ))),
            variant="surface", size="1", width="100%", id="consolidated-table",
        ),
        rx.cond(S.drill_title != "", rx.vstack(
            rx.heading(S.drill_title, size="3"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("单位", "项目", "经济分类", "功能分类", "资金来源", "金额", "备注")])),
                rx.table.body(rx.foreach(S.drill_rows, lambda r: rx.table.row(
                    rx.table.cell(r["org_name"]), rx.table.cell(r["project"]),
                    rx.table.cell(r["econ_code"] + " " + r["econ_name"]),
                    rx.table.cell(r["func_code"] + " " + r["func_name"]), rx.table.cell(r["source"]),
                    money_cell(r["amount"]), rx.table.cell(r["note"])))),
                size="1", width="100%", id="drill-table",
            ),
            pager(S.drill_label, S.drill_prev, S.drill_next),
            spacing="2", width="100%",
        )),
        spacing="3", width="100%",
    )


def _controls_tab() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("一下：向直属下级单位下达控制数（元）。下级一上审核通过后，下达控制数即转入二上编制。", size="2"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("单位", "已上报（控制数口径）", "状态", "已下达", "控制数（元）")])),
                rx.table.body(rx.foreach(S.controls, lambda c: rx.table.row(
                    rx.table.cell(c["org_name"]), money_cell(c["total"]),
                    rx.table.cell(status_badge(c["status"])), money_cell(c["amount"]),
                    rx.table.cell(rx.input(name="c" + c["org_id"], default_value=c["amount_yuan"],
                                           key=S.control_key.to_string() + "-" + c["org_id"], max_length=32,
                                           style=tokens.AMOUNT_INPUT, id="control-" + c["org_id"])),
                ))),
                variant="surface", size="1", width="100%", id="controls-table",
            ),
            rx.button("下达控制数", type="submit", id="issue-controls"),
            spacing="3", width="100%",
        ),
        on_submit=S.issue_controls, reset_on_submit=False,
    )


def _dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(S.dialog_title),
        rx.form(
            rx.vstack(
                rx.text(rx.cond(S.dialog_action == "return", "退回原因（必填）", "审核意见（可选）"), size="2"),
                rx.text_area(name="comment", max_length=500, rows="4", width="100%", id="review-comment"),
                rx.hstack(rx.button("确定", type="submit", id="review-confirm"),
                          rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=S.close_dialog),
                          spacing="2"),
                spacing="3",
            ),
            on_submit=S.confirm_dialog, reset_on_submit=False,
        ),
    ), open=S.dialog_kind != "")


@app_page(routes.REVIEW, "预算审核", on_load=ReviewState.load)
def review_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            labelled("审核单位", rx.text(S.org_name, weight="bold")),
            labelled("预算年度", rx.select(S.years, value=S.year, on_change=S.choose_year, id="review-year")),
            rx.spacer(),
            unit_switch(S.unit, S.choose_unit),
            align="end", width="100%", spacing="5",
        ),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("待我审核", value="pending", id="tab-pending"),
                         rx.tabs.trigger("下级预算", value="subs", id="tab-subs"),
                         rx.tabs.trigger("汇总", value="cons", id="tab-cons"),
                         rx.tabs.trigger("控制数", value="controls", id="tab-controls")),
            rx.box(rx.match(S.tab, ("subs", _subs_tab()), ("cons", _cons_tab()), ("controls", _controls_tab()),
                            _pending_tab()), padding_top="0.8em", width="100%"),
            value=S.tab, on_change=S.choose_tab, width="100%",
        ),
        _dialog(),
        spacing="4", width="100%",
    )
