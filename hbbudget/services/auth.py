"""Passwords, login with lockout, server-side sessions (bearer tokens stored hashed), logout."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from passlib.context import CryptContext
from sqlmodel import Session, select

from ..clock import now, to_local_text
from ..db import session_scope
from ..models import LoginSession, Org, Role, RolePermission, User, UserRole
from ..settings import get_settings
from . import audit
from .errors import AuthError, ValidationError
from .permissions import Grant, UserContext

_crypt = CryptContext(schemes=["argon2"], deprecated="auto")
_DUMMY_HASH = _crypt.hash("hbbudget-timing-dummy")
BAD_CREDENTIALS = "用户名或密码错误"
TOUCH_EVERY = timedelta(seconds=60)  # how often last_seen_at is written


def hash_password(password: str) -> str:
    return _crypt.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _crypt.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_problems(username: str, password: str) -> list[str]:
    """The default 等保二级 policy: ≥ 8 characters from 3 of 4 classes, not the username."""
    problems = []
    if len(password) < 8:
        problems.append("密码至少 8 位")
    if len(password) > 128:
        problems.append("密码不能超过 128 位")
    classes = sum([any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)])
    if classes < 3:
        problems.append("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    if password.lower() == username.lower():
        problems.append("密码不能与用户名相同")
    return problems


def login(username: str, password: str, client_addr: str = "") -> tuple[str, UserContext]:
    """Check the password; on success return (bearer token, context). Raises AuthError."""
    settings = get_settings()
    username = str(username or "").strip()[:64]
    password = str(password or "")[:256]
    error: str | None = None
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            verify_password(password, _DUMMY_HASH)  # same work either way
            error = BAD_CREDENTIALS if user is None else "账号已停用，请联系系统管理员"
            audit.record(session, "login.failed", username=username, user_id=user.id if user else None,
                         success=False, detail="用户不存在" if user is None else "账号已停用",
                         client_addr=client_addr)
        elif user.locked_until and user.locked_until > now():
            error = f"账号已锁定，请于 {to_local_text(user.locked_until)} 后再试"
            audit.record(session, "login.locked", username=username, user_id=user.id, success=False,
                         detail="账号锁定期间尝试登录", client_addr=client_addr)
        elif not verify_password(password, user.password_hash):
            user.failed_logins += 1
            detail = f"密码错误（第 {user.failed_logins} 次）"
            if user.failed_logins >= settings.max_failed_logins:
                user.locked_until = now() + timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                error = f"连续 {settings.max_failed_logins} 次密码错误，账号已锁定 {settings.lockout_minutes} 分钟"
                detail += "，账号已锁定"
            else:
                error = f"{BAD_CREDENTIALS}，还可尝试 {settings.max_failed_logins - user.failed_logins} 次"
            session.add(user)
            audit.record(session, "login.failed", username=username, user_id=user.id, success=False,
                         detail=detail, client_addr=client_addr)
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now()
            session.add(user)
            token = secrets.token_urlsafe(32)
            session.add(LoginSession(token_hash=token_hash(token), user_id=user.id, client_addr=client_addr[:64],
                                     expires_at=now() + timedelta(hours=settings.session_lifetime_hours)))
            audit.record(session, "login.success", username=username, user_id=user.id,
                         org_id=user.org_id, client_addr=client_addr)
            context = _context(session, user, client_addr)
    if error:
        raise AuthError(error)
    return token, context


def resolve(token: str, client_addr: str = "", touch: bool = True) -> UserContext:
    """The user behind a bearer token, checked against idle and absolute expiry. Raises AuthError.

    `touch=False` checks without counting as activity (the idle-timeout timer)."""
    settings = get_settings()
    if not token or not isinstance(token, str) or len(token) > 128:
        raise AuthError("请先登录")
    error: str | None = None
    with session_scope() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == token_hash(token))).first()
        user = session.get(User, row.user_id) if row else None
        current = now()
        if row is None or row.revoked_at is not None:
            error = "会话已失效，请重新登录"
        elif user is None or not user.active:
            row.revoked_at = current
            session.add(row)
            error = "账号已停用，请联系系统管理员"
        elif row.expires_at <= current or current - row.last_seen_at > timedelta(minutes=settings.idle_timeout_minutes):
            row.revoked_at = current
            session.add(row)
            audit.record(session, "session.expired", username=user.username, user_id=user.id,
                         detail="会话超时", client_addr=client_addr)
            error = "会话已超时，请重新登录"
        else:
            if touch and current - row.last_seen_at > TOUCH_EVERY:
                row.last_seen_at = current
                session.add(row)
            context = _context(session, user, client_addr)
    if error:
        raise AuthError(error)
    return context


def logout(token: str, client_addr: str = "") -> None:
    with session_scope() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == token_hash(token or ""))).first()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = now()
        session.add(row)
        user = session.get(User, row.user_id)
        audit.record(session, "logout", username=user.username if user else "", user_id=row.user_id,
                     client_addr=client_addr)


def change_password(context: UserContext, old_password: str, new_password: str) -> None:
    """The user changes their own password (also ends the forced-change state)."""
    old_password, new_password = str(old_password or "")[:256], str(new_password or "")[:256]
    with session_scope() as session:
        user = session.get(User, context.user_id)
        if user is None or not verify_password(old_password, user.password_hash):
            raise AuthError("原密码不正确")
        problems = password_problems(user.username, new_password)
        if verify_password(new_password, user.password_hash):
            problems.append("新密码不能与原密码相同")
        if problems:
            raise ValidationError("；".join(problems))
        user.password_hash = hash_password(new_password)
        user.must_change_password = False
        user.password_changed_at = now()
        session.add(user)
        audit.record(session, "password.change", actor=context, object_type="user", object_id=user.id)


def _context(session: Session, user: User, client_addr: str) -> UserContext:
    rows = session.exec(
        select(UserRole, Role, Org).join(Role, Role.id == UserRole.role_id).join(Org, Org.id == UserRole.org_id)
        .where(UserRole.user_id == user.id)
    ).all()
    role_ids = {role.id for _, role, _ in rows}
    perms: dict[int, set[str]] = {rid: set() for rid in role_ids}
    if role_ids:
        for rp in session.exec(select(RolePermission).where(RolePermission.role_id.in_(role_ids))).all():
            perms[rp.role_id].add(rp.permission)
    grants = tuple(Grant(frozenset(perms[role.id]), org.path, grant.subtree) for grant, role, org in rows if org.active)
    org = session.get(Org, user.org_id)
    return UserContext(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        org_id=user.org_id,
        org_name=org.name if org else "",
        role_names=tuple(dict.fromkeys(role.name for _, role, _ in rows)),
        grants=grants,
        must_change_password=user.must_change_password,
        client_addr=client_addr,
    )
