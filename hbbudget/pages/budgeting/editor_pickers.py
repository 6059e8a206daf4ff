"""预算编辑's pickers: a project (for a grid line, the new-line form or the template dialog) and a classification
code (for a grid line or the new-line form). Both search on the server; a pick names only what was offered."""

import asyncio

import reflex as rx

from hbbudget.pages.budgeting.editor_state import BASIC, CODE_KINDS, EditorDialog
from hbbudget.pages.budgeting.editor_template import EditorTemplateState
from hbbudget.services.budgeting import budgets
from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PICKER_SIZE = 30


class EditorProjectState(EditorDialog):
    """Projects of the budget's unit: every one can be chosen (the first PICKER_SIZE by code; type to narrow)."""

    project_open: bool = False
    project_title: str = ""
    project_options: list[dict[str, str]] = []

    _project_target: str = ""  # "new" | "template" | a line id
    _project_ids: list[int] = []  # the projects the picker offered

    async def _search(self, ctx: UserContext, bid: int, text: str) -> None:
        found = await asyncio.to_thread(budgets.project_options, ctx, bid, text, PICKER_SIZE)
        self._project_ids = [p["id"] for p in found]
        self.project_options = [{"id": "0", "label": BASIC}] + [
            {"id": str(p["id"]), "label": f"{p['name']}（{p['code']}，{p['status']}）"} for p in found]

    @rx.event
    @guarded("budget.edit")
    async def open_project_picker(self, ctx: UserContext, target: str):
        """target: a line id of the page, "new" (the new-line form) or "template" (the template dialog)."""
        target = args.as_text(target, "选择对象", 16, required=True)
        grid = await self._grid()
        grid._need_editable()
        if target not in ("new", "template"):
            target = str(grid._line_id(target))
        self._project_target = target
        self.project_title = "选择项目" if target in ("new", "template") else "选择本行的项目"
        await self._search(ctx, grid.bid, "")
        self.project_open = True

    @rx.event
    @guarded("budget.edit")
    async def search_projects(self, ctx: UserContext, form_data: dict):
        if not self.project_open:
            raise ValidationError("请先打开项目选择")
        grid = await self._grid()
        await self._search(ctx, grid.bid, args.field(args.form(form_data), "q", "查询内容", 64))

    @rx.event
    @guarded("budget.edit")
    async def close_project_picker(self, ctx: UserContext):
        self.project_open = False

    @rx.event
    @guarded("budget.edit")
    async def pick_project(self, ctx: UserContext, project_id: str):
        pid = args.as_opt_id(project_id, "项目")
        if not self.project_open:
            raise ValidationError("请先打开项目选择")
        if pid and pid not in self._project_ids:
            raise NotOffered("请从列表中选择项目")
        label = next((o["label"] for o in self.project_options if o["id"] == str(pid)), BASIC)
        target = self._project_target
        self.project_open = False
        grid = await self._grid()
        if target == "new":
            grid._new_project, grid.new_project_label = pid, label
            return None
        if target == "template":
            (await self.get_state(EditorTemplateState))._choose_project(pid, label)
            return None
        lid = grid._line_id(target)
        if pid == grid._raw[lid]["project_id"]:
            return None
        return await grid._update(ctx, lid, {"project_id": pid})


class EditorCodeState(EditorDialog):
    """Leaf economic or function codes of the budget's year."""

    picker_open: bool = False
    picker_kind: str = "econ"
    picker_title: str = ""
    picker_options: list[dict[str, str]] = []

    _picker_target: int = 0  # a line id, or 0: the new-line form

    async def _search(self, ctx: UserContext, text: str) -> None:
        year = int((await self._grid()).header.get("fiscal_year") or 0)
        options = await asyncio.to_thread(budgets.code_options, ctx, year, CODE_KINDS[self.picker_kind], text, 30)
        self.picker_options = [{"code": str(o["code"]), "name": str(o["name"])} for o in options]

    @rx.event
    @guarded("budget.view")
    async def open_picker(self, ctx: UserContext, column: str, line_id: str):
        """line_id "0": pick for the new-line form."""
        column = args.as_choice(column, CODE_KINDS, "科目类别")
        target = args.as_opt_id(line_id, "明细编号")
        grid = await self._grid()
        if target:
            grid._need_editable()
            grid._line_id(target)
        self._picker_target, self.picker_kind = target, column
        self.picker_title = "选择经济分类科目" if column == "econ" else "选择功能分类科目"
        await self._search(ctx, "")
        self.picker_open = True

    @rx.event
    @guarded("budget.view")
    async def search_picker(self, ctx: UserContext, form_data: dict):
        await self._search(ctx, args.field(args.form(form_data), "q", "查询内容", 32))

    @rx.event
    @guarded("budget.view")
    async def close_picker(self, ctx: UserContext):
        self.picker_open = False

    @rx.event
    @guarded("budget.edit")
    async def pick_code(self, ctx: UserContext, code: str):
        code = args.as_text(code, "科目编码", 7, required=True)
        if not code.isdigit():
            raise ValidationError("科目编码须为数字")
        self.picker_open = False
        grid = await self._grid()
        if not self._picker_target:
            if self.picker_kind == "econ":
                grid.new_econ = code
            else:
                grid.new_func = code
            return None
        return await grid._update(ctx, self._picker_target, {f"{self.picker_kind}_code": code})
