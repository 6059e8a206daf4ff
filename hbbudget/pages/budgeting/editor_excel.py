"""预算编辑's Excel: export the budget; import a file in two steps (preview, then commit the same file), which
replaces every line of the budget or none."""

import asyncio
import hashlib

import reflex as rx

from hbbudget.pages import display
from hbbudget.pages.budgeting.editor_state import EditorDialog
from hbbudget.services.budgeting import excel
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded

MAX_IMPORT_BYTES = 10 * 1024 * 1024
IMPORT_ID = "budget-import"


def _read_upload(files: list) -> tuple[str, bytes]:
    if not isinstance(files, list) or len(files) != 1:
        raise ValidationError("请选择一个 Excel 文件（.xlsx）")
    upload = files[0]
    name = str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "")[:200]
    if not name.lower().endswith(".xlsx"):
        raise ValidationError("只能导入 .xlsx 文件")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_IMPORT_BYTES:
        raise ValidationError("文件超过 10 MB，不能导入")
    data = upload.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError("文件超过 10 MB，不能导入")
    return name, data


class EditorImportState(EditorDialog):
    import_open: bool = False
    import_summary: str = ""
    import_ok: bool = False
    import_rows: list[dict[str, str]] = []
    import_problems: list[dict[str, str]] = []

    _import_sha: str = ""  # the previewed file: only that one can be committed

    @rx.event
    @guarded("budget.view")
    async def export_excel(self, ctx: UserContext):
        grid = await self._grid()
        if not grid.bid:
            raise ValidationError("请先打开预算")
        filename, data = await asyncio.to_thread(excel.export_budget, ctx, grid.bid)
        return rx.download(data=data, filename=filename)

    @rx.event
    @guarded("budget.edit")
    async def open_import(self, ctx: UserContext):
        (await self._grid())._need_editable()
        self.import_open, self.import_summary, self.import_ok = True, "", False
        self.import_rows, self.import_problems, self._import_sha = [], [], ""

    @rx.event
    @guarded("budget.edit")
    async def close_import(self, ctx: UserContext):
        self.import_open = False
        return rx.clear_selected_files(IMPORT_ID)

    @rx.event
    @guarded("budget.edit")
    async def preview_import(self, ctx: UserContext, files: list[rx.UploadFile]):
        grid = await self._grid()
        grid._need_editable()
        name, data = await asyncio.to_thread(_read_upload, files)
        result = await asyncio.to_thread(excel.import_preview, ctx, grid.bid, name, data)
        self._import_sha = hashlib.sha256(data).hexdigest() if result.get("ok") else ""
        self.import_ok = bool(result.get("ok"))
        self.import_problems = display.problems(result.get("problems") or [])
        self.import_rows = [display.line(r, grid.unit) for r in (result.get("rows") or [])[:50]]
        self.import_summary = (f"共 {result.get('count', 0)} 行，合计 {display.amount(result.get('total', 0), grid.unit)}"
                               + ("，可以导入" if self.import_ok else f"，发现 {len(self.import_problems)} 处问题，不能导入"))

    @rx.event
    @guarded("budget.edit")
    async def commit_import(self, ctx: UserContext, files: list[rx.UploadFile]):
        grid = await self._grid()
        grid._need_editable()
        name, data = await asyncio.to_thread(_read_upload, files)
        if not self._import_sha or hashlib.sha256(data).hexdigest() != self._import_sha:
            raise ValidationError("请先预览并确认同一个文件")
        try:
            await asyncio.to_thread(excel.import_commit, ctx, grid.bid, name, data)
        except ValidationError as err:  # excel.ImportRefused carries .problems
            self.import_ok, self._import_sha = False, ""
            self.import_problems = display.problems(getattr(err, "problems", None) or [])
            return rx.toast.error(err.message)
        self.import_open, self._import_sha = False, ""
        grid.offset, grid._filters, grid.filter_text = 0, {}, ""
        await grid._reload_header(ctx)
        await grid._fetch(ctx)
        return [rx.clear_selected_files(IMPORT_ID), rx.toast.success("导入完成：已替换全部明细")]
