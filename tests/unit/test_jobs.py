"""The job lease (one runner among several backend processes) and the scheduler lifespan task."""

import asyncio
import threading
from datetime import timedelta

from sqlalchemy import update

from hbbudget import jobs
from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import JobLease
from hbbudget.services import lease


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
