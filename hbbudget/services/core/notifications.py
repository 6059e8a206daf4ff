"""In-app notifications: written by the flows for whoever must act next; read by each user."""

from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import Notification, Org, RolePermission, User, UserRole
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext


def holders(session: Session, org: Org, permission: str, exact: bool = False) -> list[int]:
    """Active users holding `permission` over `org` (granted there, or over an ancestor's subtree);
    `exact`: granted at `org` itself (the users who act at a review step)."""
    ids = [] if exact else scope.ancestor_ids(org)
    rows = session.exec(
        select(UserRole.user_id).distinct()
        .join(RolePermission, RolePermission.role_id == UserRole.role_id)
        .join(User, User.id == UserRole.user_id)
        .where(RolePermission.permission == permission, User.active == True,  # noqa: E712
               or_(UserRole.org_id == org.id, (UserRole.org_id.in_(ids)) & (UserRole.subtree == True)))  # noqa: E712
    ).all()
    return sorted(rows)


def notify(session: Session, org: Org, permission: str, title: str, body: str = "", *, link: str = "",
           object_type: str = "", object_id: int = 0, skip_user: int | None = None, exact: bool = False,
           only: list[int] | None = None) -> int:
    """One notification per holder of `permission` over `org` (in the caller's transaction); `only`: these users
    instead (a review stop that names a role)."""
    users = [u for u in (holders(session, org, permission, exact) if only is None else only) if u != skip_user]
    session.add_all(Notification(user_id=u, title=title[:100], body=body[:500], link=link[:200],
                                 object_type=object_type[:32], object_id=object_id) for u in users)
    return len(users)


def list_notifications(ctx: UserContext, unread_only: bool = False, offset: int = 0,
                       limit: int = 20) -> tuple[list[dict], int]:
    offset, limit = scope.page(offset, limit)
    conds = [Notification.user_id == ctx.user_id]
    if unread_only:
        conds.append(Notification.read_at.is_(None))
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(Notification).where(*conds)).one()
        rows = session.exec(select(Notification).where(*conds).order_by(Notification.id.desc())
                            .offset(offset).limit(limit)).all()
    return [{"id": n.id, "title": n.title, "body": n.body, "link": n.link, "created_at": to_local_text(n.created_at),
             "read": n.read_at is not None} for n in rows], total


def unread_count(ctx: UserContext) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(Notification).where(
            Notification.user_id == ctx.user_id, Notification.read_at.is_(None))).one()


def mark_read(ctx: UserContext, ids: list[int] | None = None) -> int:
    """Mark some (or all) of the caller's own notifications read; returns how many changed."""
    conds = [Notification.user_id == ctx.user_id, Notification.read_at.is_(None)]
    if ids is not None:
        if not isinstance(ids, list) or len(ids) > 500:
            raise ValidationError("通知编号无效")
        conds.append(Notification.id.in_([scope.int_id(i, "通知编号") for i in ids]))
    with session_scope() as session:
        result = session.execute(update(Notification).where(*conds).values(read_at=now()))
        return result.rowcount or 0
