"""Polling the simulator over real HTTP: cursor, idempotence, faults with backoff, two schedulers."""

import threading
from decimal import Decimal

import pytest
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.integrations.bank.client import BankClient
from hbbudget.integrations.bank.records import BankError, Entry, Statement
from hbbudget.models import BankAccount, BankTransaction, SyncRun
from hbbudget.services.execution.bank import ingest, sync
from hbbudget.sim.bank import PAGE_SIZE, BankSim, create_app
from hbbudget.sim.server import ThreadedServer
from tests.factories import make_tree

NUMBER = "130101000000001"


@pytest.fixture
def setup(db):
    tree = make_tree()
    sim = BankSim([{"number": NUMBER, "name": "示范大学基本户"}], seed=3)
    with session_scope() as session:
        acct = BankAccount(org_id=tree["unit"], number=NUMBER, name="示范大学基本户")
        session.add(acct)
        session.flush()
        account_id = acct.id
    with ThreadedServer(create_app(sim)) as url:
        yield sim, account_id, lambda a: BankClient(url, a.number, timeout=2)


def _count() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(BankTransaction)).one()


def _set_format(account_id: int, fmt: str) -> None:
    with session_scope() as session:
        acct = session.get(BankAccount, account_id)
        acct.api_format = fmt
        session.add(acct)


def test_json_polls_resume_from_the_cursor(setup):
    sim, account_id, factory = setup
    for _ in range(PAGE_SIZE + 5):
        sim.book_random(NUMBER)
    run = sync.sync_account(account_id, factory)
    assert (run.result, run.new_rows, run.promoted) == ("成功", PAGE_SIZE + 5, 0) and _count() == PAGE_SIZE + 5
    sim.book(NUMBER, Decimal("12.34"), "D", "会议费")
    again = sync.sync_account(account_id, factory)
    assert again.new_rows == 1 and _count() == PAGE_SIZE + 6
    assert again.duplicates == 5  # the last page is read again from its own cursor: nothing is added twice


def test_camt_polls_from_the_last_booking_date(setup):
    sim, account_id, factory = setup
    _set_format(account_id, "camt")
    for _ in range(7):
        sim.book_random(NUMBER)
    first = sync.sync_account(account_id, factory)
    assert first.new_rows == 7 and first.reconciles is True
    assert sync.sync_account(account_id, factory).new_rows == 0 and _count() == 7


def test_a_run_counts_the_pending_rows_it_promoted(setup):
    """A row stored as pending (e.g. from an intraday report) that a poll returns booked is counted in that
    run's `promoted`, not in its new rows; runs that promote nothing say 0."""
    sim, account_id, factory = setup
    record = sim.book(NUMBER, Decimal("80.00"), "D", "会议费")
    sim.book_random(NUMBER)
    pending = Entry(ref=record.serial_no, amount=Decimal("-80.00"), currency="CNY", status="PDNG",
                    remittance=record.purpose, counterparty=record.counterparty)
    with session_scope() as session:
        ingest.ingest(session, session.get(BankAccount, account_id),
                      [Statement(account=NUMBER, currency="CNY", entries=[pending])], "日间报告")
    run = sync.sync_account(account_id, factory)
    assert (run.result, run.new_rows, run.promoted) == ("成功", 1, 1) and _count() == 2
    again = sync.sync_account(account_id, factory)
    assert (again.new_rows, again.duplicates, again.promoted) == (0, 2, 0)
    with session_scope() as session:
        assert [r.promoted for r in session.exec(select(SyncRun).order_by(SyncRun.id)).all()] == [1, 0]


@pytest.mark.parametrize("kind", ["http500", "truncate", "malformed"])
def test_a_fault_is_recorded_and_retried_with_backoff(setup, kind):
    sim, account_id, factory = setup
    sim.book_random(NUMBER)
    sim.faults.inject(kind)
    waits = []
    run = sync.sync_with_retry(account_id, factory, attempts=3, base_delay=0.5, sleep=waits.append)
    assert run is not None and run.result == "成功" and waits == [0.5]
    with session_scope() as session:
        runs = session.exec(select(SyncRun).order_by(SyncRun.id)).all()
    assert [r.result for r in runs] == ["失败", "成功"] and runs[0].error
    assert _count() == 1


def test_duplicated_records_are_ingested_once(setup):
    sim, account_id, factory = setup
    for _ in range(PAGE_SIZE + 3):
        sim.book_random(NUMBER)
    sim.faults.inject("duplicate", 2)  # page 1 repeats one of its records, page 2 re-serves page 1's last
    run = sync.sync_account(account_id, factory)
    assert _count() == PAGE_SIZE + 3 and (run.result, run.new_rows, run.duplicates) == ("成功", PAGE_SIZE + 3, 2)


def _refs() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(BankTransaction.bank_ref).order_by(BankTransaction.id)))


def _cursor(account_id: int) -> str | None:
    with session_scope() as session:
        return session.get(BankAccount, account_id).cursor


@pytest.mark.parametrize("kind", ["http500", "truncate", "timeout"])
def test_a_sync_that_fails_after_the_first_page_resumes_without_loss_or_double(setup, kind):
    """A crash between batches: page 1 is stored with its cursor, page 2 fails; the next sync starts from the
    stored cursor and completes. Real HTTP to the simulator, no mocks."""
    sim, account_id, factory = setup
    total = 2 * PAGE_SIZE + 20
    for _ in range(total):
        sim.book_random(NUMBER)
    serials = [r.serial_no for r in sim.records(NUMBER)]
    sim.faults.timeout_seconds = 3  # beyond the client's 2 s
    sim.faults.inject(kind, after=1)  # the first page is served, the second fails
    with pytest.raises(BankError):
        sync.sync_account(account_id, factory)
    assert _refs() == serials[:PAGE_SIZE]  # page 1 stored, nothing of page 2
    assert _cursor(account_id) == f"c{PAGE_SIZE}"  # the cursor moved with the rows it covers, no further
    run = sync.sync_account(account_id, factory)
    assert (run.result, run.new_rows, run.duplicates) == ("成功", total - PAGE_SIZE, 0)
    assert _refs() == serials  # every record once, in the bank's order
    assert _cursor(account_id) == f"c{2 * PAGE_SIZE}"  # the last page's own cursor: it is read again next time
    with session_scope() as session:
        runs = session.exec(select(SyncRun).order_by(SyncRun.id)).all()
    assert [(r.result, r.new_rows) for r in runs] == [("失败", PAGE_SIZE), ("成功", total - PAGE_SIZE)]
    assert runs[0].error
    again = sync.sync_account(account_id, factory)  # a re-poll adds nothing
    assert (again.new_rows, again.duplicates, _count()) == (0, 20, total)


def test_retries_collect_what_every_attempt_stored(setup):
    sim, account_id, factory = setup
    for _ in range(PAGE_SIZE + 5):
        sim.book_random(NUMBER)
    sim.faults.inject("http500", after=1)
    totals = ingest.IngestResult()
    run = sync.sync_with_retry(account_id, factory, attempts=2, base_delay=0, sleep=lambda s: None,
                               totals=totals)
    assert run.result == "成功" and run.new_rows == 5  # the successful attempt stored the rest
    assert totals.new == PAGE_SIZE + 5 == _count() and len(totals.new_ids) == PAGE_SIZE + 5


def test_two_pollers_at_once_ingest_nothing_twice(setup):
    sim, account_id, factory = setup
    for _ in range(3 * PAGE_SIZE):
        sim.book_random(NUMBER)
    errors = []

    def poll():
        try:
            sync.sync_account(account_id, factory)
        except Exception as exc:  # a unique-key clash may refuse one page: it must not duplicate anything
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sync.sync_account(account_id, factory)  # whatever a refused page left, the next poll completes
    assert _count() == 3 * PAGE_SIZE
