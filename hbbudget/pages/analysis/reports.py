"""执行报告: a monthly or quarterly execution report of an org subtree the user may see, by 单位 / 功能分类 /
经济分类 / 项目 / 资金来源, in 元 or 万元; the same report as xlsx and as a print view (A4 landscape)."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.widgets import unit_switch
from hbbudget import clock, routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.analysis import exports, render, saved
from hbbudget.services.analysis.report import COLUMNS, DIMENSIONS, HEADER_GROUPS, Definition, run
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = "report.view"
PERIODS = {**{f"M{m:02d}": f"{m}月" for m in range(1, 13)}, **{f"Q{q}": f"第{'一二三四'[q - 1]}季度" for q in range(1, 5)}}


class ReportState(rx.State):
    orgs: list[dict[str, str]] = []
    years: list[str] = []
    org_id: str = ""
    year: str = ""
    period: str = ""
    rows_by: str = "org"
    unit: str = "yuan"
    title: str = ""
    info: str = ""
    rows: list[dict[str, str]] = []
    snapshot_id: str = ""  # a snapshot is shown (its frozen figures) instead of the live report
    definitions: list[dict[str, str]] = []
    snapshots: list[dict[str, str]] = []
    _offered: list[int] = []
    _offered_definitions: list[int] = []
    _offered_snapshots: list[int] = []

    def _definition(self) -> Definition:
        return Definition(int(self.org_id), int(self.year), self.period, self.rows_by, self.unit)

    def _show(self, report, suffix: str = "") -> None:
        self.title = report.title + suffix
        self.info = f"编制单位：{report.org_name}　期间：{report.definition.period_label}　单位：{report.unit_label}"
        self.rows = render.screen_rows(report)

    async def _run(self, ctx: UserContext) -> None:
        self.snapshot_id = ""
        self._show(await asyncio.to_thread(run, ctx, self._definition(), clock.today()))

    async def _show_snapshot(self, ctx: UserContext) -> None:
        report, as_of = await asyncio.to_thread(saved.snapshot_report, ctx, int(self.snapshot_id), self.unit)
        self._show(report, f"（快照，截至{as_of.isoformat()}）")

    async def _lists(self, ctx: UserContext) -> None:
        found = await asyncio.to_thread(saved.definitions, ctx)
        self.definitions = [{"id": str(d["id"]), "name": d["name"]} for d in found]
        self._offered_definitions = [d["id"] for d in found]
        snaps = await asyncio.to_thread(saved.snapshots, ctx)
        self.snapshots = [{"id": str(s["id"]), "title": s["title"], "as_of": s["as_of"]} for s in snaps]
        self._offered_snapshots = [s["id"] for s in snaps]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self.rows, self.title, self.info, self.snapshot_id = [], "", "", ""
        found = await asyncio.to_thread(exports.report_orgs, ctx)
        top = min((o["level"] for o in found), default=1)
        self.orgs = [{"id": str(o["id"]), "label": "　" * (o["level"] - top) + o["name"]} for o in found]
        self._offered = [o["id"] for o in found]
        today = clock.today()
        self.years = [str(y) for y in range(today.year + 1, today.year - 3, -1)]
        await self._lists(ctx)
        if not found:
            return
        self.org_id, self.year = self.org_id or str(found[0]["id"]), self.year or str(today.year)
        self.period = self.period or f"M{today.month:02d}"
        await self._run(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def run_report(self, ctx: UserContext, data: dict):
        data = args.form(data)
        org_id = args.offered_id(data.get("org_id"), self._offered, "单位", "不能查看该单位的报表")
        year = args.as_year(data.get("year"))
        period = args.as_choice(data.get("period"), PERIODS, "报告期间")
        rows_by = args.as_choice(data.get("rows_by"), DIMENSIONS, "行维度")
        self.org_id, self.year, self.period, self.rows_by = str(org_id), str(year), period, rows_by
        await self._run(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        if self.snapshot_id:
            await self._show_snapshot(ctx)
        elif self.org_id:
            await self._run(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def save_definition(self, ctx: UserContext, data: dict):
        name = args.field(args.form(data), "name", "报告名称", 64, required=True)
        if not self.org_id or self.snapshot_id:
            return rx.toast.error("请先生成报告")
        await asyncio.to_thread(saved.save_definition, ctx, name, self._definition())
        await self._lists(ctx)
        return rx.toast.success(f"已保存报告“{name}”")

    @rx.event
    @guarded(PERMISSION)
    async def open_definition(self, ctx: UserContext, definition_id: str):
        did = args.offered_id(definition_id, self._offered_definitions, "报告", "报告不存在")
        defn = await asyncio.to_thread(saved.load_definition, ctx, did)
        self.org_id, self.year, self.period = str(defn.org_id), str(defn.year), defn.period
        self.rows_by, self.unit = defn.rows, defn.unit
        await self._run(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def delete_definition(self, ctx: UserContext, definition_id: str):
        did = args.offered_id(definition_id, self._offered_definitions, "报告", "报告不存在")
        await asyncio.to_thread(saved.delete_definition, ctx, did)
        await self._lists(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def open_snapshot(self, ctx: UserContext, snapshot_id: str):
        self.snapshot_id = str(args.offered_id(snapshot_id, self._offered_snapshots, "快照", "快照不存在"))
        await self._show_snapshot(ctx)

    async def _export(self, ctx: UserContext, kind: str):
        if not self.org_id and not self.snapshot_id:
            return rx.toast.error("请先生成报告")
        if self.snapshot_id:
            data, filename, mime = await asyncio.to_thread(exports.export_snapshot, ctx, int(self.snapshot_id),
                                                           self.unit, kind)
        else:
            data, filename, mime = await asyncio.to_thread(exports.export, ctx, self._definition(), kind,
                                                           clock.today())
        return rx.download(data=data, filename=filename, mime_type=mime)

    @rx.event
    @guarded(PERMISSION)
    async def export_xlsx(self, ctx: UserContext):
        return await self._export(ctx, "xlsx")

    @rx.event
    @guarded(PERMISSION)
    async def export_print(self, ctx: UserContext):
        return await self._export(ctx, "print")


S = ReportState
_GROUPS = [(group, len(cols)) for group, cols in HEADER_GROUPS]  # the header's first row, as in the xlsx


def _select(name: str, value: rx.Var, items, element_id: str) -> rx.Component:
    return rx.el.select(items, name=name, default_value=value, key=value, id=element_id,
                        style={"padding": "4px 8px", "border": "1px solid var(--gray-7)", "border_radius": "4px"})


def _filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            _select("org_id", S.org_id, rx.foreach(S.orgs, lambda o: rx.el.option(o["label"], value=o["id"])),
                    "report-org"),
            _select("year", S.year, rx.foreach(S.years, lambda y: rx.el.option(y + "年", value=y)), "report-year"),
            _select("period", S.period, [rx.el.option(label, value=k) for k, label in PERIODS.items()], "report-period"),
            _select("rows_by", S.rows_by, [rx.el.option(f"按{label}", value=k) for k, label in DIMENSIONS.items()],
                    "report-rows"),
            rx.button("生成报告", type="submit", id="report-run"),
            rx.spacer(), unit_switch(S.unit, S.choose_unit),
            rx.button("导出 Excel", type="button", variant="soft", on_click=S.export_xlsx, id="report-xlsx"),
            rx.button("打印视图", type="button", variant="soft", on_click=S.export_print, id="report-print"),
            spacing="2", align="center", width="100%", wrap="wrap"),
        on_submit=S.run_report, width="100%")


def _row(r: rx.Var) -> rx.Component:
    bold = rx.cond(r["kind"] == "item", "regular", "bold")
    return rx.table.row(
        rx.table.cell(rx.text(r["label"], weight=bold), padding_left=rx.cond(
            r["indent"] == "0", "8px", rx.cond(r["indent"] == "1", "24px", "40px")), white_space="nowrap"),
        *[rx.table.cell(rx.text(r[k], weight=bold), text_align="right", white_space="nowrap") for k, _ in COLUMNS],
    )


def _saved() -> rx.Component:
    return rx.hstack(
        rx.form(rx.hstack(rx.input(name="name", placeholder="报告名称", max_length=64, size="1", id="report-name"),
                          rx.button("保存报告定义", type="submit", size="1", variant="soft", id="report-save"),
                          spacing="2"), on_submit=S.save_definition, reset_on_submit=True),
        rx.foreach(S.definitions, lambda d: rx.badge(
            rx.link(d["name"], on_click=S.open_definition(d["id"]), cursor="pointer"),
            rx.icon("x", size=12, cursor="pointer", on_click=S.delete_definition(d["id"]), aria_label="删除"),
            variant="soft", size="2")),
        spacing="2", align="center", wrap="wrap", width="100%")


def _snapshots() -> rx.Component:
    return rx.cond(S.snapshots.length() > 0, rx.vstack(
        rx.text("月末/季末报告快照", weight="bold", size="3"),
        rx.table.root(rx.table.body(rx.foreach(S.snapshots, lambda s: rx.table.row(
            rx.table.cell(rx.link(s["title"], on_click=S.open_snapshot(s["id"]), cursor="pointer")),
            rx.table.cell(s["as_of"])))), variant="surface", size="1", id="report-snapshots"),
        spacing="2", width="100%"))


@app_page(routes.REPORTS, "执行报告", "report.view", menu="file-spreadsheet", on_load=ReportState.load)
def reports_page() -> rx.Component:
    head = rx.table.header(
        rx.table.row(rx.table.column_header_cell("名称", row_span=2),
                     *[rx.table.column_header_cell(g, col_span=n, text_align="center") for g, n in _GROUPS]),
        rx.table.row(*[rx.table.column_header_cell(label, text_align="center") for _, label in COLUMNS]))
    return rx.vstack(
        _filters(),
        _saved(),
        rx.cond(S.title != "", rx.vstack(
            rx.text(S.title, weight="bold", size="4", id="report-title"),
            rx.text(S.info, size="2", color_scheme="gray"),
            rx.box(rx.table.root(head, rx.table.body(rx.foreach(S.rows, _row)), variant="surface", size="1",
                                 id="report-table"), style=tokens.GRID_WRAP),
            spacing="2", width="100%"),
            rx.text("没有可查看报表的单位", color_scheme="gray")),
        _snapshots(),
        spacing="3", width="100%",
    )
