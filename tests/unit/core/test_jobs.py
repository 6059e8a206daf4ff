"""The job lease (one runner among several backend processes) and the scheduler lifespan task."""

import asyncio
import threading
from datetime import timedelta

from sqlalchemy import update

from hbbudget import jobs
from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import JobLease
from hbbudget.services.core import lease


def _expire(name: str) -> None:
    with session_scope() as session:
        session.execute(update(JobLease).where(JobLease.name == name).values(expires_at=now() - timedelta(seconds=1)))


def test_lease_is_held_by_one_holder_until_it_expires(db):
    assert lease.acquire("jobs", "a", 60)
    assert lease.acquire("jobs", "a", 60)  # renewal
    assert not lease.acquire("jobs", "b", 60)
    _expire("jobs")
    assert lease.acquire("jobs", "b", 60)
    assert not lease.acquire("jobs", "a", 60)
    lease.release("jobs", "b")
    assert lease.acquire("jobs", "a", 60)


def test_racing_holders_get_one_lease(db):
    results: dict[str, bool] = {}
    start = threading.Barrier(6)

    def take(holder: str) -> None:
        start.wait()
        results[holder] = lease.acquire("race", holder, 60)

    threads = [threading.Thread(target=take, args=(f"h{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results.values()) == 1
    with session_scope() as session:
        assert session.get(JobLease, "race").holder == next(h for h, ok in results.items() if ok)


async def test_exclusive_jobs_run_only_in_the_lease_holder(db):
    runs: list[int] = []
    job = jobs.exclusive(lambda: runs.append(1))
    await asyncio.to_thread(lease.acquire, jobs.LEASE, "another-process", 60)
    await job()
    assert runs == []
    await asyncio.to_thread(_expire, jobs.LEASE)
    await job()
    assert runs == [1]


async def test_scheduler_lifespan_takes_the_lease_and_frees_it(db, monkeypatch):
    monkeypatch.setenv("HBB_SCHEDULER", "1")
    async with jobs.scheduler_lifespan():
        for _ in range(50):
            await asyncio.sleep(0.1)
            row = await asyncio.to_thread(_lease_row)
            if row:
                break
        assert row and row.holder == jobs.holder() and row.expires_at > now()
    row = await asyncio.to_thread(_lease_row)
    assert row.expires_at < now()  # released on shutdown


async def test_scheduler_can_be_turned_off(db, monkeypatch):
    monkeypatch.setenv("HBB_SCHEDULER", "0")
    async with jobs.scheduler_lifespan():
        await asyncio.sleep(0.3)
    assert await asyncio.to_thread(_lease_row) is None


def test_the_daily_audit_job_is_scheduled():
    scheduler = jobs.build_scheduler()
    job = next(j for j in scheduler.get_jobs() if j.id == "audit-chain")
    assert str(job.trigger) == "cron[hour='2', minute='30']"


def _lease_row() -> JobLease | None:
    with session_scope() as session:
        return session.get(JobLease, jobs.LEASE)


def test_old_sync_runs_are_purged_but_each_accounts_last_run_stays(db):
    import json
    from datetime import timedelta

    from sqlmodel import select

    from hbbudget.clock import now
    from hbbudget.models import AuditEntry, BankAccount, SyncRun
    from hbbudget.services.core import orgs
    from hbbudget.services.execution.bank import poll

    with session_scope() as session:
        org = orgs.create(session, "U1", "单位", "高校")
        busy = BankAccount(org_id=org.id, number="A1", name="基本户")
        quiet = BankAccount(org_id=org.id, number="A2", name="专户")
        session.add_all([busy, quiet])
        session.flush()
        for account, age, label in ((busy, 200, "old-1"), (busy, 199, "old-2"), (busy, 20, "recent"),
                                    (busy, 1, "last"), (quiet, 200, "quiet-last")):
            session.add(SyncRun(account_id=account.id, started_at=now() - timedelta(days=age), error=label))
    assert poll.purge_runs(keep_days=5) == 2  # below 30 counts as 30: the 20-day-old run stays
    with session_scope() as session:
        assert sorted(r.error for r in session.exec(select(SyncRun)).all()) == ["last", "quiet-last", "recent"]
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "bank.purge_runs")).one()
        assert json.loads(entry.after) == {"deleted": 2}
    assert poll.purge_runs(keep_days=30) == 0  # nothing more is old enough


def test_the_nightly_sync_run_purge_is_scheduled():
    scheduler = jobs.build_scheduler()
    job = next(j for j in scheduler.get_jobs() if j.id == "sync-run-purge")
    assert str(job.trigger) == "cron[hour='3', minute='10']"
