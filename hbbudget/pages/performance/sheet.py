"""绩效自评表 /evaluation-sheet/[evaluation_id]: one evaluation in the official layout for printing (基本情况, 预算执行,
绩效目标及完成情况, 总分与等级, 存在问题及整改措施, 复核意见); a print stylesheet hides the buttons. No shell, so
the browser prints the sheet alone."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import reflex as rx

from hbbudget import money, routes
from hbbudget.services.performance import evaluation, sheet
from hbbudget.services.performance.scoring import points
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PRINT_CSS = "@media print { .no-print { display: none !important; } body { font-size: 11pt; } }"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CELL = {"border": "1px solid #444", "padding": "4px 6px", "font_size": "13px"}


class EvaluationSheetState(rx.State):
    head: dict[str, str] = {}
    rows: list[dict[str, str]] = []

    def _eid(self) -> int:
        return args.as_id(str(self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1], "自评编号")

    @rx.event
    @guarded("performance.view")
    async def load(self, ctx: UserContext):
        self.head, self.rows = {}, []
        d = await asyncio.to_thread(evaluation.detail, ctx, self._eid())
        rate = f"{points(Decimal(d['spent_fen']) * 100 / d['budget_fen'])}%" if d["budget_fen"] else "—"
        self.head = {"title": f"{d['year']} 年度项目支出绩效自评表", "project": f"{d['project_code']} {d['project_name']}",
                     "org": d["org_name"], "status": d["status"], "budget": money.fmt(d["budget_fen"]),
                     "spent": money.fmt(d["spent_fen"]), "rate": rate, "exec_weight": str(d["exec_weight"]),
                     "exec_score": d["exec_score"], "scale_note": d["scale_note"], "total": d["total"], "grade": d["grade"],
                     "problems": d["problems"] or "无", "comment": d["comment"] or "—"}
        self.rows = [{k: str(r[k]) for k in ("level1", "level2", "indicator", "direction", "target_value", "unit",
                                            "weight", "actual", "score", "reason")} for r in d["rows"]]

    @rx.event
    @guarded("performance.view")
    async def export_xlsx(self, ctx: UserContext):
        """The same sheet as xlsx (the evaluation of this page's address, checked again by the service)."""
        name, data = await asyncio.to_thread(sheet.export_xlsx, ctx, self._eid())
        return rx.download(data=data, filename=name, mime_type=XLSX)


S = EvaluationSheetState


def _cell(*children, **props) -> rx.Component:
    return rx.el.td(*children, style=CELL, **props)


def _head_cell(text: str, **props) -> rx.Component:
    return rx.el.th(text, style={**CELL, "background": "#eee"}, **props)


@rx.page(route=routes.EVALUATION_SHEET, title="绩效自评表", on_load=S.load)
def evaluation_sheet_page() -> rx.Component:
    h = S.head
    return rx.box(
        rx.el.style(PRINT_CSS),
        rx.script(src="/print_button.js"),  # binds the 打印 button by id (no eval)
        rx.hstack(rx.button("打印", size="1", id="sheet-print"),
                  rx.button("导出 Excel", on_click=S.export_xlsx, size="1", variant="soft", id="sheet-xlsx"),
                  rx.link("← 绩效自评", href=routes.EVALUATION, size="2"), class_name="no-print", spacing="3"),
        rx.cond(h.contains("title"), rx.vstack(
            rx.heading(h["title"], size="5", align="center", width="100%", id="sheet-title"),
            rx.el.table(rx.el.tbody(
                rx.el.tr(_head_cell("项目名称"), _cell(h["project"], col_span=3)),
                rx.el.tr(_head_cell("实施单位"), _cell(h["org"]), _head_cell("自评状态"), _cell(h["status"])),
                rx.el.tr(_head_cell("年度预算数"), _cell(h["budget"]), _head_cell("执行数"), _cell(h["spent"])),
                rx.el.tr(_head_cell("预算执行率"), _cell(h["rate"]), _head_cell("执行率得分"),
                         _cell(h["exec_score"], "（权重 ", h["exec_weight"], "）"))),
                style={"border_collapse": "collapse", "width": "100%"}),
            rx.el.table(
                rx.el.thead(rx.el.tr(*[_head_cell(t) for t in ("一级指标", "二级指标", "三级指标", "年度目标值",
                                                                "权重", "实际完成值", "得分", "偏差原因/调整理由")])),
                rx.el.tbody(rx.foreach(S.rows, lambda r: rx.el.tr(
                    _cell(r["level1"]), _cell(r["level2"]), _cell(r["indicator"]),
                    _cell(r["direction"], " ", r["target_value"], r["unit"]), _cell(r["weight"]), _cell(r["actual"]),
                    _cell(r["score"]), _cell(r["reason"])))),
                style={"border_collapse": "collapse", "width": "100%"}, id="sheet-targets"),
            rx.el.table(rx.el.tbody(
                rx.cond(h["scale_note"] != "", rx.el.tr(_head_cell("目标得分折算"),
                                                        _cell(h["scale_note"], col_span=3, id="sheet-scale"))),
                rx.el.tr(_head_cell("总分"), _cell(h["total"], id="sheet-total"), _head_cell("评价等级"),
                         _cell(h["grade"], id="sheet-grade")),
                rx.el.tr(_head_cell("存在问题及整改措施"), _cell(h["problems"], col_span=3)),
                rx.el.tr(_head_cell("复核意见"), _cell(h["comment"], col_span=3))),
                style={"border_collapse": "collapse", "width": "100%"}),
            spacing="3", width="100%")),
        padding="1.5em", max_width="60em", margin="0 auto")
