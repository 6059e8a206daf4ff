"""预算编制: the budgets the user may see, one page at a time; start a new one (blank, or 按上年预算生成: a copy of
last year's approved budget; real 结转 of unspent money is pages/budgeting/carryover.py)."""

import asyncio

import reflex as rx

from components import tokens
from components.table import pager, row_table
from components.widgets import labelled, money_cell, status_badge, unit_switch
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import budgets, excel, templates
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.paging import paging

PAGE_SIZE = 50
GROWTH_CLASSES = (("301", "工资福利支出"), ("302", "商品和服务支出"), ("303", "对个人和家庭的补助"),
                  ("310", "资本性支出"))


def _years() -> list[str]:
    this = current_fiscal_year()
    return [str(y) for y in range(this + 2, this - 4, -1)]


class BudgetsState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    year: str = ""  # "" = all years
    years: list[str] = _years()
    unit: str = "yuan"
    can_create: bool = False
    # new budget dialog
    create_open: bool = False
    create_year: str = str(current_fiscal_year() + 1)
    carry_summary: str = ""
    carry_rows: list[dict[str, str]] = []
    carry_skipped: list[dict[str, str]] = []
    _raw: list[dict] = []
    _growth: dict = {}

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        year = int(self.year) if self.year else None
        self._raw, self.total = await asyncio.to_thread(budgets.list_budgets, ctx, year=year, offset=self.offset,
                                                        limit=PAGE_SIZE)
        self._format()

    def _format(self) -> None:
        self.rows = [display.budget(r, self.unit) for r in self._raw]

    @rx.event
    @guarded("budget.view")
    async def load(self, ctx: UserContext):
        self.offset, self.create_open = 0, False
        self.can_create = ctx.has("budget.edit")
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.view")
    async def choose_year(self, ctx: UserContext, year: str):
        self.year = "" if year == "all" else str(args.as_year(year))
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.view")
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        self._format()

    next_page, prev_page = paging("BudgetsState", "budget.view", PAGE_SIZE)

    @rx.event
    @guarded("budget.edit")
    async def open_create(self, ctx: UserContext):
        self.create_open, self.carry_summary, self.carry_rows, self.carry_skipped = True, "", [], []

    @rx.event
    @guarded("budget.edit")
    async def close_create(self, ctx: UserContext):
        self.create_open = False

    @rx.event
    @guarded("budget.edit")
    async def create_blank(self, ctx: UserContext, form_data: dict):
        year = args.as_year(args.form(form_data).get("year"))
        header = await asyncio.to_thread(budgets.create_budget, ctx, ctx.org_id, year)
        self.create_open = False
        return [rx.toast.success("已新建预算"), rx.redirect(routes.budget_editor(header["id"]))]

    @rx.event
    @guarded("budget.view")
    async def download_blank(self, ctx: UserContext):
        """A blank import template for the user's own unit and the year chosen in the dialog."""
        year = args.as_year(self.create_year)
        filename, data = await asyncio.to_thread(excel.export_blank, ctx, ctx.org_id, year)
        return rx.download(data=data, filename=filename)

    def _growth_from(self, data: dict) -> dict[str, str]:
        growth = {}
        for code, label in GROWTH_CLASSES:
            value = args.field(data, f"g{code}", f"{label}增长率", 10)
            if value:
                growth[code] = value
        return growth

    @rx.event
    @guarded("budget.edit")
    async def preview_carry(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        year = args.as_year(data.get("year"))
        growth = self._growth_from(data)
        result = await asyncio.to_thread(templates.carry_forward_preview, ctx, ctx.org_id, year, growth or None)
        self._growth, self.create_year = growth, str(year)
        self.carry_rows = [{**display.line(r, self.unit), "problem": str(r.get("problem", ""))}
                           for r in (result.get("rows") or [])[:50]]
        self.carry_skipped = [{"project": f"{s.get('project_code', '')} {s.get('project_name', '')}",
                               "reason": str(s.get("reason", ""))} for s in (result.get("skipped") or [])[:50]]
        self.carry_summary = (f"上年合计 {display.amount(result.get('total_before', 0), self.unit)}，"
                              f"生成后 {display.amount(result.get('total_after', 0), self.unit)}；"
                              f"{len(result.get('rows') or [])} 行，跳过 {len(result.get('skipped') or [])} 个项目")

    @rx.event
    @guarded("budget.edit")
    async def create_carry(self, ctx: UserContext):
        if not self.carry_summary:
            return rx.toast.error("请先预览按上年预算生成的结果")
        year = args.as_year(self.create_year)
        header = await asyncio.to_thread(templates.carry_forward_create, ctx, ctx.org_id, year, self._growth or None)
        self.create_open = False
        return [rx.toast.success("已按上年预算生成"), rx.redirect(routes.budget_editor(header["id"]))]


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r["org_name"], href=routes.BUDGETS + "/" + r["id"])),
        rx.table.cell(r["fiscal_year"]),
        rx.table.cell(r["round"]),
        rx.table.cell(status_badge(r["status"])),
        rx.table.cell(r["step_org_name"]),
        money_cell(r["total"]),
        rx.table.cell(r["line_count"]),
        rx.table.cell(r["version_no"]),
        rx.table.cell(r["updated_at"]),
        rx.table.cell(rx.link(rx.button("打开", size="1", variant="soft"), href=routes.BUDGETS + "/" + r["id"])),
    )


def _create_dialog() -> rx.Component:
    S = BudgetsState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("新建预算"),
        rx.form(
            rx.vstack(
                labelled("预算年度", rx.input(name="year", default_value=S.create_year, max_length=4, width="8em",
                                              id="create-year")),
                rx.hstack(rx.button("新建空白预算", type="submit", id="create-blank"),
                          rx.button("下载空白导入模板", type="button", variant="soft", on_click=S.download_blank,
                                    id="download-blank"), spacing="2"),
                spacing="3",
            ),
            on_submit=S.create_blank, reset_on_submit=False,
        ),
        rx.divider(margin_y="1em"),
        rx.text("按上年预算生成（复制上年已批复预算为新年度草稿，不是结转资金）：项目须已入库、科目须在新年度有效，可按经济分类（类）设置增长率（%）。", size="2"),
        rx.form(
            rx.vstack(
                rx.hstack(
                    labelled("预算年度", rx.input(name="year", default_value=S.create_year, max_length=4, width="6em")),
                    *[labelled(f"{code} {label}", rx.input(name=f"g{code}", placeholder="0", max_length=10,
                                                           width="6em")) for code, label in GROWTH_CLASSES],
                    style=tokens.TOOLBAR,
                ),
                rx.hstack(rx.button("预览按上年预算生成", type="submit", variant="soft"),
                          rx.button("按预览生成", type="button", on_click=S.create_carry,
                                    disabled=S.carry_summary == ""), spacing="2"),
                spacing="3",
            ),
            on_submit=S.preview_carry, reset_on_submit=False,
        ),
        rx.cond(S.carry_summary != "", rx.text(S.carry_summary, weight="bold", margin_top="0.6em")),
        rx.cond(S.carry_skipped.length() > 0, rx.vstack(rx.foreach(S.carry_skipped, lambda s: rx.text(
            "跳过：", s["project"], "（", s["reason"], "）", size="1", color_scheme="orange")), spacing="0")),
        rx.cond(S.carry_rows.length() > 0, rx.scroll_area(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("项目", "经济分类", "功能分类", "资金来源", "金额", "问题")])),
            rx.table.body(rx.foreach(S.carry_rows, lambda r: rx.table.row(
                rx.table.cell(r["project"]), rx.table.cell(r["econ_code"]), rx.table.cell(r["func_code"]),
                rx.table.cell(r["source"]), money_cell(r["amount"]), rx.table.cell(r["problem"])))),
            size="1"), max_height="16em")),
        rx.hstack(rx.button("关闭", variant="soft", color_scheme="gray", on_click=S.close_create), justify="end",
                  margin_top="1em"),
        max_width="56em",
    ), open=S.create_open)


@app_page(routes.BUDGETS, "预算编制", "budget.view", menu="table", on_load=BudgetsState.load)
def budgets_page() -> rx.Component:
    S = BudgetsState
    return rx.vstack(
        rx.hstack(
            rx.select.root(rx.select.trigger(placeholder="全部年度"), rx.select.content(
                rx.select.item("全部年度", value="all"),
                rx.foreach(S.years, lambda y: rx.select.item(y + " 年度", value=y))),
                on_change=S.choose_year, id="budget-year"),
            rx.cond(S.can_create, rx.button("新建预算", on_click=S.open_create, id="new-budget")),
            rx.spacer(),
            unit_switch(S.unit, S.choose_unit),
            align="center", width="100%", spacing="3",
        ),
        row_table(("单位", "年度", "阶段", "状态", "当前审核", "合计", "行数", "版本",
                                            "更新时间", ""), S.rows, _row, "budgets-table", size="2"),
        pager(S.page_label, S.prev_page, S.next_page),
        _create_dialog(),
        spacing="3", width="100%",
    )
