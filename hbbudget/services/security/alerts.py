"""Security alerts for the audit and security admins' 工作台, and the daily audit-chain check.

Deliberately small: a row per alert, shown until the security admin acknowledges it."""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import SecurityAlert
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id

log = logging.getLogger("hbbudget.alerts")


def raise_alert(session: Session, kind: str, message: str) -> SecurityAlert | None:
    """Add an alert unless the same one is still open."""
    open_same = session.exec(select(SecurityAlert).where(SecurityAlert.kind == kind, SecurityAlert.message == message,
                                                         SecurityAlert.acknowledged_at.is_(None))).first()
    if open_same:
        return None
    alert = SecurityAlert(kind=kind[:32], message=message[:500])
    session.add(alert)
    log.error("security alert %s: %s", kind, message)
    return alert


def can_see(ctx: UserContext) -> bool:
    return scope.has_global(ctx, "audit.view") or scope.has_global(ctx, "admin.security")


def open_alerts(ctx: UserContext, limit: int = 10) -> list[dict]:
    if not can_see(ctx):
        raise PermissionDenied("没有权限：查看安全告警")
    with session_scope() as session:
        rows = session.exec(select(SecurityAlert).where(SecurityAlert.acknowledged_at.is_(None))
                            .order_by(SecurityAlert.id.desc()).limit(limit)).all()
    return [{"id": str(a.id), "time": to_local_text(a.created_at), "kind": a.kind, "message": a.message}
            for a in rows]


def acknowledge(ctx: UserContext, alert_id: object) -> None:
    scope.require_global(ctx, "admin.security")
    with session_scope() as session:
        alert = session.get(SecurityAlert, int_id(alert_id, "告警"))
        if alert is None:
            raise NotFound("告警不存在")
        if alert.acknowledged_at is not None:
            raise ValidationError("该告警已确认")
        alert.acknowledged_at, alert.acknowledged_by = now(), ctx.username
        session.add(alert)
        audit.record(session, "alert.ack", actor=ctx, object_type="alert", object_id=alert.id, detail=alert.message)


def daily_audit_check() -> audit.VerifyResult:
    """The scheduled job: verify the chain; anchor its head when intact, raise an alert when not."""
    with session_scope() as session:
        result = audit.verify(session)
        if result.ok:
            audit.anchor(session)
        else:
            raise_alert(session, "audit_chain",
                        f"审计日志哈希链校验失败：记录 id={result.broken_id}，{result.reason}")
    return result
