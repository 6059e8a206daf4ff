"""Ingest: idempotent, transactional, reversals cancel originals, pending entries promoted."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.integrations.bank.camt import parse_camt
from hbbudget.integrations.bank.records import Entry, Statement
from hbbudget.models import AuditEntry, BankAccount, BankTransaction
from hbbudget.services.errors import ValidationError
from hbbudget.services.execution.bank import ingest
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


def test_a_pending_entry_books_with_the_booked_amount(account):
    run(account, statement(entry("P2", "-5.00", status="PDNG", booking_date=None)))
    run(account, statement(entry("P2", "-5.20", status="BOOK")))  # e.g. the final FX amount
    assert [(r.amount, r.status) for r in rows()] == [(-520, "BOOK")]


def test_a_pending_reversal_that_books_cancels_its_original(account):
    run(account, statement(entry("A1", "-99.00", counterparty="甲")))
    pending = run(account, statement(entry("R1", "99.00", status="PDNG", booking_date=None, reversal=True,
                                           counterparty="甲", reversal_of="A1")))
    assert pending.reversals == 0 and not rows()[0].cancelled  # pending money has not come back yet
    result = run(account, statement(entry("R1", "99.00", reversal=True, counterparty="甲", reversal_of="A1")))
    assert (result.new, result.promoted, result.reversals) == (0, 1, 1)
    a1, r1 = rows()
    assert result.promoted_ids == (r1.id,) and result.booked_ids == (r1.id,) and result.new_ids == ()
    assert a1.cancelled and r1.cancelled and r1.reverses_id == a1.id
    assert (a1.match_status, r1.match_status, r1.status) == ("已冲销", "已冲销", "BOOK")


def test_a_pending_reversal_without_link_books_in_the_same_batch_as_new_rows(account):
    run(account, statement(entry("A1", "-40.00", counterparty="乙"),
                           entry("R1", "40.00", status="PDNG", reversal=True, counterparty="乙")))
    result = run(account, statement(entry("R1", "40.00", reversal=True, counterparty="乙"), entry("A2", "-7.00")))
    a1, r1, a2 = rows()
    assert (result.new, result.promoted, result.reversals) == (1, 1, 1)
    assert result.booked_ids == (a2.id, r1.id) and a1.cancelled and r1.reverses_id == a1.id
    assert a2.match_status == "待匹配" and not a2.cancelled


def test_booked_wins_over_pending_in_one_batch(account):
    result = run(account, statement(entry("P1", "-5.00", status="PDNG", booking_date=None)),
                 statement(entry("P1", "-5.00", status="BOOK")))
    assert (result.new, result.duplicates) == (1, 1)
    assert (rows()[0].status, rows()[0].match_status) == ("BOOK", "待匹配")


def test_repeats_a_parser_skipped_count_as_duplicates(account):
    s = Statement(account=NUMBER, currency="CNY", entries=[entry("A1", "-1.00")], duplicates=2)
    assert (run(account, s).new, run(account, s).duplicates) == (1, 3)


def test_the_ingest_audit_entry_names_the_acting_user(account):
    from hbbudget.services.security.permissions import UserContext

    who = UserContext(user_id=7, username="xitong", full_name="系统管理员", org_id=1, org_name="", role_names=())
    with session_scope() as session:
        ingest.ingest(session, session.get(BankAccount, account), [statement(entry("A1", "-1.00"))], "立即同步", who)
    with session_scope() as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.event_type == "bank.ingest")).one()
    assert (audit.user_id, audit.username, audit.detail) == (7, "xitong", "立即同步")


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


def _camt(message: str, entry_xml: str) -> bytes:
    root, tag = {"camt.052": ("BkToCstmrAcctRpt", "Rpt"), "camt.053": ("BkToCstmrStmt", "Stmt")}[message]
    return (f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}.001.08"><{root}><GrpHdr><MsgId>M</MsgId>'
            f"</GrpHdr><{tag}><Id>S</Id><Acct><Id><Othr><Id>{NUMBER}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
            f"{entry_xml}</{tag}></{root}></Document>").encode()


def test_a_pending_camt_entry_without_bank_ref_is_promoted_not_stored_twice(account):
    body = ("<Amt Ccy=\"CNY\">88.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>{sts}{booked}<NtryDtls><TxDtls><RltdPties>"
            "<Cdtr><Nm>河北省机关印刷厂</Nm></Cdtr></RltdPties><RmtInf><Ustrd>印刷费</Ustrd></RmtInf></TxDtls></NtryDtls>")
    pending = _camt("camt.052", "<Ntry>" + body.format(sts="<Sts>PDNG</Sts>", booked="") + "</Ntry>")
    booked = _camt("camt.053", "<Ntry>" + body.format(sts="<Sts><Cd>BOOK</Cd></Sts>",
                                                      booked="<BookgDt><DtTm>2027-03-31T17:30:00Z</DtTm></BookgDt>")
                   + "</Ntry>")
    assert run(account, *parse_camt(pending)).new == 1
    result = run(account, *parse_camt(booked))
    assert (result.new, result.promoted) == (0, 1)
    [tx] = rows()
    assert (tx.status, tx.match_status, tx.amount, tx.booking_date) == ("BOOK", "待匹配", -8800, date(2027, 4, 1))
    assert tx.bank_ref.startswith("H")


def _charged(account_id: int, ref: str, line_id: int, org_id: int) -> None:
    from hbbudget.models import Expenditure

    with session_scope() as session:
        tx = session.exec(select(BankTransaction).where(BankTransaction.bank_ref == ref)).one()
        session.add(Expenditure(budget_line_id=line_id, transaction_id=tx.id, org_id=org_id, amount=-tx.amount,
                                spent_on=tx.booking_date, kind="bank"))
        tx.match_status = "已匹配"
        session.add(tx)


def _spent_by_line() -> dict[int, list[tuple[int, date]]]:
    from hbbudget.models import Expenditure

    with session_scope() as session:
        out: dict[int, list] = {}
        for e in session.exec(select(Expenditure).order_by(Expenditure.id)).all():
            out.setdefault(e.budget_line_id, []).append((e.amount, e.spent_on))
        return out


def test_a_reversal_in_january_leaves_last_years_spending_and_books_in_its_own_period(account):
    from tests.factories import approved_budget

    with session_scope() as session:
        org_id = session.get(BankAccount, account).org_id
    _, [old_line] = approved_budget(org_id, [(None, "30201", 1_000_000)], 2026)
    _, [new_line] = approved_budget(org_id, [(None, "30201", 1_000_000)], 2027)
    run(account, statement(entry("D1", "-99.00", counterparty="甲", booking_date=date(2026, 12, 28))))
    _charged(account, "D1", old_line, org_id)
    run(account, statement(entry("R1", "99.00", reversal=True, counterparty="甲", reversal_of="D1",
                                 booking_date=date(2027, 1, 6))))
    d1, r1 = rows()
    assert d1.cancelled and r1.reverses_id == d1.id and r1.match_status == "已冲销"
    assert _spent_by_line() == {old_line: [(9900, date(2026, 12, 28))],  # 2026 stays as it was closed
                                new_line: [(-9900, date(2027, 1, 6))]}  # the money back counts in January


def test_a_cross_year_reversal_without_a_line_this_year_waits_for_a_person(account):
    from tests.factories import approved_budget

    with session_scope() as session:
        org_id = session.get(BankAccount, account).org_id
    _, [old_line] = approved_budget(org_id, [(None, "30201", 1_000_000)], 2026)
    run(account, statement(entry("D1", "-99.00", counterparty="甲", booking_date=date(2026, 12, 28))))
    _charged(account, "D1", old_line, org_id)
    run(account, statement(entry("R1", "99.00", reversal=True, counterparty="甲", reversal_of="D1",
                                 booking_date=date(2027, 1, 6))))
    assert rows()[1].match_status == "待处理"
    assert _spent_by_line() == {old_line: [(9900, date(2026, 12, 28))]}
