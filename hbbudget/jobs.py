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

from hbbudget.clock import now
from hbbudget.services.analysis import saved as report_snapshots
from hbbudget.services.approvals import oa
from hbbudget.services.core import lease
from hbbudget.services.execution import alerts as exec_alerts
from hbbudget.services.execution.bank import poll
from hbbudget.services.integrations import evidence, fincloud, fincloud_import, invoices
from hbbudget.services.operations import backup, tickets
from hbbudget.services.security import alerts
from hbbudget.settings import get_settings

log = logging.getLogger("hbbudget.jobs")
LEASE = "scheduler"


def lease_ttl() -> int:
    """Seconds a holder keeps the lease without renewing (HBB_LEASE_TTL, default 180); renewed every third of it."""
    return get_settings().lease_ttl_seconds


_TOKEN = uuid.uuid4().hex[:8]


def holder() -> str:
    """This process's name on the lease (the pid is read now: forked workers must not share a holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


async def is_leader(who: str | None = None) -> bool:
    try:
        return await asyncio.to_thread(lease.acquire, LEASE, who or holder(), lease_ttl())
    except Exception:  # database briefly unavailable: skip this round
        log.exception("lease check failed")
        return False


def exclusive(job: Callable[[], object], who: str | None = None) -> Callable[[], Awaitable[None]]:
    """Wrap a blocking job: run it in a thread, only in the process holding the lease."""

    async def run() -> None:
        if not await is_leader(who):
            return
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("job %s failed", getattr(job, "__name__", job))

    run.__name__ = getattr(job, "__name__", "job")
    return run


# Live updates (issue 4): async hooks run after a job changed execution data; the web layer registers one
# (state/exec_feed.py bumps the shared feed the open dashboards are linked to). No reflex import here.
ON_EXECUTION_CHANGE: list[Callable[[], Awaitable[None]]] = []


async def notify_execution_change() -> None:
    for hook in list(ON_EXECUTION_CHANGE):
        try:
            await hook()
        except Exception:
            log.exception("live update hook failed")


def leader_job(job: Callable[[], object], changed: Callable[[object], bool],
               who: str | None = None) -> Callable[[], Awaitable[None]]:
    """Like `exclusive`, and tells the open pages when `changed(result)` says the data moved."""

    async def run() -> None:
        if not await is_leader(who):
            return
        try:
            result = await asyncio.to_thread(job)
        except Exception:
            log.exception("job %s failed", getattr(job, "__name__", job))
            return
        if changed(result):
            await notify_execution_change()

    run.__name__ = getattr(job, "__name__", "job")
    return run


def build_scheduler(who: str | None = None, bank_factory: poll.ClientFactory | None = None) -> AsyncIOScheduler:
    """`who` names the lease holder (default: this process); tests run two schedulers in one process."""
    settings = get_settings()
    scheduler = AsyncIOScheduler(timezone="Asia/Shanghai",
                                 job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    scheduler.add_job(is_leader, "interval", seconds=max(1, settings.lease_ttl_seconds // 3), id="lease", next_run_time=now(), args=[who])
    scheduler.add_job(exclusive(alerts.daily_audit_check, who), "cron", hour=2, minute=30, id="audit-chain")
    scheduler.add_job(leader_job(lambda: poll.poll_all(bank_factory), lambda r: r.changed, who), "interval",
                      seconds=settings.bank_poll_seconds, id="bank-poll", next_run_time=now())
    scheduler.add_job(leader_job(lambda: exec_alerts.evaluate(trigger="nightly"),
                                 lambda c: bool(c["opened"] or c["resolved"]), who),
                      "cron", hour=1, minute=30, id="exec-alerts")
    scheduler.add_job(exclusive(poll.purge_runs, who), "cron", hour=3, minute=10, id="sync-run-purge")
    scheduler.add_job(leader_job(invoices.recheck, lambda c: bool(c["flagged"]), who), "cron", hour=4, minute=0,
                      id="invoice-recheck")
    scheduler.add_job(exclusive(fincloud.export_current_year, who), "interval",
                      seconds=settings.fincloud_export_seconds, id="fincloud-export")
    scheduler.add_job(exclusive(evidence.anchor_all, who), "cron", hour=2, minute=45, id="evidence-anchor")
    scheduler.add_job(exclusive(fincloud_import.fetch_current_year, who), "interval",
                      seconds=settings.fincloud_export_seconds, id="fincloud-indicators")
    scheduler.add_job(exclusive(oa.poll_all, who), "interval", seconds=settings.oa_poll_seconds, id="oa-poll")
    scheduler.add_job(exclusive(oa.purge_seen, who), "cron", hour=3, minute=20, id="oa-nonce-purge")
    # month-end and quarter-end report snapshots (issue 14), after the night's alert evaluation
    scheduler.add_job(exclusive(report_snapshots.produce, who), "cron", day=1, hour=1, minute=45, id="report-snapshots")
    scheduler.add_job(exclusive(backup.nightly, who), "cron", hour=1, minute=0, id="backup")
    scheduler.add_job(exclusive(tickets.alert_overdue, who), "cron", minute=5, id="ticket-overdue")
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
