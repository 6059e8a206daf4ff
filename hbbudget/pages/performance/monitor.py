"""绩效监控 /perf-monitor (双监控): the projects of the caller's scope at one checkpoint of a year, execution rate
(from the ledger) vs 序时进度 and each target's progress side by side with the 偏差 flag, filtered by flag; one
project's report below: per target the value reached, the year's estimate, the likelihood and the reason, saved
and submitted by the unit (performance.edit), returned by a reviewer (performance.review).
Services: performance.monitor."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.table import pager
from components.widgets import status_badge
from hbbudget import money, routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.performance import monitor
from hbbudget.services.performance.scoring import TIERS
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.paging import paging

VIEW, EDIT, REVIEW = "performance.view", "performance.edit", "performance.review"
PAGE_SIZE = 20
ALL = "全部"
FLAG_COLORS = {"严重偏差": "red", "轻微偏差": "amber", "正常": "green"}


class PerfMonitorState(rx.State):
    year: str = ""
    seq: str = "1"
    flag: str = ALL
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    counts: str = ""
    head: dict[str, str] = {}  # the opened project's report ({} none)
    targets: list[dict[str, str]] = []
    form_key: int = 0
    can_review: bool = False  # shows 退回重填 (the service checks the permission at the project's org)
    _project_ids: list[int] = []
    _target_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total, counts = await asyncio.to_thread(
            monitor.board, ctx, int(self.year), int(self.seq), "" if self.flag == ALL else self.flag, self.offset,
            PAGE_SIZE)
        self._project_ids = [r["project_id"] for r in rows]
        self.rows = [{k: str(v) for k, v in r.items()} for r in rows]
        self.counts = "　".join(f"{f} {n} 个" for f, n in counts.items())

    def _show(self, d: dict | None) -> None:
        if d is None:
            self.head, self.targets, self._target_ids = {}, [], []
        else:
            self.head = {"project_id": str(d["project_id"]), "title": f"{d['code']} {d['name']}",
                         "org": d["org_name"], "checkpoint": d["checkpoint"], "status": d["status"], "flag": d["flag"],
                         "exec": f"{money.fmt(d['spent_fen'])} / {money.fmt(d['budget_fen'])}",
                         "rate": money.percent(d["rate_bp"]), "progress": money.percent(d["progress_bp"]),
                         "lag": money.percent(d["lag_bp"])[:-1] if d["lag_bp"] else "0",
                         "lag_points": str(d["lag_points"]), "problems": d["problems"],
                         "editable": "1" if d["status"] in ("未填报", "填报中") else ""}
            self.targets = [{k: ("1" if v is True else "" if v is False else str(v)) for k, v in r.items()}
                            for r in d["rows"]]
            self._target_ids = [r["target_id"] for r in d["rows"]]
        self.form_key += 1

    def _pid(self) -> int:
        """The project opened below (set by the server from the service's answer; the service checks scope)."""
        if not self.head:
            raise ValidationError("请先选择项目")
        return int(self.head["project_id"])

    @rx.event
    @guarded(VIEW)
    async def load(self, ctx: UserContext):
        self.year = self.year or str(current_fiscal_year())
        self.offset, self.can_review = 0, bool(ctx.scope_paths(REVIEW))
        self._show(None)
        await self._refresh(ctx)

    @rx.event
    @guarded(VIEW)
    async def choose_year(self, ctx: UserContext, year: str):
        self.year, self.offset = str(args.as_year(year)), 0
        self._show(None)
        await self._refresh(ctx)

    @rx.event
    @guarded(VIEW)
    async def choose_seq(self, ctx: UserContext, seq: str):
        self.seq, self.offset = args.as_choice(seq, ("1", "2"), "监控节点"), 0
        self._show(None)
        await self._refresh(ctx)

    @rx.event
    @guarded(VIEW)
    async def choose_flag(self, ctx: UserContext, flag: str):
        self.flag, self.offset = args.as_choice(flag, (ALL, *monitor.FLAGS), "偏差标记"), 0
        await self._refresh(ctx)

    next_page, prev_page = paging("PerfMonitorState", VIEW, PAGE_SIZE)

    @rx.event
    @guarded(VIEW)
    async def open_project(self, ctx: UserContext, project_id: str):
        pid = args.offered_id(project_id, self._project_ids, "项目", "该项目不在当前列表中")
        self._show(await asyncio.to_thread(monitor.detail, ctx, pid, int(self.year), int(self.seq)))

    @rx.event
    @guarded(EDIT)
    async def save_report(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        pid = self._pid()
        items = {str(t): {"reached": args.field(data, f"r{t}", "已完成值", 64),
                          "estimate": args.field(data, f"e{t}", "全年预计完成值", 64),
                          "likely": args.field(data, f"l{t}", "完成可能性", 8),
                          "reason": args.field(data, f"w{t}", "偏差原因", 300)} for t in self._target_ids}
        problems = args.field(data, "problems", "执行偏差原因及纠偏措施", 500)
        self._show(await asyncio.to_thread(monitor.save_report, ctx, pid, int(self.year), int(self.seq), items,
                                           problems))
        await self._refresh(ctx)
        return rx.toast.success("监控情况已保存")

    @rx.event
    @guarded(EDIT)
    async def submit_report(self, ctx: UserContext):
        pid = self._pid()
        self._show(await asyncio.to_thread(monitor.submit_report, ctx, pid, int(self.year), int(self.seq)))
        await self._refresh(ctx)
        return rx.toast.success("监控情况已提交")

    @rx.event
    @guarded(REVIEW)
    async def return_report(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        pid = self._pid()
        self._show(await asyncio.to_thread(monitor.return_report, ctx, pid, int(self.year), int(self.seq),
                                           args.field(data, "comment", "退回意见", 500, required=True)))
        await self._refresh(ctx)
        return rx.toast.success("已退回")


S = PerfMonitorState


def flag_badge(flag: rx.Var) -> rx.Component:
    return rx.badge(flag, color_scheme=rx.match(flag, ("严重偏差", "red"), ("轻微偏差", "amber"), "green"),
                    class_name="monitor-flag")


def _project_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["code"]), rx.table.cell(r["name"]), rx.table.cell(r["org_name"]),
        rx.table.cell(status_badge(r["status"]),
                      rx.cond(r["overdue"] == "True", rx.badge("逾期", color_scheme="red", class_name="monitor-overdue"))),
        rx.table.cell(r["rate"], style=tokens.NUM), rx.table.cell(r["progress"], style=tokens.NUM),
        rx.table.cell(r["lag"], style=tokens.NUM), rx.table.cell(rx.text(r["targets"], size="1")),
        rx.table.cell(flag_badge(r["flag"])),
        rx.table.cell(rx.button("查看", size="1", variant="soft", on_click=S.open_project(r["project_id"]),
                                class_name="monitor-open", white_space="nowrap")))


def _value_input(t: rx.Var, prefix: str, key: str, placeholder: str) -> rx.Component:
    return rx.cond(t["direction"] == "定性",
                   rx.select(list(TIERS), name=prefix + t["target_id"], default_value=t[key], size="1",
                             placeholder=placeholder, disabled=S.head["editable"] == ""),
                   rx.input(name=prefix + t["target_id"], default_value=t[key], width="7em", max_length=64,
                            placeholder=placeholder, read_only=S.head["editable"] == "",
                            class_name=f"monitor-{key}"))


def _target_row(t: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(t["level1"]), rx.table.cell(t["indicator"]),
        rx.table.cell(t["direction"], " ", t["target_value"], t["unit"]),
        rx.table.cell(_value_input(t, "r", "reached", "已完成")),
        rx.table.cell(_value_input(t, "e", "estimate", "全年预计")),
        rx.table.cell(rx.select(list(monitor.LIKELY), name="l" + t["target_id"], default_value=t["likely"], size="1",
                                placeholder="可能性", disabled=S.head["editable"] == "")),
        rx.table.cell(rx.input(name="w" + t["target_id"], default_value=t["reason"], width="14em", max_length=300,
                               placeholder="偏差原因（未确定能完成时必填）", read_only=S.head["editable"] == "",
                               class_name="monitor-reason")),
        rx.table.cell(rx.cond(t["unlikely"] == "1", rx.badge("预计无法完成", color_scheme="red"),
                              rx.cond(t["behind"] == "1", rx.badge("有偏差", color_scheme="amber")))),
        style=rx.cond(t["unlikely"] == "1", tokens.ROW_ERROR, {}))


def _report() -> rx.Component:
    h = S.head
    return rx.cond(h.contains("title"), rx.vstack(
        rx.hstack(rx.heading(h["title"], size="4"), rx.text(h["org"], size="2"), status_badge(h["status"]),
                  flag_badge(h["flag"]), align="center", spacing="3", id="monitor-head"),
        rx.text(h["checkpoint"], size="2"),
        rx.text("预算执行（执行台账）：", h["exec"], "　执行率 ", rx.text.strong(h["rate"], id="monitor-rate"),
                "　序时进度 ", h["progress"], "　落后 ", h["lag"], " 个百分点（阈值 ", h["lag_points"], "）", size="2"),
        rx.form(rx.vstack(
            rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in (
                "一级", "指标", "年度目标", "已完成值", "全年预计完成值", "完成可能性", "偏差原因", "")])),
                rx.table.body(rx.foreach(S.targets, _target_row)), size="1", width="100%", id="monitor-table"),
            rx.text_area(name="problems", default_value=h["problems"], width="100%", max_length=500,
                         placeholder="执行偏差原因及纠偏措施（执行率落后超过阈值时必填）",
                         read_only=h["editable"] == ""),
            rx.cond(h["editable"] != "", rx.hstack(
                rx.button("保存", type="submit", id="monitor-save"),
                rx.button("提交", type="button", variant="soft", on_click=S.submit_report, id="monitor-submit"))),
            spacing="2", width="100%"), on_submit=S.save_report, key=S.form_key.to_string(), reset_on_submit=False),
        rx.cond((h["status"] == "已提交") & S.can_review, rx.form(rx.hstack(
            rx.input(name="comment", placeholder="退回意见（必填）", width="20em", max_length=500),
            rx.button("退回重填", type="submit", variant="soft", color_scheme="orange", id="monitor-return"),
            style=tokens.TOOLBAR), on_submit=S.return_report, reset_on_submit=True)),
        style=tokens.PANEL, width="100%", spacing="3"))


@app_page(routes.PERF_MONITOR, "绩效监控", VIEW, menu="radar", on_load=S.load)
def perf_monitor_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("年度"), rx.input(default_value=S.year, key=S.year, width="6em", on_blur=S.choose_year,
                                      id="monitor-year"),
            rx.text("监控节点"), rx.select(["1", "2"], value=S.seq, on_change=S.choose_seq, size="2",
                                          id="monitor-seq"),
            rx.text("偏差标记"), rx.select([ALL, *monitor.FLAGS], value=S.flag, on_change=S.choose_flag, size="2",
                                          id="monitor-flag"),
            rx.text(S.counts, size="2", id="monitor-counts"), style=tokens.TOOLBAR),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "项目编码", "项目名称", "单位", "填报状态", "执行率", "序时进度", "落后(百分点)", "绩效目标进度", "偏差",
            "")])), rx.table.body(rx.foreach(S.rows, _project_row)), size="1", width="100%", id="monitor-projects"),
        pager(S.page_label, S.prev_page, S.next_page),
        _report(),
        spacing="3", width="100%")
