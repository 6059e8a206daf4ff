"""接口状态 (system admin): the bank accounts in scope with their last run, and the sync runs. No amounts shown.

立即同步 is bank/poll.py's `sync_now`."""

from __future__ import annotations

from sqlmodel import func, select

from hbbudget.clock import to_local_text
from hbbudget.db import session_scope
from hbbudget.models import BankAccount, Org, SyncRun
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, page

PERMISSION = "admin.settings"  # 三员分立: interfaces are the system admin's; the page shows no business amounts
TRIGGERS = {"schedule": "定时", "manual": "手动", "file": "文件"}


def accounts(ctx: UserContext) -> list[dict]:
    """The accounts in the admin's scope with their last run."""
    where = scope.org_condition(ctx, PERMISSION, BankAccount.org_id)
    with session_scope() as session:
        rows = session.exec(select(BankAccount, Org.name).join(Org, Org.id == BankAccount.org_id).where(where)
                            .order_by(BankAccount.id)).all()
        last = {}
        if rows:
            ids = [a.id for a, _ in rows]
            latest = select(func.max(SyncRun.id)).where(SyncRun.account_id.in_(ids)).group_by(SyncRun.account_id)
            last = {r.account_id: r for r in session.exec(select(SyncRun).where(SyncRun.id.in_(latest))).all()}
    out = []
    for a, org_name in rows:
        run = last.get(a.id)
        out.append({"id": a.id, "name": a.name, "number": a.number, "org_name": org_name, "format": a.api_format,
                    "active": a.active, "last_run": to_local_text(run.started_at, seconds=True) if run else "",
                    "last_result": run.result if run else "从未同步"})
    return out


def runs(ctx: UserContext, account_id: object = 0, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """Sync runs, newest first: account, start, end, result, new rows, duplicates, pending rows promoted to
    booked, reconciles, error, trigger."""
    offset, limit = page(offset, limit)
    query = (select(SyncRun, BankAccount).join(BankAccount, BankAccount.id == SyncRun.account_id)
             .where(scope.org_condition(ctx, PERMISSION, BankAccount.org_id)))
    if account_id not in (0, "0", "", None):
        query = query.where(SyncRun.account_id == int_id(account_id, "账户"))
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(SyncRun.id.desc()).offset(offset).limit(limit)).all()
    return [{"id": r.id, "account": f"{a.name}（{a.number}）", "started_at": to_local_text(r.started_at, seconds=True),
             "finished_at": to_local_text(r.finished_at, seconds=True), "result": r.result, "new_rows": r.new_rows,
             "duplicates": r.duplicates, "promoted": r.promoted, "error": r.error,
             "trigger": TRIGGERS.get(r.trigger, r.trigger),
             "reconciles": {True: "平衡", False: "不平衡", None: "—"}[r.reconciles]} for r, a in rows], total
