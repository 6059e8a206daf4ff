"""预算编辑's category template dialog: one new line per economic 款 of a template, the amount split by its shares."""

import asyncio

import reflex as rx

from hbbudget.pages.budgeting.editor_state import BASIC, EditorDialog
from hbbudget.services.budgeting import budgets, templates
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded


class EditorTemplateState(EditorDialog):
    template_open: bool = False
    template_choices: list[dict[str, str]] = []
    template_project_label: str = BASIC  # chosen in the project picker (editor_pickers.py)

    _template_ids: list[int] = []
    _template_project: int = 0

    def _choose_project(self, project_id: int, label: str) -> None:
        self._template_project, self.template_project_label = project_id, label

    @rx.event
    @guarded("budget.edit")
    async def open_template(self, ctx: UserContext):
        (await self._grid())._need_editable()
        rows = await asyncio.to_thread(templates.list_templates, ctx)
        self._template_ids = [t["id"] for t in rows]
        self.template_choices = [{"id": str(t["id"]), "label": f"{t['name']}（{t.get('org_name', '')}）"} for t in rows]
        self._choose_project(0, BASIC)
        self.template_open = True

    @rx.event
    @guarded("budget.edit")
    async def close_template(self, ctx: UserContext):
        self.template_open = False

    @rx.event
    @guarded("budget.edit")
    async def apply_template(self, ctx: UserContext, form_data: dict):
        grid = await self._grid()
        grid._need_editable()
        data = args.form(form_data)
        tid = args.offered_id(data.get("template_id"), self._template_ids, "模板", "请选择模板")
        result = await asyncio.to_thread(
            templates.apply_template, ctx, grid.bid, tid,
            project_id=self._template_project,
            func_code=args.field(data, "func_code", "功能分类", 7, required=True),
            source=args.as_choice(data.get("source") or budgets.SOURCES[0], budgets.SOURCES, "资金来源"),
            amount=args.field(data, "amount", "金额", 32, required=True))
        self.template_open = False
        await grid._after_structure_change(ctx, result)
        await grid._reload_header(ctx)
        return rx.toast.success(f"已按模板新增 {len(result['added_ids'])} 行")
