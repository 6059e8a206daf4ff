"""The password and session policy: env defaults, bounded edits by the security admin, and its effect."""

from datetime import timedelta

import pytest
from sqlmodel import select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, LoginSession, PasswordHistory, SecurityPolicy, User
from hbbudget.services.errors import AuthError, PermissionDenied, ValidationError
from hbbudget.services.security import auth, policy
from tests.factories import PASSWORD, ctx_for, make_tree, make_user, user

GOOD = {"min_length": "10", "min_classes": "4", "expiry_days": "60", "history_count": "5",
        "max_failed_logins": "3", "lockout_minutes": "20", "idle_timeout_minutes": "10",
        "session_lifetime_hours": "8", "inactive_days": "60"}


@pytest.fixture
def tree(db):
    tree = make_tree()
    make_user("sec", "sec_admin", tree["prov"])
    make_user("kuaiji", "accountant", tree["unit"])
    return tree


def test_defaults_come_from_the_environment(db, monkeypatch):
    assert policy.get() == policy.Policy(8, 3, 90, 5, 5, 15, 30, 12, 90)
    monkeypatch.setenv("HBB_PASSWORD_EXPIRY_DAYS", "60")
    monkeypatch.setenv("HBB_MAX_FAILED_LOGINS", "4")
    assert policy.get().expiry_days == 60 and policy.get().max_failed_logins == 4


WEAK_ENV = {"PASSWORD_MIN_LENGTH": "4", "PASSWORD_MIN_CLASSES": "1", "PASSWORD_EXPIRY_DAYS": "3650",
            "PASSWORD_HISTORY": "0", "MAX_FAILED_LOGINS": "1000", "LOCKOUT_MINUTES": "0",
            "IDLE_TIMEOUT_MINUTES": "600", "SESSION_LIFETIME_HOURS": "240", "INACTIVE_DAYS": "5000"}


def test_environment_values_outside_the_bounds_are_clamped(db, monkeypatch):
    for name, value in WEAK_ENV.items():
        monkeypatch.setenv(f"HBB_{name}", value)
    weakest = policy.Policy(8, 3, 180, 3, 10, 10, 30, 24, 365)  # each field at its bound in BOUNDS
    assert policy.defaults() == weakest and policy.get() == weakest
    assert policy.password_problems(policy.get(), "kuaiji", "abc1") == [
        "密码至少 8 位", "密码须包含大写字母、小写字母、数字、符号中的至少三类"]
    monkeypatch.setenv("HBB_PASSWORD_MIN_LENGTH", "99")
    monkeypatch.setenv("HBB_IDLE_TIMEOUT_MINUTES", "1")
    assert (policy.get().min_length, policy.get().idle_timeout_minutes) == (32, 5)


def test_a_stored_row_outside_the_bounds_is_clamped_too(db):
    with session_scope() as session:  # written behind the service's back (e.g. by hand in the database)
        session.add(SecurityPolicy(id=1, min_length=1, min_classes=1, expiry_days=9999, history_count=0,
                                   max_failed_logins=999, lockout_minutes=0, idle_timeout_minutes=999,
                                   session_lifetime_hours=999, inactive_days=0))
    assert policy.get() == policy.Policy(8, 3, 180, 3, 10, 10, 30, 24, 30)


def test_security_admin_saves_a_policy_within_bounds_and_it_is_audited(tree):
    ctx = ctx_for("sec")
    saved = policy.update(ctx, GOOD)
    assert saved.min_length == 10 and policy.get() == saved
    with session_scope() as session:
        row = session.get(SecurityPolicy, 1)
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "policy.update")).one()
    assert row.updated_by == "sec"
    assert '"min_length": 8' in entry.before and '"min_length": 10' in entry.after and entry.username == "sec"


@pytest.mark.parametrize("field,value", [("min_length", "6"), ("min_classes", "2"), ("expiry_days", "0"),
                                         ("history_count", "1"), ("max_failed_logins", "50"),
                                         ("lockout_minutes", "1"), ("idle_timeout_minutes", "120"),
                                         ("session_lifetime_hours", "48"), ("inactive_days", "x"),
                                         ("min_length", "")])
def test_values_outside_the_safe_bounds_are_refused_without_change(tree, field, value):
    ctx = ctx_for("sec")
    with pytest.raises(ValidationError, match="之间的整数"):
        policy.update(ctx, {**GOOD, field: value})
    with session_scope() as session:
        assert session.get(SecurityPolicy, 1) is None


def test_only_the_security_admin_at_the_root_edits_the_policy(tree):
    make_user("sec_city", "sec_admin", tree["city"])
    for name in ("kuaiji", "sec_city"):
        with pytest.raises(PermissionDenied):
            policy.update(ctx_for(name), GOOD)
        with pytest.raises(PermissionDenied):
            policy.view(ctx_for(name))


def test_password_rules_follow_the_stored_policy(tree):
    policy.update(ctx_for("sec"), GOOD)  # 10 characters, 4 classes
    ctx = ctx_for("kuaiji")
    with pytest.raises(ValidationError, match="至少 10 位"):
        auth.change_password(ctx, PASSWORD, "Ab1@xyz")
    with pytest.raises(ValidationError, match="至少四类"):
        auth.change_password(ctx, PASSWORD, "abcdefgh12345")
    auth.change_password(ctx, PASSWORD, "Abcdefg#1234")


def test_the_last_five_passwords_are_not_reused(tree):
    ctx = ctx_for("kuaiji")
    used = [PASSWORD] + [f"Used#{i}pass" for i in range(1, 6)]
    for old, new in zip(used, used[1:]):
        auth.change_password(ctx, old, new)
    current = used[-1]
    for old in used[-5:-1]:  # the four before the current one (with it: five)
        with pytest.raises(ValidationError, match="最近 5 次"):
            auth.change_password(ctx, current, old)
    auth.change_password(ctx, current, used[0])  # six changes ago: allowed again
    with session_scope() as session:
        kept = session.exec(select(PasswordHistory).where(PasswordHistory.user_id == ctx.user_id)).all()
    assert len(kept) == 6 and all(h.password_hash.startswith("$argon2") for h in kept)


def test_expired_password_forces_a_change(tree):
    with session_scope() as session:
        u = session.exec(select(User).where(User.username == "kuaiji")).one()
        u.password_changed_at = now() - timedelta(days=91)
        session.add(u)
    ctx = ctx_for("kuaiji")
    assert ctx.must_change_password
    auth.change_password(ctx, PASSWORD, "Fresh#2026pw")
    assert not ctx_for("kuaiji", "Fresh#2026pw").must_change_password


def test_lockout_follows_the_stored_policy(tree):
    policy.update(ctx_for("sec"), GOOD)  # 3 failures, 20 minutes
    for _ in range(2):
        with pytest.raises(AuthError, match="还可尝试"):
            auth.login("kuaiji", "wrong")
    with pytest.raises(AuthError, match="连续 3 次密码错误，账号已锁定 20 分钟"):
        auth.login("kuaiji", "wrong")
    assert timedelta(minutes=19) < user("kuaiji").locked_until - now() <= timedelta(minutes=20)


def test_shorter_session_rules_apply_to_sessions_already_open(tree):
    token, _ = auth.login("kuaiji", PASSWORD)
    with session_scope() as session:
        row = session.exec(select(LoginSession)).one()
        row.created_at = now() - timedelta(hours=9)
        row.last_seen_at = now() - timedelta(minutes=11)
        session.add(row)
    auth.resolve(token, touch=False)  # 12 h lifetime, 30 min idle: still alive
    policy.update(ctx_for("sec"), {**GOOD, "idle_timeout_minutes": "30"})  # lifetime 8 h
    with pytest.raises(AuthError, match="会话已超时"):
        auth.resolve(token)


def test_idle_timeout_from_the_policy(tree):
    policy.update(ctx_for("sec"), GOOD)  # idle 10 minutes
    token, _ = auth.login("kuaiji", PASSWORD)
    with session_scope() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == auth.token_hash(token))).one()
        row.last_seen_at = now() - timedelta(minutes=11)
        session.add(row)
    with pytest.raises(AuthError, match="会话已超时"):
        auth.resolve(token)


def test_recent_logins_show_the_previous_login(tree):
    auth.login("kuaiji", PASSWORD, "10.0.0.1")
    _, ctx = auth.login("kuaiji", PASSWORD, "10.0.0.2")
    rows = auth.recent_logins(ctx, 2)
    assert [r["client"] for r in rows] == ["10.0.0.2", "10.0.0.1"] and rows[0]["status"] == "在线"
