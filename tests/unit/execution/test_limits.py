"""Spending limits (issue 11 §4): a manual expenditure, a freeze or a matched bank payment beyond the line's
available amount or its 用款计划 to date is refused or allowed with a warning, per org."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import BankAccount, ExecAlert, Expenditure, Org, Project
from hbbudget.pages import display
from hbbudget.services.errors import ValidationError
from hbbudget.services.execution import ledger, matching
from tests.budget_world import add_user
from tests.factories import approved_budget, bank_tx, make_tree

YEAR = 2027


@pytest.fixture
def w(db):
    tree = make_tree()
    with session_scope() as session:
        p = Project(code="P-LIM", name="限额项目", org_id=tree["unit"], category="3", start_year=YEAR, end_year=YEAR,
                    status="执行中")
        acct = BankAccount(org_id=tree["unit"], number="A1", name="基本户")
        session.add_all([p, acct])
        session.flush()
        ids = {"project": p.id, "account": acct.id}
    _, [line] = approved_budget(tree["unit"], [(ids["project"], "30201", 120_000)], YEAR)  # 1,200 元, 100 a month
    return {**tree, **ids, "line": line, "kuaiji": add_user("kuaiji", "accountant", tree["unit"])}


def _set(org_id: int, **modes) -> None:
    with session_scope() as session:
        org = session.get(Org, org_id)
        for k, v in modes.items():
            setattr(org, k, v)
        session.add(org)


def _rows() -> list[tuple[str, int]]:
    with session_scope() as session:
        return [(e.kind, e.amount) for e in session.exec(select(Expenditure).order_by(Expenditure.id)).all()]


def _alerts() -> list[ExecAlert]:
    with session_scope() as session:
        return session.exec(select(ExecAlert).where(ExecAlert.kind == "over_limit")).all()


def test_manual_expenditure_and_freeze_beyond_the_available_amount_are_refused_by_default(w):
    ctx = w["kuaiji"]
    matching.record_manual(ctx, w["line"], "1000", date(YEAR, 12, 1), "已付", kind="manual")
    with pytest.raises(ValidationError, match="可用指标 ¥200.00"):
        matching.record_manual(ctx, w["line"], "200.01", date(YEAR, 12, 2), "", kind="manual")
    with pytest.raises(ValidationError, match="冻结超出"):
        matching.record_manual(ctx, w["line"], "200.01", date(YEAR, 12, 2), "", kind="frozen")
    matching.record_manual(ctx, w["line"], "200", date(YEAR, 12, 2), "合同", kind="frozen")
    with pytest.raises(ValidationError, match="可用指标 ¥0.00"):
        matching.record_manual(ctx, w["line"], "0.01", date(YEAR, 12, 3), "", kind="manual")
    assert _rows() == [("manual", 100_000), ("frozen", 20_000)] and _alerts() == []


def test_a_payment_beyond_the_plan_to_date_is_refused_though_the_line_has_money(w):
    ctx = w["kuaiji"]
    with pytest.raises(ValidationError, match="截至 3 月用款计划 ¥300.00"):
        matching.record_manual(ctx, w["line"], "300.01", date(YEAR, 3, 31), "", kind="manual")
    matching.record_manual(ctx, w["line"], "300.01", date(YEAR, 4, 1), "", kind="manual")  # April's plan
    matching.record_manual(ctx, w["line"], "899.99", date(YEAR, 3, 31), "合同", kind="frozen")  # no plan for freezes
    assert _rows() == [("manual", 30_001), ("frozen", 89_999)]


def test_an_org_may_allow_manual_spending_beyond_with_a_warning(w):
    _set(w["unit"], limit_manual="alert")
    spent = matching.record_manual(w["kuaiji"], w["line"], "1500", date(YEAR, 12, 1), "急需", kind="manual")
    [alert] = _alerts()
    assert (alert.subject_type, alert.subject_id, alert.status) == ("expenditure", spent, "未处理")
    assert "超出 ¥300.00" in alert.detail and alert.project_id == w["project"]


def test_bank_payments_beyond_are_matched_with_a_warning_by_default_or_refused_by_setting(w):
    ctx = w["kuaiji"]
    t1 = bank_tx(w["account"], w["unit"], "T1", -150_000, booking_date=date(YEAR, 12, 5))
    assert matching.match(ctx, t1, [(w["line"], "1500")])["status"] == "已匹配"  # already paid: not refused
    assert [(a.subject_type, a.subject_id) for a in _alerts()] == [("transaction", t1)]
    _set(w["unit"], limit_bank="refuse")
    t2 = bank_tx(w["account"], w["unit"], "T2", -100, booking_date=date(YEAR, 12, 6))
    with pytest.raises(ValidationError, match="银行付款超出"):
        matching.match(ctx, t2, [(w["line"], "1")])
    t3 = bank_tx(w["account"], w["unit"], "T3", -100, remittance="P-LIM 办公用品", booking_date=date(YEAR, 12, 6))
    with session_scope() as session:
        assert matching.auto_match(session, [t3]) == 0  # refused: it waits for a person in the 待匹配 queue
    assert _rows() == [("bank", 150_000)]


def test_a_payment_settling_its_freeze_is_not_counted_twice(w):
    ctx = w["kuaiji"]
    freeze = matching.record_manual(ctx, w["line"], "1200", date(YEAR, 12, 1), "合同", kind="frozen")
    t = bank_tx(w["account"], w["unit"], "T1", -120_000, booking_date=date(YEAR, 12, 9))
    _set(w["unit"], limit_bank="refuse")
    assert matching.match(ctx, t, [(w["line"], "1200", freeze)])["status"] == "已匹配"
    assert _alerts() == []


def test_the_line_picker_shows_what_is_left(w):
    matching.record_manual(w["kuaiji"], w["line"], "100", date(YEAR, 1, 2), "", kind="manual")
    matching.record_manual(w["kuaiji"], w["line"], "50", date(YEAR, 1, 3), "", kind="frozen")
    [choice] = ledger.line_choices(w["kuaiji"], year=YEAR)
    assert (choice["amount"], choice["available"]) == (120_000, 105_000)
    label = display.line_choice(choice)
    assert "预算 ¥1,200.00" in label and "可用 ¥1,050.00" in label
