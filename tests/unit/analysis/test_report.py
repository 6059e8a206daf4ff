"""执行报告 figures against a hand-computed fixture: a 调剂 in the middle of the year (money charged to the old
version counts against the new line), a bank payment reversed, a line with no spending, an org with no budget,
last year's spending for 同比; every row dimension, 元 and 万元, month and quarter, scope.

The fixture (元), fiscal year 2027, 示范大学 (U) with 信息学院 (D) and 空白学院 (E, no budget) under it:
  U 二下:  L1 P-LAB 31002 2050205 财政拨款 1,200,000; L2 基本 30201 60,000; L3 基本 30202 40,000
  U 调剂 (from July on the books, entered after the spring): L1 1,100,000; L2 160,000; L3 40,000
  spending: L2(old) 20,000 on 2 Feb; L1(old) 300,000 on 10 Mar; bank 50,000 on 15 Apr on L2, reversed;
            L1 200,000 on 20 May; L2 10,000 on 3 Jul (after Q2); 5,000 frozen on L2 (not spending)
  D 二下:  基本 30201 2050205 单位资金 100,000; spending 30,000 on 30 Jun
  2026:    U 基本 30201 100,000; spending 40,000 on 1 Mar, 9,999 on 1 Aug (after June)
Q2 2027 (today 15 Aug: 序时进度 50.00 %):
  U 本级: 年初 1,300,000 调整后 1,300,000 本期 200,000 累计 520,000 上年 40,000 → 40.00 %, −10.00, 同比 1200.00 %
  D:      100,000 / 100,000 / 30,000 / 30,000 / 0 → 30.00 %, −20.00, 同比 —
  E:      zeros → 0.00 %, −50.00, 同比 —
  合计:   1,400,000 / 1,400,000 / 230,000 / 550,000 / 40,000 → 39.29 %, −10.71, 同比 1275.00 %"""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget import money
from hbbudget.db import session_scope
from hbbudget.models import BankAccount, BankTransaction, Budget, BudgetLine, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.analysis import render
from hbbudget.services.analysis.report import Definition, run
from hbbudget.services.core import orgs as org_service
from hbbudget.services.core import refdata
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import facts, matching
from hbbudget.services.execution.bank import ingest
from tests.budget_world import add_user
from tests.factories import bank_tx, make_tree

YEAR = 2027
AUG = date(YEAR, 8, 15)


def _budget(org_id: int, year: int, lines: list[tuple], **fields) -> tuple[int, list[int]]:
    """lines: (project id or None, econ, source, 元)."""
    with session_scope() as session:
        b = Budget(org_id=org_id, fiscal_year=year, **{"round": "二下", "status": "已批复", **fields})
        session.add(b)
        session.flush()
        ids = []
        for pid, econ, source, yuan in lines:
            line = BudgetLine(budget_id=b.id, project_id=pid, econ_code=econ, func_code="2050205", source=source,
                              amount=yuan * 100, **dict(zip(MONTHS, money.spread(yuan * 100))))
            session.add(line)
            session.flush()
            ids.append(line.id)
        return b.id, ids


def _supersede(old_id: int, new_id: int | None) -> None:
    with session_scope() as session:
        session.get(Budget, old_id).superseded_by_id = new_id


@pytest.fixture
def world(db):
    facts.forget()
    tree = make_tree()
    with session_scope() as session:
        refdata.load_all(session, [YEAR])
        blank = org_service.create(session, "E", "空白学院", "高校", session.get(org_service.Org, tree["unit"]))
        lab = Project(code="P-LAB", name="实验室建设", org_id=tree["unit"], category="3", start_year=YEAR, end_year=YEAR)
        account = BankAccount(org_id=tree["unit"], number="130101000000001", name="基本户")
        session.add_all([lab, account])
        session.flush()
        tree.update(blank=blank.id, lab=lab.id, account=account.id)
        for org in session.exec(select(org_service.Org)).all():  # spending beyond plan is allowed here (a warning):
            org.limit_manual = "alert"  # these tests are about the figures that such spending gives
            session.add(org)
    kuaiji = add_user("kuaiji", "accountant", tree["unit"])
    old, (l1_old, l2_old, _) = _budget(tree["unit"], YEAR, [(tree["lab"], "31002", "财政拨款", 1_200_000),
                                                            (None, "30201", "财政拨款", 60_000),
                                                            (None, "30202", "财政拨款", 40_000)])
    matching.record_manual(kuaiji, l2_old, "20000", date(YEAR, 2, 2), "办公")
    matching.record_manual(kuaiji, l1_old, "300000", date(YEAR, 3, 10), "设备")
    new, (l1, l2, l3) = _budget(tree["unit"], YEAR, [(tree["lab"], "31002", "财政拨款", 1_100_000),
                                                    (None, "30201", "财政拨款", 160_000),
                                                    (None, "30202", "财政拨款", 40_000)],
                               seq=1, round="调剂", based_on_id=old)
    _supersede(old, new)
    paid = bank_tx(tree["account"], tree["unit"], "T-1", -5_000_000, counterparty="某公司",
                   booking_date=date(YEAR, 4, 15))
    matching.match(kuaiji, paid, [(l2, "50000")])
    rev = bank_tx(tree["account"], tree["unit"], "T-1R", 5_000_000, counterparty="某公司", reversal=True,
                  booking_date=date(YEAR, 4, 20))
    with session_scope() as session:
        assert ingest._cancel_original(session, session.get(BankTransaction, rev), "T-1") == 1
    matching.record_manual(kuaiji, l1, "200000", date(YEAR, 5, 20), "设备")
    matching.record_manual(kuaiji, l2, "10000", date(YEAR, 7, 3), "办公")
    matching.record_manual(kuaiji, l2, "5000", date(YEAR, 6, 1), "合同", kind="frozen")
    _, (d1,) = _budget(tree["dept"], YEAR, [(None, "30201", "单位资金", 100_000)])
    matching.record_manual(kuaiji, d1, "30000", date(YEAR, 6, 30), "办公")
    _, (last,) = _budget(tree["unit"], YEAR - 1, [(None, "30201", "财政拨款", 100_000)])
    matching.record_manual(kuaiji, last, "40000", date(YEAR - 1, 3, 1), "办公")
    matching.record_manual(kuaiji, last, "9999", date(YEAR - 1, 8, 1), "办公")
    _budget(tree["other"], YEAR, [(None, "30201", "财政拨款", 777_000)])
    facts.forget()
    with session_scope() as session:
        assert not session.exec(select(BankTransaction).where(BankTransaction.bank_ref == "T-1",
                                                              BankTransaction.cancelled == False)).all()  # noqa: E712
    return {**tree, "l1": l1, "l2": l2, "l3": l3, "d1": d1, "head": add_user("head", "division_head", tree["unit"]),
            "outsider": add_user("outsider", "accountant", tree["other"]),
            "leader": add_user("leader", "leader", tree["prov"])}


def _yuan(values: dict) -> dict:
    return {k: (v // 100 if k in render.MONEY and v is not None else v) for k, v in values.items()}


def _table(report) -> list[tuple]:
    return [(r.label, r.kind, _yuan(r.values)) for r in report.rows]


def _v(initial, adjusted, period, cumulative, last_year, rate, progress, yoy):
    return {"initial": initial, "adjusted": adjusted, "period": period, "cumulative": cumulative,
            "last_year": last_year, "rate": rate, "progress": progress, "gap": rate - progress, "yoy": yoy}


def test_quarter_by_org_hand_computed(world):
    report = run(world["head"], Definition(world["unit"], YEAR, "Q2", "org"), AUG)
    assert report.title == "示范大学2027年第二季度预算执行情况表（按单位）"
    total = _v(1_400_000, 1_400_000, 230_000, 550_000, 40_000, 3929, 5000, 127500)
    assert _table(report) == [
        ("合计", "total", total),
        ("示范大学（小计）", "subtotal", total),
        ("示范大学（本级）", "item", _v(1_300_000, 1_300_000, 200_000, 520_000, 40_000, 4000, 5000, 120000)),
        ("信息学院", "item", _v(100_000, 100_000, 30_000, 30_000, 0, 3000, 5000, None)),
        ("空白学院", "item", _v(0, 0, 0, 0, 0, 0, 5000, None)),  # no budget: zeros, not an error
    ]
    assert [r.level for r in report.rows] == [0, 0, 1, 1, 1]


def test_month_and_progress_of_a_period_not_yet_over(world):
    june = run(world["head"], Definition(world["unit"], YEAR, "M06", "org"), AUG)
    assert _yuan(june.rows[0].values)["period"] == 30_000 and _yuan(june.rows[0].values)["cumulative"] == 550_000
    april = run(world["head"], Definition(world["unit"], YEAR, "M04", "org"), date(YEAR, 4, 10))
    # the reversed April payment is not spending; 序时进度 by the day: (3 + 10/30) / 12
    assert _yuan(april.rows[0].values) == _v(1_400_000, 1_400_000, 0, 320_000, 40_000, 2286, 2778, 70000)
    future = run(world["head"], Definition(world["unit"], YEAR, "Q4", "org"), date(YEAR - 1, 12, 1))
    assert future.rows[0].values["progress"] == 0


def test_by_economic_class_with_subtotals_and_a_line_without_spending(world):
    report = run(world["head"], Definition(world["unit"], YEAR, "Q2", "econ"), AUG)
    rows = {r.code: (r.kind, r.level, _yuan(r.values)) for r in report.rows[1:]}
    assert list(rows) == ["302", "30201", "30202", "310", "31002"]
    assert rows["302"] == ("subtotal", 0, _v(200_000, 300_000, 30_000, 50_000, 40_000, 1667, 5000, 2500))
    assert rows["30201"] == ("item", 1, _v(160_000, 260_000, 30_000, 50_000, 40_000, 1923, 5000, 2500))
    assert rows["30202"] == ("item", 1, _v(40_000, 40_000, 0, 0, 0, 0, 5000, None))
    assert rows["310"][2] == rows["31002"][2] == _v(1_200_000, 1_100_000, 200_000, 500_000, 0, 4545, 5000, None)
    assert report.rows[1].label.startswith("302 ") and len(report.rows[1].label) > 4  # the subject's name


def test_by_function_project_and_source(world):
    func = run(world["head"], Definition(world["unit"], YEAR, "Q2", "func"), AUG)
    assert [(r.code, r.kind, r.level) for r in func.rows[1:]] == [("205", "subtotal", 0), ("20502", "subtotal", 1),
                                                                  ("2050205", "item", 2)]
    assert all(r.values == func.rows[0].values for r in func.rows)
    project = run(world["head"], Definition(world["unit"], YEAR, "Q2", "project"), AUG)
    assert [(r.label, r.kind, _yuan(r.values)["adjusted"], _yuan(r.values)["cumulative"]) for r in project.rows] == [
        ("合计", "total", 1_400_000, 550_000), ("基本支出", "item", 300_000, 50_000),
        ("项目支出", "subtotal", 1_100_000, 500_000), ("实验室建设（P-LAB）", "item", 1_100_000, 500_000)]
    source = run(world["head"], Definition(world["unit"], YEAR, "Q2", "source"), AUG)
    assert [(r.label, _yuan(r.values)["cumulative"]) for r in source.rows] == [
        ("合计", 550_000), ("单位资金", 30_000), ("财政拨款", 520_000)]


def test_wan_yuan_text(world):
    report = run(world["head"], Definition(world["unit"], YEAR, "Q2", "org", "wan"), AUG)
    total = render.screen_rows(report)[0]
    assert (total["adjusted"], total["cumulative"], total["rate"], total["gap"], total["yoy"]) == (
        "140.00", "55.00", "39.29%", "-10.71", "1275.00%")
    assert render.screen_rows(report)[3]["yoy"] == "—"
    yuan = render.screen_rows(run(world["head"], Definition(world["unit"], YEAR, "Q2", "org"), AUG))[0]
    assert yuan["adjusted"] == "1,400,000.00"


def test_scope_the_other_unit_and_above_are_refused(world):
    with pytest.raises(PermissionDenied):
        run(world["outsider"], Definition(world["unit"], YEAR, "Q2", "org"), AUG)
    with pytest.raises(PermissionDenied):
        run(world["head"], Definition(world["city"], YEAR, "Q2", "org"), AUG)
    with pytest.raises(PermissionDenied):
        run(world["head"], Definition(999_999, YEAR, "Q2", "org"), AUG)
    # the leader sees the province: the other unit's budget is in the province's total, not in the unit's
    prov = run(world["leader"], Definition(world["prov"], YEAR, "Q2", "org"), AUG)
    assert _yuan(prov.rows[0].values)["adjusted"] == 1_400_000 + 777_000
    assert "另一单位" in [r.label for r in prov.rows]


def test_bad_definitions_are_refused():
    for bad in ({"period": "M13"}, {"period": "Q5"}, {"rows": "x"}, {"unit": "亿元"}, {"year": 1900}):
        with pytest.raises(ValidationError):
            Definition(**{"org_id": 1, "year": YEAR, "period": "Q1", **bad})


def test_export_files_and_their_audit_entry(world):
    from hbbudget.models import AuditEntry
    from hbbudget.services.analysis import exports

    defn = Definition(world["unit"], YEAR, "Q2", "org")
    data, name, mime = exports.export(world["head"], defn, "xlsx", AUG)
    assert data[:2] == b"PK" and name == "示范大学2027年第二季度预算执行情况表（按单位）.xlsx" and "spreadsheet" in mime
    page, name, _ = exports.export(world["head"], defn, "print", AUG)
    assert name.endswith(".html") and "1,400,000.00" in page.decode()
    with pytest.raises(PermissionDenied):
        exports.export(world["outsider"], defn, "xlsx", AUG)
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.event_type == "report.export")).all()
    assert [(e.username, e.org_id) for e in entries] == [("head", world["unit"])] * 2
    assert [o["name"] for o in exports.report_orgs(world["head"])] == ["示范大学", "信息学院", "空白学院"]
