"""User administration (read side for now; issue 5 adds the writes)."""

from __future__ import annotations

from sqlmodel import select

from ..clock import now, to_local_text
from ..db import session_scope
from ..models import Org, Role, User, UserRole
from .errors import PermissionDenied
from .orgs import scope_filter
from .permissions import UserContext


def list_users(ctx: UserContext) -> list[dict]:
    """Users of the orgs the caller administers (admin.users scope)."""
    paths = ctx.scope_paths("admin.users")
    if not paths:
        raise PermissionDenied("没有权限：用户管理")
    with session_scope() as session:
        users = session.exec(select(User, Org).join(Org, Org.id == User.org_id)
                             .where(scope_filter(paths)).order_by(Org.path, User.username)).all()
        grants = session.exec(select(UserRole.user_id, Role.name, Org.name)
                              .join(Role, Role.id == UserRole.role_id).join(Org, Org.id == UserRole.org_id)).all()
    roles: dict[int, list[str]] = {}
    for user_id, role_name, org_name in grants:
        roles.setdefault(user_id, []).append(f"{role_name}@{org_name}")
    current = now()
    return [{
        "username": u.username,
        "full_name": u.full_name,
        "org": o.name,
        "roles": "；".join(roles.get(u.id, [])),
        "status": "停用" if not u.active else ("锁定" if u.locked_until and u.locked_until > current else "正常"),
        "last_login": to_local_text(u.last_login_at) or "从未登录",
    } for u, o in users]
