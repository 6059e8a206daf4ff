"""Polling every active bank account (the scheduled job) and 立即同步 of the 接口状态 page (system admin).

The gateway is HBB_BANK_URL (the simulator in demo mode); failures are retried with exponential backoff by
sync.sync_with_retry, every attempt is a recorded SyncRun. After rows were booked (new ones, also those
stored by an attempt that failed later, or pending ones that booked) or a statement that does not reconcile,
the execution warnings are evaluated at once and the round counts as a change for the live push. The
page's queries are in bank/status.py. Runs older than HBB_SYNC_RUN_KEEP_DAYS are deleted nightly (`purge_runs`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import func, select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.integrations.bank.client import BankClient
from hbbudget.models import BankAccount, Org, SyncRun
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.execution import alerts
from hbbudget.services.execution.bank import ingest, sync
from hbbudget.services.execution.bank.status import PERMISSION
from hbbudget.services.execution.bank.sync import ClientFactory
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id
from hbbudget.settings import get_settings

log = logging.getLogger("hbbudget.bank_poll")


def client_factory(base_url: str | None = None, timeout: float | None = None) -> ClientFactory:
    settings = get_settings()
    url, wait = base_url or settings.bank_url, timeout or settings.bank_timeout_seconds
    return lambda account: BankClient(url, account.number, timeout=wait)


@dataclass
class PollReport:
    accounts: int = 0
    new_rows: int = 0  # stored, by any attempt (a failed one may have stored some pages)
    failed: int = 0
    unreconciled: int = 0
    alerts: dict | None = None
    promoted: int = 0  # pending rows that booked

    @property
    def booked(self) -> int:
        """Rows booked by this round: new ones and pending ones that booked."""
        return self.new_rows + self.promoted

    @property
    def changed(self) -> bool:
        """Worth telling the open dashboards: rows were booked or alerts came or went."""
        return bool(self.booked or (self.alerts and (self.alerts["opened"] or self.alerts["resolved"])))

    def add(self, totals: ingest.IngestResult) -> None:
        self.new_rows += totals.new
        self.promoted += totals.promoted


def _after_runs(report: PollReport) -> PollReport:
    if report.booked or report.unreconciled:
        report.alerts = alerts.evaluate(trigger="ingest")
    return report


def poll_all(factory: ClientFactory | None = None, *, attempts: int = 3, base_delay: float = 2.0,
             sleep: Callable[[float], None] = time.sleep) -> PollReport:
    """One round over the active accounts (the job); a failing account does not stop the others. The round
    writes one `bank.ingest` audit entry when it stored something (the accounts' counts in `after`)."""
    factory = factory or client_factory()
    report = PollReport()
    stored: dict[str, dict] = {}
    for account_id in sync.active_accounts():
        report.accounts += 1
        totals = ingest.IngestResult()
        try:
            run = sync.sync_with_retry(account_id, factory, attempts=attempts, base_delay=base_delay,
                                       sleep=sleep, totals=totals, record=False)
        except Exception:
            log.exception("bank poll of account %s failed", account_id)
            run = None
        report.add(totals)  # what was stored counts even when a later page failed
        if totals.new or totals.promoted:
            stored[str(account_id)] = {"new": totals.new, "promoted": totals.promoted}
        if run is None:
            report.failed += 1
            continue
        report.unreconciled += run.reconciles is False
    if stored:  # one audit entry per round that stored something, none for an empty poll
        with session_scope() as session:
            audit.record(session, "bank.ingest", object_type="bank_poll",
                         detail=f"定时同步：{len(stored)} 个账户，新增 {report.new_rows} 笔，入账 {report.promoted} 笔",
                         after={"new": report.new_rows, "promoted": report.promoted, "accounts": stored})
    return _after_runs(report)


def purge_runs(keep_days: int | None = None) -> int:
    """The nightly job: delete sync runs older than `keep_days` (default HBB_SYNC_RUN_KEEP_DAYS, at least 30),
    keeping each account's last run so 接口状态 still shows it. Returns how many were deleted."""
    days = max(30, int(keep_days if keep_days is not None else get_settings().sync_run_keep_days))
    cutoff = now() - timedelta(days=days)
    with session_scope() as session:
        last = select(func.max(SyncRun.id)).group_by(SyncRun.account_id)
        gone = session.execute(delete(SyncRun).where(SyncRun.started_at < cutoff, SyncRun.id.not_in(last)))
        count = gone.rowcount or 0
        if count:
            audit.record(session, "bank.purge_runs", detail=f"删除 {days} 天前的同步记录", after={"deleted": count})
    return count


def _account(session, ctx: UserContext, account_id: object) -> BankAccount:
    account = session.get(BankAccount, int_id(account_id, "账户"))
    org = session.get(Org, account.org_id) if account else None
    if account is None:
        raise NotFound("账户不存在")
    scope.require(ctx, PERMISSION, org)
    return account


def sync_now(ctx: UserContext, account_id: object, factory: ClientFactory | None = None) -> dict:
    """立即同步 one account (one attempt, recorded as a manual run and as a `bank.sync_now` audit entry naming
    the user); returns {result, new_rows, promoted, error, changed}."""
    with session_scope() as session:
        account = _account(session, ctx, account_id)
        if not account.active:
            raise ValidationError("该账户已停用")
    totals = ingest.IngestResult()
    run = sync.sync_with_retry(account.id, factory or client_factory(), attempts=1, trigger="manual",
                               actor=ctx, totals=totals)
    report = PollReport(accounts=1)
    report.add(totals)
    error = ""
    if run is None:
        with session_scope() as session:
            run = session.exec(select(SyncRun).where(SyncRun.account_id == account.id)
                               .order_by(SyncRun.id.desc())).first()
        error = run.error if run else ""
    else:
        report.unreconciled = int(run.reconciles is False)
    _after_runs(report)  # rows a failed run stored before its error count too
    return {"result": "失败" if error or run is None else run.result, "new_rows": totals.new,
            "promoted": totals.promoted, "error": error, "changed": report.changed}
