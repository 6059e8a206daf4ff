"""Passwords, login with lockout, server-side sessions (bearer tokens stored hashed), logout."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta

from passlib.context import CryptContext
from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import DataVersion, LoginSession, Org, PasswordHistory, Role, RolePermission, User, UserRole
from hbbudget.services.core import audit
from hbbudget.services.errors import AuthError, ValidationError
from hbbudget.services.security import access_version, policy
from hbbudget.services.security.permissions import Grant, UserContext
from hbbudget.settings import get_settings

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
    """Problems under the default policy (the stored one applies in change_password)."""
    return policy.password_problems(policy.defaults(), username, password)


def password_expired(user: User, rules: policy.Policy) -> bool:
    changed = user.password_changed_at or user.created_at
    return changed is not None and now() - changed > timedelta(days=rules.expiry_days)


def reused(session: Session, user: User, password: str, rules: policy.Policy) -> bool:
    """True when `password` is the current one or one of the last `history_count` (current included)."""
    old = session.exec(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                       .order_by(PasswordHistory.id.desc()).limit(max(rules.history_count - 1, 0))).all()
    return any(verify_password(password, h) for h in [user.password_hash, *old])


def set_password(session: Session, user: User, password: str, rules: policy.Policy) -> None:
    """Store a new hash, keep the old one in the history and prune it to the policy's length."""
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    user.password_hash = hash_password(password)
    user.password_changed_at = now()
    session.add(user)
    session.flush()
    keep = session.exec(select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                        .order_by(PasswordHistory.id.desc()).limit(24)).all()
    for old in session.exec(select(PasswordHistory).where(PasswordHistory.user_id == user.id,
                                                          PasswordHistory.id.not_in(keep))).all():
        session.delete(old)


def login(username: str, password: str, client_addr: str = "") -> tuple[str, UserContext]:
    """Check the password; on success return (bearer token, context). Raises AuthError."""
    username = str(username or "").strip()[:64]
    password = str(password or "")[:256]
    error: str | None = None
    with session_scope() as session:
        rules = policy.current(session)
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
            if user.failed_logins >= rules.max_failed_logins:
                user.locked_until = now() + timedelta(minutes=rules.lockout_minutes)
                user.failed_logins = 0
                error = f"连续 {rules.max_failed_logins} 次密码错误，账号已锁定 {rules.lockout_minutes} 分钟"
                detail += "，账号已锁定"
            else:
                error = f"{BAD_CREDENTIALS}，还可尝试 {rules.max_failed_logins - user.failed_logins} 次"
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
                                     expires_at=now() + timedelta(hours=rules.session_lifetime_hours)))
            audit.record(session, "login.success", username=username, user_id=user.id,
                         org_id=user.org_id, client_addr=client_addr)
            context = _context(session, user, client_addr, rules)
    if error:
        raise AuthError(error)
    return token, context


@dataclass(frozen=True)
class _Resolved:
    """A resolved login session, valid while the access version stays `version` (and for CACHE_SECONDS at most:
    password expiry moves with the clock)."""

    version: int
    user_id: int
    context: UserContext
    rules: policy.Policy
    at: float


CACHE_SECONDS = 60.0
CACHE_SIZE = 5000
_cache: OrderedDict[str, _Resolved] = OrderedDict()  # token hash -> resolved context (per process)
_cache_lock = threading.Lock()
stats = {"hits": 0, "misses": 0}  # read by tests and the bench


def forget() -> None:
    """Drop every cached session (a restored database, tests)."""
    with _cache_lock:
        _cache.clear()


def _expired(row: LoginSession, rules: policy.Policy, current) -> bool:
    return (row.expires_at <= current or current - row.created_at > timedelta(hours=rules.session_lifetime_hours)
            or current - row.last_seen_at > timedelta(minutes=rules.idle_timeout_minutes))


def resolve(token: str, client_addr: str = "", touch: bool = True) -> UserContext:
    """The user behind a bearer token, checked against idle and absolute expiry. Raises AuthError.

    `touch=False` checks without counting as activity (the idle-timeout timer). Every call reads the login session
    and the access version in one indexed query; the user, roles, grants, orgs and policy are re-read only when
    the access version moved since this session was last resolved (services/security/access_version.py), so a
    revoked role applies at the next event."""
    if not token or not isinstance(token, str) or len(token) > 128:
        raise AuthError("请先登录")
    key = token_hash(token)
    error: str | None = None
    with session_scope() as session:
        found = session.exec(select(LoginSession, DataVersion.version)
                             .join(DataVersion, DataVersion.name == access_version.NAME, isouter=True)
                             .where(LoginSession.token_hash == key)).first()
        row, version = found if found else (None, None)
        version = version or 0
        current = now()
        with _cache_lock:
            hit = _cache.get(key)
        if (hit is not None and row is not None and row.revoked_at is None and hit.version == version
                and hit.user_id == row.user_id and time.monotonic() - hit.at < CACHE_SECONDS
                and not _expired(row, hit.rules, current)):
            stats["hits"] += 1
            if touch and current - row.last_seen_at > TOUCH_EVERY:
                row.last_seen_at = current
                session.add(row)
            return hit.context if hit.context.client_addr == client_addr else \
                replace(hit.context, client_addr=client_addr)
        stats["misses"] += 1
        user = session.get(User, row.user_id) if row else None
        rules = policy.current(session)
        if row is None or row.revoked_at is not None:
            error = "会话已失效，请重新登录"
        elif user is None or not user.active:
            row.revoked_at = current
            session.add(row)
            error = "账号已停用，请联系系统管理员"
        elif _expired(row, rules, current):
            row.revoked_at = current
            session.add(row)
            audit.record(session, "session.expired", username=user.username, user_id=user.id,
                         detail="会话超时", client_addr=client_addr)
            error = "会话已超时，请重新登录"
        else:
            if touch and current - row.last_seen_at > TOUCH_EVERY:
                row.last_seen_at = current
                session.add(row)
            context = _context(session, user, client_addr, rules)
    if error:
        with _cache_lock:
            _cache.pop(key, None)
        raise AuthError(error)
    with _cache_lock:
        _cache[key] = _Resolved(version, user.id, context, rules, time.monotonic())
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
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
        rules = policy.current(session)
        problems = policy.password_problems(rules, user.username, new_password)
        if verify_password(new_password, user.password_hash):
            problems.append("新密码不能与原密码相同")
        elif not problems and reused(session, user, new_password, rules):
            problems.append(f"新密码不能与最近 {rules.history_count} 次使用过的密码相同")
        if problems:
            raise ValidationError("；".join(problems))
        set_password(session, user, new_password, rules)
        user.must_change_password = False
        session.add(user)
        audit.record(session, "password.change", actor=context, object_type="user", object_id=user.id)


def recent_logins(ctx: UserContext, limit: int = 5) -> list[dict]:
    """The user's own login history (newest first): time, address, how the session ended."""
    with session_scope() as session:
        rules = policy.current(session)
        rows = session.exec(select(LoginSession).where(LoginSession.user_id == ctx.user_id)
                            .order_by(LoginSession.id.desc()).limit(max(1, min(int(limit), 50)))).all()
    return [session_row(r, rules) for r in rows]


def is_live(row: LoginSession, rules: policy.Policy) -> bool:
    current = now()
    return (row.revoked_at is None and row.expires_at > current
            and current - row.created_at <= timedelta(hours=rules.session_lifetime_hours)
            and current - row.last_seen_at <= timedelta(minutes=rules.idle_timeout_minutes))


def session_row(row: LoginSession, rules: policy.Policy) -> dict:
    if row.revoked_at is not None:
        status = "已结束"
    elif not is_live(row, rules):
        status = "已过期"
    else:
        status = "在线"
    return {"id": str(row.id), "time": to_local_text(row.created_at), "last_seen": to_local_text(row.last_seen_at),
            "client": row.client_addr or "未知", "status": status}


# The three admin accounts init-db creates (services.core.setup.ADMINS): in demo mode (HBB_DEMO) only they are not
# forced to change their password (README); every other account is, as outside demo mode.
DEMO_EXEMPT = frozenset({"sysadmin", "secadmin", "auditadmin"})


def must_change(user: User, rules: policy.Policy) -> bool:
    """A one-time or expired password must be changed before anything else."""
    if user.username in DEMO_EXEMPT and get_settings().demo_mode:
        return False
    return user.must_change_password or password_expired(user, rules)


def _context(session: Session, user: User, client_addr: str, rules: policy.Policy) -> UserContext:
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
        must_change_password=must_change(user, rules),
        client_addr=client_addr,
    )
