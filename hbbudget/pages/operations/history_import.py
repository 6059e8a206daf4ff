"""历史数据迁移 (系统管理员 at the root, admin.settings): download the template, upload the filled workbook, see
every row the import would add, update or refuse (row number and reason), then apply the same file: all or
nothing, audited. The same service as `hbbudget migrate-import`."""

from __future__ import annotations

import asyncio
import hashlib

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations import history, migrate
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state.guard import guarded

PERMISSION = migrate.PERMISSION
UPLOAD_ID = "history-upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN = 300  # rows of the report shown (refusals first)
ACTION_COLORS = {"新增": "green", "更新": "blue", "不变": "gray", "拒绝": "red"}


def _read_upload(files: list) -> bytes:
    """One .xlsx within the upload limit (the workbook's content is checked by the safe reader)."""
    if not isinstance(files, list) or len(files) != 1:
        raise ValidationError("请选择一个填好的导入模板（.xlsx）")
    upload = files[0]
    name = str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "")
    if not name.lower().endswith(".xlsx"):
        raise ValidationError("只能上传 .xlsx 工作簿（导入模板）")
    limit = get_settings().max_upload_bytes
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
    return data


def _plan(ctx: UserContext, data: bytes, dry_run: bool) -> history.Report:
    return migrate.run(history.read_workbook(data), dry_run=dry_run, operator=ctx.username, actor=ctx)


class HistoryImportState(rx.State):
    rows: list[dict[str, str]] = []
    summary: str = ""
    ok: bool = False
    _sha: str = ""

    def _show(self, report: history.Report) -> None:
        items = report.refused + [i for i in report.items if i.action not in ("拒绝", "不变")]
        self.rows = [{"sheet": i.sheet, "row": str(i.row), "key": i.key, "action": i.action, "reason": i.reason}
                     for i in items[:SHOWN]]
        self.summary = report.summary() + (f"（只列出前 {SHOWN} 行）" if len(items) > SHOWN else "")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        self.rows, self.summary, self.ok, self._sha = [], "", False, ""

    @rx.event
    @guarded(PERMISSION)
    async def template(self, ctx: UserContext):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        data = await asyncio.to_thread(history.template_bytes)
        return rx.download(data=data, filename="历史数据迁移模板.xlsx", mime_type=XLSX)

    @rx.event
    @guarded(PERMISSION)
    async def preview(self, ctx: UserContext, files: list[rx.UploadFile]):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)  # before reading what the client sent
        self.ok, self._sha = False, ""
        data = await asyncio.to_thread(_read_upload, files)
        report = await asyncio.to_thread(_plan, ctx, data, True)
        self._show(report)
        self.ok = not report.refused
        self._sha = hashlib.sha256(data).hexdigest() if self.ok else ""
        if not self.ok:
            return rx.toast.error(f"有 {len(report.refused)} 行被拒绝：修正后重新预览，未导入任何数据")

    @rx.event
    @guarded(PERMISSION)
    async def apply(self, ctx: UserContext, files: list[rx.UploadFile]):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        data = await asyncio.to_thread(_read_upload, files)
        if not self._sha or hashlib.sha256(data).hexdigest() != self._sha:
            raise ValidationError("请先预览并确认同一个文件")
        report = await asyncio.to_thread(_plan, ctx, data, False)
        self._show(report)
        self.ok, self._sha = False, ""
        if not report.applied:
            return rx.toast.error("有被拒绝的行，未导入任何数据")
        return [rx.clear_selected_files(UPLOAD_ID), rx.toast.success(f"已导入：{report.summary()}")]


S = HistoryImportState


@app_page(routes.HISTORY_IMPORT, "历史数据迁移", "admin.settings", menu="history", on_load=HistoryImportState.load)
def history_import_page() -> rx.Component:
    return rx.vstack(
        rx.text("导入以前年度的项目、已批复预算（含明细）和银行交易。模板每类数据一张工作表（项目、预算、预算明细、交易），"
                "先预览：每一行将新增、更新还是被拒绝（含行号和原因）；没有被拒绝的行才能导入，导入全部成功或全部不导入，"
                "重复导入同一文件不会产生重复数据。服务器上也可运行 hbbudget migrate-import 目录 --dry-run。",
                size="2", color_scheme="gray"),
        rx.button("下载导入模板", variant="soft", on_click=S.template, id="history-template"),
        rx.upload(
            rx.vstack(rx.icon("file-spreadsheet"), rx.text("点击选择或拖入填好的 .xlsx 模板", size="2"), align="center"),
            id=UPLOAD_ID, multiple=False, max_files=1, accept={XLSX: [".xlsx"]},
            border=f"1px dashed {rx.color('gray', 7)}", padding="1em", width="100%",
        ),
        rx.text(rx.selected_files(UPLOAD_ID).join("、"), size="2"),
        rx.hstack(
            rx.button("预览", on_click=S.preview(rx.upload_files(upload_id=UPLOAD_ID)), id="history-preview"),
            rx.button("确认导入", disabled=~S.ok, color_scheme="green",
                      on_click=S.apply(rx.upload_files(upload_id=UPLOAD_ID)), id="history-apply"),
            spacing="2"),
        rx.cond(S.summary != "", rx.text(S.summary, weight="bold", id="history-summary")),
        rx.cond(S.rows.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                           for h in ("工作表", "行号", "对象", "结果", "原因")])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(r["sheet"]), rx.table.cell(r["row"]), rx.table.cell(r["key"]),
                rx.table.cell(rx.badge(r["action"], color_scheme=rx.match(r["action"], *ACTION_COLORS.items(),
                                                                          "gray"))),
                rx.table.cell(r["reason"])))),
            size="1", width="100%", id="history-report")),
        spacing="4", width="100%",
    )
