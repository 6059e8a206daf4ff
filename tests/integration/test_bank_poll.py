"""Scheduled polling over real HTTP to the bank simulator: every active account, alerts after the ingest, the
live-update hook, the admin's 立即同步 and run list, and two schedulers (two lease holders) on one database
ingesting nothing twice."""

import asyncio
from decimal import Decimal

import pytest
from sqlmodel import func, select

from hbbudget import clock, jobs
from hbbudget.db import session_scope
from hbbudget.integrations.bank.client import BankClient
from hbbudget.models import AuditEntry, BankAccount, BankTransaction, Budget, BudgetLine, ExecAlert, Project, SyncRun
from hbbudget.services.core import lease
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.events import EVENT_NAMES
from hbbudget.services.execution import facts
from hbbudget.services.execution.bank import poll as bank_poll
from hbbudget.services.execution.bank import status
from hbbudget.sim.bank import BankSim, create_app
from hbbudget.sim.server import ThreadedServer
from tests.budget_world import add_user
from tests.factories import make_tree

UNI, HOSP = "130101000000001", "130102000000002"


@pytest.fixture
def world(db):
    facts.forget()
    tree = make_tree()
    year = clock.today().year
    with session_scope() as session:
        project = Project(code="P-ROOM", name="智慧教室改造", org_id=tree["dept"], category="3", start_year=year,
                          end_year=year, status="执行中")
        session.add(project)
        budget = Budget(org_id=tree["dept"], fiscal_year=year, round="二下", status="已批复")
        session.add(budget)
        session.flush()
        session.add(BudgetLine(budget_id=budget.id, project_id=project.id, econ_code="31007", func_code="2050205",
                               source="财政拨款", amount=600_000_00, **{f"m{i:02d}": 50_000_00 for i in range(1, 13)}))
        uni = BankAccount(org_id=tree["unit"], number=UNI, name="示范大学基本户")
        hosp = BankAccount(org_id=tree["other"], number=HOSP, name="示范医院基本户", api_format="camt")
        session.add_all([uni, hosp])
        session.flush()
        ids = {"uni": uni.id, "hosp": hosp.id}
    sim = BankSim([{"number": UNI, "name": "示范大学基本户"}, {"number": HOSP, "name": "示范医院基本户"}],
                  ["P-ROOM"], seed=11)
    with ThreadedServer(create_app(sim)) as url:
        yield {**tree, **ids, "sim": sim, "url": url,
               "sys": add_user("sys", "sys_admin", tree["prov"]), "sys_other": add_user("sys_o", "sys_admin", tree["other"]),
               "kuaiji": add_user("kuaiji", "accountant", tree["unit"])}


def _count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_poll_all_ingests_every_account_matches_and_raises_alerts(world):
    sim = world["sim"]
    sim.book(UNI, Decimal("650000.00"), "D", "P-ROOM 智慧教室设备")  # beyond the 60 万 line by 8.3 %
    for _ in range(3):
        sim.book_random(HOSP)
    report = bank_poll.poll_all(bank_poll.client_factory(world["url"], 5), sleep=lambda s: None)
    assert (report.accounts, report.new_rows, report.failed) == (2, 4, 0) and report.changed
    assert _count(BankTransaction) == 4 and _count(BankTransaction, BankTransaction.match_status == "已匹配") == 1
    assert report.alerts["opened"] >= 1 and _count(ExecAlert, ExecAlert.kind == "over_budget") == 1
    again = bank_poll.poll_all(bank_poll.client_factory(world["url"], 5), sleep=lambda s: None)
    assert again.new_rows == 0 and not again.changed and _count(BankTransaction) == 4
    # issue 11 item 26: one 银行流水入库 entry for the round over both accounts, none for the empty poll
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.event_type == "bank.ingest")).all()
    assert len(entries) == 1 and entries[0].username == "" and entries[0].object_type == "bank_poll"
    assert __import__("json").loads(entries[0].after)["new"] == 4 and "2 个账户" in entries[0].detail


def test_a_failing_gateway_is_retried_with_backoff_and_recorded(world):
    world["sim"].book_random(UNI)
    world["sim"].faults.inject("http500", 2)  # the first account's first two attempts fail
    waits = []
    report = bank_poll.poll_all(bank_poll.client_factory(world["url"], 5), base_delay=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0] and report.failed == 0 and report.new_rows == 1
    assert [r.result for r in _runs(world["uni"])] == ["失败", "失败", "成功"]


def _runs(account_id: int) -> list[SyncRun]:
    with session_scope() as session:
        return session.exec(select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id)).all()


def test_sync_now_and_run_list_for_the_system_admin_in_scope(world):
    world["sim"].book_random(UNI)
    factory = bank_poll.client_factory(world["url"], 5)
    with pytest.raises(PermissionDenied):
        bank_poll.sync_now(world["kuaiji"], world["uni"], factory)  # a business user: not an interface admin
    with pytest.raises(PermissionDenied):
        bank_poll.sync_now(world["sys_other"], world["uni"], factory)  # admin of another org
    result = bank_poll.sync_now(world["sys"], world["uni"], factory)
    assert result["result"] == "成功" and result["new_rows"] == 1 and result["changed"]
    rows, total = status.runs(world["sys"])
    assert total == 1 and rows[0]["trigger"] == "手动" and rows[0]["new_rows"] == 1 and "¥" not in str(rows)
    assert rows[0]["promoted"] == 0
    assert [a["last_result"] for a in status.accounts(world["sys"])] == ["成功", "从未同步"]
    assert [a["number"] for a in status.accounts(world["sys_other"])] == [HOSP]
    assert status.runs(world["sys_other"])[1] == 0
    world["sim"].faults.inject("http500")
    failed = bank_poll.sync_now(world["sys"], world["uni"], factory)
    assert failed["result"] == "失败" and "HTTP 500" in failed["error"]


def test_sync_now_is_audited_with_the_acting_user(world):
    world["sim"].book_random(UNI)
    factory = bank_poll.client_factory(world["url"], 5)
    assert bank_poll.sync_now(world["sys"], str(world["uni"]), factory)["new_rows"] == 1  # the page passes a str id
    world["sim"].faults.inject("http500")
    assert bank_poll.sync_now(world["sys"], world["uni"], factory)["result"] == "失败"
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.event_type.in_(["bank.sync_now", "bank.ingest"]))
                               .order_by(AuditEntry.id)).all()
    assert [(e.event_type, e.username, e.user_id, e.success) for e in entries] == [
        ("bank.ingest", "sys", world["sys"].user_id, True),  # the rows the user's sync wrote name the user
        ("bank.sync_now", "sys", world["sys"].user_id, True),
        ("bank.sync_now", "sys", world["sys"].user_id, False),
    ]
    done, failed = (__import__("json").loads(e.after) for e in entries[1:])
    assert (done["result"], done["new"], failed["result"]) == ("成功", 1, "失败") and "HTTP 500" in entries[2].detail
    assert done["promoted"] == 0
    assert entries[1].object_id == str(world["uni"]) and entries[1].org_id == world["unit"]
    assert EVENT_NAMES["bank.sync_now"] == "立即同步"


async def test_a_pending_payment_that_books_is_matched_alerted_and_pushed(world, monkeypatch):
    """A row stored as pending (e.g. from an intraday report) that the next poll returns booked goes the way
    of a new booked row: auto-matched, alerts evaluated, the open pages told."""
    from hbbudget.integrations.bank.records import Entry, Statement
    from hbbudget.services.execution.bank import ingest

    record = world["sim"].book(UNI, Decimal("650000.00"), "D", "P-ROOM 智慧教室设备")  # beyond the 60 万 line
    pending = Entry(ref=record.serial_no, amount=Decimal("-650000.00"), currency="CNY", status="PDNG",
                    remittance=record.purpose, counterparty=record.counterparty)
    with session_scope() as session:
        ingest.ingest(session, session.get(BankAccount, world["uni"]),
                      [Statement(account=UNI, currency="CNY", entries=[pending])], "日间报告")
    assert _count(BankTransaction, BankTransaction.match_status == "未入账") == 1
    pushed = []

    async def hook() -> None:
        pushed.append(1)

    monkeypatch.setattr(jobs, "ON_EXECUTION_CHANGE", [hook])
    poll = {j.id: j for j in jobs.build_scheduler("W", bank_poll.client_factory(world["url"], 5)).get_jobs()}
    try:
        await poll["bank-poll"].func()
    finally:
        await asyncio.to_thread(lease.release, jobs.LEASE, "W")
    assert pushed == [1] and _count(BankTransaction) == 1
    assert _count(BankTransaction, BankTransaction.status == "BOOK", BankTransaction.match_status == "已匹配") == 1
    assert _count(ExecAlert, ExecAlert.kind == "over_budget") == 1
    again = bank_poll.poll_all(bank_poll.client_factory(world["url"], 5), sleep=lambda s: None)
    assert (again.new_rows, again.promoted, again.changed) == (0, 0, False)
    assert [(r.new_rows, r.promoted) for r in _runs(world["uni"])] == [(0, 1), (0, 0)]  # the run that booked it
    rows, _ = status.runs(world["sys"], world["uni"])
    assert [r["promoted"] for r in rows] == [0, 1]  # newest first


def test_rows_stored_before_a_failure_still_raise_alerts(world):
    sim = world["sim"]
    sim.book(UNI, Decimal("650000.00"), "D", "P-ROOM 智慧教室设备")
    for _ in range(60):
        sim.book(UNI, Decimal("1.00"), "D", "会议费")
    sim.faults.inject("http500", count=2, after=1)  # page 1 of the university, then both attempts fail
    report = bank_poll.poll_all(bank_poll.client_factory(world["url"], 5), attempts=2, sleep=lambda s: None)
    assert report.failed == 1 and report.new_rows == 50 and report.changed
    assert report.alerts is not None and _count(ExecAlert, ExecAlert.kind == "over_budget") == 1


async def test_two_schedulers_on_one_database_ingest_nothing_twice(world, monkeypatch):
    monkeypatch.setenv("HBB_BANK_POLL_SECONDS", "1")
    sim = world["sim"]
    used = {"A": 0, "B": 0}

    def factory(name: str):
        def make(account: BankAccount) -> BankClient:
            used[name] += 1
            return BankClient(world["url"], account.number, timeout=5)
        return make

    for _ in range(60):
        sim.book_random(UNI)
    a, b = jobs.build_scheduler("A", factory("A")), jobs.build_scheduler("B", factory("B"))
    a.start()
    b.start()
    try:
        await _until(lambda: _count(BankTransaction) == 60 and len(_runs(world["uni"])) >= 3)
        leader, other = ("A", "B") if used["A"] else ("B", "A")
        assert used[other] == 0  # the other holder never polled
        for _ in range(25):
            sim.book_random(UNI)
        await asyncio.to_thread(lease.release, jobs.LEASE, leader)  # the leader goes away: the other takes over
        (a if leader == "A" else b).shutdown(wait=False)
        await _until(lambda: _count(BankTransaction) == 85 and used[other] > 0)
    finally:
        for s in (a, b):
            if s.running:
                s.shutdown(wait=False)
        await asyncio.to_thread(lease.release, jobs.LEASE, "A")
        await asyncio.to_thread(lease.release, jobs.LEASE, "B")
    with session_scope() as session:
        refs = session.exec(select(BankTransaction.bank_ref)).all()
        ingested = session.exec(select(AuditEntry.after).where(AuditEntry.event_type == "bank.ingest")).all()
    assert len(refs) == len(set(refs)) == 85
    assert sum(__import__("json").loads(x)["new"] for x in ingested) == 85  # each row stored by exactly one run


async def _until(check, limit: float = 60) -> None:
    """Wait for a condition the jobs bring about (bounded; no timing is asserted)."""
    for _ in range(int(limit * 10)):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def test_jobs_wiring_and_the_live_update_hook(world, monkeypatch):
    monkeypatch.setenv("HBB_BANK_POLL_SECONDS", "7")
    scheduler = jobs.build_scheduler("W", bank_poll.client_factory(world["url"], 5))
    by_id = {j.id: j for j in scheduler.get_jobs()}
    assert by_id["bank-poll"].trigger.interval.total_seconds() == 7
    assert str(by_id["exec-alerts"].trigger) == "cron[hour='1', minute='30']"
    pushed = []

    async def hook() -> None:
        pushed.append(1)

    monkeypatch.setattr(jobs, "ON_EXECUTION_CHANGE", [hook])
    poll = by_id["bank-poll"].func
    try:
        await poll()  # nothing booked: no push
        assert pushed == []
        world["sim"].book(UNI, Decimal("12.34"), "D", "会议费")
        await poll()
        assert pushed == [1] and _count(BankTransaction) == 1
        await asyncio.to_thread(lease.acquire, jobs.LEASE, "someone-else", 60)
        await asyncio.to_thread(lease.release, jobs.LEASE, "W")
        world["sim"].book(UNI, Decimal("1.00"), "D", "会议费")
        await asyncio.to_thread(lease.acquire, jobs.LEASE, "someone-else", 60)
        await poll()  # not the lease holder: does not poll
        assert _count(BankTransaction) == 1 and pushed == [1]
    finally:
        await asyncio.to_thread(lease.release, jobs.LEASE, "W")
        await asyncio.to_thread(lease.release, jobs.LEASE, "someone-else")
