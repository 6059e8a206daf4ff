"""指标库: the shipped library (size, industries, idempotent load), scope (common read-only below the root, an org's
own indicators seen in its subtree), edits, xlsx/csv import all or nothing with row numbers, export, the CLI."""

import csv
import io
import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from hbbudget.cli import main
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, PerfIndicator
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.performance import library
from tests.budget_world import add_user
from tests.factories import make_tree

YEAR = 2026


@pytest.fixture
def w(db):
    tree = make_tree()
    with session_scope() as session:
        library.load_shipped(session, YEAR)
    return {**tree, "root": add_user("fin_p", "finance_reviewer", tree["prov"]),
            "fin_u": add_user("fin_u", "finance_reviewer", tree["unit"]),
            "op_d": add_user("op_d", "operator", tree["dept"], subtree=False),
            "op_o": add_user("op_o", "operator", tree["other"], subtree=False)}


def _count(**where) -> int:
    with session_scope() as session:
        q = select(func.count()).select_from(PerfIndicator)
        for k, v in where.items():
            q = q.where(getattr(PerfIndicator, k) == v)
        return session.exec(q).one()


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(list(library.COLUMNS))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_shipped_library_is_large_varied_and_loads_once(w):
    rows = library._csv_rows()
    assert len(rows) >= 120
    industries = {i for r in rows for i in library._split(r["industries"])} - {"通用"}
    assert len(industries) >= 10
    for r in rows:
        library.clean(r, r["code"])  # every shipped row passes the same checks as an import
        assert r["source"] in ("财政部共性框架", "本库编写") and r["guidance"]
    assert {r["level1"] for r in rows} == set(library.LEVELS)
    assert _count(fiscal_year=YEAR) == len(rows)
    with session_scope() as session:
        assert library.load_shipped(session, YEAR) == 0
    assert _count(fiscal_year=YEAR) == len(rows)


def test_search_by_name_industry_and_level(w):
    rows, total = library.list_indicators(w["op_d"], YEAR, search="学生满意度")
    assert [r["name"] for r in rows] == ["学生满意度"] and total == 1
    rows, total = library.list_indicators(w["op_d"], YEAR, industry="卫生健康", level1="满意度", limit=200)
    assert {r["name"] for r in rows} >= {"门诊患者满意度", "受益群众满意度"}
    assert all(r["level1"] == "满意度" for r in rows)


def test_common_indicators_are_read_only_below_the_root(w):
    first = library.list_indicators(w["fin_u"], YEAR, limit=1)[0][0]
    with pytest.raises(PermissionDenied):
        library.set_retired(w["fin_u"], first["id"], True)
    with pytest.raises(PermissionDenied):
        library.save_indicator(w["fin_u"], YEAR, 0, {**first, "code": "X1"})
    library.set_retired(w["root"], first["id"], True)
    assert library.list_indicators(w["op_d"], YEAR, search=first["name"])[1] == 0
    with session_scope() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.event_type == "indicator.retire")).one()


def test_an_orgs_own_indicator_is_seen_in_its_subtree_only(w):
    own = library.save_indicator(w["fin_u"], YEAR, w["unit"], {
        "level1": "产出", "level2": "数量", "name": "本校实验室开放时数", "unit": "小时", "direction": "≥",
        "default_target": "1,000", "industries": "教育", "guidance": "门禁记录"})
    assert own["code"] == f"D{w['unit']}-001"
    assert library.list_indicators(w["op_d"], YEAR, search="实验室开放")[1] == 1  # the college below sees it
    assert library.list_indicators(w["op_o"], YEAR, search="实验室开放")[1] == 0  # a sibling unit does not
    with pytest.raises(PermissionDenied):
        library.save_indicator(w["fin_u"], YEAR, w["other"], {**own, "code": ""})
    with pytest.raises(ValidationError, match="二级指标须为"):
        library.save_indicator(w["fin_u"], YEAR, w["unit"], {**own, "code": "", "level2": "质量X"})


def test_import_is_all_or_nothing_with_row_numbers(w):
    good = ["ZZ001", "产出", "数量", "新指标一", "个", "≥", "5", "教育", "3", "说明", "本库编写"]
    bad = ["ZZ002", "产出", "速度", "新指标二", "个", "≥", "5", "教育", "3", "说明", "本库编写"]
    worse = ["ZZ003", "效益", "社会效益", "新指标三", "%", "大于", "5", "教育", "3", "说明", "本库编写"]
    before = _count()
    with pytest.raises(ValidationError) as err:
        library.import_table(w["root"], YEAR, 0, "lib.xlsx", _xlsx([good, bad, worse]))
    assert "第3行二级指标须为" in str(err.value) and "第4行方向须为" in str(err.value)
    assert _count() == before
    with pytest.raises(ValidationError, match="第2行含公式"):
        library.import_table(w["root"], YEAR, 0, "lib.xlsx", _xlsx([[*good[:6], "=1+1", *good[7:]]]))
    with pytest.raises(ValidationError, match="不是有效的 xlsx"):
        library.import_table(w["root"], YEAR, 0, "lib.xlsx", b"not a workbook")
    with pytest.raises(PermissionDenied):
        library.import_table(w["fin_u"], YEAR, 0, "lib.xlsx", _xlsx([good]))
    assert _count() == before
    report = library.import_table(w["root"], YEAR, 0, "lib.xlsx", _xlsx([good]))
    assert report == {"added": 1, "updated": 0, "rows": 1} and _count() == before + 1


def test_export_then_import_round_trips_and_quotes_formula_like_text(w):
    library.save_indicator(w["root"], YEAR, 0, {
        "code": "ZZ009", "level1": "成本", "level2": "经济成本", "name": "=HYPERLINK(1)", "direction": "≤",
        "default_target": "10", "industries": "通用"})
    name, data = library.export_xlsx(w["root"], YEAR)
    assert name == f"绩效指标库_{YEAR}.xlsx"
    ws = load_workbook(io.BytesIO(data)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == list(library.COLUMNS) and len(values) - 1 == _count(fiscal_year=YEAR)
    assert ["'=HYPERLINK(1)"] == [r[3] for r in values if r[0] == "ZZ009"]
    report = library.import_table(w["root"], YEAR + 1, 0, name, data)
    assert report["added"] == _count(fiscal_year=YEAR)  # a new year's edition from last year's export


def test_cli_lists_json_and_imports_csv(w, tmp_path, capsys):
    assert main(["indicators", "list", "--year", str(YEAR), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == _count(fiscal_year=YEAR)
    one = next(r for r in rows if r["name"] == "毕业生就业率")
    assert one["level1"] == "效益" and one["direction"] == "≥" and one["industries"] == ["教育"]
    path = tmp_path / "ed.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(list(library.COLUMNS))
        out.writerow(["ZZ100", "满意度", "服务对象满意度", "家长满意度", "%", "≥", "90", "教育", "3", "问卷", "本库编写"])
    assert main(["indicators", "import", str(path), "--year", str(YEAR)]) == 0
    assert "新增 1 条" in capsys.readouterr().out
    path.write_text("编码\nZZ101\n", encoding="utf-8")
    assert main(["indicators", "import", str(path), "--year", str(YEAR)]) == 1
    assert "表头缺少列" in capsys.readouterr().err
