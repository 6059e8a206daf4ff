"""Login, lockout, sessions (idle and absolute expiry), logout and password change."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, LoginSession, User
from hbbudget.services.errors import AuthError, ValidationError
from hbbudget.services.security import auth
from tests.factories import PASSWORD, make_tree, make_user, org_path, user


@pytest.fixture
def tree(db):
    return make_tree()


def _audit_types() -> list[str]:
    with session_scope() as session:
        return [e.event_type for e in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]


def test_password_hash_is_argon2_and_verifies():
    h = auth.hash_password("Abc@12345")
    assert h.startswith("$argon2")
    assert auth.verify_password("Abc@12345", h)
    assert not auth.verify_password("abc@12345", h)
    assert not auth.verify_password("x", "not-a-hash")


def test_login_success_creates_hashed_session_and_context(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    token, ctx = auth.login("kuaiji", PASSWORD, "127.0.0.1")
    assert ctx.username == "kuaiji" and ctx.org_name == "示范大学" and ctx.role_names == ("会计",)
    assert ctx.has("execution.match") and not ctx.has("admin.users")
    with session_scope() as session:
        row = session.exec(select(LoginSession)).one()
    assert row.token_hash == auth.token_hash(token) and token not in row.token_hash
    assert auth.resolve(token).user_id == ctx.user_id
    assert _audit_types() == ["login.success"]


def test_login_success_records_the_client_address(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    _, ctx = auth.login("kuaiji", PASSWORD, "10.20.30.40")
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "login.success")).one()
    assert (entry.username, entry.user_id, entry.success) == ("kuaiji", ctx.user_id, True)
    assert entry.client_addr == "10.20.30.40" and ctx.client_addr == "10.20.30.40"


@pytest.mark.parametrize("username,password", [("nobody", PASSWORD), ("kuaiji", "wrong-Pass1")])
def test_bad_credentials_get_chinese_message_and_audit(tree, username, password):
    make_user("kuaiji", "accountant", tree["unit"])
    with pytest.raises(AuthError) as err:
        auth.login(username, password)
    assert "用户名或密码错误" in err.value.message
    assert _audit_types() == ["login.failed"]
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(LoginSession)).one() == 0


def test_five_failures_lock_the_account_for_fifteen_minutes(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    for attempt in range(1, 5):
        with pytest.raises(AuthError, match=f"还可尝试 {5 - attempt} 次"):
            auth.login("kuaiji", "bad")
    with pytest.raises(AuthError, match="已锁定 15 分钟"):
        auth.login("kuaiji", "bad")
    # Even the right password is refused while locked, and nothing else changes.
    with pytest.raises(AuthError, match="账号已锁定"):
        auth.login("kuaiji", PASSWORD)
    locked = user("kuaiji").locked_until
    assert timedelta(minutes=14) < locked - now() <= timedelta(minutes=15)
    assert _audit_types()[-1] == "login.locked"
    # After the lock expires the right password works and the counter is reset.
    with session_scope() as session:
        u = session.exec(select(User).where(User.username == "kuaiji")).one()
        u.locked_until = now() - timedelta(seconds=1)
        session.add(u)
    auth.login("kuaiji", PASSWORD)
    assert user("kuaiji").failed_logins == 0 and user("kuaiji").locked_until is None


def test_disabled_user_cannot_login(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    with session_scope() as session:
        u = session.exec(select(User).where(User.username == "kuaiji")).one()
        u.active = False
        session.add(u)
    with pytest.raises(AuthError, match="已停用"):
        auth.login("kuaiji", PASSWORD)


def _age_session(token: str, idle: timedelta = timedelta(0), expired: bool = False) -> None:
    with session_scope() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == auth.token_hash(token))).one()
        row.last_seen_at = now() - idle
        if expired:
            row.expires_at = now() - timedelta(seconds=1)
        session.add(row)


def test_idle_session_expires_after_thirty_minutes(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    token, _ = auth.login("kuaiji", PASSWORD)
    _age_session(token, idle=timedelta(minutes=29))
    auth.resolve(token)  # still alive, and this touches it
    _age_session(token, idle=timedelta(minutes=31))
    with pytest.raises(AuthError, match="会话已超时"):
        auth.resolve(token)
    with pytest.raises(AuthError, match="会话已失效"):
        auth.resolve(token)  # revoked for good
    assert "session.expired" in _audit_types()


def test_idle_timeout_is_configurable(tree, monkeypatch):
    monkeypatch.setenv("HBB_IDLE_TIMEOUT_MINUTES", "5")
    make_user("kuaiji", "accountant", tree["unit"])
    token, _ = auth.login("kuaiji", PASSWORD)
    _age_session(token, idle=timedelta(minutes=6))
    with pytest.raises(AuthError, match="会话已超时"):
        auth.resolve(token)


def test_absolute_lifetime_and_untouched_heartbeat(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    token, _ = auth.login("kuaiji", PASSWORD)
    _age_session(token, idle=timedelta(minutes=5))
    auth.resolve(token, touch=False)
    with session_scope() as session:
        row = session.exec(select(LoginSession)).one()
    assert now() - row.last_seen_at >= timedelta(minutes=5)  # a heartbeat is not activity
    _age_session(token, expired=True)
    with pytest.raises(AuthError, match="会话已超时"):
        auth.resolve(token)


@pytest.mark.parametrize("token", ["", "x" * 500, "forged-token", None])
def test_unknown_or_malformed_tokens_are_refused(tree, token):
    with pytest.raises(AuthError):
        auth.resolve(token)


def test_logout_revokes_and_audits(tree):
    make_user("kuaiji", "accountant", tree["unit"])
    token, _ = auth.login("kuaiji", PASSWORD)
    auth.logout(token)
    with pytest.raises(AuthError, match="会话已失效"):
        auth.resolve(token)
    assert _audit_types() == ["login.success", "logout"]
    auth.logout(token)  # twice is harmless and not audited again
    assert _audit_types() == ["login.success", "logout"]


def test_role_grant_scope_is_the_subtree_or_the_org_alone(tree):
    make_user("a", "accountant", tree["unit"], subtree=True)
    make_user("b", "operator", tree["unit"], subtree=False)
    _, a = auth.login("a", PASSWORD)
    _, b = auth.login("b", PASSWORD)
    assert a.can("budget.view", org_path(tree["dept"])) and a.can("budget.view", org_path(tree["unit"]))
    assert not a.can("budget.view", org_path(tree["other"])) and not a.can("budget.view", org_path(tree["city"]))
    assert b.can("budget.edit", org_path(tree["unit"])) and not b.can("budget.edit", org_path(tree["dept"]))
    assert not a.can("admin.users", org_path(tree["unit"]))


def test_change_password_policy_and_effect(tree):
    make_user("kuaiji", "accountant", tree["unit"], must_change=True)
    _, ctx = auth.login("kuaiji", PASSWORD)
    assert ctx.must_change_password
    with pytest.raises(AuthError, match="原密码不正确"):
        auth.change_password(ctx, "wrong", "New@Pass2026")
    for bad, reason in [("short1A", "至少 8 位"), ("alllowercase1", "至少三类"),
                        (PASSWORD, "不能与原密码相同")]:
        with pytest.raises(ValidationError, match=reason):
            auth.change_password(ctx, PASSWORD, bad)
    old_hash = user("kuaiji").password_hash
    auth.change_password(ctx, PASSWORD, "New@Pass2026")
    assert user("kuaiji").password_hash != old_hash and not user("kuaiji").must_change_password
    _, ctx2 = auth.login("kuaiji", "New@Pass2026")
    assert not ctx2.must_change_password
    assert "password.change" in _audit_types()


def test_password_equal_to_username_is_refused():
    assert "密码不能与用户名相同" in auth.password_problems("Admin@2026", "admin@2026")


async def test_the_login_page_shows_only_the_refusals_auth_gives(tree):
    """The HTTP login redirects a refusal to /login?error=<code>; the page rebuilds the same text, and a crafted
    address cannot put other text there."""
    import reflex as rx
    from reflex.istate.data import RouterData

    from hbbudget.services.security import login_codes
    from state.session import SessionState

    make_user("xiaozhang", "unit_leader", tree["unit"])
    messages = []
    for _ in range(5):
        with pytest.raises(AuthError) as err:
            auth.login("xiaozhang", "Wrong@pass1")
        messages.append(err.value.message)
    with pytest.raises(AuthError) as err:
        auth.login("xiaozhang", PASSWORD)
    messages.append(err.value.message)
    for message in [*messages, auth.BAD_CREDENTIALS, login_codes.EMPTY]:
        assert login_codes.code_of(message), message
        assert login_codes.message_of(login_codes.code_of(message)) == message
    state = await rx.State().get_state(SessionState)
    for code, shown in (("left-3", "用户名或密码错误，还可尝试 3 次"), ("系统升级请访问evil", login_codes.FALLBACK),
                        ("", "")):
        state.router = RouterData.from_router_data({"pathname": "/login", "asPath": f"/login?error={code}",
                                                    "query": {"error": code} if code else {}, "headers": {}})
        await state.open_login()
        assert state.login_error == shown


async def test_demo_mode_exempts_only_the_three_admins_from_the_first_login_change(tree, monkeypatch):
    """Issue 11 item 25 (README): in demo mode only sysadmin/secadmin/auditadmin skip the forced change; a new
    user (one-time password) must change it first, in demo mode as outside it, at login and at every handler."""
    import reflex as rx

    import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
    from hbbudget.pages.budgeting.budgets import BudgetsState
    from hbbudget.services.core import setup
    from state.session import SessionState

    assert auth.DEMO_EXEMPT == {name for name, _, _ in setup.ADMINS}
    make_user("xinren", "operator", tree["unit"], must_change=True)
    make_user("sysadmin", "sys_admin", tree["prov"], must_change=True)
    monkeypatch.setenv("HBB_DEMO", "1")
    assert auth.login("xinren", PASSWORD)[1].must_change_password
    assert not auth.login("sysadmin", PASSWORD)[1].must_change_password
    root = rx.State()
    session = await root.get_state(SessionState)
    session._sid = auth.login("xinren", PASSWORD)[0]
    result = await (await root.get_state(BudgetsState)).load()  # a crafted event before changing it
    assert "请先修改初始密码" in str(result)
    monkeypatch.setenv("HBB_DEMO", "0")
    assert auth.login("sysadmin", PASSWORD)[1].must_change_password
