"""指标库 /indicators: the indicator library of a fiscal year, searched by name, industry and 一级; holders of
performance.library add and retire indicators of the owners offered (the common library at the root, else their
orgs) and import/export it as xlsx. Services: performance.library."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.forms import fixed_select, text_input
from components.table import pager
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.performance import library
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.paging import paging

VIEW, EDIT = "performance.view", "performance.library"
PAGE_SIZE = 30
MAX_BYTES = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_ID = "indicator-upload"
ALL = "全部"


def _years() -> list[int]:
    with session_scope() as session:
        return library.years(session)


class IndicatorLibraryState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    year: str = ""
    years: list[str] = []
    search_text: str = ""
    industry: str = ALL
    level1: str = ALL
    owners: list[dict[str, str]] = []  # where the user may add: [{"id", "name"}], "0" = 省级通用指标库
    owner: str = ""
    form_key: int = 0
    _ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(
            library.list_indicators, ctx, int(self.year), self.search_text,
            "" if self.industry == ALL else self.industry, "" if self.level1 == ALL else self.level1,
            self.offset, PAGE_SIZE, True)
        self._ids = [r["id"] for r in rows]
        self.rows = [{**{k: str(v) for k, v in r.items()}, "retired": "1" if r["retired"] else "",
                      "target": f"{r['direction']} {r['default_target']}{r['unit']}".strip()} for r in rows]

    @rx.event
    @guarded(VIEW)
    async def load(self, ctx: UserContext):
        years = await asyncio.to_thread(_years)
        self.years = [str(y) for y in years]
        year = current_fiscal_year()
        self.year = str(year if year in years or not years else years[-1])
        self.offset, self.search_text, self.industry, self.level1 = 0, "", ALL, ALL
        await self._refresh(ctx)
        owners = await asyncio.to_thread(library.owner_choices, ctx) if ctx.has(EDIT) else []
        self.owners = [{"id": i, "name": n} for i, n in owners]
        self.owner = owners[0][0] if owners else ""

    @rx.event
    @guarded(VIEW)
    async def search(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        year = str(data.get("year") or self.year)
        if year not in self.years:
            raise ValidationError("请选择列表中的年度")
        industry = args.as_choice(data.get("industry") or ALL, (ALL, *library.INDUSTRIES), "行业")
        level1 = args.as_choice(data.get("level1") or ALL, (ALL, *library.LEVELS), "一级指标")
        self.search_text = args.field(data, "q", "查询", 64)
        self.year, self.industry, self.level1, self.offset = year, industry, level1, 0
        await self._refresh(ctx)

    next_page, prev_page = paging("IndicatorLibraryState", VIEW, PAGE_SIZE)

    @rx.event
    @guarded(EDIT)
    async def choose_owner(self, ctx: UserContext, owner: str):
        if owner not in [o["id"] for o in self.owners]:
            raise NotOffered("请选择列表中的指标库")
        self.owner = owner

    @rx.event
    @guarded(EDIT)
    async def set_retired(self, ctx: UserContext, indicator_id: str, retired: bool):
        iid = args.offered_id(indicator_id, self._ids, "指标", "该指标不在当前列表中")
        flag = args.as_flag(retired, "状态")
        await asyncio.to_thread(library.set_retired, ctx, iid, flag)
        await self._refresh(ctx)
        return rx.toast.success("已停用" if flag else "已启用")

    def _owner_id(self) -> int:
        if self.owner not in [o["id"] for o in self.owners]:
            raise ValidationError("没有可维护的指标库")
        return int(self.owner)

    @rx.event
    @guarded(EDIT)
    async def submit_indicator(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        owner = self._owner_id()
        fields = {k: data.get(k, "") for k in library.COLUMNS.values()}
        row = await asyncio.to_thread(library.save_indicator, ctx, int(self.year), owner, fields)
        self.form_key += 1
        self.search_text, self.offset = row["code"], 0
        await self._refresh(ctx)
        return rx.toast.success(f"已添加指标 {row['code']}")

    @rx.event
    @guarded(EDIT)
    async def export(self, ctx: UserContext):
        name, data = await asyncio.to_thread(library.export_xlsx, ctx, int(self.year))
        return rx.download(data=data, filename=name, mime_type=XLSX)

    @rx.event
    @guarded(EDIT)
    async def import_file(self, ctx: UserContext, files: list[rx.UploadFile]):
        owner = self._owner_id()
        if not isinstance(files, list) or len(files) != 1:
            raise ValidationError("请选择一个 .xlsx 或 .csv 文件")
        upload = files[0]
        name = str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "")[:200]
        if getattr(upload, "size", 0) and upload.size > MAX_BYTES:
            raise ValidationError("文件超过 10 MB，不能导入")
        data = upload.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ValidationError("文件超过 10 MB，不能导入")
        report = await asyncio.to_thread(library.import_table, ctx, int(self.year), owner, name, data)
        self.offset = 0
        await self._refresh(ctx)
        return rx.toast.success(f"已导入：新增 {report['added']} 条，更新 {report['updated']} 条")


S = IndicatorLibraryState
HEADERS = ("编码", "一级", "二级", "三级指标", "目标", "适用行业", "评价指引", "来源", "所属", "")
INDUSTRY_CHOICES = [(ALL, ALL)] + [(i, i) for i in library.INDUSTRIES]
LEVEL_CHOICES = [(ALL, ALL)] + [(k, k) for k in library.LEVELS]


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["code"]), rx.table.cell(r["level1"]), rx.table.cell(r["level2"]),
        rx.table.cell(r["name"], rx.cond(r["retired"] != "", rx.badge("已停用", color_scheme="gray"))),
        rx.table.cell(r["target"], style=tokens.NUM), rx.table.cell(r["industries"]),
        rx.table.cell(rx.text(r["guidance"], size="1")), rx.table.cell(r["source"]), rx.table.cell(r["owner"]),
        rx.table.cell(rx.cond(S.owners.length() > 0, rx.cond(
            r["retired"] != "",
            rx.button("启用", size="1", variant="soft", on_click=S.set_retired(r["id"], False)),
            rx.button("停用", size="1", variant="soft", color_scheme="red", on_click=S.set_retired(r["id"], True))))),
    )


def _filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.vstack(rx.text("年度", size="1", color_scheme="gray"),
                      rx.select(S.years, name="year", default_value=S.year, key=S.year, width="7em"), spacing="1"),
            fixed_select("industry", "行业", INDUSTRY_CHOICES, default=ALL, element_id="ind-industry", width="10em"),
            fixed_select("level1", "一级指标", LEVEL_CHOICES, default=ALL, element_id="ind-level1", width="7em"),
            text_input("q", "名称或编码", element_id="ind-search"),
            rx.button("查询", type="submit", id="ind-search-submit"),
            style=tokens.TOOLBAR, align="end"),
        on_submit=S.search, reset_on_submit=False)


def _editor() -> rx.Component:
    return rx.cond(S.owners.length() > 0, rx.vstack(
        rx.hstack(
            rx.text("维护：", size="2"),
            rx.select.root(rx.select.trigger(width="14em", id="ind-owner"),
                           rx.select.content(rx.foreach(S.owners, lambda o: rx.select.item(o["name"], value=o["id"]))),
                           value=S.owner, on_change=S.choose_owner),
            rx.button("导出 xlsx", variant="soft", on_click=S.export, id="ind-export"),
            rx.upload(rx.button("选择文件", variant="soft"), id=UPLOAD_ID, accept={XLSX: [".xlsx"], "text/csv": [".csv"]},
                      max_files=1, border="none", padding="0"),
            rx.button("导入", on_click=S.import_file(rx.upload_files(upload_id=UPLOAD_ID)), id="ind-import"),
            style=tokens.TOOLBAR),
        rx.form(rx.hstack(
            fixed_select("level1", "一级", [(k, k) for k in library.LEVELS], element_id="new-level1", width="7em"),
            fixed_select("level2", "二级", [(v, v) for vs in library.LEVELS.values() for v in vs],
                         element_id="new-level2", width="9em"),
            text_input("name", "三级指标", element_id="new-name", max_length=64),
            text_input("unit", "单位", element_id="new-unit", width="5em", max_length=16),
            fixed_select("direction", "方向", [(d, d) for d in library.DIRECTIONS], element_id="new-direction",
                         width="6em"),
            text_input("default_target", "默认目标值", element_id="new-target", width="7em", max_length=32),
            text_input("industries", "适用行业（、分隔）", element_id="new-industries", max_length=128),
            text_input("guidance", "评价指引", element_id="new-guidance", width="18em", max_length=500),
            rx.button("添加指标", type="submit", id="new-submit"),
            style=tokens.TOOLBAR, align="end"),
            key=S.form_key, on_submit=S.submit_indicator, reset_on_submit=False),
        style=tokens.PANEL, width="100%"))


@app_page(routes.INDICATORS, "绩效指标库", "performance.view", menu="target", on_load=S.load)
def indicators_page() -> rx.Component:
    return rx.vstack(
        _filters(),
        rx.text("省级通用指标由省财政维护，下级单位只读；单位可添加本单位指标，本单位及下级可见。方向：≥ 越大越好，≤ 越小越好，= 须等于，"
                "定性 分达成/基本达成/部分达成/未达成。", size="1", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])),
            rx.table.body(rx.foreach(S.rows, _row)),
            variant="surface", size="1", width="100%", id="indicator-table"),
        pager(S.page_label, S.prev_page, S.next_page),
        _editor(),
        spacing="3", width="100%")
