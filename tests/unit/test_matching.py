"""Matching payments to budget lines (automatic and by hand) and the per-line ledger."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BankAccount, BankTransaction, Budget, Expenditure, Project
from hbbudget.services import auth, ledger, matching
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.factories import PASSWORD, approved_budget, bank_tx, make_tree, make_user

YEAR = 2027


def _budget(org_id: int, lines: list[tuple[int | None, str, int]]) -> tuple[int, list[int]]:
    return approved_budget(org_id, lines, YEAR)


@pytest.fixture
def world(db):
    tree = make_tree()
    with session_scope() as session:
        p1 = Project(code="DEMO-P001", name="实验室设备购置", org_id=tree["unit"], category="3", start_year=YEAR,
                     end_year=YEAR, status="执行中")
        p2 = Project(code="DEMO-P002", name="两条明细的项目", org_id=tree["unit"], category="3", start_year=YEAR,
                     end_year=YEAR, status="执行中")
        other = Project(code="OTHER-P9", name="另一单位项目", org_id=tree["other"], category="3", start_year=YEAR,
                        end_year=YEAR, status="执行中")
        session.add_all([p1, p2, other])
        session.flush()
        acct = BankAccount(org_id=tree["unit"], number="A1", name="基本户")
        session.add(acct)
        session.flush()
        ids = {"p1": p1.id, "p2": p2.id, "other": other.id, "account": acct.id}
    budget_id, lines = _budget(tree["unit"], [(ids["p1"], "31002", 1_200_000), (ids["p2"], "30201", 600_000),
                                              (ids["p2"], "30202", 600_000)])
    _budget(tree["other"], [(ids["other"], "31002", 100_000)])
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("outsider", "accountant", tree["other"])
    return {**tree, **ids, "budget": budget_id, "lines": lines}


def _tx(world, ref: str, amount: int, remittance: str = "", booked=date(YEAR, 3, 5)) -> int:
    return bank_tx(world["account"], world["unit"], ref, amount, remittance=remittance, booking_date=booked)


def _auto(ids: list[int]) -> int:
    with session_scope() as session:
        return matching.auto_match(session, ids)


def _status(tx_id: int) -> str:
    with session_scope() as session:
        return session.get(BankTransaction, tx_id).match_status


def test_project_code_in_remittance_charges_the_only_line(world):
    a = _tx(world, "T1", -50_000, "DEMO-P001 设备采购款")
    b = _tx(world, "T2", -20_000, "DEMO-P002 办公用品")  # two lines: needs a person
    c = _tx(world, "T3", -10_000, "OTHER-P9 不属于本单位")  # another org's project: never matched
    d = _tx(world, "T4", -10_000, "差旅费报销")
    assert _auto([a, b, c, d]) == 1
    assert [_status(i) for i in (a, b, c, d)] == ["已匹配", "待匹配", "待匹配", "待匹配"]
    with session_scope() as session:
        [spent] = session.exec(select(Expenditure)).all()
    assert (spent.budget_line_id, spent.amount, spent.matched_by) == (world["lines"][0], 50_000, "自动:项目编码 DEMO-P001")


def test_manual_split_across_lines_and_partial(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    t = _tx(world, "T1", -30_000, "办公用品")
    assert matching.match(ctx, t, [(world["lines"][1], "100.00")])["status"] == "部分匹配"
    assert matching.match(ctx, t, [(world["lines"][2], "200.00")])["status"] == "已匹配"
    with pytest.raises(ValidationError, match="不能匹配"):
        matching.match(ctx, t, [(world["lines"][2], "1.00")])
    with session_scope() as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.event_type == "execution.match")).all()) == 2


def test_split_beyond_the_payment_or_bad_amount_changes_nothing(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    t = _tx(world, "T1", -30_000)
    for splits, message in [([(world["lines"][1], "200.00"), (world["lines"][2], "100.01")], "超过交易金额"),
                            ([(world["lines"][1], "-5")], "金额"), ([(world["lines"][1], "abc")], "金额"), ([], "拆分")]:
        with pytest.raises(ValidationError, match=message):
            matching.match(ctx, t, splits)
    assert _status(t) == "待匹配"
    with session_scope() as session:
        assert session.exec(select(Expenditure)).all() == []


def test_out_of_scope_user_cannot_match_or_see_the_queue(world):
    _, outsider = auth.login("outsider", PASSWORD)
    t = _tx(world, "T1", -30_000)
    with pytest.raises(PermissionDenied):
        matching.match(outsider, t, [(world["lines"][0], "1.00")])
    rows, total = matching.unmatched(outsider)
    assert total == 0 and rows == []
    _, ctx = auth.login("kuaiji", PASSWORD)
    rows, total = matching.unmatched(ctx)
    assert total == 1 and rows[0]["amount"] == "¥300.00"


def test_ledger_tracks_spent_frozen_available_and_plan(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    t = _tx(world, "T1", -1_300_000, "DEMO-P001")  # more than the 12,000.00 line
    _auto([t])
    matching.record_manual(ctx, world["lines"][1], "100.00", date(YEAR, 1, 10), "现金支付", kind="manual")
    matching.record_manual(ctx, world["lines"][1], "50.00", date(YEAR, 3, 1), "合同已签", kind="frozen")
    with session_scope() as session:
        rows = {r["line_id"]: r for r in ledger.line_ledger(session, session.get(Budget, world["budget"]),
                                                           date(YEAR, 3, 20))}
    first, second = rows[world["lines"][0]], rows[world["lines"][1]]
    assert (first["spent"], first["available"], first["over_available"]) == (1_300_000, -100_000, True)
    assert first["over_plan"] and first["month_spent"] == 1_300_000 and first["month_plan"] == 100_000
    assert (second["spent"], second["frozen"], second["available"]) == (10_000, 5_000, 585_000)
    assert not second["over_available"] and not second["over_plan"]
