"""预算编辑's 版本记录 tab: the saved versions of the budget and the difference between two of them (or one and
the current lines)."""

import asyncio

import reflex as rx

from hbbudget.pages import display
from hbbudget.pages.budgeting.editor_state import EditorDialog
from hbbudget.services.budgeting import budgets
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded


class EditorVersionsState(EditorDialog):
    versions: list[dict[str, str]] = []
    from_default: str = ""  # the picker's "from": the latest saved version (the one before the current lines)
    diff_summary: str = ""
    diff_rows: list[dict[str, str]] = []

    _diff: dict = {}
    _diff_names: tuple = ("", "")

    def _format_diff(self, unit: str) -> None:
        self.diff_rows = display.diff_rows(self._diff, unit)
        self.diff_summary = display.diff_summary(self._diff, self._diff_names, unit)

    def _unit_changed(self, unit: str) -> None:
        if self._diff:
            self._format_diff(unit)

    @rx.event
    @guarded("budget.view")
    async def load_versions(self, ctx: UserContext):
        grid = await self._grid()
        rows = await asyncio.to_thread(budgets.list_versions, ctx, grid.bid)
        self.versions = [display.version(v, grid.unit) for v in rows]
        self.from_default = self.versions[-1]["version_no"] if self.versions else ""

    @rx.event
    @guarded("budget.view")
    async def compare_versions(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        known = {int(v["version_no"]) for v in self.versions}
        a = args.offered_id(data.get("from_version") or self.from_default, known, "比较的版本", "比较的版本无效")
        b = str(data.get("to_version") or "0")
        if b != "0":
            b = args.offered_id(b, known, "比较的版本", "比较的版本无效")
        grid = await self._grid()
        self._diff = await asyncio.to_thread(budgets.diff, ctx, grid.bid, int(a), int(b))
        self._diff_names = (f"第 {a} 版", "当前" if b == "0" else f"第 {b} 版")
        self._format_diff(grid.unit)
