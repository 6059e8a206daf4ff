"""Excel: export → import gives the same budget; every bad file is refused in Chinese and nothing changes."""

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Budget
from hbbudget.services.budgeting import budgets, excel, lines
from hbbudget.services.budgeting.excel import ImportRefused
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, library_project, line, world


def _snapshot(bid: int) -> list[dict]:
    with session_scope() as session:
        return lines.snapshot(session, session.get(Budget, bid))


def _budget(w) -> int:
    p = library_project(w)
    bid = budgets.create_budget(w.op, w.org["dept"], YEAR)["id"]
    budgets.add_line(w.op, bid, line("30101", "123456.78", note="含十三月工资"))
    budgets.add_line(w.op, bid, line("30211", "0.07", project_id=p["id"], source="事业收入"))
    budgets.add_line(w.op, bid, line("31002", "5000", months=["0"] * 11 + ["4999.99"], note="计划待调"))
    return bid


def test_round_trip_gives_the_same_budget(db):
    w = world()
    bid = _budget(w)
    name, data = excel.export_budget(w.op, bid)
    assert name.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["预算明细", "代码表"] and wb["代码表"].protection.sheet
    assert [c.value for c in wb["预算明细"][1]][:8] == excel.COLUMNS[:8]
    assert len(wb["预算明细"].data_validations.dataValidation) == 4
    before = _snapshot(bid)
    preview = excel.import_preview(w.op, bid, name, data)
    assert preview["ok"] and preview["count"] == 3 and preview["total"] == sum(ln["amount"] for ln in before)
    excel.import_commit(w.op, bid, name, data)
    assert _snapshot(bid) == before
    other = budgets.create_budget(w.op, w.org["dept"], YEAR - 1)["id"]
    excel.import_commit(w.op, other, name, data)
    assert _snapshot(other) == before


def test_blank_template_imports_what_is_typed_with_an_even_plan(db):
    w = world()
    bid = budgets.create_budget(w.op, w.org["dept"], YEAR)["id"]
    _, data = excel.export_blank(w.op, w.org["dept"], YEAR)
    wb = load_workbook(io.BytesIO(data))
    wb["预算明细"].append(["", "", "30201", "", "2050205", "", "财政拨款", 1200.5])
    out = io.BytesIO()
    wb.save(out)
    result = excel.import_commit(w.op, bid, "模板.xlsx", out.getvalue())
    assert result["count"] == 1 and result["totals"]["total"] == 120050
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    assert sum(row["months"]) == 120050 and row["plan_ok"]


def test_drop_downs_cover_every_row_an_import_accepts(db):
    w = world()
    library_project(w)  # so the project column has its drop-down too
    _, data = excel.export_blank(w.op, w.org["dept"], YEAR)
    ws = load_workbook(io.BytesIO(data))["预算明细"]
    last = excel.MAX_ROWS + 1  # the header is row 1
    ranges = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert set(ranges) == {f"C2:C{last}", f"E2:E{last}", f"A2:A{last}", f"G2:G{last}"}
    assert last == 20_001 and ranges[f"G2:G{last}"] == '"' + ",".join(lines.ENTERED_SOURCES) + '"'
    assert ranges[f"C2:C{last}"].startswith("'代码表'!$A$2:$A$")


def _sheet(rows: list[list], *, hidden: str = "", formula: bool = False) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "预算明细"
    ws.append(excel.COLUMNS)
    for r in rows:
        ws.append(r)
    if formula:
        ws["H3"] = "=H2*2"
    if hidden:
        extra = wb.create_sheet("隐藏")
        extra.sheet_state = hidden
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = ["", "", "30201", "", "2050205", "", "财政拨款", 100]


@pytest.mark.parametrize("name,data,why", [
    ("budget.xls", _sheet([GOOD]), "仅|请上传 .xlsx"),
    ("budget.csv", b"a,b\n", "请上传 .xlsx"),
    ("budget.xlsx", b"not a zip at all", "不是有效的 xlsx"),
    ("budget.xlsx", b"PK\x03\x04broken", "已损坏"),
    ("budget.xlsx", _sheet([GOOD, GOOD], formula=True), "公式"),
    ("budget.xlsx", _sheet([GOOD], hidden="hidden"), "隐藏工作表"),
    ("budget.xlsx", _sheet([GOOD], hidden="veryHidden"), "隐藏工作表"),
    ("budget.xlsx", _sheet([]), "没有预算明细"),
    ("budget.xlsx", b"", "文件为空"),
])
def test_bad_files_are_refused_and_nothing_changes(db, name, data, why):
    w = world()
    bid = _budget(w)
    before = _snapshot(bid)
    with pytest.raises(ValidationError, match=why):
        excel.import_commit(w.op, bid, name, data)
    assert _snapshot(bid) == before


def test_file_over_the_size_limit(db, monkeypatch):
    w = world()
    bid = _budget(w)
    data = _sheet([GOOD])
    monkeypatch.setenv("HBB_MAX_UPLOAD_BYTES", str(len(data) - 1))
    with pytest.raises(ValidationError, match="文件过大"):
        excel.import_preview(w.op, bid, "b.xlsx", data)


def test_missing_header_is_refused(db):
    w = world()
    bid = _budget(w)
    wb = Workbook()
    wb.active.append(["编码", "金额"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ValidationError, match="表头缺少列：经济分类编码"):
        excel.import_preview(w.op, bid, "b.xlsx", out.getvalue())


def test_problems_per_row_and_column_and_all_or_nothing(db):
    w = world()
    theirs = library_project(w, "他单位项目", org_key="other")
    bid = _budget(w)
    before = _snapshot(bid)
    data = _sheet([GOOD,
                   ["", "", "30299", "", "2050205", "", "自筹", "abc"],
                   [theirs["code"], "", "302", "", "2059999", "", "财政拨款", -5],
                   ["", "", "30201", "", "2050205", "", "财政拨款", "1.234", "x"]])
    preview = excel.import_preview(w.op, bid, "b.xlsx", data)
    assert not preview["ok"] and preview["rows"] == []
    got = {(p["row"], p["column"]) for p in preview["problems"]}
    assert got == {(3, "资金来源"), (3, "金额（元）"), (4, "项目编码"), (4, "经济分类编码"), (4, "功能分类编码"),
                   (4, "金额（元）"), (5, "金额（元）"), (5, "1月（元）")}
    reasons = {(p["row"], p["column"]): p["reason"] for p in preview["problems"]}
    assert "不属于本单位" in reasons[(4, "项目编码")] and "负数" in reasons[(4, "金额（元）")]
    assert "两位小数" in reasons[(5, "金额（元）")]
    with pytest.raises(ImportRefused) as err:
        excel.import_commit(w.op, bid, "b.xlsx", data)
    assert err.value.message.startswith("导入文件有 8 处问题，未导入任何数据") and len(err.value.problems) == 8
    assert _snapshot(bid) == before


def test_import_needs_an_editable_budget_in_scope(db):
    w = world()
    bid = _budget(w)
    _, data = excel.export_budget(w.op, bid)
    with pytest.raises(PermissionDenied):
        excel.import_commit(w.other, bid, "b.xlsx", data)
    with pytest.raises(PermissionDenied):
        excel.export_budget(w.other, bid)
    with session_scope() as session:
        assert session.exec(select(Budget.id)).all() == [bid]
