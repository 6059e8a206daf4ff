"""Ingest: idempotent, transactional, reversals cancel originals, pending entries promoted."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.integrations.bank.camt import parse_camt
from hbbudget.integrations.bank.records import Entry, Statement
from hbbudget.models import AuditEntry, BankAccount, BankTransaction
from hbbudget.services import ingest
from hbbudget.services.errors import ValidationError
from tests.factories import make_tree

NUMBER = "130101000000001"


@pytest.fixture
def account(db) -> int:
    tree = make_tree()
    with session_scope() as session:
        acct = BankAccount(org_id=tree["unit"], number=NUMBER, name="示范大学基本户")
        session.add(acct)
        session.flush()
        return acct.id


def entry(ref: str, amount: str, **kw) -> Entry:
    return Entry(ref=ref, amount=Decimal(amount), currency=kw.pop("currency", "CNY"),
                 booking_date=kw.pop("booking_date", date(2027, 3, 1)), **kw)


def statement(*entries: Entry, number: str = NUMBER, opening=None, closing=None) -> Statement:
    return Statement(account=number, currency="CNY", entries=list(entries), opening=opening, closing=closing)


def run(account_id: int, *statements: Statement) -> ingest.IngestResult:
    with session_scope() as session:
        return ingest.ingest(session, session.get(BankAccount, account_id), list(statements), "test")


def rows() -> list[BankTransaction]:
    with session_scope() as session:
        return session.exec(select(BankTransaction).order_by(BankTransaction.id)).all()


def test_new_rows_in_fen_with_sign_and_match_status(account):
    result = run(account, statement(entry("A1", "-1234.56", counterparty="石家庄华北办公用品有限公司",
                                          remittance="DEMO-P001 办公用品"), entry("A2", "50000.00")))
    assert result.new == 2 and result.duplicates == 0
    a1, a2 = rows()
    assert (a1.amount, a1.match_status, a1.counterparty) == (-123456, "待匹配", "石家庄华北办公用品有限公司")
    assert (a2.amount, a2.match_status) == (5000000, "无需匹配")  # money in is not spending


def test_re_polling_the_same_period_adds_nothing(account):
    s = statement(entry("A1", "-10.00"), entry("A2", "-20.00"))
    run(account, s)
    again = run(account, s, statement(entry("A2", "-20.00"), entry("A3", "-30.00")))
    assert (again.new, again.duplicates) == (1, 3)
    assert [r.bank_ref for r in rows()] == ["A1", "A2", "A3"]


def test_duplicates_inside_one_batch_are_kept_once(account):
    result = run(account, statement(entry("A1", "-10.00")), statement(entry("A1", "-10.00")))
    assert (result.new, result.duplicates) == (1, 1) and len(rows()) == 1


def test_a_crash_midway_rolls_back_and_the_retry_loses_nothing(account):
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            ingest.ingest(session, session.get(BankAccount, account), [statement(entry("A1", "-10.00"))])
            raise RuntimeError("process killed between batches")
    assert rows() == []
    assert run(account, statement(entry("A1", "-10.00"))).new == 1 and len(rows()) == 1


def test_reversal_by_link_cancels_its_original(account):
    run(account, statement(entry("A1", "-99.00", counterparty="甲"), entry("A2", "-99.00", counterparty="甲")))
    result = run(account, statement(entry("R1", "99.00", reversal=True, counterparty="甲", reversal_of="A2")))
    assert result.reversals == 1
    a1, a2, r1 = rows()
    assert not a1.cancelled and a2.cancelled and r1.cancelled and r1.reverses_id == a2.id
    assert a2.match_status == "已冲销"


def test_reversal_without_link_matches_amount_and_counterparty(account):
    run(account, statement(entry("A1", "-99.00", counterparty="甲"), entry("A2", "-99.00", counterparty="乙")))
    run(account, statement(entry("R1", "99.00", reversal=True, counterparty="乙")))
    a1, a2, r1 = rows()
    assert not a1.cancelled and a2.cancelled and r1.reverses_id == a2.id


def test_pending_entry_is_promoted_when_it_books(account):
    run(account, statement(entry("P1", "-5.00", status="PDNG", booking_date=None)))
    assert rows()[0].match_status == "未入账"
    result = run(account, statement(entry("P1", "-5.00", status="BOOK")))
    assert (result.new, result.promoted) == (0, 1)
    assert (rows()[0].status, rows()[0].match_status, rows()[0].booking_date) == ("BOOK", "待匹配", date(2027, 3, 1))


@pytest.mark.parametrize("bad,message", [
    (statement(entry("A1", "-1.00"), number="999"), "与账户"),
    (statement(entry("A1", "-1.005")), "最小单位"),
    (statement(entry("A1", "-1.00", currency="USD")), "币种"),
])
def test_bad_statements_are_refused_and_change_nothing(account, bad, message):
    run(account, statement(entry("OK", "-1.00")))
    with session_scope() as session:
        audits = session.exec(select(func.count()).select_from(AuditEntry)).one()
    with pytest.raises(ValidationError, match=message):
        run(account, statement(entry("B1", "-2.00")), bad)
    assert [r.bank_ref for r in rows()] == ["OK"]
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == audits


def test_reconcile_flag_is_reported(account):
    ok = run(account, statement(entry("A1", "-1.00"), opening=Decimal("10"), closing=Decimal("9")))
    bad = run(account, statement(entry("A2", "-1.00"), opening=Decimal("10"), closing=Decimal("8")))
    assert ok.reconciles is True and bad.reconciles is False


def test_a_real_camt_sample_ingests_once(shared_dir, db):
    data = open(f"{shared_dir}/samples/camt/postfinance_camt053v04_testfile-2016_dvbern.xml", "rb").read()
    [stmt] = parse_camt(data)
    tree = make_tree()
    with session_scope() as session:
        acct = BankAccount(org_id=tree["unit"], number=stmt.account, name="PostFinance", currency=stmt.currency)
        session.add(acct)
        session.flush()
        acct_id = acct.id
    first = run(acct_id, stmt)
    assert first.new == len(stmt.entries) == 13 and first.reconciles is True
    assert run(acct_id, stmt).new == 0
    assert sum(r.amount for r in rows()) == int((stmt.closing - stmt.opening) * 100)
