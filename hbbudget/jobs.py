"""Scheduled jobs: an APScheduler AsyncIOScheduler started by a Reflex lifespan task (hbbudget.py).

Every backend process starts a scheduler, but each job first takes the `scheduler` lease row, so only one
process runs the jobs at a time. HBB_SCHEDULER=0 turns it all off (tests). No reflex import here."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from .clock import now
from .services import alerts, lease
from .settings import get_settings

log = logging.getLogger("hbbudget.jobs")
LEASE = "scheduler"
LEASE_TTL = 180  # seconds; renewed every RENEW_EVERY by the holder
RENEW_EVERY = 60
_TOKEN = uuid.uuid4().hex[:8]


def holder() -> str:
    """This process's name on the lease (the pid is read now: forked workers must not share a holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


async def is_leader() -> bool:
    try:
        return await asyncio.to_thread(lease.acquire, LEASE, holder(), LEASE_TTL)
    except Exception:  # database briefly unavailable: skip this round
        log.exception("lease check failed")
        return False


def exclusive(job: Callable[[], object]) -> Callable[[], Awaitable[None]]:
    """Wrap a blocking job: run it in a thread, only in the process holding the lease."""

    async def run() -> None:
        if not await is_leader():
            return
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("job %s failed", getattr(job, "__name__", job))

    run.__name__ = getattr(job, "__name__", "job")
    return run


def build_scheduler() -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="Asia/Shanghai",
                                 job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    scheduler.add_job(is_leader, "interval", seconds=RENEW_EVERY, id="lease", next_run_time=now())
    scheduler.add_job(exclusive(alerts.daily_audit_check), "cron", hour=2, minute=30, id="audit-chain")
    return scheduler


@asynccontextmanager
async def scheduler_lifespan():
    """The Reflex lifespan task: start the scheduler with the server, stop it (and free the lease) after."""
    if not get_settings().scheduler:
        yield
        return
    scheduler = build_scheduler()
    scheduler.start()
    log.info("scheduler started as %s", holder())
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        try:
            await asyncio.to_thread(lease.release, LEASE, holder())
        except Exception:
            log.exception("lease release failed")
