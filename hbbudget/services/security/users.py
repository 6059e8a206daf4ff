"""User administration (系统管理员): accounts, enable/disable, password reset, sessions. Scope: admin.users.

三员分立 for the accounts themselves: an account holding a 安全管理员 or 审计管理员 role (any grant of that kind)
is *protected*. Nobody manages it in the app: the system admin may list it and open its detail, but not edit,
disable, enable, reset its password or end its sessions (that would let the system admin take over the other
two roles or lock them out). The security admin holds no admin.users either, so it cannot take over the audit
admin. The account changes its own password on the password page. Containment of a compromised protected
account: the security admin revokes its admin role (grants.revoke, last-holder rule applies); it is then an
ordinary account the system admin can disable. Recovery (forgotten password, lockout, disabled): only on the
server, `hbbudget user reset-password USERNAME [--enable]` (`reset_password_on_server`), audited, printing a
one-time password that must be changed at the next login. System admin accounts stay manageable by a system
admin whose scope covers them (same kind: no role is gained).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import LoginSession, Org, Role, User, UserRole
from hbbudget.services.core import audit
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security import auth, grants, policy, scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, text

USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")
LIST_LIMIT = 200


PROTECTED_KINDS = ("security", "audit")


def protected_kind(session: Session, user_id: int) -> str | None:
    """'security' / 'audit' when the account holds a role of that admin kind (see the module docstring)."""
    return session.exec(select(Role.admin_kind).join(UserRole, UserRole.role_id == Role.id)
                        .where(UserRole.user_id == user_id, Role.admin_kind.in_(PROTECTED_KINDS))).first()


def _user_in_scope(session: Session, ctx: UserContext, user_id: object, *, manage: bool = True) -> tuple[User, Org]:
    """The target user within the caller's admin.users scope; `manage` also refuses protected accounts."""
    user = session.get(User, int_id(user_id, "用户"))
    if user is None:
        raise NotFound("用户不存在")
    org = session.get(Org, user.org_id)
    scope.require(ctx, "admin.users", org)
    kind = protected_kind(session, user.id) if manage else None
    if kind:
        raise PermissionDenied(f"三员分立：{scope.kind_label(kind)}账号不能由系统管理员修改、停用、启用、重置密码"
                               "或强制下线；密码由本人修改，遗忘时由服务器管理员执行 hbbudget user reset-password")
    return user, org


def _org_in_scope(session: Session, ctx: UserContext, org_id: object) -> Org:
    org = session.get(Org, int_id(org_id, "单位"))
    if org is None:
        raise NotFound("单位不存在")
    scope.require(ctx, "admin.users", org)
    if not org.active:
        raise ValidationError(f"单位“{org.name}”已停用")
    return org


def _snapshot(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "org_id": user.org_id, "active": user.active}


def temp_password(rules: policy.Policy) -> str:
    """A one-time password that satisfies the policy (the user must change it at first login)."""
    while True:
        candidate = secrets.token_urlsafe(max(rules.min_length, 12)) + "@1aA"
        if not policy.password_problems(rules, "", candidate):
            return candidate


def _status(user: User, rules: policy.Policy) -> tuple[str, bool]:
    """(status text, flagged as unused for `inactive_days`)."""
    current = now()
    status = "停用" if not user.active else ("锁定" if user.locked_until and user.locked_until > current else "正常")
    last = user.last_login_at or user.created_at
    stale = user.active and last is not None and current - last > timedelta(days=rules.inactive_days)
    return status, stale


def list_users(ctx: UserContext, query: str = "") -> list[dict]:
    """Users of the orgs the caller administers (admin.users scope), searchable by name."""
    paths = ctx.scope_paths("admin.users")
    if not paths:
        raise PermissionDenied("没有权限：用户管理")
    query = text(query, "搜索词", 64)
    with session_scope() as session:
        rules = policy.current(session)
        stmt = select(User, Org).join(Org, Org.id == User.org_id).where(scope_filter(paths))
        if query:
            like = f"%{query}%"
            stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like)))
        users = session.exec(stmt.order_by(Org.path, User.username).limit(LIST_LIMIT)).all()
        ids = [u.id for u, _ in users]
        rows = session.exec(select(UserRole.user_id, Role.name, Org.name, UserRole.subtree)
                            .join(Role, Role.id == UserRole.role_id).join(Org, Org.id == UserRole.org_id)
                            .where(UserRole.user_id.in_(ids))).all() if ids else []
    roles: dict[int, list[str]] = {}
    for user_id, role_name, org_name, subtree in rows:
        roles.setdefault(user_id, []).append(f"{role_name}@{org_name}{'（含下级）' if subtree else '（仅本单位）'}")
    result = []
    for u, o in users:
        status, stale = _status(u, rules)
        result.append({
            "id": str(u.id), "username": u.username, "full_name": u.full_name, "org": o.name,
            "roles": "；".join(roles.get(u.id, [])), "status": status,
            "last_login": to_local_text(u.last_login_at) or "从未登录",
            "flag": f"超过 {rules.inactive_days} 天未使用" if stale else "",
        })
    return result


def detail(ctx: UserContext, user_id: object) -> dict:
    """One user with their role grants and recent sessions (login history)."""
    with session_scope() as session:
        user, org = _user_in_scope(session, ctx, user_id, manage=False)
        rules = policy.current(session)
        status, stale = _status(user, rules)
        sessions = session.exec(select(LoginSession).where(LoginSession.user_id == user.id)
                                .order_by(LoginSession.id.desc()).limit(20)).all()
        return {
            "id": str(user.id), "username": user.username, "full_name": user.full_name, "org_id": str(org.id),
            "org": org.name, "status": status, "active": user.active, "flag": stale,
            "protected": scope.kind_label(kind) if (kind := protected_kind(session, user.id)) else "",
            "last_login": to_local_text(user.last_login_at) or "从未登录",
            "password_changed": to_local_text(user.password_changed_at) or "未修改",
            "grants": grants.rows_for_user(session, user.id),
            "sessions": [auth.session_row(s, rules) for s in sessions],
        }


def create_user(ctx: UserContext, data: dict) -> tuple[int, str]:
    """A new account in an org of the caller's scope; returns (id, one-time password)."""
    if not isinstance(data, dict):
        raise ValidationError("请求无效")
    username = text(data.get("username"), "用户名", 32, required=True)
    if not USERNAME.match(username):
        raise ValidationError("用户名须以字母开头，3–32 位字母、数字、下划线、点或连字符")
    full_name = text(data.get("full_name"), "姓名", 64, required=True)
    with session_scope() as session:
        org = _org_in_scope(session, ctx, data.get("org_id"))
        if session.exec(select(User).where(User.username == username)).first():
            raise ValidationError(f"用户名已存在：{username}")
        rules = policy.current(session)
        password = temp_password(rules)
        user = User(username=username, full_name=full_name, org_id=org.id, password_hash=auth.hash_password(password),
                    must_change_password=True, password_changed_at=now())
        session.add(user)
        session.flush()
        audit.record(session, "user.create", actor=ctx, object_type="user", object_id=user.id, org_id=org.id,
                     after=_snapshot(user))
        return user.id, password


def update_user(ctx: UserContext, user_id: object, data: dict) -> None:
    """Change the name or the org (both the old and the new org must lie in scope)."""
    if not isinstance(data, dict):
        raise ValidationError("请求无效")
    full_name = text(data.get("full_name"), "姓名", 64, required=True)
    with session_scope() as session:
        user, _ = _user_in_scope(session, ctx, user_id)
        org = _org_in_scope(session, ctx, data.get("org_id") or user.org_id)
        before = _snapshot(user)
        user.full_name, user.org_id = full_name, org.id
        session.add(user)
        if before != _snapshot(user):
            audit.record(session, "user.update", actor=ctx, object_type="user", object_id=user.id, org_id=org.id,
                         before=before, after=_snapshot(user))


def set_active(ctx: UserContext, user_id: object, active: bool) -> None:
    """Enable (also unlocks) or disable (also ends every session) an account."""
    if not isinstance(active, bool):
        raise ValidationError("请求无效")
    with session_scope() as session:
        user, org = _user_in_scope(session, ctx, user_id)
        if user.id == ctx.user_id:
            raise ValidationError("不能停用或启用自己的账号")
        if user.active == active:
            return
        if not active:
            grants.refuse_last_holder(session, user.id)
            _revoke_sessions(session, user.id)
        else:
            user.failed_logins, user.locked_until = 0, None
        before = _snapshot(user)
        user.active = active
        session.add(user)
        audit.record(session, "user.enable" if active else "user.disable", actor=ctx, object_type="user",
                     object_id=user.id, org_id=org.id, before=before, after=_snapshot(user))


def reset_password(ctx: UserContext, user_id: object) -> str:
    """A new one-time password (shown once to the admin), forced change at next login, sessions ended."""
    with session_scope() as session:
        user, org = _user_in_scope(session, ctx, user_id)
        if user.id == ctx.user_id:
            raise ValidationError("请在“修改密码”页面修改自己的密码")
        rules = policy.current(session)
        password = temp_password(rules)
        auth.set_password(session, user, password, rules)
        user.must_change_password, user.failed_logins, user.locked_until = True, 0, None
        session.add(user)
        ended = _revoke_sessions(session, user.id)
        audit.record(session, "user.reset_password", actor=ctx, object_type="user", object_id=user.id,
                     org_id=org.id, detail=f"重置密码并解锁，结束会话 {ended} 个")
        return password


def reset_password_on_server(username: object, operator: str, enable: bool = False) -> str:
    """Recovery on the server (the `hbbudget` CLI), for any account including the 三员: a one-time password,
    unlocked, forced change at next login, sessions ended; `enable` also re-enables a disabled account."""
    name = text(username, "用户名", 64, required=True)
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == name)).first()
        if user is None:
            raise NotFound(f"用户不存在：{name}")
        before = _snapshot(user)
        rules = policy.current(session)
        password = temp_password(rules)
        auth.set_password(session, user, password, rules)
        user.must_change_password, user.failed_logins, user.locked_until = True, 0, None
        if enable:
            user.active = True
        session.add(user)
        ended = _revoke_sessions(session, user.id)
        audit.record(session, "user.reset_password", username=operator[:64], object_type="user",
                     object_id=user.id, org_id=user.org_id, before=before, after=_snapshot(user),
                     detail=f"服务器命令行重置密码并解锁{'、启用账号' if enable and not before['active'] else ''}，"
                            f"结束会话 {ended} 个")
        return password


def _revoke_sessions(session: Session, user_id: int, session_id: int | None = None) -> int:
    stmt = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    if session_id is not None:
        stmt = stmt.where(LoginSession.id == session_id)
    return session.execute(stmt.values(revoked_at=now())).rowcount or 0


def revoke_sessions(ctx: UserContext, user_id: object, session_id: object = None) -> int:
    """End one session of a user (or all of them when `session_id` is None); returns how many ended."""
    with session_scope() as session:
        user, org = _user_in_scope(session, ctx, user_id)
        sid = None if session_id in (None, "") else int_id(session_id, "会话")
        ended = _revoke_sessions(session, user.id, sid)
        if ended:
            audit.record(session, "session.revoke", actor=ctx, object_type="user", object_id=user.id,
                         org_id=org.id, detail=f"强制下线：{'会话 ' + str(sid) if sid else '全部会话'}",
                         after={"ended": ended})
        return ended
