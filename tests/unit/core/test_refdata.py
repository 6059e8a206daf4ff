"""Reference data shipped in hbbudget/refdata and its idempotent loader."""

from __future__ import annotations

import filecmp
import os

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import EconomicMapping, EconomicSubject, FunctionSubject, Region
from hbbudget.services.core import refdata

SANGONG = {"30212": "因公出国（境）费用", "30217": "公务接待费", "30231": "公务用车运行维护费", "31013": "公务用车购置"}
EXPECTED = {"region": 202, "function": 39, "dept": 83, "gov": 12, "mapping": 31}


def _load(years: list[int]) -> dict[str, int]:
    with session_scope() as s:
        return refdata.load_all(s, years)


def _snapshot() -> list[tuple]:
    with session_scope() as s:
        rows = [(r.code, r.name, r.level, r.parent_code, r.finance_parent_code, r.statistical_only)
                for r in s.exec(select(Region)).all()]
        rows += [(f.fiscal_year, f.code, f.name, f.level, f.parent_code, f.active, f.source)
                 for f in s.exec(select(FunctionSubject)).all()]
        rows += [(e.fiscal_year, e.kind, e.code, e.name, e.level, e.parent_code, e.active, e.source)
                 for e in s.exec(select(EconomicSubject)).all()]
        rows += [(m.fiscal_year, m.dept_code, m.gov_code, m.source) for m in s.exec(select(EconomicMapping)).all()]
    return sorted(rows, key=repr)


def test_copies_match_shared_data(shared_dir: str) -> None:
    src = os.path.join(shared_dir, "data")
    if not os.path.isdir(src):
        pytest.skip("../shared/data not present")
    for name in ("hebei_admin_divisions_nbs2023.csv", "dept_budget_econ_class_partial.csv",
                 "gov_vs_dept_econ_mapping_partial.csv"):
        assert filecmp.cmp(os.path.join(src, name), refdata.REFDATA_DIR / name, shallow=False), name


def test_function_skeleton_has_27_classes() -> None:
    subjects = refdata.function_subjects()
    classes = {c: n for c, (n, _) in subjects.items() if len(c) == 3}
    assert len(classes) == 27
    assert classes["201"] == "一般公共服务支出"
    assert classes["227"] == "预备费"
    assert classes["233"] == "债务发行费用支出"
    assert subjects["2010101"] == ("行政运行", "verified")
    assert subjects["2019999"] == ("其他一般公共服务支出", "verified")
    assert subjects["2050205"] == ("高等教育", "inferred")
    assert subjects["2100201"] == ("综合医院", "inferred")


def test_load_counts_and_regions(db: str) -> None:
    assert _load([2026]) == EXPECTED
    with session_scope() as s:
        regions = {r.code: r for r in s.exec(select(Region)).all()}
    assert len(regions) == 202
    for code in ("130181", "130682"):  # 辛集, 定州: under the province for finance, not for statistics
        assert regions[code].finance_parent_code == "130000"
    assert regions["130181"].parent_code == "130100"
    assert regions["130682"].parent_code == "130600"
    assert regions["130102"].finance_parent_code == "130100"
    assert regions["130100"].finance_parent_code == "130000"
    assert regions["130000"].parent_code is None and regions["130000"].finance_parent_code is None
    stat = {c for c, r in regions.items() if r.statistical_only}
    assert len(stat) == 23 and "130171" in stat and "130181" not in stat
    assert regions["130171"].level == "county_stat_only(dev_zone)"
    assert regions["130100"].level == "prefecture"


def test_sangong_codes_are_leaf_kuan(db: str) -> None:
    _load([2026])
    with session_scope() as s:
        dept = {e.code: e for e in s.exec(select(EconomicSubject).where(
            EconomicSubject.fiscal_year == 2026, EconomicSubject.kind == "dept")).all()}
    parents = {e.parent_code for e in dept.values()}
    for code, name in SANGONG.items():
        assert dept[code].name == name and dept[code].level == 2 and dept[code].source == "verified"
        assert dept[code].parent_code in dept and code not in parents


def test_trees_are_complete_and_levels_follow_length(db: str) -> None:
    _load([2026])
    with session_scope() as s:
        funcs = s.exec(select(FunctionSubject)).all()
        econ = s.exec(select(EconomicSubject)).all()
        maps = s.exec(select(EconomicMapping)).all()
    fcodes = {f.code for f in funcs}
    for f in funcs:
        assert f.level == {3: 1, 5: 2, 7: 3}[len(f.code)]
        assert f.parent_code == (f.code[:-2] if len(f.code) > 3 else None)
        assert f.parent_code is None or f.parent_code in fcodes
    by_kind = {k: {e.code: e for e in econ if e.kind == k} for k in ("dept", "gov")}
    for kind, rows in by_kind.items():
        for e in rows.values():
            assert e.code[0] == ("3" if kind == "dept" else "5")
            assert e.level == {3: 1, 5: 2}[len(e.code)]
            assert e.parent_code is None or e.parent_code in rows
    # sources: unverified_name → inferred; skeleton classes; the gov 50502 seen in S8
    assert by_kind["dept"]["309"].source == "inferred"
    assert by_kind["dept"]["303"].source == "skeleton"
    assert by_kind["gov"]["50502"].source == "verified" and by_kind["gov"]["505"].source == "skeleton"
    assert by_kind["gov"]["50204"].name == "专用材料购置费" and by_kind["gov"]["50204"].source == "verified"
    pairs = {(m.dept_code, m.gov_code): m.source for m in maps}
    assert pairs[("30101", "50101")] == "verified"
    assert pairs[("30225", "50204")] == "inferred"
    assert all(d in by_kind["dept"] and g in by_kind["gov"] for d, g in pairs)


def test_load_is_idempotent_and_keeps_local_changes(db: str) -> None:
    _load([2026, 2027])
    with session_scope() as s:
        row = s.exec(select(FunctionSubject).where(
            FunctionSubject.fiscal_year == 2027, FunctionSubject.code == "20101")).one()
        row.name, row.source = "人大事务（已更名）", "imported"
        s.add(row)
    before = _snapshot()
    assert _load([2026, 2027]) == dict.fromkeys(EXPECTED, 0)
    assert _snapshot() == before


def test_two_years_and_a_new_year_later(db: str) -> None:
    first = _load([2026])
    assert first["function"] == 39
    second = _load([2026, 2027])
    assert second == {"region": 0, "function": 39, "dept": 83, "gov": 12, "mapping": 31}
    with session_scope() as s:
        years = set(s.exec(select(FunctionSubject.fiscal_year)).all())
    assert years == {2026, 2027}
