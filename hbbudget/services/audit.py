"""The audit log: append an entry in the caller's transaction; verify the hash chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from ..clock import now
from ..models import AuditEntry
from .permissions import UserContext

_CHAIN_LOCK = 7270001  # PostgreSQL advisory lock id that serializes appends to the chain


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
    """Append one entry to the chain inside the caller's transaction (the caller commits)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
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
    # Insert first: on SQLite this takes the write lock, so the tail read below cannot go stale.
    session.add(entry)
    session.flush()
    prev = session.exec(
        select(AuditEntry.hash).where(AuditEntry.id < entry.id).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry.prev_hash = prev or ""
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first entry whose link or hash does not hold."""
    prev = ""
    checked = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return VerifyResult(ok=True, checked=checked)
        for entry in rows:
            if entry.prev_hash != prev:
                return VerifyResult(False, checked, entry.id, "与前一条记录的链接不符（前一条被修改或删除）")
            if entry.hash != entry_hash(prev, entry):
                return VerifyResult(False, checked, entry.id, "记录内容与其哈希不符（本条被修改）")
            prev = entry.hash
            checked += 1
            last_id = entry.id


def record_denied(actor: UserContext, permission: str, action: str, detail: str = "") -> None:
    """A refused request, in its own transaction (the refused action itself changed nothing)."""
    from ..db import session_scope

    with session_scope() as session:
        record(session, "permission.denied", actor=actor, success=False, object_type="action",
               object_id=action, detail=detail or f"缺少权限 {permission}")


EVENT_NAMES = {
    "login.success": "登录成功", "login.failed": "登录失败", "login.locked": "锁定期间登录", "logout": "退出登录",
    "session.expired": "会话超时", "permission.denied": "越权访问被拒绝", "password.change": "修改密码",
    "user.create": "创建用户", "demo.seed": "载入演示数据", "reference.load": "载入参考数据",
    "subjects.import": "导入科目",
}


def list_entries(username: str = "", event_type: str = "", offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """A page of audit entries, newest first, filtered by user and event type."""
    from sqlalchemy import func

    from ..clock import to_local_text
    from ..db import session_scope

    limit = max(1, min(int(limit), 200))
    offset = max(0, int(offset))
    query = select(AuditEntry)
    if username:
        query = query.where(AuditEntry.username == username[:64])
    if event_type:
        query = query.where(AuditEntry.event_type == event_type[:64])
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)).all()
    return [{
        "id": str(e.id), "time": to_local_text(e.created_at, seconds=True), "username": e.username,
        "event": EVENT_NAMES.get(e.event_type, e.event_type), "result": "成功" if e.success else "失败",
        "object": f"{e.object_type} {e.object_id}".strip(), "detail": e.detail, "client": e.client_addr,
    } for e in rows], total
