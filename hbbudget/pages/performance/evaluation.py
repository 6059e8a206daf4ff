"""绩效自评 /evaluation: the projects of the caller's scope for a year with their evaluation status and grade; one
project's evaluation below: actual values and evidence, the automatic score with its formula, a manual override
with a reason, submit, and 复核 (confirm or return) for performance.review. Services: performance.evaluation."""

from __future__ import annotations

import asyncio

import plotly.graph_objects as go
import reflex as rx

from components import tokens
from components.table import pager
from components.tokens import CHART_FONT
from components.widgets import status_badge
from hbbudget import money, routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.performance import evaluation
from hbbudget.services.performance.scoring import TIERS
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.paging import paging

VIEW, EDIT, REVIEW = "performance.view", "performance.edit", "performance.review"
PAGE_SIZE = 20


class EvaluationState(rx.State):
    year: str = ""
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    project_id: str = ""  # the project shown below ("" none)
    ev: dict[str, str] = {}  # the shown evaluation's header ({} none started)
    targets: list[dict[str, str]] = []
    form_key: int = 0
    summary: str = ""  # "已提交及已复核 N 个，平均 X 分"
    by_org: list[dict[str, str]] = []
    by_industry: list[dict[str, str]] = []
    grade_fig: go.Figure = go.Figure()
    _project_ids: list[int] = []
    _target_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(evaluation.list_projects, ctx, int(self.year), self.offset,
                                                   PAGE_SIZE)
        self._project_ids = [r["project_id"] for r in rows]
        self.rows = [{k: str(v) for k, v in r.items()} for r in rows]
        s = await asyncio.to_thread(evaluation.summary, ctx, int(self.year))
        self.summary = f"已提交及已复核 {s['count']} 个项目，平均 {s['average']} 分"
        self.by_org = [{k: str(v) for k, v in r.items()} for r in s["by_org"][:20]]
        self.by_industry = [{k: str(v) for k, v in r.items()} for r in s["by_industry"]]
        self.grade_fig = _grade_figure(s["grades"])

    def _show(self, detail: dict | None) -> None:
        if detail is None:
            self.ev, self.targets, self._target_ids = {}, [], []
        else:
            self.ev = {"id": str(detail["id"]), "title": f"{detail['project_code']} {detail['project_name']}",
                       "status": detail["status"], "total": detail["total"], "grade": detail["grade"],
                       "exec": f"{money.fmt(detail['spent_fen'])} / {money.fmt(detail['budget_fen'])}",
                       "exec_score": detail["exec_score"], "exec_formula": detail["exec_formula"],
                       "scale_note": detail["scale_note"], "problems": detail["problems"], "comment": detail["comment"],
                       "editable": "1" if detail["status"] in evaluation.EDITABLE else ""}
            self.targets = [{k: str(v) for k, v in r.items()} for r in detail["rows"]]
            self._target_ids = [r["target_id"] for r in detail["rows"]]
        self.form_key += 1

    def _ev_id(self) -> int:
        if not self.ev:
            raise ValidationError("请先选择已开始自评的项目")
        return int(self.ev["id"])

    @rx.event
    @guarded(VIEW)
    async def load(self, ctx: UserContext):
        self.year = self.year or str(current_fiscal_year())
        self.offset, self.project_id = 0, ""
        self._show(None)
        await self._refresh(ctx)

    @rx.event
    @guarded(VIEW)
    async def choose_year(self, ctx: UserContext, year: str):
        y = args.as_year(year)
        self.year, self.offset, self.project_id = str(y), 0, ""
        self._show(None)
        await self._refresh(ctx)

    next_page, prev_page = paging("EvaluationState", VIEW, PAGE_SIZE)

    @rx.event
    @guarded(VIEW)
    async def open_project(self, ctx: UserContext, project_id: str):
        pid = args.offered_id(project_id, self._project_ids, "项目", "该项目不在当前列表中")
        self._show(await asyncio.to_thread(evaluation.find, ctx, pid, int(self.year)))
        self.project_id = str(pid)

    @rx.event
    @guarded(EDIT)
    async def start(self, ctx: UserContext):
        if not self.project_id:
            raise ValidationError("请先选择项目")
        pid = args.offered_id(self.project_id, self._project_ids, "项目", "该项目不在当前列表中")
        self._show(await asyncio.to_thread(evaluation.open_evaluation, ctx, pid, int(self.year)))
        await self._refresh(ctx)

    @rx.event
    @guarded(EDIT)
    async def save_actuals(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        ev_id = self._ev_id()
        actuals = {str(t): {"actual": args.field(data, f"a{t}", "实际值", 64),
                            "evidence": args.field(data, f"e{t}", "佐证材料", 200)} for t in self._target_ids}
        problems = args.field(data, "problems", "存在问题及整改措施", 1000)
        self._show(await asyncio.to_thread(evaluation.save_actuals, ctx, ev_id, actuals, problems))
        await self._refresh(ctx)
        return rx.toast.success("已保存，得分已重新计算")

    @rx.event
    @guarded(EDIT)
    async def override(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        ev_id = self._ev_id()
        tid = args.offered_id(data.get("target_id"), self._target_ids, "绩效目标", "该目标不在本次自评中")
        self._show(await asyncio.to_thread(evaluation.override, ctx, ev_id, tid, args.field(data, "points", "得分", 16),
                                           args.field(data, "reason", "调整理由", 500)))
        await self._refresh(ctx)
        return rx.toast.success("已调整得分")

    @rx.event
    @guarded(EDIT)
    async def submit(self, ctx: UserContext):
        self._show(await asyncio.to_thread(evaluation.submit, ctx, self._ev_id()))
        await self._refresh(ctx)
        return rx.toast.success("已提交复核")

    @rx.event
    @guarded(REVIEW)
    async def review(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        action = args.as_choice(data.get("action"), ("confirm", "return"), "复核操作")
        self._show(await asyncio.to_thread(evaluation.review, ctx, self._ev_id(), action,
                                           args.field(data, "comment", "复核意见", 500)))
        await self._refresh(ctx)
        return rx.toast.success("已复核确认" if action == "confirm" else "已退回")


def _grade_figure(grades: dict[str, int]) -> go.Figure:
    """Grade distribution: one bar per grade (small, template "none")."""
    fig = go.Figure(go.Bar(x=list(grades), y=list(grades.values()), marker={"color": "#3e63dd"},
                           hovertemplate="%{x}：%{y} 个<extra></extra>"))
    fig.update_layout(template="none", height=220, margin={"l": 40, "r": 10, "t": 10, "b": 30},
                      font={"family": CHART_FONT, "size": 12}, yaxis={"dtick": 1, "rangemode": "tozero"},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


S = EvaluationState


def _project_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["code"]), rx.table.cell(r["name"]), rx.table.cell(r["org_name"]),
        rx.table.cell(status_badge(r["status"])), rx.table.cell(r["total"], style=tokens.NUM),
        rx.table.cell(r["grade"], class_name="eval-grade"),
        rx.table.cell(rx.button("查看", size="1", variant="soft", on_click=S.open_project(r["project_id"]),
                                class_name="eval-open")))


def _target_row(t: rx.Var) -> rx.Component:
    actual = rx.cond(t["direction"] == "定性",
                     rx.select(list(TIERS), name="a" + t["target_id"], default_value=t["actual"], size="1",
                               placeholder="完成情况", disabled=S.ev["editable"] == ""),
                     rx.input(name="a" + t["target_id"], default_value=t["actual"], width="7em", max_length=64,
                              read_only=S.ev["editable"] == "", class_name="eval-actual"))
    return rx.table.row(
        rx.table.cell(t["level1"]), rx.table.cell(t["indicator"]),
        rx.table.cell(t["direction"], " ", t["target_value"], t["unit"]), rx.table.cell(t["weight"], style=tokens.NUM),
        rx.table.cell(actual),
        rx.table.cell(rx.input(name="e" + t["target_id"], default_value=t["evidence"], width="10em", max_length=200,
                               read_only=S.ev["editable"] == "")),
        rx.table.cell(rx.text(t["score"], class_name="eval-score"),
                      rx.text(t["formula"], size="1", color_scheme="gray"),
                      rx.cond(t["override"] != "", rx.text("人工调整（自动 ", t["auto"], "）：", t["reason"], size="1",
                                                           color_scheme="orange")), style=tokens.NUM))


def _override_form() -> rx.Component:
    return rx.form(rx.hstack(
        rx.select.root(rx.select.trigger(placeholder="调整哪个指标", width="14em"),
                       rx.select.content(rx.foreach(S.targets, lambda t: rx.select.item(t["indicator"],
                                                                                          value=t["target_id"]))),
                       name="target_id"),
        rx.input(name="points", placeholder="调整后得分（空为取消）", width="12em", max_length=16),
        rx.input(name="reason", placeholder="调整理由（必填）", width="20em", max_length=500),
        rx.button("调整得分", type="submit", variant="soft"), style=tokens.TOOLBAR),
        on_submit=S.override, key=S.form_key.to_string(), reset_on_submit=False)


def _review_form() -> rx.Component:
    return rx.cond(S.ev["status"] == "已提交", rx.form(rx.hstack(
        rx.input(name="comment", placeholder="复核意见（退回必填）", width="20em", max_length=500),
        rx.select(["confirm", "return"], name="action", default_value="confirm", size="2"),
        rx.button("复核", type="submit", id="eval-review"), style=tokens.TOOLBAR),
        on_submit=S.review, reset_on_submit=False))


def _evaluation() -> rx.Component:
    return rx.cond(S.ev.contains("id"), rx.vstack(
        rx.hstack(rx.heading(S.ev["title"], size="4"), status_badge(S.ev["status"]),
                  rx.link("打印评价表", href="/evaluation-sheet/" + S.ev["id"], is_external=True, size="2",
                          id="eval-sheet"),
                  rx.text("总分 ", rx.text.strong(S.ev["total"], id="eval-total"), "　等级 ",
                          rx.text.strong(S.ev["grade"], id="eval-grade")), align="center", spacing="3"),
        rx.cond(S.ev["comment"] != "", rx.callout(S.ev["comment"], color_scheme="orange", size="1")),
        rx.text("预算执行（执行台账）：", S.ev["exec"], "　得分 ", S.ev["exec_score"], "（", S.ev["exec_formula"], "）",
                size="2"),
        rx.cond(S.ev["scale_note"] != "", rx.text(S.ev["scale_note"], size="2", color_scheme="orange",
                                                  id="eval-scale")),
        rx.form(rx.vstack(
            rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "一级", "指标", "目标", "权重", "实际值", "佐证材料", "得分")])),
                rx.table.body(rx.foreach(S.targets, _target_row)), size="1", width="100%", id="eval-table"),
            rx.text_area(name="problems", default_value=S.ev["problems"], placeholder="存在问题及整改措施",
                         width="100%", max_length=1000, read_only=S.ev["editable"] == ""),
            rx.cond(S.ev["editable"] != "", rx.hstack(
                rx.button("保存并计分", type="submit", id="eval-save"),
                rx.button("提交复核", type="button", variant="soft", on_click=S.submit, id="eval-submit"))),
            spacing="2", width="100%"), on_submit=S.save_actuals, key=S.form_key.to_string(), reset_on_submit=False),
        rx.cond(S.ev["editable"] != "", _override_form()),
        _review_form(),
        style=tokens.PANEL, width="100%", spacing="3"),
        rx.cond(S.project_id != "", rx.hstack(rx.text("该项目尚未开始本年度自评。"),
                                              rx.button("开始自评", on_click=S.start, id="eval-start"))))


@app_page(routes.EVALUATION, "绩效自评", "performance.view", menu="clipboard-list", on_load=S.load)
def evaluation_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text("年度"), rx.input(default_value=S.year, key=S.year, width="6em",
                                            on_blur=S.choose_year, id="eval-year"), align="center"),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "项目编码", "项目名称", "单位", "自评状态", "得分", "等级", "")])),
            rx.table.body(rx.foreach(S.rows, _project_row)), size="1", width="100%", id="eval-projects"),
        pager(S.page_label, S.prev_page, S.next_page),
        rx.hstack(
            rx.box(rx.text("等级分布", size="2"), rx.plotly.basic(data=S.grade_fig, locale="zh-CN",
                                                            config={"displaylogo": False}), width="22em",
                   id="eval-grades"),
            rx.vstack(rx.text(S.summary, size="2", id="eval-summary"),
                      rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                                                   for h in ("单位", "项目数", "平均分")])),
                                    rx.table.body(rx.foreach(S.by_org, lambda r: rx.table.row(
                                        rx.table.cell(r["org_name"]), rx.table.cell(r["count"], style=tokens.NUM),
                                        rx.table.cell(r["average"], style=tokens.NUM)))), size="1"),
                      spacing="2"),
            rx.vstack(rx.text("分行业平均分（按项目功能分类）", size="2"),
                      rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                                                   for h in ("行业", "项目数", "平均分")])),
                                    rx.table.body(rx.foreach(S.by_industry, lambda r: rx.table.row(
                                        rx.table.cell(r["industry"]), rx.table.cell(r["count"], style=tokens.NUM),
                                        rx.table.cell(r["average"], style=tokens.NUM)))), size="1",
                                    id="eval-industries"),
                      spacing="2"),
            spacing="4", align="start", style=tokens.PANEL, width="100%"),
        _evaluation(),
        spacing="3", width="100%")
