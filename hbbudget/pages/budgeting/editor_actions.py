"""预算编辑's document actions: submit / approve / return (a comment dialog), 发起调整/调剂 (a new document based on
this approved budget) and 调剂 between two lines of a 调剂 draft (行间调剂)."""

import asyncio

import reflex as rx

from hbbudget import money, routes
from hbbudget.pages import display
from hbbudget.pages.budgeting.editor_state import DIALOG_ACTIONS, EditorDialog
from hbbudget.services.budgeting import budgets, review
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

REVIEW_CALLS = {"submit": review.submit, "approve": review.approve, "return": review.return_budget}


class EditorActionState(EditorDialog):
    action: str = ""
    action_label: str = ""
    action_hint: str = ""

    @rx.event
    @guarded("budget.view")
    async def open_action(self, ctx: UserContext, action: str):
        offered = (await self._grid()).actions
        action = args.as_choice(action, [a["action"] for a in offered], "操作")
        self.action = action
        self.action_label = next(a["label"] for a in offered if a["action"] == action)
        self.action_hint = DIALOG_ACTIONS[action]

    @rx.event
    @guarded("budget.view")
    async def close_action(self, ctx: UserContext):
        self.action = ""

    @rx.event
    @guarded("budget.view")
    async def do_action(self, ctx: UserContext, form_data: dict):
        action = args.as_choice(self.action, DIALOG_ACTIONS, "操作")
        text = args.field(args.form(form_data), "comment", "说明", 500, required=action == "return")
        grid = await self._grid()
        header = await asyncio.to_thread(REVIEW_CALLS[action], ctx, grid.bid, text)
        label = self.action_label
        self.action = ""
        grid._set_header(header)
        await grid._fetch(ctx)
        return rx.toast.success(f"已{label}")

    @rx.event
    @guarded("budget.edit")
    async def start_adjustment(self, ctx: UserContext, kind: str):
        kind = args.as_choice(kind, ("调整", "调剂"), "调整类型")
        header = await asyncio.to_thread(budgets.create_adjustment, ctx, (await self._grid()).bid, kind)
        return [rx.toast.success(f"已发起{kind}"), rx.redirect(routes.budget_editor(header["id"]))]


class EditorTransferState(EditorDialog):
    """调剂 between two lines of the grid's page (filter the grid to reach other lines)."""

    transfer_open: bool = False
    transfer_choices: list[dict[str, str]] = []
    transfer_key: int = 0

    @rx.event
    @guarded("budget.edit")
    async def open_transfer(self, ctx: UserContext):
        grid = await self._grid()
        if not grid.can_transfer:
            raise ValidationError("只有可编辑的调剂单可以在行间调剂资金")
        self.transfer_choices = [{"id": str(i), "label": display.transfer_label(r)}
                                 for i in grid._order if (r := grid._raw.get(i))]
        self.transfer_key += 1
        self.transfer_open = True

    @rx.event
    @guarded("budget.edit")
    async def close_transfer(self, ctx: UserContext):
        self.transfer_open = False

    @rx.event
    @guarded("budget.edit")
    async def do_transfer(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        if not data.get("from_line") or not data.get("to_line"):
            raise ValidationError("请选择调出行和调入行")
        grid = await self._grid()
        src = grid._line_id(data.get("from_line"))  # lines first: one the page never showed is recorded
        dst = grid._line_id(data.get("to_line"))
        if not grid.can_transfer or not self.transfer_open:
            raise ValidationError("只有可编辑的调剂单可以在行间调剂资金")
        if src == dst:
            raise ValidationError("调出行和调入行不能相同")
        amount = args.field(data, "amount", "调剂金额", 32, required=True)
        note = args.field(data, "note", "调剂说明", 200)
        result = await asyncio.to_thread(budgets.transfer, ctx, grid.bid, src, dst, amount, note)
        self.transfer_open = False
        await grid._after_structure_change(ctx, result)
        await grid._reload_header(ctx)
        return rx.toast.success(f"已调剂 {display.amount(money.parse_yuan(amount), 'yuan')}")
