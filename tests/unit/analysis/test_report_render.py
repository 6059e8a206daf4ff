"""The report's xlsx read back with openpyxl (title and info rows, merged two-row headers, numbers with 千分位
formats, bold totals, frozen panes, print area) and the print view (A4 landscape, header repeated)."""

import io

from openpyxl import load_workbook

from hbbudget.services.analysis import render
from hbbudget.services.analysis.report import Definition, Report, Row, figures

AMOUNTS = {"initial": 140_000_000, "adjusted": 140_000_000, "period": 23_000_000, "cumulative": 55_000_012,
           "last_year": 0}


def _report(unit: str = "yuan") -> Report:
    total = figures(AMOUNTS, 5000)
    item = figures({**AMOUNTS, "initial": 0}, 5000)
    return Report(Definition(1, 2027, "Q2", "org", unit), "示范大学2027年第二季度预算执行情况表（按单位）", "示范大学",
                  [Row("合计", kind="total", values=total), Row("信息学院<b>", level=1, values=item)])


def test_xlsx_layout_numbers_and_formats():
    ws = load_workbook(io.BytesIO(render.xlsx(_report()))).active
    assert ws["A1"].value.startswith("示范大学2027年第二季度") and ws["A1"].font.bold
    assert {"A1:J1", "A3:A4", "B3:C3", "D3:E3", "F3:H3", "I3:J3"} <= {str(r) for r in ws.merged_cells.ranges}
    assert (ws["A2"].value, ws["E2"].value, ws["I2"].value) == ("编制单位：示范大学", "期间：2027年第二季度", "单位：元")
    assert [ws.cell(4, c).value for c in range(2, 11)] == ["年初预算", "调整后预算", "本期支出", "累计支出", "执行率",
                                                          "序时进度", "差异（百分点）", "上年同期累计", "同比"]
    assert ws["B3"].value == "预算数" and ws["A3"].value == "单位"
    assert ws["B5"].value == 1400000 and ws["C5"].value == 1400000
    assert ws["E5"].value == 550000.12 and ws["E5"].number_format == "#,##0.00"
    assert ws["F5"].value == 0.3929 and ws["F5"].number_format == "0.00%"
    assert ws["H5"].value == -10.71 and ws["H5"].number_format == "0.00"
    assert ws["J5"].value == "—"  # no spending last year: no 同比
    assert ws["A5"].font.bold and ws["E5"].font.bold and not ws["A6"].font.bold and ws["A6"].alignment.indent == 1
    assert ws.freeze_panes == "B5"
    assert ws.print_area == "'执行报告'!$A$1:$J$6"
    assert ws.print_title_rows == "$3:$4"
    assert ws.page_setup.orientation == "landscape"


def test_xlsx_in_wan():
    ws = load_workbook(io.BytesIO(render.xlsx(_report("wan")))).active
    assert ws["I2"].value == "单位：万元" and ws["C5"].value == 140 and ws["E5"].value == 55


def test_print_view():
    page = render.print_html(_report())
    assert "size: A4 landscape" in page and "thead { display: table-header-group; }" in page
    assert '<th colspan="2">预算数</th>' in page and '<th rowspan="2">单位</th>' in page
    assert "550,000.12" in page and "39.29%" in page
    assert "信息学院&lt;b&gt;" in page and "信息学院<b>" not in page  # escaped


def test_screen_rows():
    rows = render.screen_rows(_report())
    assert rows[0]["cumulative"] == "550,000.12" and rows[0]["kind"] == "total" and rows[1]["indent"] == "1"
