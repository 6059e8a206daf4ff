"""The password and session policy: HBB_* environment values as defaults, the security admin's row over them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from sqlmodel import Session

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import SecurityPolicy
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

# field -> (Chinese label, lowest allowed, highest allowed): the safe bounds for edits in the app
BOUNDS: dict[str, tuple[str, int, int]] = {
    "min_length": ("密码最小长度（位）", 8, 32),
    "min_classes": ("密码至少包含的字符类别数", 3, 4),
    "expiry_days": ("密码有效期（天）", 30, 180),
    "history_count": ("不得重复使用的历史密码个数", 3, 24),
    "max_failed_logins": ("连续登录失败锁定次数", 3, 10),
    "lockout_minutes": ("锁定时长（分钟）", 10, 1440),
    "idle_timeout_minutes": ("无操作超时（分钟）", 5, 30),
    "session_lifetime_hours": ("会话最长时长（小时）", 1, 24),
    "inactive_days": ("长期未使用账号标记（天）", 30, 365),
}


@dataclass(frozen=True)
class Policy:
    min_length: int
    min_classes: int
    expiry_days: int
    history_count: int
    max_failed_logins: int
    lockout_minutes: int
    idle_timeout_minutes: int
    session_lifetime_hours: int
    inactive_days: int


def clamped(values: Policy) -> Policy:
    """Each field moved into its BOUNDS: nothing weaker (or absurdly stricter) than the bounds ever applies,
    whatever the environment or a hand-edited row says."""
    return Policy(**{name: min(max(getattr(values, name), low), high) for name, (_, low, high) in BOUNDS.items()})


def defaults() -> Policy:
    """The HBB_* environment values, clamped to BOUNDS."""
    s = get_settings()
    return clamped(Policy(min_length=s.password_min_length, min_classes=s.password_min_classes,
                          expiry_days=s.password_expiry_days, history_count=s.password_history,
                          max_failed_logins=s.max_failed_logins, lockout_minutes=s.lockout_minutes,
                          idle_timeout_minutes=s.idle_timeout_minutes,
                          session_lifetime_hours=s.session_lifetime_hours, inactive_days=s.inactive_days))


def current(session: Session) -> Policy:
    """The security admin's saved row (clamped too), else the defaults."""
    row = session.get(SecurityPolicy, 1)
    if row is None:
        return defaults()
    return clamped(Policy(**{f.name: getattr(row, f.name) for f in fields(Policy)}))


def get() -> Policy:
    with session_scope() as session:
        return current(session)


def view(ctx: UserContext) -> dict:
    """The policy and its bounds for the security admin's form."""
    scope.require_global(ctx, "admin.security")
    policy = get()
    return {"values": asdict(policy), "bounds": BOUNDS}


def update(ctx: UserContext, values: dict) -> Policy:
    """Save a new policy; every field is required and must lie within its bounds."""
    scope.require_global(ctx, "admin.security")
    if not isinstance(values, dict):
        raise ValidationError("请求无效")
    parsed: dict[str, int] = {}
    problems = []
    for name, (label, low, high) in BOUNDS.items():
        raw = str(values.get(name, "")).strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            problems.append(f"{label}须为 {low}–{high} 之间的整数")
        else:
            parsed[name] = int(raw)
    if problems:
        raise ValidationError("；".join(problems))
    with session_scope() as session:
        before = asdict(current(session))
        row = session.get(SecurityPolicy, 1) or SecurityPolicy(id=1, **parsed)
        for name, value in parsed.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = now(), ctx.username
        session.add(row)
        audit.record(session, "policy.update", actor=ctx, object_type="policy", object_id=1,
                     before=before, after=parsed)
    return Policy(**parsed)


def password_problems(policy: Policy, username: str, password: str) -> list[str]:
    """What is wrong with a new password under `policy` (empty when it is acceptable)."""
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"密码至少 {policy.min_length} 位")
    if len(password) > 128:
        problems.append("密码不能超过 128 位")
    classes = sum([any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)])
    if classes < policy.min_classes:
        problems.append(f"密码须包含大写字母、小写字母、数字、符号中的至少{'三' if policy.min_classes == 3 else '四'}类")
    if username and password.lower() == username.lower():
        problems.append("密码不能与用户名相同")
    return problems


def describe(policy: Policy) -> str:
    """The rule in one sentence, for the password page."""
    kinds = "三" if policy.min_classes == 3 else "四"
    return (f"密码至少 {policy.min_length} 位，包含大写字母、小写字母、数字、符号中的至少{kinds}类，不能与用户名相同，"
            f"不能与最近 {policy.history_count} 次使用过的密码相同；有效期 {policy.expiry_days} 天。")
