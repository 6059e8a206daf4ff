"""User administration by the system admin: accounts, enable/disable, reset, sessions, scope."""

from datetime import timedelta

import pytest
from sqlmodel import select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, LoginSession, User
from hbbudget.services import auth, users
from hbbudget.services.errors import AuthError, PermissionDenied, ValidationError
from tests.factories import PASSWORD, ctx_for, make_tree, make_user, user


@pytest.fixture
def tree(db):
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sys_o", "sys_admin", tree["other"])  # a system admin of one unit only
    make_user("kuaiji", "accountant", tree["unit"])
    return tree


def _entries(event_type: str) -> list[AuditEntry]:
    with session_scope() as session:
        return session.exec(select(AuditEntry).where(AuditEntry.event_type == event_type)).all()


def test_create_user_gives_a_one_time_password_that_must_be_changed(tree):
    ctx = ctx_for("sys")
    user_id, password = users.create_user(ctx, {"username": "new.user", "full_name": "新用户", "org_id": tree["dept"]})
    assert not auth.password_problems("new.user", password)
    _, new_ctx = auth.login("new.user", password)
    assert new_ctx.user_id == user_id and new_ctx.must_change_password and new_ctx.permissions == frozenset()
    entry = _entries("user.create")[0]
    assert entry.username == "sys" and '"username": "new.user"' in entry.after and password not in entry.after


@pytest.mark.parametrize("data,message", [
    ({"username": "kuaiji", "full_name": "重名", "org_id": 3}, "用户名已存在"),
    ({"username": "1bad", "full_name": "x", "org_id": 3}, "用户名须以字母开头"),
    ({"username": "okname", "full_name": "", "org_id": 3}, "姓名不能为空"),
    ({"username": "okname", "full_name": "x" * 65, "org_id": 3}, "不能超过 64"),
    ({"username": "okname", "full_name": "x", "org_id": "abc"}, "单位无效"),
])
def test_create_user_validates_input(tree, data, message):
    with pytest.raises(ValidationError, match=message):
        users.create_user(ctx_for("sys"), data)


def test_scope_limits_what_a_system_admin_sees_and_touches(tree):
    ctx = ctx_for("sys_o")
    assert {u["username"] for u in users.list_users(ctx)} == {"sys_o"}
    kuaiji = user("kuaiji").id
    for call in (lambda: users.detail(ctx, kuaiji), lambda: users.set_active(ctx, kuaiji, False),
                 lambda: users.reset_password(ctx, kuaiji), lambda: users.revoke_sessions(ctx, kuaiji),
                 lambda: users.update_user(ctx, kuaiji, {"full_name": "改名"}),
                 lambda: users.create_user(ctx, {"username": "x1y", "full_name": "x", "org_id": tree["unit"]})):
        with pytest.raises(PermissionDenied):
            call()
    assert user("kuaiji").active and user("kuaiji").full_name == "KUAIJI"
    with pytest.raises(PermissionDenied):  # moving one of its own users out of its scope
        users.update_user(ctx, user("sys_o").id, {"full_name": "x", "org_id": tree["unit"]})


def test_edit_disable_enable_and_sessions(tree):
    ctx = ctx_for("sys")
    kuaiji = user("kuaiji").id
    users.update_user(ctx, kuaiji, {"full_name": "李会计", "org_id": tree["dept"]})
    assert user("kuaiji").full_name == "李会计" and user("kuaiji").org_id == tree["dept"]
    token, _ = auth.login("kuaiji", PASSWORD)
    users.set_active(ctx, kuaiji, False)
    with pytest.raises(AuthError, match="会话已失效|已停用"):
        auth.resolve(token)
    with pytest.raises(AuthError, match="已停用"):
        auth.login("kuaiji", PASSWORD)
    users.set_active(ctx, kuaiji, True)
    token, _ = auth.login("kuaiji", PASSWORD)
    detail = users.detail(ctx, kuaiji)
    live = [s for s in detail["sessions"] if s["status"] == "在线"]
    assert len(live) == 1
    assert users.revoke_sessions(ctx, kuaiji, live[0]["id"]) == 1
    with pytest.raises(AuthError):
        auth.resolve(token)
    assert [e.event_type for e in _entries("user.disable") + _entries("user.enable") + _entries("session.revoke")] \
        == ["user.disable", "user.enable", "session.revoke"]


def test_reset_password_unlocks_and_forces_a_change(tree):
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login("kuaiji", "wrong")
    assert user("kuaiji").locked_until is not None
    ctx = ctx_for("sys")
    row = next(u for u in users.list_users(ctx) if u["username"] == "kuaiji")
    assert row["status"] == "锁定"
    password = users.reset_password(ctx, user("kuaiji").id)
    _, k = auth.login("kuaiji", password)
    assert k.must_change_password
    with pytest.raises(AuthError):
        auth.login("kuaiji", PASSWORD)
    assert "重置密码并解锁" in _entries("user.reset_password")[0].detail


def test_admin_cannot_disable_or_reset_itself(tree):
    ctx = ctx_for("sys")
    with pytest.raises(ValidationError, match="自己"):
        users.set_active(ctx, ctx.user_id, False)
    with pytest.raises(ValidationError, match="自己"):
        users.reset_password(ctx, ctx.user_id)


def test_the_last_active_holder_of_each_admin_role_cannot_be_disabled(tree):
    make_user("sec", "sec_admin", tree["prov"])
    make_user("sec2", "sec_admin", tree["prov"])
    ctx = ctx_for("sys")
    users.set_active(ctx, user("sec2").id, False)
    with pytest.raises(ValidationError, match="最后一个有效的安全管理员"):
        users.set_active(ctx, user("sec").id, False)
    assert user("sec").active


def test_unused_accounts_are_flagged(tree):
    with session_scope() as session:
        u = session.exec(select(User).where(User.username == "kuaiji")).one()
        u.last_login_at = now() - timedelta(days=91)
        session.add(u)
    rows = {u["username"]: u for u in users.list_users(ctx_for("sys"))}
    assert rows["kuaiji"]["flag"] == "超过 90 天未使用" and rows["sys"]["flag"] == ""


def test_search_and_detail(tree):
    ctx = ctx_for("sys")
    assert [u["username"] for u in users.list_users(ctx, "KUAI")] == ["kuaiji"]
    auth.login("kuaiji", PASSWORD, "10.1.1.1")
    detail = users.detail(ctx, user("kuaiji").id)
    assert detail["grants"][0]["role"] == "会计" and detail["sessions"][0]["client"] == "10.1.1.1"
    with session_scope() as session:
        assert session.exec(select(LoginSession)).all()
