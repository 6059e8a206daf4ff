"""待匹配: the accountant's queue of bank payments the rules could not place; each is charged to one or more
budget lines (a split), and payments outside the bank feed are entered by hand (手工支出, or 冻结 for money
committed but not yet paid). A split may consume an open freeze of its line (the payment settles what was
committed); the open freezes are listed with a 解冻 button. Below, the 对方户名规则 section (`counterparty_rules.py`).
Services: matching.unmatched / match / record_manual / open_freezes / release_freeze, ledger.line_choices."""

from __future__ import annotations

import asyncio
from datetime import date

import reflex as rx

from components import tokens
from components.table import pager, row_table
from components.widgets import labelled, money_cell
from hbbudget import money, routes
from hbbudget.clock import today
from hbbudget.pages import display
from hbbudget.pages.execution.counterparty_rules import CounterpartyRuleState, rules_section
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.execution import ledger, matching
from hbbudget.services.security.permissions import UserContext
from state import args
from state.exec_feed import bump_soon
from state.guard import guarded
from state.paging import paging

PERMISSION = "execution.match"
PAGE_SIZE = 20
SPLITS = 4
LINE_LIMIT = 200  # line choices per list; a keyword narrows it
KINDS = {"manual": "手工支出", "frozen": "冻结（已承诺未支付）"}
NO_FREEZE = "none"


def _day(value: object) -> date:
    try:
        return date.fromisoformat(args.as_text(value, "日期", 10, required=True))
    except ValueError:
        raise ValidationError("日期格式应为 YYYY-MM-DD") from None


class MatchingState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    lines: list[dict[str, str]] = []
    line_year: str = ""
    line_years: list[str] = []
    line_q: str = ""
    lines_cut: bool = False
    sel_id: str = ""
    sel_text: str = ""
    form_key: int = 0
    freezes: list[dict[str, str]] = []
    _tx_ids: list[int] = []
    _line_ids: list[int] = []
    _line_year: int = 0
    _freeze_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(matching.unmatched, ctx, self.offset, PAGE_SIZE)
        self._tx_ids = [r["id"] for r in rows]
        self.rows = [{k: str(v) for k, v in r.items()} for r in rows]
        if self.sel_id and int(self.sel_id) not in self._tx_ids:
            self.sel_id, self.sel_text = "", ""

    def _years(self) -> list[int]:
        """The fiscal years offered: this year, last year (payments of December booked late), the selected one."""
        this = today().year
        return sorted({this, this - 1, self._line_year or this}, reverse=True)

    async def _load_lines(self, ctx: UserContext) -> None:
        self._line_year = self._line_year or today().year
        lines = await asyncio.to_thread(ledger.line_choices, ctx, self.line_q, LINE_LIMIT, self._line_year)
        self._line_ids = [line["id"] for line in lines]
        self.lines = [{"id": str(line["id"]), "label": display.line_choice(line)} for line in lines]
        self.lines_cut = len(lines) >= LINE_LIMIT
        self.line_year, self.line_years = str(self._line_year), [str(y) for y in self._years()]

    async def _load_freezes(self, ctx: UserContext) -> None:
        freezes = await asyncio.to_thread(matching.open_freezes, ctx)
        self._freeze_ids = [f["id"] for f in freezes]
        self.freezes = [{k: str(f[k]) for k in ("id", "label", "line_label", "spent_on", "amount", "open", "note")}
                        for f in freezes]

    def _freeze(self, value: object) -> int:
        return args.offered_id(value, self._freeze_ids, "冻结记录", "请选择列表中的冻结记录")

    def _line(self, value: object) -> int:
        return args.offered_id(value, self._line_ids, "预算明细", "请选择列表中的预算明细")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self.offset, self.sel_id, self.sel_text, self.line_q, self._line_year = 0, "", "", "", 0
        await self._refresh(ctx)
        await self._load_lines(ctx)
        await self._load_freezes(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def select(self, ctx: UserContext, tx_id: str):
        tid = args.offered_id(tx_id, self._tx_ids, "交易", "该交易不在当前列表中")
        row = next(r for r in self.rows if r["id"] == str(tid))
        self.sel_id = str(tid)
        self.sel_text = f"{row['booking_date']} {row['counterparty']} {row['amount']} {row['remittance']}".strip()
        self.form_key += 1
        booked = int(row["booking_date"][:4]) if row["booking_date"] else today().year
        if booked != self._line_year:  # a payment is charged to its own year's budget: offer that year's lines
            self._line_year = booked
            await self._load_lines(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def search_lines(self, ctx: UserContext, form_data: dict):
        """Narrow the line choices by a keyword (project, code, economic subject, unit) and a fiscal year."""
        data = args.form(form_data)
        year = args.as_year(data.get("year") or self._line_year or today().year)
        if year not in self._years():
            raise NotOffered("请选择列表中的年度")
        self.line_q, self._line_year = args.field(data, "q", "关键字", 40), year
        self.form_key += 1  # the forms' chosen lines may have left the list
        await self._load_lines(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def submit_match(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        if not self.sel_id:
            raise ValidationError("请先在左侧选择一笔交易")
        splits = []
        for i in range(SPLITS):
            line, amount = data.get(f"line{i}") or "", args.field(data, f"amount{i}", "金额", 32)
            freeze = args.field(data, f"freeze{i}", "冻结记录", 24)
            if line or amount:
                if not line or not amount:
                    raise ValidationError(f"第 {i + 1} 行：请同时选择预算明细并填写金额")
                if freeze and freeze != NO_FREEZE:
                    splits.append((self._line(line), amount, self._freeze(freeze)))
                else:
                    splits.append((self._line(line), amount))
        result = await asyncio.to_thread(matching.match, ctx, int(self.sel_id), splits)
        bump_soon()
        self.form_key += 1
        await self._refresh(ctx)
        await self._load_lines(ctx)
        await self._load_freezes(ctx)
        if result["rule"]:  # a rule was learned or marked 冲突: show it in the list below
            await (await self.get_state(CounterpartyRuleState))._refresh(ctx)
        done = "已匹配" if result["status"] == "已匹配" else "已部分匹配，剩余金额仍待匹配"
        return rx.toast.success(f"{done}；同时解冻 {money.fmt(result['released'])}" if result["released"] else done)

    @rx.event
    @guarded(PERMISSION)
    async def submit_manual(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        kind = args.as_choice(data.get("kind") or "manual", KINDS, "类型")
        line = self._line(data.get("line") or "")
        await asyncio.to_thread(matching.record_manual, ctx, line, args.field(data, "amount", "金额", 32, required=True),
                                _day(data.get("spent_on")), args.field(data, "note", "说明", 200), kind)
        bump_soon()
        self.form_key += 1
        await self._load_lines(ctx)
        await self._load_freezes(ctx)
        return rx.toast.success(f"已登记{KINDS[kind][:4]}")

    @rx.event
    @guarded(PERMISSION)
    async def release_freeze(self, ctx: UserContext, freeze_id: str):
        result = await asyncio.to_thread(matching.release_freeze, ctx, self._freeze(freeze_id))
        bump_soon()
        self.form_key += 1
        await self._load_lines(ctx)
        await self._load_freezes(ctx)
        return rx.toast.success(f"已解冻 {money.fmt(result['released'])}")

    next_page, prev_page = paging("MatchingState", PERMISSION, PAGE_SIZE)


S = MatchingState


def _line_filter() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.text("预算明细", weight="bold"),
            rx.select.root(rx.select.trigger(width="9em"),
                           rx.select.content(rx.foreach(S.line_years, lambda y: rx.select.item(y + " 年度", value=y))),
                           name="year", default_value=S.line_year),
            rx.input(name="q", placeholder="项目名称、编码、经济科目或单位", default_value=S.line_q, max_length=40,
                     width="18em", id="line-search"),
            rx.button("筛选", type="submit", variant="soft", id="line-search-submit"),
            rx.cond(S.lines_cut, rx.text(f"仅列出前 {LINE_LIMIT} 条，请输入关键字筛选", size="2", color_scheme="orange"),
                    rx.cond(S.lines.length() == 0,
                            rx.text("该年度没有可匹配的已批复预算明细", size="2", color_scheme="gray"),
                            rx.text("可选 ", S.lines.length(), " 条", size="2", color_scheme="gray", id="line-count"))),
            style=tokens.TOOLBAR,
        ),
        key=S.line_year, on_submit=S.search_lines, reset_on_submit=False, width="100%",
    )


def _line_select(name: str, element_id: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="选择预算明细", width="100%", id=element_id),
        rx.select.content(rx.foreach(S.lines, lambda line: rx.select.item(line["label"], value=line["id"]))),
        name=name,
    )


def _freeze_select(name: str, element_id: str) -> rx.Component:
    """Which open freeze of the line this part settles (it is released by the part's amount)."""
    return rx.select.root(
        rx.select.trigger(placeholder="不消耗冻结", width="100%", id=element_id),
        rx.select.content(rx.select.item("不消耗冻结", value=NO_FREEZE),
                          rx.foreach(S.freezes, lambda f: rx.select.item(f["label"], value=f["id"]))),
        name=name, default_value=NO_FREEZE,
    )


def _freezes() -> rx.Component:
    return rx.cond(S.freezes.length() > 0, rx.vstack(
        rx.text("冻结资金（已承诺未支付）", weight="bold"),
        rx.text("付款匹配时可选择消耗对应冻结；承诺取消或已在别处支付时点“解冻”。", size="2", color_scheme="gray"),
        row_table(("冻结日期", "预算明细", "冻结金额", "未解冻", "说明", ""), S.freezes, lambda f: rx.table.row(
                rx.table.cell(f["spent_on"]), rx.table.cell(f["line_label"]), money_cell(f["amount"]),
                money_cell(f["open"]), rx.table.cell(f["note"]),
                rx.table.cell(rx.button("解冻", size="1", variant="soft", color_scheme="orange",
                                        on_click=S.release_freeze(f["id"]))),
            ), "freeze-list"),
        spacing="2", width="100%"))


def _queue() -> rx.Component:
    return rx.vstack(
        row_table(("记账日", "单位", "对方户名", "金额", "摘要", "状态", ""), S.rows, lambda r: rx.table.row(
                rx.table.cell(r["booking_date"]), rx.table.cell(r["org_name"]), rx.table.cell(r["counterparty"]),
                money_cell(r["amount"]), rx.table.cell(r["remittance"]), rx.table.cell(r["status"]),
                rx.table.cell(rx.button("匹配", size="1", variant=rx.cond(S.sel_id == r["id"], "solid", "soft"),
                                        on_click=S.select(r["id"]))),
            ), "match-queue"),
        pager(S.page_label, S.prev_page, S.next_page),
        width="100%",
    )


def _split_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("拆分到预算明细", weight="bold"),
            rx.text(rx.cond(S.sel_id != "", S.sel_text, "请先在上方选择一笔交易"), size="2", id="match-selected"),
            *[rx.hstack(rx.box(_line_select(f"line{i}", f"split-line-{i}"), flex="1", min_width="0"),
                        rx.input(name=f"amount{i}", placeholder="金额（元）", max_length=32, style=tokens.AMOUNT_INPUT,
                                 flex_shrink="0", id=f"split-amount-{i}"),
                        rx.cond(S.freezes.length() > 0, rx.box(_freeze_select(f"freeze{i}", f"split-freeze-{i}"),
                                                               width="10em", flex_shrink="0")),
                        width="100%") for i in range(SPLITS)],
            rx.button("确认匹配", type="submit", id="match-submit", disabled=S.sel_id == ""),
            spacing="2", width="100%",
        ),
        key=S.form_key, on_submit=S.submit_match, reset_on_submit=False, style=tokens.PANEL, width="100%",
    )


def _manual_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("手工登记支出", weight="bold"),
            _line_select("line", "manual-line"),
            rx.hstack(
                labelled("金额（元）", rx.input(name="amount", max_length=32, style=tokens.AMOUNT_INPUT, id="manual-amount")),
                labelled("日期", rx.input(name="spent_on", type="date", id="manual-date")),
                labelled("类型", rx.select.root(rx.select.trigger(), rx.select.content(
                    *[rx.select.item(label, value=k) for k, label in KINDS.items()]), name="kind", default_value="manual")),
                style=tokens.TOOLBAR),
            rx.input(name="note", placeholder="说明（如报销单号）", max_length=200, width="100%", id="manual-note"),
            rx.button("登记", type="submit", id="manual-submit"),
            spacing="2", width="100%",
        ),
        key=S.form_key, on_submit=S.submit_manual, reset_on_submit=False, style=tokens.PANEL, width="100%",
    )


@app_page(routes.MATCHING, "待匹配", PERMISSION, menu="link", on_load=[MatchingState.load, CounterpartyRuleState.load])
def matching_page() -> rx.Component:
    return rx.vstack(
        rx.text("自动匹配未能确定预算明细的付款（摘要中无项目编码、对方户名无规则，或项目有多条明细）。一笔付款可拆分到多条明细。",
                size="2", color_scheme="gray"),
        _queue(),
        _line_filter(),
        rx.grid(_split_form(), _manual_form(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
        _freezes(),
        rules_section(),
        spacing="4", width="100%",
    )
