"""审批事项: matters in approval in the user's scope (or only the 三重一大 ones, for inspection, exportable); one
matter's progress (stops, who acted when, the comment) and, at a 集体决策 step, the meeting recorded with minutes."""

import asyncio

import reflex as rx

from components import tokens
from components.widgets import labelled, section
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages.shell.base import app_page
from hbbudget.services.approvals import major
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state import args
from state.guard import guarded

MINUTES_ID = "minutes-upload"
COLUMNS = (("单位", "org_name"), ("事项", "matter"), ("类型", "kind"), ("金额", "amount"), ("状态", "status"),
           ("会议", "meeting_kind"), ("纪要编号", "minutes_no"), ("决策", "decision"), ("检查结论", "finding"), ("时限", "overdue"))


class MattersState(rx.State):
    year: str = ""
    major_only: bool = False
    rows: list[dict[str, str]] = []
    total: int = 0
    # one matter
    run_id: str = ""
    matter: str = ""
    stops: list[dict[str, str]] = []
    acts: list[dict[str, str]] = []
    decision: str = ""
    can_record: bool = False
    can_mark: bool = False
    staged: str = ""  # the meeting details waiting for their minutes file, as text
    _ids: list[int] = []
    _staged: dict = {}

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(major.list_major, ctx, ctx.org_id, int(self.year), 0, 50,
                                                   major_only=self.major_only)
        self._ids = [r["run_id"] for r in rows]
        self.rows = [{k: str(v) for k, v in r.items()} for r in rows]

    def _show(self, run_id: int, prog: dict) -> None:
        self.run_id = str(run_id)
        self.matter = next((r["matter"] for r in self.rows if r["run_id"] == str(run_id)), "")
        self.stops = [{"n": str(i + 1), "name": str(s["name"]), "org": str(s["org_name"]), "state": str(s["state"]),
                       "collective": "集体决策" if s["collective"] else ""} for i, s in enumerate(prog["stops"])]
        self.acts = [{k: str(v) for k, v in a.items()} for a in prog["acts"]]
        d = prog["decision"]
        self.decision = "" if d is None else (f"{d['meeting_kind']} {d['date']}，纪要 {d['minutes_no']}，"
                                              f"{d['decision']}，参会 {d['attendees']} 人，纪要文件 {d['file']}")
        self.can_record = prog["status"] == "进行中" and prog["collective"]
        self.can_mark = bool(prog.get("can_mark"))

    @rx.event
    @guarded("report.view")
    async def load(self, ctx: UserContext):
        self.year = self.year or str(current_fiscal_year())
        self.run_id, self._staged, self.staged = "", {}, ""
        await self._refresh(ctx)

    @rx.event
    @guarded("report.view")
    async def search(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        self.year = str(args.as_year(data.get("year")))
        self.major_only = data.get("major_only") in ("on", True, "true")
        self.run_id = ""
        await self._refresh(ctx)

    @rx.event
    @guarded("report.view")
    async def export(self, ctx: UserContext):
        filename, data = await asyncio.to_thread(major.export_major, ctx, ctx.org_id, int(self.year or 0))
        return rx.download(data=data, filename=filename)

    @rx.event
    @guarded("report.view")
    async def open_matter(self, ctx: UserContext, run_id: str):
        rid = args.offered_id(run_id, self._ids, "审批事项", "审批事项不存在")
        self._staged, self.staged = {}, ""
        self._show(rid, await asyncio.to_thread(major.progress, ctx, rid))

    @rx.event
    @guarded("report.view")
    async def close_matter(self, ctx: UserContext):
        self.run_id, self._staged, self.staged = "", {}, ""

    @rx.event
    @guarded("project.review")
    async def mark_major(self, ctx: UserContext):
        if not self.run_id:
            raise ValidationError("请先打开一个审批事项")
        rid = args.offered_id(self.run_id, self._ids, "审批事项", "审批事项不存在")
        prog = await asyncio.to_thread(major.mark_major, ctx, rid)
        await self._refresh(ctx)
        self._show(rid, prog)
        return rx.toast.success("已标记为重大事项，待单位集体决策")

    @rx.event
    @guarded("project.edit")
    async def stage_decision(self, ctx: UserContext, form_data: dict):
        if not self.run_id:
            raise ValidationError("请先打开一个审批事项")
        data = args.form(form_data)
        self._staged = {k: args.field(data, k, label, 64) for k, label in (
            ("meeting_kind", "会议类型"), ("meeting_date", "会议日期"), ("minutes_no", "纪要编号"),
            ("decision", "决策结果"), ("attendees", "参会人数"))}
        self.staged = "，".join(v for v in self._staged.values() if v)

    @rx.event
    @guarded("project.edit")
    async def record(self, ctx: UserContext, files: list[rx.UploadFile]):
        if not self.run_id or not self._staged:
            raise ValidationError("请先填写会议信息并确定")
        if not isinstance(files, list) or len(files) != 1:
            raise ValidationError("请选择一个会议纪要文件")
        limit = get_settings().max_upload_bytes
        data = await asyncio.to_thread(files[0].file.read, limit + 1)
        rid = args.offered_id(self.run_id, self._ids, "审批事项", "审批事项不存在")
        prog = await asyncio.to_thread(major.record_decision, ctx, rid, self._staged, str(files[0].name or "")[:200],
                                       data)
        self._staged, self.staged = {}, ""
        await self._refresh(ctx)
        self._show(rid, prog)
        return [rx.clear_selected_files(MINUTES_ID), rx.toast.success("集体决策已录入")]


S = MattersState


def _native_select(name: str, options: tuple[str, ...], element_id: str) -> rx.Component:
    """A plain <select> starting on "请选择" (a decision is never preselected)."""
    return rx.el.select(rx.el.option("请选择", value=""), *[rx.el.option(o, value=o) for o in options], name=name,
                        id=element_id, default_value="", style={"height": "2em", "min_width": "8em"})


def _decision_form() -> rx.Component:
    return rx.vstack(
        rx.form(rx.hstack(
            labelled("会议类型", _native_select("meeting_kind", major.MEETING_KINDS, "meeting-kind")),
            labelled("会议日期", rx.input(name="meeting_date", type="date", width="10em", id="meeting-date")),
            labelled("纪要编号", rx.input(name="minutes_no", max_length=64, width="12em", id="meeting-minutes-no")),
            labelled("决策结果", _native_select("decision", major.DECISIONS, "meeting-decision")),
            labelled("参会人数", rx.input(name="attendees", max_length=3, width="5em", id="meeting-attendees")),
            rx.button("确定", type="submit", variant="soft", id="meeting-stage"), style=tokens.TOOLBAR),
            on_submit=S.stage_decision, reset_on_submit=False),
        rx.cond(S.staged != "", rx.text("待上传纪要：", S.staged, size="2")),
        rx.upload(rx.text("选择会议纪要（PDF、OFD、Word、图片）", size="2"), id=MINUTES_ID, max_files=1,
                  max_size=get_settings().max_upload_bytes, style={**tokens.PANEL, "cursor": "pointer"}),
        rx.hstack(rx.foreach(rx.selected_files(MINUTES_ID), rx.text)),
        rx.button("上传纪要并保存", on_click=S.record(rx.upload_files(upload_id=MINUTES_ID)), id="record-decision"),
        spacing="2", width="100%")


def _matter() -> rx.Component:
    return rx.box(section(
        rx.hstack(rx.text(S.matter, weight="bold"), rx.button("关闭", size="1", variant="soft", color_scheme="gray",
                                                            on_click=S.close_matter)),
        rx.hstack(rx.foreach(S.stops, lambda s: rx.vstack(
            rx.text(s["n"], ". ", s["name"], weight="bold", size="2"), rx.text(s["org"], size="1"),
            rx.badge(s["state"], color_scheme=rx.cond(s["state"] == "当前", "amber", "gray")),
            rx.cond(s["collective"] != "", rx.badge(s["collective"], color_scheme="red")),
            spacing="1", style={**tokens.PANEL, "min_width": "9em"})), style={"flex_wrap": "wrap"}, id="matter-stops"),
        rx.table.root(rx.table.body(rx.foreach(S.acts, lambda a: rx.table.row(
            rx.table.cell(a["at"]), rx.table.cell(a["org"]), rx.table.cell(a["stop"]), rx.table.cell(a["user"]),
            rx.table.cell(a["action"]), rx.table.cell(a["comment"])))), size="1", width="100%"),
        rx.cond(S.decision != "", rx.text("集体决策：", S.decision, id="matter-decision")),
        rx.cond(S.can_mark, rx.button("标记为重大事项（须集体决策）", variant="soft", color_scheme="amber",
                                      on_click=S.mark_major, id="mark-major")),
        rx.cond(S.can_record, _decision_form())), style=tokens.PANEL, width="100%", id="matter-panel")


@app_page(routes.MATTERS, "审批事项", "report.view", menu="gavel", on_load=MattersState.load)
def matters_page() -> rx.Component:
    return rx.vstack(
        rx.form(rx.hstack(
            labelled("年度", rx.input(name="year", default_value=S.year, max_length=4, width="6em")),
            rx.checkbox("仅三重一大事项", name="major_only", default_checked=S.major_only),
            rx.button("查询", type="submit", variant="soft"),
            rx.button("导出三重一大清单", type="button", variant="soft", on_click=S.export),
            rx.text("共 ", S.total, " 项（显示最近 50 项）", size="2"), style=tokens.TOOLBAR),
            on_submit=S.search, reset_on_submit=False),
        rx.cond(S.run_id != "", _matter()),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h, _ in COLUMNS],
                                         rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                *[rx.table.cell(r[k]) for _, k in COLUMNS],
                rx.table.cell(rx.button("查看", size="1", variant="soft", on_click=S.open_matter(r["run_id"])))))),
            variant="surface", size="1", width="100%", id="matters-table"),
        spacing="4", width="100%",
    )
