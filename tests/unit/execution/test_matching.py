"""Matching payments to budget lines (automatic and by hand) and the per-line ledger."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BankAccount, BankTransaction, Budget, Expenditure, Project
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import line_ledger as ledger
from hbbudget.services.execution import matching
from hbbudget.services.security import auth
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
    _, [other_line] = _budget(tree["other"], [(ids["other"], "31002", 100_000)])
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("outsider", "accountant", tree["other"])
    return {**tree, **ids, "budget": budget_id, "lines": lines, "other_line": other_line}


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
        rows = {r["line_id"]: r for r in ledger._line_ledger(session, session.get(Budget, world["budget"]),
                                                           date(YEAR, 3, 20))}
    first, second = rows[world["lines"][0]], rows[world["lines"][1]]
    assert (first["spent"], first["available"], first["over_available"]) == (1_300_000, -100_000, True)
    assert first["over_plan"] and first["month_spent"] == 1_300_000 and first["month_plan"] == 100_000
    assert (second["spent"], second["frozen"], second["available"]) == (10_000, 5_000, 585_000)
    assert not second["over_available"] and not second["over_plan"]


def _ledger(world, today: date = date(YEAR, 3, 20)) -> dict[int, dict]:
    with session_scope() as session:
        return {r["line_id"]: r for r in ledger._line_ledger(session, session.get(Budget, world["budget"]), today)}


def _events(event_type: str) -> list[AuditEntry]:
    with session_scope() as session:
        return session.exec(select(AuditEntry).where(AuditEntry.event_type == event_type)).all()


def test_a_freeze_is_released_by_the_payment_that_settles_it_and_by_hand(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    line = world["lines"][1]  # 6,000.00
    contract_a = matching.record_manual(ctx, line, "1000.00", date(YEAR, 3, 1), "合同A", kind="frozen")
    contract_b = matching.record_manual(ctx, line, "500.00", date(YEAR, 3, 2), "合同B", kind="frozen")
    row = _ledger(world)[line]
    assert (row["spent"], row["frozen"], row["available"]) == (0, 150_000, 450_000)
    assert [(f["id"], f["open_fen"]) for f in matching.open_freezes(ctx)] == [(contract_b, 50_000), (contract_a, 100_000)]
    # 800.00 paid on contract A: spent +800, frozen −800, available unchanged (not reduced twice)
    first = _tx(world, "T1", -80_000)
    assert matching.match(ctx, first, [(line, "800.00", contract_a)])["released"] == 80_000
    row = _ledger(world)[line]
    assert (row["spent"], row["frozen"], row["available"]) == (80_000, 70_000, 450_000)
    # 300.00 more than the 200.00 left of A: only what is still frozen is released
    second = _tx(world, "T2", -30_000)
    assert matching.match(ctx, second, [(line, "300.00", str(contract_a))])["released"] == 20_000
    row = _ledger(world)[line]
    assert (row["spent"], row["frozen"], row["available"]) == (110_000, 50_000, 440_000)
    assert [f["id"] for f in matching.open_freezes(ctx)] == [contract_b]
    with pytest.raises(ValidationError, match="已全部解冻"):
        matching.match(ctx, _tx(world, "T3", -100), [(line, "1.00", contract_a)])
    # 解冻 by hand: the contract was cancelled
    assert matching.release_freeze(ctx, contract_b, "合同取消") == {"id": contract_b, "released": 50_000}
    row = _ledger(world)[line]
    assert (row["frozen"], row["available"]) == (0, 490_000) and matching.open_freezes(ctx) == []
    with pytest.raises(ValidationError, match="已全部解冻"):
        matching.release_freeze(ctx, contract_b)
    [entry] = _events("execution.release")
    assert (entry.object_id, entry.username) == (str(contract_b), "kuaiji") and "50000" in entry.after
    assert f'"released": [[{contract_a}, 80000]]' in _events("execution.match")[0].after


def test_freeze_release_is_scoped_and_checked(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    _, outsider = auth.login("outsider", PASSWORD)
    freeze = matching.record_manual(ctx, world["lines"][1], "100.00", date(YEAR, 3, 1), "合同", kind="frozen")
    other = matching.record_manual(ctx, world["lines"][2], "100.00", date(YEAR, 3, 1), "别的明细", kind="frozen")
    spent = matching.record_manual(ctx, world["lines"][1], "10.00", date(YEAR, 3, 1), "现金")
    with pytest.raises(PermissionDenied):
        matching.release_freeze(outsider, freeze)
    assert matching.open_freezes(outsider) == []  # not in the other unit's list either
    with pytest.raises(NotFound):
        matching.release_freeze(ctx, spent)  # not a freeze
    with pytest.raises(PermissionDenied):  # another unit's row: refused (and audited) before its kind is looked at
        matching.release_freeze(outsider, spent)
    with pytest.raises(ValidationError, match="冻结记录无效"):
        matching.release_freeze(ctx, "abc")
    t = _tx(world, "T1", -20_000)
    with pytest.raises(ValidationError, match="不在该预算明细上"):
        matching.match(ctx, t, [(world["lines"][1], "100.00", other)])
    assert _status(t) == "待匹配" and _events("execution.release") == []
    with session_scope() as session:
        assert session.exec(select(Expenditure).where(Expenditure.freeze_id.is_not(None))).all() == []


def test_a_reversed_payment_reopens_the_freeze_it_consumed(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    freeze = matching.record_manual(ctx, world["lines"][1], "100.00", date(YEAR, 3, 1), "合同", kind="frozen")
    t = _tx(world, "T1", -10_000)
    matching.match(ctx, t, [(world["lines"][1], "100.00", freeze)])
    assert _ledger(world)[world["lines"][1]]["frozen"] == 0
    with session_scope() as session:  # what ingest does on a reversal: the payment's rows go
        for row in session.exec(select(Expenditure).where(Expenditure.transaction_id == t)).all():
            session.delete(row)
    row = _ledger(world)[world["lines"][1]]
    assert (row["spent"], row["frozen"]) == (0, 10_000)


def test_a_payment_goes_only_to_lines_of_its_org_or_below(world):
    make_user("citykj", "accountant", world["city"])  # may match in both units
    _, ctx = auth.login("citykj", PASSWORD)
    _, [dept_line] = _budget(world["dept"], [(None, "30201", 100_000)])
    t = _tx(world, "T1", -30_000)
    with pytest.raises(ValidationError, match="本单位或下级单位"):
        matching.match(ctx, t, [(world["other_line"], "100.00")])
    with pytest.raises(ValidationError, match="本单位或下级单位"):  # not even as one part of a split
        matching.match(ctx, t, [(dept_line, "100.00"), (world["other_line"], "100.00")])
    assert _status(t) == "待匹配"
    assert matching.match(ctx, t, [(dept_line, "300.00")])["status"] == "已匹配"  # the college is below the unit


def test_client_ids_amounts_and_dates_are_checked(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    t = _tx(world, "T1", -30_000)
    for tx_id, splits, message in [("abc", [(world["lines"][1], "1.00")], "交易无效"),
                                   (t, [("x", "1.00")], "预算明细无效"), (t, [(-1, "1.00")], "预算明细无效"),
                                   (t, [(world["lines"][1], "0")], "须大于零"),
                                   (t, [(world["lines"][1], "1.00", "y")], "冻结记录无效"),
                                   (t, [(world["lines"][1],)], "格式无效")]:
        with pytest.raises(ValidationError, match=message):
            matching.match(ctx, tx_id, splits)
    for line, amount, day, message in [(world["lines"][1], "0", date(YEAR, 3, 1), "金额须大于零"),
                                       (world["lines"][1], "0.00", date(YEAR, 3, 1), "金额须大于零"),
                                       (world["lines"][1], "5", date(YEAR + 1, 1, 1), f"预算年度 {YEAR}"),
                                       (world["lines"][1], "5", date(YEAR - 1, 12, 31), f"预算年度 {YEAR}"),
                                       ("1.5", "5", date(YEAR, 3, 1), "预算明细无效")]:
        with pytest.raises(ValidationError, match=message):
            matching.record_manual(ctx, line, amount, day, "x")
    late = _tx(world, "T2", -100, booked=date(YEAR + 1, 1, 2))  # booked in another year than the budget's
    with pytest.raises(ValidationError, match="不在该预算的年度"):
        matching.match(ctx, late, [(world["lines"][1], "1.00")])
    with session_scope() as session:
        assert session.exec(select(Expenditure)).all() == []


def test_ledger_counts_the_fiscal_year_and_flags_this_month_beyond_its_plan(world):
    _, ctx = auth.login("kuaiji", PASSWORD)
    line = world["lines"][0]  # 12,000.00, plan 1,000.00 a month
    matching.record_manual(ctx, line, "1500.00", date(YEAR, 3, 3), "本月")  # March: 1,500 > 1,000
    matching.record_manual(ctx, line, "200.00", date(YEAR, 5, 1), "以后的月份")  # not this month, not to date
    with session_scope() as session:  # outside the fiscal year (as the dashboard, not counted)
        session.add(Expenditure(budget_line_id=line, org_id=world["unit"], amount=999_999,
                                spent_on=date(YEAR + 1, 1, 5), kind="manual"))
    row = _ledger(world)[line]
    assert (row["spent"], row["month_spent"], row["month_plan"]) == (170_000, 150_000, 100_000)
    assert row["over_month_plan"] and not row["over_plan"]  # to date 1,500 of a 3,000 plan
    april = _ledger(world, date(YEAR, 4, 10))[line]
    assert april["month_spent"] == 0 and not april["over_month_plan"] and not april["over_plan"]


def test_line_choices_by_year_keyword_and_scope(world):
    from hbbudget.services.execution import ledger as exec_ledger

    _, ctx = auth.login("kuaiji", PASSWORD)
    _, outsider = auth.login("outsider", PASSWORD)
    from hbbudget.pages import display

    labels = [display.line_choice(c) for c in exec_ledger.line_choices(ctx, year=YEAR)]
    assert [c["id"] for c in exec_ledger.line_choices(ctx, year=str(YEAR))] == world["lines"]
    assert all("另一单位项目" not in label for label in labels) and "两条明细的项目" in labels[1]
    assert [c["id"] for c in exec_ledger.line_choices(ctx, "DEMO-P002", year=YEAR)] == world["lines"][1:]
    assert [c["id"] for c in exec_ledger.line_choices(ctx, "3020", year=YEAR)] == world["lines"][1:]  # econ prefix
    assert [c["id"] for c in exec_ledger.line_choices(ctx, "", 1, YEAR)] == world["lines"][:1]
    assert exec_ledger.line_choices(ctx, year=YEAR - 1) == []
    assert [c["id"] for c in exec_ledger.line_choices(outsider, year=YEAR)] == [world["other_line"]]
    for bad in ("明年", 1999, True):
        with pytest.raises(ValidationError, match="年度"):
            exec_ledger.line_choices(ctx, year=bad)
    with pytest.raises(ValidationError, match="关键字"):
        exec_ledger.line_choices(ctx, "长" * 41, year=YEAR)
