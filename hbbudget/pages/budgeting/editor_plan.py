"""预算编辑's monthly plan dialog (用款计划) of one grid line: twelve amounts, or an even spread of the line's amount."""

import reflex as rx

from hbbudget.pages import display
from hbbudget.pages.budgeting.editor_state import EditorDialog
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded


class EditorPlanState(EditorDialog):
    plan_open: bool = False
    plan_line: str = ""
    plan_title: str = ""
    plan_key: str = ""
    plan_months: list[dict[str, str]] = []

    async def _save(self, ctx: UserContext, changes: dict):
        result = await (await self._grid())._update(ctx, self.plan_line, changes)
        if result is None:
            self.plan_open = False
        return result

    @rx.event
    @guarded("budget.view")
    async def open_plan(self, ctx: UserContext, line_id: str):
        grid = await self._grid()
        lid = grid._line_id(line_id)
        row = grid._raw[lid]
        self.plan_line = str(lid)
        self.plan_key = f"{lid}-{row['version']}"
        self.plan_title = (f"用款计划：{row['econ_code']} {row['econ_name']}，"
                           f"全年 {display.amount(row['amount'], 'yuan')}")
        self.plan_months = display.plan_months(list(row["months"] or [0] * 12)[:12])
        self.plan_open = True

    @rx.event
    @guarded("budget.view")
    async def close_plan(self, ctx: UserContext):
        self.plan_open = False

    @rx.event
    @guarded("budget.edit")
    async def save_plan(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        months = [args.as_text(data.get(f"m{i:02d}"), f"{i}月", 32, required=True) for i in range(1, 13)]
        return await self._save(ctx, {"months": months})

    @rx.event
    @guarded("budget.edit")
    async def spread_plan(self, ctx: UserContext):
        return await self._save(ctx, {"spread": "even"})
