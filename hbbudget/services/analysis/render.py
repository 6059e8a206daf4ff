"""A report as the screen, finance staff's xlsx and the print view see it: one layout from `Report`.

Money goes out as numbers (元 to the fen, 万元 to 0.01 万元); rates as fractions formatted as percent; 差异 as
points. The screen gets text (千分位), the xlsx numbers with formats, the print view an A4 landscape HTML page."""

from __future__ import annotations

import html
import io
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from hbbudget.services.analysis.report import COLUMNS, DIMENSIONS, HEADER_GROUPS, MONEY, Report

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
POINTS_FORMAT = "0.00"
_CENT = Decimal("0.01")


def number(key: str, value: int | None, unit: str) -> Decimal | None:
    """A cell's number: money in the unit (元 or 万元, 2 decimals), rates as a fraction, 差异 in points."""
    if value is None:
        return None
    if key in MONEY:
        return (Decimal(value) / (100 if unit == "yuan" else 1_000_000)).quantize(_CENT, rounding=ROUND_HALF_UP)
    if key == "gap":
        return (Decimal(value) / 100).quantize(_CENT)
    return (Decimal(value) / 10000).quantize(Decimal("0.0001"))


def text(key: str, value: int | None, unit: str) -> str:
    """The cell as text: 1,234.56 / 12.34% / -3.50 / — (no figure)."""
    n = number(key, value, unit)
    if n is None:
        return "—"
    if key in MONEY:
        return f"{n:,.2f}"
    if key == "gap":
        return f"{n:.2f}"
    return f"{n * 100:.2f}%"


def headers(report: Report) -> tuple[list[tuple[str, int]], list[str]]:
    """The two header rows: the first as (text, span) over the value columns, the second per column ("" under
    a column whose own header spans both rows)."""
    keys = [k for k, _ in COLUMNS]
    names = dict(COLUMNS)
    first, second, done = [], [], set()
    for k in keys:
        if k in done:
            continue
        group = next((g for g in HEADER_GROUPS if k in g[1]), None)
        if group:
            first.append((group[0], len(group[1])))
            second += [names[c] for c in group[1]]
            done.update(group[1])
        else:
            first.append((names[k], 1))
            second.append("")
            done.add(k)
    return first, second


def screen_rows(report: Report) -> list[dict[str, str]]:
    unit = report.definition.unit
    return [{"label": r.label, "kind": r.kind, "indent": str(r.level), "key": r.key,
             **{k: text(k, r.values.get(k), unit) for k, _ in COLUMNS}} for r in report.rows]


def _info(report: Report) -> tuple[str, str, str]:
    return (f"编制单位：{report.org_name}", f"期间：{report.definition.period_label}", f"单位：{report.unit_label}")


def xlsx(report: Report) -> bytes:
    """Title, 编制单位/期间/单位 row, two merged header rows, rows (totals bold), frozen panes, print area."""
    unit, keys = report.definition.unit, [k for k, _ in COLUMNS]
    wb = Workbook()
    ws = wb.active
    ws.title = "执行报告"
    last_col = len(keys) + 1
    last = get_column_letter(last_col)
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.cell(1, 1, report.title).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = center
    ws.merge_cells(f"A1:{last}1")
    org_text, period_text, unit_text = _info(report)
    ws.cell(2, 1, org_text)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=4)
    ws.cell(2, 5, period_text).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=5, end_row=2, end_column=last_col - 2)
    ws.cell(2, last_col - 1, unit_text).alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=2, start_column=last_col - 1, end_row=2, end_column=last_col)
    first, second = headers(report)
    ws.cell(3, 1, DIMENSIONS[report.definition.rows])
    ws.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    col = 2
    for label, span in first:
        ws.cell(3, col, label)
        if span > 1:
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + span - 1)
        elif not second[col - 2]:
            ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        col += span
    for i, label in enumerate(second):
        if label:
            ws.cell(4, i + 2, label)
    for r in (3, 4):
        for c in range(1, last_col + 1):
            cell = ws.cell(r, c)
            cell.font, cell.alignment, cell.border = Font(bold=True), center, box
    formats = {k: MONEY_FORMAT if k in MONEY else POINTS_FORMAT if k == "gap" else PERCENT_FORMAT for k in keys}
    for i, row in enumerate(report.rows, start=5):
        bold = row.kind != "item"
        label = ws.cell(i, 1, row.label)
        label.alignment = Alignment(indent=row.level)
        label.font, label.border = Font(bold=bold), box
        for j, k in enumerate(keys, start=2):
            value = number(k, row.values.get(k), unit)
            cell = ws.cell(i, j, value if value is not None else "—")
            cell.number_format, cell.font, cell.border = formats[k], Font(bold=bold), box
            if value is None:
                cell.alignment = Alignment(horizontal="center")
    ws.column_dimensions["A"].width = 36
    for j in range(2, last_col + 1):
        ws.column_dimensions[get_column_letter(j)].width = 15
    end_row = 4 + len(report.rows)
    ws.freeze_panes = "B5"
    ws.print_area = f"A1:{last}{end_row}"
    ws.print_title_rows = "3:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm 10mm; }
body { font-family: "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; font-size: 10pt; color: #000; }
h1 { text-align: center; font-size: 15pt; margin: 0 0 6px; }
.info { display: flex; justify-content: space-between; margin-bottom: 4px; }
table { width: 100%; border-collapse: collapse; }
thead { display: table-header-group; }
th, td { border: 1px solid #666; padding: 2px 4px; }
th { background: #eee; text-align: center; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td, tr.subtotal td { font-weight: bold; }
tr { page-break-inside: avoid; }
@media print { .noprint { display: none; } }
"""


def print_html(report: Report) -> str:
    """The print view: a self-contained HTML page; the header rows repeat on every printed page (thead)."""
    e = html.escape
    first, second = headers(report)
    top = [f'<th rowspan="2">{e(DIMENSIONS[report.definition.rows])}</th>']
    i = 0
    for label, span in first:
        top.append(f'<th colspan="{span}">{e(label)}</th>' if span > 1 or second[i]
                   else f'<th rowspan="2">{e(label)}</th>')
        i += span
    sub = "".join(f"<th>{e(s)}</th>" for s in second if s)
    rows = []
    for r in screen_rows(report):
        cells = "".join(f'<td class="n">{e(r[k])}</td>' for k, _ in COLUMNS)
        pad = int(r["indent"]) * 1.2
        rows.append(f'<tr class="{r["kind"]}"><td style="padding-left:{pad + 0.3:.1f}em">{e(r["label"])}</td>'
                    f"{cells}</tr>")
    info = "".join(f"<span>{e(t)}</span>" for t in _info(report))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(report.title)}</title>'
            f"<style>{PRINT_CSS}</style></head><body>"
            f'<p class="noprint">打印：按 Ctrl+P（A4 横向）。</p>'
            f"<table><thead><tr><th colspan=\"{len(COLUMNS) + 1}\" style=\"border:none;background:none\">"
            f"<h1>{e(report.title)}</h1><div class=\"info\">{info}</div></th></tr>"
            f"<tr>{''.join(top)}</tr><tr>{sub}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>")
