"""执行台账: the current approved budgets in scope, and per budget line the 指标 ledger (approved, adjusted,
spent, frozen, available, this month's 用款计划); lines spent beyond what is available (red), beyond the plan to
date or beyond this month's plan (amber) are flagged. A line opens to what was charged to it (明细: payments
with counterparty and remittance text, manual entries, freezes)."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.widgets import money_cell, unit_switch
from hbbudget import routes
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.execution import ledger
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = "execution.view"
ENTRIES = 200  # the newest entries of a line shown in its 明细


class LedgerState(rx.State):
    budgets: list[dict[str, str]] = []
    title: str = ""
    rows: list[dict[str, str]] = []
    totals: dict[str, str] = {}
    unit: str = "yuan"
    entries_title: str = ""  # "": the line's 明细 are closed
    entries: list[dict[str, str]] = []
    entries_note: str = ""
    _raw: dict = {}
    _entries: list = []

    def _show(self) -> None:
        data = self._raw
        self.title = (f"{data['budget']['org_name']} {data['budget']['fiscal_year']} 年预算（{data['budget']['round']}）"
                      if data else "")
        self.rows = [display.ledger_row(r, self.unit) for r in data.get("rows", [])]
        self.totals = {k: display.amount(v, self.unit) for k, v in data.get("totals", {}).items()}
        self.entries = [display.ledger_entry(e, self.unit) for e in self._entries]

    def _close_entries(self) -> None:
        self.entries_title, self.entries, self.entries_note, self._entries = "", [], "", []

    @rx.event
    @guarded(PERMISSION)
    async def load_list(self, ctx: UserContext):
        rows = await asyncio.to_thread(ledger.budgets, ctx)
        self.budgets = [{"id": str(b["id"]), "org_name": b["org_name"], "year": str(b["fiscal_year"]),
                         "round": b["round"], "total": display.amount(b["total"], "wan"),
                         "href": routes.ledger(b["id"])} for b in rows]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self._raw, self.rows, self.title = {}, [], ""
        self._close_entries()
        bid = args.as_id(str(self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1], "预算编号")
        self._raw = await asyncio.to_thread(ledger.budget_ledger, ctx, bid)
        self._show()

    @rx.event
    @guarded(PERMISSION)
    async def open_line(self, ctx: UserContext, line_id: str):
        """明细 of a line on the page: its payments (counterparty, remittance text) and manual entries."""
        rows = {r["line_id"]: r for r in self._raw.get("rows", [])}
        lid = args.offered_id(line_id, rows, "预算明细", "该明细不在当前台账中")
        found, total = await asyncio.to_thread(ledger.line_entries, ctx, self._raw["budget"]["id"], lid, 0, ENTRIES)
        r = rows[lid]
        self.entries_title = f"{display.project_text(r['project_code'], r['project_name'])} · {r['econ_code']} " \
                             f"{r['econ_name']} · {r['source']}"
        self._entries = found
        self.entries_note = (f"共 {total} 笔，显示最近 {len(found)} 笔" if total > len(found)
                             else f"共 {total} 笔" if total else "该明细尚无支出、冻结记录")
        self._show()

    @rx.event
    @guarded(PERMISSION)
    async def close_line(self, ctx: UserContext, _open: bool = False):
        """The 明细 dialog closed (its button, Esc or a click outside: `on_open_change` sends False)."""
        self._close_entries()

    @rx.event
    @guarded(PERMISSION)
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        self._show()


S = LedgerState
COLUMNS = (("批复数", "approved"), ("调整数", "adjusted"), ("现预算", "current"), ("已支出", "spent"),
           ("冻结", "frozen"), ("可用", "available"), ("本月计划", "month_plan"), ("本月支出", "month_spent"))


@app_page(routes.LEDGER, "执行台账", PERMISSION, menu="book-open-check", on_load=LedgerState.load_list)
def ledger_list_page() -> rx.Component:
    return rx.vstack(
        rx.text("现行已批复预算（本年度）", size="2", color_scheme="gray"),
        rx.cond(S.budgets.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("单位", "年度", "轮次", "预算总额", "")])),
            rx.table.body(rx.foreach(S.budgets, lambda b: rx.table.row(
                rx.table.cell(b["org_name"]), rx.table.cell(b["year"]), rx.table.cell(b["round"]),
                money_cell(b["total"]), rx.table.cell(rx.link("查看台账", href=b["href"]))))),
            variant="surface", size="1", id="ledger-budgets"), rx.text("暂无现行已批复预算", color_scheme="gray")),
        spacing="3", width="100%",
    )


def _ledger_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["project"]), rx.table.cell(r["econ"]), rx.table.cell(r["source"], white_space="nowrap"),
        *[money_cell(r[k]) for _, k in COLUMNS],
        rx.table.cell(rx.cond(r["flag"] != "", rx.badge(r["flag_text"], color_scheme=rx.cond(r["flag"] == "over", "red",
                                                                                         "amber"), variant="solid"))),
        rx.table.cell(rx.button("明细", size="1", variant="soft", on_click=S.open_line(r["id"]))),
        style=rx.cond(r["flag"] == "over", tokens.ROW_ERROR, rx.cond(r["flag"] == "plan", tokens.ROW_WARNING, {})),
    )


def _entries_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("支出明细"),
        rx.text(S.entries_title, size="2", weight="bold"),
        rx.text(S.entries_note, size="2", color_scheme="gray", id="ledger-entries-note"),
        rx.cond(S.entries.length() > 0, rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("日期", "类型", "金额", "对方户名", "用途/附言", "说明", "匹配人")])),
            rx.table.body(rx.foreach(S.entries, lambda e: rx.table.row(
                rx.table.cell(e["spent_on"], white_space="nowrap"), rx.table.cell(e["kind"]), money_cell(e["amount"]),
                rx.table.cell(e["counterparty"]), rx.table.cell(e["remittance"]), rx.table.cell(e["note"]),
                rx.table.cell(e["matched_by"])))),
            size="1", width="100%", id="ledger-entries"), style=tokens.GRID_WRAP)),
        rx.dialog.close(rx.button("关闭", variant="soft", on_click=S.close_line(False))),
        max_width="960px",
    ), open=S.entries_title != "", on_open_change=S.close_line)


@app_page(routes.LEDGER_BUDGET, "执行台账", PERMISSION, on_load=LedgerState.load)
def ledger_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(S.title, weight="bold", size="4"), rx.spacer(), unit_switch(S.unit, S.choose_unit),
                  rx.link("返回列表", href=routes.LEDGER), width="100%", align="center"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("项目", "经济分类", "资金来源")],
                                         *[rx.table.column_header_cell(h) for h, _ in COLUMNS],
                                         rx.table.column_header_cell("提示"), rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(S.rows, _ledger_row),
                          rx.table.row(rx.table.cell(rx.text("合计", weight="bold")), rx.table.cell(""), rx.table.cell(""),
                                       *[money_cell(S.totals[k]) for _, k in COLUMNS], rx.table.cell(""),
                                       rx.table.cell(""))),
            variant="surface", size="1", id="ledger-table"), style=tokens.GRID_WRAP),
        _entries_dialog(),
        spacing="3", width="100%",
    )
