"""科目年度更新 (系统管理员 at the root, subject.manage): upload next year's 功能分类 or 经济分类 table, preview the
added / renamed / retired codes and who uses a retired code, then apply exactly the previewed file."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import reflex as rx

from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages.shell.base import app_page
from hbbudget.services.core.subjects import KIND_LABELS
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations import subject_update
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state import args
from state.guard import guarded

PERMISSION = subject_update.PERMISSION
UPLOAD_ID = "subject-upload"


def _read_upload(files: list) -> tuple[str, bytes]:
    if not isinstance(files, list) or len(files) != 1:
        raise ValidationError("请选择一个科目表文件（.xlsx 或 .csv）")
    upload = files[0]
    name = str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "")
    suffix = Path(name).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError("只能上传 .xlsx 或 .csv 科目表")
    limit = get_settings().max_upload_bytes
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
    return suffix, data


def _run(fn, ctx: UserContext, suffix: str, data: bytes, year: int):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"科目表{suffix}"
        path.write_bytes(data)
        return fn(ctx, path, year)


class SubjectUpdateState(rx.State):
    year: str = ""
    years: list[str] = []
    summary: str = ""
    changes: list[dict[str, str]] = []
    uses: list[dict[str, str]] = []
    ready: bool = False
    _file: tuple[str, bytes] = ("", b"")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        now_year = current_fiscal_year()
        self.years = [str(y) for y in (now_year, now_year + 1)]
        self.year = self.years[-1]
        self.summary, self.changes, self.uses, self.ready, self._file = "", [], [], False, ("", b"")

    @rx.event
    @guarded(PERMISSION)
    async def choose_year(self, ctx: UserContext, year: str):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        self.year = args.as_choice(str(year), self.years, "年度")
        self.summary, self.changes, self.uses, self.ready, self._file = "", [], [], False, ("", b"")

    @rx.event
    @guarded(PERMISSION)
    async def preview(self, ctx: UserContext, files: list[rx.UploadFile]):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        self.ready, self._file = False, ("", b"")
        suffix, data = await asyncio.to_thread(_read_upload, files)
        year = int(args.as_choice(self.year, self.years, "年度"))
        found = await asyncio.to_thread(_run, subject_update.preview, ctx, suffix, data, year)
        report = found["report"]
        self.summary = (f"{year} 年{KIND_LABELS[report.kind]}，共 {report.total} 个：新增 {len(report.added)}，"
                        f"更名 {len(report.renamed)}，停用 {len(report.retired)}，恢复 {len(report.reactivated)}")
        self.changes = ([{"change": "新增", "code": c, "detail": ""} for c in report.added]
                        + [{"change": "更名", "code": c, "detail": f"{o} → {n}"} for c, o, n in report.renamed]
                        + [{"change": "停用", "code": c, "detail": ""} for c in report.retired]
                        + [{"change": "恢复", "code": c, "detail": ""} for c in report.reactivated])[:500]
        self.uses = found["uses"]
        self.ready, self._file = True, (suffix, data)

    @rx.event
    @guarded(PERMISSION)
    async def apply(self, ctx: UserContext):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        if not self.ready or not self._file[1]:
            raise ValidationError("请先上传并预览科目表")
        year = int(args.as_choice(self.year, self.years, "年度"))
        report = await asyncio.to_thread(_run, subject_update.apply, ctx, *self._file, year)
        self.ready, self._file = False, ("", b"")
        return [rx.clear_selected_files(UPLOAD_ID), rx.toast.success(report.summary().splitlines()[0])]


S = SubjectUpdateState


def _table(rows, headers: tuple[str, ...], keys: tuple[str, ...], element_id: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(*[rx.table.cell(r[k]) for k in keys]))),
        size="1", width="100%", id=element_id)


@app_page(routes.SUBJECT_UPDATE, "科目年度更新", "subject.manage", menu="calendar-sync", on_load=SubjectUpdateState.load)
def subject_update_page() -> rx.Component:
    return rx.vstack(
        rx.text("每年财政部发布新的政府收支分类科目后，在这里导入下一年度的功能分类或经济分类科目表（含编码和名称列）。"
                "先预览新增、更名、停用的科目和仍在使用停用科目的项目、预算明细、编制模板，确认后再导入；往年科目不受影响。",
                size="2", color_scheme="gray"),
        rx.hstack(rx.text("年度"), rx.select.root(rx.select.trigger(), rx.select.content(
            rx.foreach(S.years, lambda y: rx.select.item(y, value=y))), value=S.year, on_change=S.choose_year),
            align="center", spacing="3"),
        rx.upload(rx.text("点击选择或拖入科目表（.xlsx 或 .csv）", size="2"), id=UPLOAD_ID, multiple=False, max_files=1,
                  border=f"1px dashed {rx.color('gray', 7)}", padding="1em", width="100%"),
        rx.text(rx.selected_files(UPLOAD_ID).join("、"), size="2"),
        rx.hstack(rx.button("预览", on_click=S.preview(rx.upload_files(upload_id=UPLOAD_ID)), id="subject-preview"),
                  rx.button("确认导入", disabled=~S.ready, color_scheme="green", on_click=S.apply, id="subject-apply")),
        rx.cond(S.summary != "", rx.text(S.summary, weight="bold", id="subject-summary")),
        rx.cond(S.uses.length() > 0, rx.vstack(
            rx.text("以下对象仍在使用将停用的科目，导入后请通知相关单位调整：", color_scheme="red", size="2"),
            _table(S.uses, ("科目", "对象", "名称", "单位"), ("code", "what", "name", "org"), "subject-uses"),
            width="100%")),
        rx.cond(S.changes.length() > 0, _table(S.changes, ("变化", "编码", "说明"), ("change", "code", "detail"),
                                               "subject-changes")),
        spacing="4", width="100%",
    )
