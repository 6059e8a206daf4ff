"""Importing an official subject table (csv/xlsx), refusals, and the listing used by the UI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from hbbudget import cli
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, EconomicSubject, FunctionSubject
from hbbudget.services.core import audit, refdata, subjects
from hbbudget.services.errors import ValidationError

HEADER = ["科目编码", "科目名称"]
TABLE_A = [("201", "一般公共服务支出"), ("20101", "人大事务"), ("2010101", "行政运行"),
           ("2010102", "一般行政管理事务"), ("205", "教育支出"), ("20502", "普通教育")]
# A → B: 3 added, 1 renamed, 2 retired
TABLE_B = [("201", "一般公共服务支出"), ("20101", "人大事务（更名）"), ("2010101", "行政运行"),
           ("20103", "政府办公厅（室）及相关机构事务"), ("2010301", "行政运行"), ("2010302", "一般行政管理事务"),
           ("205", "教育支出")]


def write_csv(path: Path, rows: list, header: list | None = HEADER, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list, header: list | None = HEADER, title: str | None = None,
               hidden: bool = False) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    if header:
        ws.append(header)
    for row in rows:
        ws.append(list(row))
    if hidden:
        wb.create_sheet("隐藏").sheet_state = "hidden"
    wb.save(path)
    return path


def snapshot() -> list:
    """Every subject row and the audit entry count: refusals must leave this unchanged."""
    with session_scope() as s:
        rows = [(f.fiscal_year, f.code, f.name, f.level, f.parent_code, f.active, f.source)
                for f in s.exec(select(FunctionSubject)).all()]
        rows += [(e.fiscal_year, e.kind, e.code, e.name, e.active, e.source)
                 for e in s.exec(select(EconomicSubject)).all()]
        audits = len(s.exec(select(AuditEntry.id)).all())
    return [sorted(rows, key=repr), audits]


def functions(year: int) -> dict[str, FunctionSubject]:
    with session_scope() as s:
        return {f.code: f for f in s.exec(select(FunctionSubject).where(FunctionSubject.fiscal_year == year)).all()}


def import_audits() -> list[AuditEntry]:
    with session_scope() as s:
        return s.exec(select(AuditEntry).where(AuditEntry.event_type == "subjects.import")
                      .order_by(AuditEntry.id)).all()


# ---- successful imports ----

def test_csv_import_add_rename_retire_reactivate(db: str, tmp_path: Path) -> None:
    first = subjects.import_file(write_csv(tmp_path / "a.csv", TABLE_A), 2027)
    assert first.kind == "function" and sorted(first.added) == sorted(c for c, _ in TABLE_A)
    assert first.renamed == [] and first.retired == []

    report = subjects.import_file(write_csv(tmp_path / "b.csv", TABLE_B, encoding="utf-8-sig"), 2027)
    assert sorted(report.added) == ["20103", "2010301", "2010302"]
    assert report.renamed == [("20101", "人大事务", "人大事务（更名）")]
    assert report.retired == ["2010102", "20502"]
    text = report.summary()
    assert text.startswith("导入 2027 年支出功能分类：新增 3 个，更名 1 个，停用 2 个")
    assert "20103" in text and "2010102" in text and "人大事务→人大事务（更名）" in text

    rows = functions(2027)
    assert rows["20101"].name == "人大事务（更名）" and rows["20101"].source == "imported"
    assert not rows["2010102"].active and not rows["20502"].active
    assert rows["2010301"].level == 3 and rows["2010301"].parent_code == "20103"

    back = subjects.import_file(write_csv(tmp_path / "a2.csv", TABLE_A), 2027)
    assert sorted(back.reactivated) == ["2010102", "20502"] and back.added == []
    assert sorted(back.retired) == ["20103", "2010301", "2010302"]
    assert "恢复 2 个" in back.summary()
    assert functions(2027)["20502"].active

    entries = import_audits()
    assert len(entries) == 3
    assert json.loads(entries[1].after) == {"year": 2027, "kind": "function", "rows": 7, "added": 3,
                                            "renamed": 1, "retired": 2, "reactivated": 0}
    assert entries[1].object_id == "2027/function" and entries[1].success
    with session_scope() as s:
        assert audit.verify(s).ok


def test_import_replaces_refdata_of_that_year_only(db: str, tmp_path: Path) -> None:
    with session_scope() as s:
        refdata.load_all(s, [2026, 2027])
    report = subjects.import_file(write_csv(tmp_path / "a.csv", TABLE_A), 2027)
    assert set(report.added) == {"2010102"}  # the rest were in the skeleton
    assert "20199" in report.retired and "233" in report.retired and "20502" not in report.retired
    assert all(f.active for f in functions(2026).values())  # other year untouched
    with session_scope() as s:  # economic subjects of 2027 untouched
        assert all(e.active for e in s.exec(select(EconomicSubject)).all())


def test_xlsx_import_dept_economic_with_title_row_and_numbers(db: str, tmp_path: Path) -> None:
    rows = [(301, "工资福利支出", "x"), (30101, "基本工资", ""), (30102.0, "津贴补贴", None),
            (302, "商品和服务支出", ""), (30212, "因公出国（境）费用", "")]
    path = write_xlsx(tmp_path / "dept.xlsx", rows, header=["编码", "名称", "备注"], title="2028年部门预算支出经济分类科目")
    report = subjects.import_file(path, 2028)
    assert report.kind == "dept" and len(report.added) == 5
    assert report.summary().startswith("导入 2028 年部门预算支出经济分类：新增 5 个")
    with session_scope() as s:
        got = {e.code: e for e in s.exec(select(EconomicSubject).where(EconomicSubject.fiscal_year == 2028)).all()}
    assert set(got) == {"301", "30101", "30102", "302", "30212"}
    assert got["30102"].kind == "dept" and got["30102"].level == 2 and got["30102"].parent_code == "301"
    assert got["301"].level == 1 and got["301"].source == "imported"
    assert len(import_audits()) == 1


def test_gbk_csv_gov_economic_and_cli(db: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = [("501", "机关工资福利支出"), ("50101", "工资奖金津补贴")]
    path = write_csv(tmp_path / "gov.csv", rows, header=["代码", "名称"], encoding="gbk")
    assert cli.main(["subjects", "import", str(path), "--year", "2029"]) == 0
    assert "导入 2029 年政府预算支出经济分类：新增 2 个" in capsys.readouterr().out
    with session_scope() as s:
        kinds = {e.kind for e in s.exec(select(EconomicSubject)).all()}
        assert kinds == {"gov"}
        assert subjects.years_available(s) == [2029]


# ---- refusals: nothing changes ----

BAD_ROWS = {
    "empty_code": ([("201", "一般公共服务支出"), ("", "人大事务")], "第3行：编码为空"),
    "empty_name": ([("201", "一般公共服务支出"), ("20101", "")], "第3行：编码 20101 的名称为空"),
    "non_digit": ([("201", "一般公共服务支出"), ("201A1", "人大事务")], "第3行：编码“201A1”不是数字"),
    "wrong_length": ([("201", "一般公共服务支出"), ("2011", "人大事务")], "第3行：编码 2011 为 4 位"),
    "duplicate": ([("201", "一般公共服务支出"), ("20101", "人大事务"), ("201", "又一个")], "第4行：编码 201 与第2行重复"),
    "orphan": ([("201", "一般公共服务支出"), ("2010201", "行政运行")], "第3行：编码 2010201 的上级科目 20102 不在文件中"),
    "long_name": ([("201", "一般公共服务支出"), ("20101", "长" * 129)], "第3行：编码 20101 的名称超过 128 个字符"),
    "mixed_kinds": ([("201", "一般公共服务支出"), ("20101", "人大事务"), ("301", "工资福利支出")], "第4行：编码 301 属于部门预算"),
    "unknown_kind": ([("401", "未知"), ("40101", "未知款")], "第2行：编码 401 不属于任何科目类型"),
}


@pytest.fixture
def seeded(db: str, tmp_path: Path) -> list:
    """A database with refdata and one earlier import of 2027: the state a refusal must keep."""
    with session_scope() as s:
        refdata.load_all(s, [2027])
    subjects.import_file(write_csv(tmp_path / "seed.csv", TABLE_A), 2027)
    return snapshot()


def _refused(path: Path, expected: str, before: list) -> str:
    with pytest.raises(ValidationError) as err:
        subjects.import_file(path, 2027)
    assert expected in str(err.value), str(err.value)
    assert snapshot() == before
    return str(err.value)


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_rows_refused_csv(seeded: list, tmp_path: Path, case: str) -> None:
    rows, expected = BAD_ROWS[case]
    _refused(write_csv(tmp_path / f"{case}.csv", rows), expected, seeded)


@pytest.mark.parametrize("case", ["empty_code", "duplicate", "orphan"])
def test_bad_rows_refused_xlsx(seeded: list, tmp_path: Path, case: str) -> None:
    rows, expected = BAD_ROWS[case]
    _refused(write_xlsx(tmp_path / f"{case}.xlsx", rows), expected, seeded)


def test_many_problems_listed_up_to_20(seeded: list, tmp_path: Path) -> None:
    rows = [("201", "一般公共服务支出")] + [(f"2019{i:02d}", "坏") for i in range(30)]
    msg = _refused(write_csv(tmp_path / "many.csv", rows), "第3行：", seeded)
    assert msg.startswith("科目表有 30 处问题，未导入任何数据")
    assert msg.count("行：") == 20  # only the first 20 problems are listed
    assert "另有 10 处问题未列出" in msg and "第22行" in msg and "第23行" not in msg


def test_formula_in_xlsx_refused(seeded: list, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", [("201", "一般公共服务支出"), ("20101", '=CONCAT("人大","事务")')])
    _refused(path, "第3行：编码或名称单元格含公式", seeded)
    path = write_xlsx(tmp_path / "g.xlsx", [("201", "一般公共服务支出"), ("=200+1*0+20101-201", "人大事务")])
    _refused(path, "第3行：编码或名称单元格含公式", seeded)


def test_hidden_sheet_refused(seeded: list, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", [("201", "一般公共服务支出")], hidden=True)
    _refused(path, "隐藏工作表“隐藏”", seeded)


def test_file_level_refusals(seeded: list, tmp_path: Path) -> None:
    no_header = write_csv(tmp_path / "nh.csv", [("201", "一般公共服务支出")], header=["科目", "说明"])
    _refused(no_header, "缺少表头", seeded)
    _refused(write_csv(tmp_path / "only_header.csv", []), "没有科目数据", seeded)
    (tmp_path / "empty.csv").write_bytes(b"")
    _refused(tmp_path / "empty.csv", "文件为空", seeded)
    (tmp_path / "t.txt").write_text("科目编码,科目名称\n201,一般公共服务支出\n", encoding="utf-8")
    _refused(tmp_path / "t.txt", "仅支持 xlsx 或 csv", seeded)
    (tmp_path / "fake.xlsx").write_text("科目编码,科目名称\n201,一般公共服务支出\n", encoding="utf-8")
    _refused(tmp_path / "fake.xlsx", "不是有效的 xlsx", seeded)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    _refused(tmp_path / "broken.xlsx", "无法读取 xlsx", seeded)
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02abc")
    _refused(tmp_path / "bin.csv", "不是文本格式", seeded)
    _refused(tmp_path / "missing.csv", "文件不存在", seeded)


def test_file_over_10mb_refused(seeded: list, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", [("201", "一般公共服务支出")])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(("#" * 1023 + "\n") * (10 * 1024 + 1))
    _refused(path, "文件过大", seeded)


def test_bad_year_refused(seeded: list, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", TABLE_A)
    for year in (1999, 3000):
        with pytest.raises(ValidationError):
            subjects.import_file(path, year)
    assert snapshot() == seeded


# ---- listing ----

def test_list_subjects_search_paging_and_labels(db: str) -> None:
    with session_scope() as s:
        refdata.load_all(s, [2026])
    with session_scope() as s:
        rows, total = subjects.list_subjects(s, "function", 2026, search="人大")
        assert total == 1 and rows[0]["code"] == "20101"
        assert rows[0] == {"code": "20101", "name": "人大事务", "level": 2, "level_name": "款",
                           "parent_code": "201", "active": True, "source": "已核实"}
        rows, total = subjects.list_subjects(s, "function", 2026, search="2050")
        assert total == 6 and [r["code"] for r in rows][:2] == ["20502", "2050201"]
        assert rows[1]["source"] == "推断" and rows[1]["level_name"] == "项"
        rows, total = subjects.list_subjects(s, "function", 2026, offset=10, limit=5)
        assert total == 39 and len(rows) == 5
        assert subjects.list_subjects(s, "function", 2026, search="%")[1] == 0
        rows, _ = subjects.list_subjects(s, "function", 2026, search="205")
        assert rows[0] == {"code": "205", "name": "教育支出", "level": 1, "level_name": "类",
                           "parent_code": None, "active": True, "source": "骨架"}
        assert subjects.list_subjects(s, "dept", 2026, search="公务")[1] >= 4
        assert subjects.list_subjects(s, "gov", 2026)[1] == 12
        assert subjects.list_subjects(s, "dept", 2030) == ([], 0)
        for bad in ({"kind": "other"}, {"limit": 0}, {"offset": -1}, {"year": "2026"}):
            args = {"kind": "function", "year": 2026} | bad
            with pytest.raises(ValidationError):
                subjects.list_subjects(s, **args)
        assert subjects.years_available(s) == [2026]


def test_list_limit_capped_at_200(db: str, tmp_path: Path) -> None:
    rows = [("201", "一般公共服务支出")]
    for k in range(1, 4):
        rows.append((f"201{k:02d}", f"款{k}"))
        rows += [(f"201{k:02d}{i:02d}", f"项{k}-{i}") for i in range(1, 100)]
    report = subjects.import_file(write_csv(tmp_path / "big.csv", rows), 2027)
    assert len(report.added) == 301
    with session_scope() as s:
        page, total = subjects.list_subjects(s, "function", 2027, limit=1000)
    assert total == 301 and len(page) == 200
