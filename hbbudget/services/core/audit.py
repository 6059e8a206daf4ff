"""The audit log: append an entry in the caller's transaction; verify the hash chain.

`record` queues the entry on the session; a `before_commit` hook appends the queued entries to the chain just
before the transaction commits. On PostgreSQL appending takes the chain's lock (an advisory transaction lock that
every append waits for), so it is held only for the append and the commit, not for the rest of a service's work
wherever in it the service records. A rolled-back transaction appends nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from hbbudget import dialect
from hbbudget.clock import now, start_of_day, today
from hbbudget.models import AuditCheckpoint, AuditEntry
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext

_PENDING = "audit_pending"  # session.info key: the transaction's entries not yet appended
RETENTION_DAYS = 184  # 网络安全法: network logs kept at least six months


def _dump(value: Any) -> str:
    if value in (None, "", {}):
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    payload = {
        "id": entry.id,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "user_id": entry.user_id,
        "username": entry.username,
        "event_type": entry.event_type,
        "success": bool(entry.success),
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "org_id": entry.org_id,
        "detail": entry.detail,
        "before": entry.before,
        "after": entry.after,
        "client_addr": entry.client_addr,
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def record(
    session: Session,
    event_type: str,
    *,
    actor: UserContext | None = None,
    username: str = "",
    user_id: int | None = None,
    success: bool = True,
    object_type: str = "",
    object_id: Any = "",
    org_id: int | None = None,
    detail: str = "",
    before: Any = None,
    after: Any = None,
    client_addr: str = "",
) -> AuditEntry:
    """One entry for the chain, in the caller's transaction (appended when it commits; see the module's note)."""
    entry = AuditEntry(
        created_at=now(),
        user_id=actor.user_id if actor else user_id,
        username=(actor.username if actor else username)[:64],
        event_type=event_type,
        success=success,
        object_type=object_type,
        object_id=str(object_id)[:64],
        org_id=org_id,
        detail=detail[:1000],
        before=_dump(before),
        after=_dump(after),
        client_addr=(actor.client_addr if actor and not client_addr else client_addr)[:64],
    )
    session.flush()  # the caller's writes so far, as when the entry was inserted here (services rely on that order)
    within = session.get_nested_transaction() or session.get_transaction()  # a savepoint's rollback drops it
    session.info.setdefault(_PENDING, []).append((within, entry))
    return entry


@event.listens_for(OrmSession, "before_commit")
def _append(session: OrmSession) -> None:
    """Append the transaction's queued entries to the chain, in the order they were recorded."""
    pending = [entry for _, entry in session.info.pop(_PENDING, ())]
    if not pending:
        return
    dialect.lock_audit_chain(session)
    session.add_all(pending)
    # Insert first: on SQLite this takes the write lock, so the tail read below cannot go stale.
    session.flush()
    pending.sort(key=lambda e: e.id)
    prev = session.execute(select(AuditEntry.hash).where(AuditEntry.id < pending[0].id)
                           .order_by(AuditEntry.id.desc()).limit(1)).scalars().first()
    if prev is None:  # the first entry, or the first after a purge that emptied the table
        prev = session.execute(select(AuditCheckpoint.last_hash).where(AuditCheckpoint.kind == "purge")
                               .order_by(AuditCheckpoint.last_id.desc()).limit(1)).scalars().first()
    prev = prev or ""
    for entry in pending:
        entry.prev_hash, entry.hash = prev, entry_hash(prev, entry)
        prev = entry.hash
    session.flush()


@event.listens_for(OrmSession, "after_soft_rollback")
def _drop(session: OrmSession, rolled_back) -> None:
    """Forget the entries recorded in a transaction, or savepoint, that was rolled back (as their rows were)."""
    while rolled_back.parent is not None and not rolled_back.nested:  # a failed flush: its savepoint, or all
        rolled_back = rolled_back.parent

    def inside(tx) -> bool:
        while tx is not None:
            if tx is rolled_back:
                return True
            tx = tx.parent
        return False

    if session.info.get(_PENDING):
        session.info[_PENDING] = [(tx, e) for tx, e in session.info[_PENDING] if not inside(tx)]


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order from the last purge point; report the first entry whose link or hash
    does not hold, or a daily anchor that no longer matches (which reveals a cut-off tail)."""
    start = session.exec(select(AuditCheckpoint).where(AuditCheckpoint.kind == "purge")
                         .order_by(AuditCheckpoint.last_id.desc()).limit(1)).first()
    prev, last_id = (start.last_hash, start.last_id) if start else ("", 0)
    anchors = {a.last_id: a.last_hash for a in session.exec(
        select(AuditCheckpoint).where(AuditCheckpoint.kind == "anchor", AuditCheckpoint.last_id > last_id)).all()}
    checked = 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev:
                return VerifyResult(False, checked, entry.id, "与前一条记录的链接不符（前一条被修改或删除）")
            if entry.hash != entry_hash(prev, entry):
                return VerifyResult(False, checked, entry.id, "记录内容与其哈希不符（本条被修改）")
            if entry.id in anchors and anchors.pop(entry.id) != entry.hash:
                return VerifyResult(False, checked, entry.id, "与每日锚点记录的哈希不符（日志被截断后重写）")
            prev = entry.hash
            checked += 1
            last_id = entry.id
    if anchors:
        missing = min(anchors)
        return VerifyResult(False, checked, missing, f"锚点记录 id={missing} 已不存在（日志尾部被删除）")
    return VerifyResult(ok=True, checked=checked)


def anchor(session: Session) -> AuditCheckpoint | None:
    """Remember the current head of the chain (the daily job does this after a good check)."""
    head = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()
    if head is None:
        return None
    point = AuditCheckpoint(kind="anchor", last_id=head.id, last_hash=head.hash)
    session.add(point)
    return point


def purge(before: date, operator: str) -> int:
    """Delete entries older than `before` (a 北京时间 date); refused within the retention period.

    The chain restarts from a `purge` checkpoint holding the hash of the last deleted entry."""
    from hbbudget.db import session_scope

    earliest = today() - timedelta(days=RETENTION_DAYS)
    if not isinstance(before, date) or before > earliest:
        raise ValidationError(f"审计日志至少保留 {RETENTION_DAYS} 天：只能清理 {earliest.isoformat()} 之前的记录")
    cutoff = start_of_day(before)
    with session_scope() as session:
        if not verify(session).ok:
            raise ValidationError("审计日志哈希链已断裂，请先调查，不能清理")
        last = session.exec(select(AuditEntry).where(AuditEntry.created_at < cutoff)
                            .order_by(AuditEntry.id.desc()).limit(1)).first()
        if last is None:
            return 0
        count = len(session.exec(select(AuditEntry.id).where(AuditEntry.id <= last.id)).all())
        session.add(AuditCheckpoint(kind="purge", last_id=last.id, last_hash=last.hash))
        session.execute(delete(AuditEntry).where(AuditEntry.id <= last.id))
        session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.kind == "anchor",
                                                      AuditCheckpoint.last_id <= last.id))
        record(session, "audit.purge", username=operator[:64], object_type="audit", object_id=last.id,
               detail=f"清理 {before.isoformat()} 之前的审计记录 {count} 条")
        return count


def record_denied(actor: UserContext, permission: str, action: str, detail: str = "") -> None:
    """A refused request, in its own transaction (the refused action itself changed nothing)."""
    from hbbudget.db import session_scope
    from hbbudget.services.security.permissions import PERMISSIONS

    label = PERMISSIONS[permission][1] if permission in PERMISSIONS else permission
    with session_scope() as session:
        record(session, "permission.denied", actor=actor, success=False, object_type="action",
               object_id=action, detail=detail or f"缺少权限：{label}")


def record_rejected(actor: UserContext, action: str, detail: str = "") -> None:
    """A request naming an object the page never offered (crafted or stale), in its own transaction."""
    from hbbudget.db import session_scope

    with session_scope() as session:
        record(session, "request.rejected", actor=actor, success=False, object_type="action",
               object_id=action, detail=detail or "请求的对象不在页面提供的范围内")
