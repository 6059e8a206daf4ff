"""绩效自评表 as xlsx, in the layout of the HTML print view (pages/performance/sheet.py): title; 基本情况 and 预算执行
(label/value pairs over two merged columns each); 绩效目标及完成情况 (一级, 二级, 三级, 年度目标值, 权重, 实际完成值,
得分, 偏差原因/调整理由); 目标得分折算 when the targets are scaled; 总分 and 评价等级; 存在问题及整改措施; 复核意见. A4 portrait, thin borders, grey labels,
money in 元 with two places (exact Decimal), scores with two places."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from hbbudget.db import session_scope
from hbbudget.models import PerfEvaluation
from hbbudget.services.core import audit
from hbbudget.services.performance import evaluation
from hbbudget.services.performance.scoring import points
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

TARGET_HEADER = ("一级指标", "二级指标", "三级指标", "年度目标值", "权重", "实际完成值", "得分", "偏差原因/调整理由")
WIDTHS = (10, 14, 24, 14, 8, 14, 10, 28)
THIN = Side(style="thin", color="444444")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
GREY = PatternFill("solid", fgColor="EEEEEE")
WRAP = Alignment(wrap_text=True, vertical="center")
YUAN = '#,##0.00" 元"'


def _safe(value: object) -> object:
    """Text as text: a leading = + - @ would make Excel evaluate it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _rate(d: dict) -> str:
    return f"{points(Decimal(d['spent_fen']) * 100 / d['budget_fen'])}%" if d["budget_fen"] else "—"


class _Sheet:
    def __init__(self, ws) -> None:
        self.ws, self.row = ws, 1

    def cell(self, col: int, value: object, *, label: bool = False, span: int = 1, fmt: str = "") -> None:
        c = self.ws.cell(self.row, col, _safe(value))
        c.alignment, c.border = WRAP, BORDER
        if label:
            c.fill, c.font = GREY, Font(bold=True)
        if fmt:
            c.number_format = fmt
        if span > 1:
            self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row, end_column=col + span - 1)
            for k in range(col + 1, col + span):
                self.ws.cell(self.row, k).border = BORDER

    def pair_row(self, *pairs: tuple) -> None:
        """label/value pairs, each over two columns; a single pair's value spans the rest of the row."""
        col = 1
        for label, value, *fmt in pairs:
            self.cell(col, label, label=True, span=2)
            span = 6 if len(pairs) == 1 else 2
            self.cell(col + 2, value, span=span, fmt=fmt[0] if fmt else "")
            col += 2 + span
        self.row += 1


def build(d: dict) -> bytes:
    """The workbook of one evaluation's detail (evaluation._detail's dict)."""
    book = Workbook()
    ws = book.active
    ws.title = "绩效自评表"
    for i, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[chr(64 + i)].width = width
    s = _Sheet(ws)
    ws.cell(1, 1, f"{d['year']} 年度项目支出绩效自评表").font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells("A1:H1")
    ws.row_dimensions[1].height = 30
    s.row = 3
    s.pair_row(("项目名称", f"{d['project_code']} {d['project_name']}"))
    s.pair_row(("实施单位", d["org_name"]), ("自评状态", d["status"]))
    s.pair_row(("年度预算数", _yuan(d["budget_fen"]), YUAN), ("执行数", _yuan(d["spent_fen"]), YUAN))
    s.pair_row(("预算执行率", _rate(d)), ("执行率得分", f"{d['exec_score']}（权重 {d['exec_weight']}）"))
    s.row += 1
    header_row = s.row
    for col, text in enumerate(TARGET_HEADER, 1):
        s.cell(col, text, label=True)
    s.row += 1
    for r in d["rows"]:
        values = (r["level1"], r["level2"], r["indicator"], f"{r['direction']} {r['target_value']}{r['unit']}",
                  r["weight"], r["actual"], Decimal(r["score"]), r["reason"])
        for col, value in enumerate(values, 1):
            s.cell(col, value, fmt="0.00" if col == 7 else "")
        s.row += 1
    s.row += 1
    if d["scale_note"]:  # targets whose weights and 预算执行率 do not make 100 (scoring.target_points)
        s.pair_row(("目标得分折算", d["scale_note"]))
    s.pair_row(("总分", Decimal(d["total"]), "0.00"), ("评价等级", d["grade"]))
    s.pair_row(("存在问题及整改措施", d["problems"] or "无"))
    s.pair_row(("复核意见", d["comment"] or "—"))
    ws.print_area = f"A1:H{s.row - 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_xlsx(ctx: UserContext, evaluation_id: object) -> tuple[str, bytes]:
    """(file name, xlsx bytes) of one evaluation in the caller's performance.view scope; audited."""
    d = evaluation.detail(ctx, evaluation_id)
    data = build(d)
    with session_scope() as session:
        ev, org = scope.owned(session, ctx, PerfEvaluation, d["id"], "绩效自评", "performance.view")
        audit.record(session, "evaluation.export", actor=ctx, object_type="perf_evaluation", object_id=ev.id,
                     org_id=org.id, detail=f"{d['project_code']} {d['project_name']} {d['year']} 年度绩效自评表")
    return f"绩效自评表_{d['project_code']}_{d['year']}.xlsx", data
