"""Polling one bank account: fetch from the stored cursor, ingest and auto-match each page in its own
transaction together with the cursor, and record the run. A crash between pages loses nothing (the cursor
only moves with the rows it covers) and adds nothing twice (ingest is idempotent). Rows booked now, new or
promoted from pending, are matched alike. A run that stored something writes one `bank.ingest` entry when it
closes (not one per page; none for an empty poll), unless its caller writes it (`poll.poll_all`: one entry per
round). A run asked for by a user (立即同步) names that user in its audit entries and ends with a
`bank.sync_now` entry."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from sqlmodel import select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.integrations.bank.client import BankClient
from hbbudget.integrations.bank.records import BankError, Statement
from hbbudget.models import BankAccount, SyncRun
from hbbudget.services.core import audit, data_version
from hbbudget.services.errors import ServiceError
from hbbudget.services.execution import matching
from hbbudget.services.execution.bank import ingest
from hbbudget.services.security.permissions import UserContext

ClientFactory = Callable[[BankAccount], BankClient]


def _store(account_id: int, statements: list[Statement], run_id: int, *, cursor: str | None = None,
           last_date: date | None = None, actor: UserContext | None = None) -> ingest.IngestResult:
    with session_scope() as session:
        account = session.get(BankAccount, account_id)
        result = ingest.ingest(session, account, statements, f"同步 #{run_id}", actor=actor, record=False)
        matching.auto_match(session, result.booked_ids)
        if result.new or result.promoted or result.reversals:
            data_version.bump(session)  # the dashboard's aggregates are stale now
        if cursor is not None:
            account.cursor = cursor
        if last_date is not None:
            account.last_booking_date = max(last_date, account.last_booking_date or last_date)
        session.add(account)
        return result


def sync_account(account_id: int, client_factory: ClientFactory, trigger: str = "schedule", *,
                 actor: UserContext | None = None, totals: ingest.IngestResult | None = None,
                 record: bool = True) -> SyncRun:
    """One poll of one account; the run row says what happened. Raises BankError after recording it.
    `totals` (optional) collects what was stored, also by a run that failed after some pages. `record=False`:
    the caller writes the `bank.ingest` entry for what was stored."""
    with session_scope() as session:
        account = session.get(BankAccount, account_id)
        run = SyncRun(account_id=account_id, trigger=trigger)
        session.add(run)
        session.flush()
        run_id, api_format, cursor, since = run.id, account.api_format, account.cursor or None, account.last_booking_date
        number, org_id = account.number, account.org_id
    part = ingest.IngestResult()
    error, unexpected = "", None
    try:
        with client_factory(BankAccount(id=account_id, number=number, org_id=0, name="")) as client:
            if api_format == "camt":
                statements = client.fetch_camt(since)
                dates = [e.booking_date for s in statements for e in s.entries if e.booking_date]
                _add(part, _store(account_id, statements, run_id, last_date=max(dates) if dates else None,
                                  actor=actor))
            else:
                used = cursor
                for statement, next_cursor in client.fetch_json(cursor):
                    _add(part, _store(account_id, [statement], run_id, cursor=next_cursor or used or "", actor=actor))
                    used = next_cursor
    except (BankError, ServiceError) as exc:  # e.g. a statement for another account: recorded, not swallowed
        error = str(exc)
    except Exception as exc:  # e.g. the database: the run is closed as failed, then the error goes on
        unexpected, error = exc, f"入库失败（{type(exc).__name__}）"
    if totals is not None:
        _add(totals, part)
    with session_scope() as session:
        run = session.get(SyncRun, run_id)
        run.finished_at, run.result = now(), "失败" if error else "成功"
        run.new_rows, run.duplicates, run.promoted = part.new, part.duplicates, part.promoted
        run.reconciles = part.reconciles
        run.error = error[:500]
        session.add(run)
        if record and (part.new or part.promoted):
            audit.record(session, "bank.ingest", actor=actor, object_type="bank_account", object_id=account_id,
                         org_id=org_id, detail=f"同步 #{run_id}", after=part.as_dict())
        if actor is not None:
            audit.record(session, "bank.sync_now", actor=actor, success=not error, object_type="bank_account",
                         object_id=account_id, org_id=org_id, detail=f"同步 #{run_id}：{run.result}"
                         + (f"（{error[:200]}）" if error else ""),
                         after={**part.as_dict(), "run": run_id, "result": run.result})
    if unexpected is not None:
        raise unexpected
    if error:
        raise BankError(error)
    return run


def _add(total: ingest.IngestResult, part: ingest.IngestResult) -> None:
    total.new += part.new
    total.duplicates += part.duplicates
    total.promoted += part.promoted
    total.reversals += part.reversals
    total.new_ids += part.new_ids
    total.promoted_ids += part.promoted_ids
    if part.reconciles is False or total.reconciles is None:
        total.reconciles = part.reconciles if part.reconciles is not None else total.reconciles


def sync_with_retry(account_id: int, client_factory: ClientFactory, attempts: int = 3, base_delay: float = 2.0,
                    trigger: str = "schedule", sleep: Callable[[float], None] = time.sleep, *,
                    actor: UserContext | None = None, totals: ingest.IngestResult | None = None,
                    record: bool = True) -> SyncRun | None:
    """Retry a failing poll with exponential backoff (2 s, 4 s, …); each attempt is its own recorded run.
    `totals` collects what every attempt stored (a failed one may have stored some pages)."""
    for attempt in range(attempts):
        try:
            return sync_account(account_id, client_factory, trigger, actor=actor, totals=totals, record=record)
        except BankError:
            if attempt == attempts - 1:
                return None
            sleep(base_delay * 2 ** attempt)
    return None


def active_accounts() -> list[int]:
    with session_scope() as session:
        return list(session.exec(select(BankAccount.id).where(BankAccount.active == True)))  # noqa: E712
