"""结转 `/carryover`: the unit proposes unspent 指标 of 延续 projects' lines for next year (结转资金); the finance
bureau's reviewer approves or returns. Business rules live in services.budgeting.carryover."""

import asyncio

import reflex as rx

from components.widgets import labelled, money_cell, status_badge
from hbbudget import money, routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import carryover
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded


def _row(c: dict) -> dict[str, str]:
    return {"id": str(c["id"]), "org_name": c["org_name"], "years": f"{c['from_year']} → {c['to_year']}",
            "total": money.fmt(c["total"]), "status": c["status"], "reason": c["reason"], "comment": c["comment"],
            "proposed_by": c["proposed_by"], "created_at": c["created_at"],
            "result": f"已列入预算 {c['result_budget_id']}" if c["result_budget_id"] else ""}


class CarryOverState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    can_propose: bool = False
    can_review: bool = False
    budgets: list[dict[str, str]] = []  # {id, label}: where the user may carry from
    budget_id: str = ""
    lines: list[dict[str, str]] = []  # the chosen budget's carriable lines
    form_key: int = 0
    review_id: str = ""  # the proposal open in the review dialog
    review_text: str = ""
    _budget_ids: list[int] = []
    _line_ids: list[int] = []
    _pending_ids: list[int] = []

    async def _refresh(self, ctx: UserContext) -> None:
        found, self.total = await asyncio.to_thread(carryover.list_carries, ctx, 0, 50)
        self.rows = [_row(c) for c in found]
        self._pending_ids = [c["id"] for c in found if c["status"] == "待审核"]

    async def _show_lines(self, ctx: UserContext, budget_id: int) -> None:
        found = await asyncio.to_thread(carryover.carriable, ctx, budget_id)
        self.lines = [{"line_id": str(r["line_id"]), "project": r["project"], "econ_code": r["econ_code"],
                       "source": r["source"], "amount": money.fmt(r["amount"]), "committed": money.fmt(r["committed"]),
                       "proposed": money.fmt(r["proposed"]), "unspent": money.fmt(r["unspent"])} for r in found]
        self._line_ids = [r["line_id"] for r in found if r["unspent"] > 0]
        self.form_key += 1

    @rx.event
    @guarded("budget.view")
    async def load(self, ctx: UserContext):
        self.can_propose, self.can_review = ctx.has("budget.edit"), ctx.has("budget.review")
        self.budget_id, self.lines, self.review_id, self.review_text = "", [], "", ""
        self._line_ids = []
        options = await asyncio.to_thread(carryover.source_budgets, ctx) if self.can_propose else []
        self.budgets = [{"id": str(o["id"]), "label": o["label"]} for o in options]
        self._budget_ids = [o["id"] for o in options]
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.edit")
    async def choose_budget(self, ctx: UserContext, budget_id: str):
        bid = args.offered_id(budget_id, self._budget_ids, "预算", "所选预算不在可结转列表中")
        self.budget_id = str(bid)
        await self._show_lines(ctx, bid)

    @rx.event
    @guarded("budget.edit")
    async def propose(self, ctx: UserContext, form_data: dict):
        """The form: a<line id> = amount in 元 (empty: not carried), reason."""
        data = args.form(form_data)
        if not self.budget_id:
            raise ValidationError("请先选择要结转的预算")
        amounts = {}
        for key, value in data.items():
            if not str(key).startswith("a") or not str(value or "").strip():
                continue
            line_id = args.offered_id(str(key)[1:], self._line_ids, "预算行", "所选预算行不在可结转列表中")
            amounts[line_id] = str(value)
        if not amounts:
            raise ValidationError("请至少为一行填写结转金额")
        reason = args.field(data, "reason", "结转说明", 500)
        done = await asyncio.to_thread(carryover.propose, ctx, int(self.budget_id), amounts, reason)
        await self._show_lines(ctx, int(self.budget_id))
        await self._refresh(ctx)
        return rx.toast.success(f"已提交结转申请：{money.fmt(done['total'])}，待财政部门审核")

    @rx.event
    @guarded("budget.review")
    async def open_review(self, ctx: UserContext, carry_id: str):
        cid = args.offered_id(carry_id, self._pending_ids, "结转申请", "该结转申请不在待审核列表中")
        c = await asyncio.to_thread(carryover.get_carry, ctx, cid)
        self.review_id = str(cid)
        self.review_text = "；".join(f"{ln['project']} {ln['econ_code']} {money.fmt(ln['amount'])}"
                                     for ln in c["lines"])

    @rx.event
    @guarded("budget.review")
    async def close_review(self, ctx: UserContext):
        self.review_id, self.review_text = "", ""

    async def _decide(self, ctx: UserContext, form_data: dict, approve: bool):
        data = args.form(form_data)
        if not self.review_id:
            raise ValidationError("请先打开要审核的结转申请")
        comment = args.field(data, "comment", "审核意见", 500)
        if approve:
            await asyncio.to_thread(carryover.approve, ctx, int(self.review_id), comment)
        else:
            await asyncio.to_thread(carryover.return_carry, ctx, int(self.review_id), comment)
        self.review_id, self.review_text = "", ""
        await self._refresh(ctx)
        return rx.toast.success("已批准结转，资金已列入下一年度预算" if approve else "已退回结转申请")

    @rx.event
    @guarded("budget.review")
    async def approve_carry(self, ctx: UserContext, form_data: dict):
        return await self._decide(ctx, form_data, True)

    @rx.event
    @guarded("budget.review")
    async def return_carry(self, ctx: UserContext, form_data: dict):
        return await self._decide(ctx, form_data, False)


S = CarryOverState


def _line(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["project"]), rx.table.cell(r["econ_code"]), rx.table.cell(r["source"]),
        money_cell(r["amount"]), money_cell(r["committed"]), money_cell(r["proposed"]), money_cell(r["unspent"]),
        rx.table.cell(rx.input(name="a" + r["line_id"], placeholder="0.00", max_length=20, width="9em",
                               id="carry-amount-" + r["line_id"])),
    )


def _propose() -> rx.Component:
    return rx.vstack(
        rx.text("年末可将延续项目未执行的指标（预算 − 已支出 − 冻结）申请结转到下一年度，作为“结转资金”，经财政部门审核后列入"
                "下一年度预算。按上年预算生成新年度草稿请到“预算编制”。", size="2"),
        labelled("结转来源预算", rx.select.root(
            rx.select.trigger(placeholder="选择已批复预算", id="carry-budget"),
            rx.select.content(rx.foreach(S.budgets, lambda b: rx.select.item(b["label"], value=b["id"]))),
            value=S.budget_id, on_change=S.choose_budget)),
        rx.cond(S.budget_id != "", rx.form(
            rx.vstack(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "项目", "经济分类", "资金来源", "预算", "已支出及冻结", "已申请结转", "未执行指标", "本次结转（元）")])),
                    rx.table.body(rx.foreach(S.lines, _line)), size="1", id="carry-lines"),
                rx.cond(S.lines.length() == 0, rx.text("该预算没有延续项目的预算行", size="2", color_scheme="gray")),
                labelled("结转说明", rx.input(name="reason", max_length=500, width="30em", id="carry-reason")),
                rx.button("提交结转申请", type="submit", id="carry-submit"),
                spacing="3", width="100%",
            ),
            on_submit=S.propose, reset_on_submit=False, key=S.form_key, width="100%",
        )),
        spacing="3", width="100%",
    )


def _review_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("审核结转申请"),
        rx.text(S.review_text, size="2"),
        rx.form(
            rx.vstack(
                labelled("审核意见（退回时必填）", rx.input(name="comment", max_length=500, width="100%", id="carry-comment")),
                rx.hstack(
                    rx.button("批准", type="submit", id="carry-approve"),
                    rx.button("关闭", type="button", variant="soft", color_scheme="gray", on_click=S.close_review),
                    spacing="2"),
                spacing="3",
            ),
            on_submit=S.approve_carry, reset_on_submit=False,
        ),
        rx.form(
            rx.hstack(rx.input(name="comment", placeholder="退回意见", max_length=500, width="20em", id="carry-return-comment"),
                      rx.button("退回", type="submit", color_scheme="red", variant="soft", id="carry-return"),
                      spacing="2", margin_top="0.6em"),
            on_submit=S.return_carry, reset_on_submit=False,
        ),
    ), open=S.review_id != "")


def _carry_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["org_name"]), rx.table.cell(r["years"]), money_cell(r["total"]),
        rx.table.cell(status_badge(r["status"])), rx.table.cell(r["reason"]), rx.table.cell(r["comment"]),
        rx.table.cell(r["proposed_by"]), rx.table.cell(r["created_at"]), rx.table.cell(r["result"]),
        rx.table.cell(rx.cond(S.can_review & (r["status"] == "待审核"),
                              rx.button("审核", size="1", variant="soft", on_click=S.open_review(r["id"]),
                                        id="carry-review-" + r["id"]))),
    )


@app_page(routes.CARRYOVER, "结转", "budget.view", menu="forward", on_load=CarryOverState.load)
def carryover_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.can_propose, _propose()),
        rx.heading("结转申请", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "单位", "年度", "结转金额", "状态", "说明", "审核意见", "申请人", "申请时间", "结果", "")])),
            rx.table.body(rx.foreach(S.rows, _carry_row)), size="1", id="carry-table"),
        rx.cond(S.total == 0, rx.text("暂无结转申请", size="2", color_scheme="gray")),
        _review_dialog(),
        spacing="4", width="100%",
    )
