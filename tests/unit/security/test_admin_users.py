"""User administration by the system admin: accounts, enable/disable, reset, sessions, scope."""

from datetime import timedelta

import pytest
from sqlmodel import select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, LoginSession, User, UserRole
from hbbudget.services.errors import AuthError, PermissionDenied, ValidationError
from hbbudget.services.security import auth, grants, users
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


def test_the_last_effective_system_admin_cannot_be_disabled(tree):
    make_user("sys_b", "sys_admin", tree["prov"])
    make_user("sys_here", "sys_admin", tree["prov"], subtree=False)  # manages prov's own users, not effective
    users.set_active(ctx_for("sys"), user("sys_b").id, False)
    with pytest.raises(ValidationError, match="最后一个有效的系统管理员"):
        users.set_active(ctx_for("sys_here"), user("sys").id, False)
    assert user("sys").active
    users.set_active(ctx_for("sys"), user("sys_here").id, False)  # a non-effective holder may go
    assert not user("sys_here").active


@pytest.fixture
def admins(tree):
    make_user("sec", "sec_admin", tree["prov"])
    make_user("aud", "audit_admin", tree["prov"])
    make_user("aud2", "audit_admin", tree["prov"])
    return tree


def _calls(ctx, target: int, session_id: int) -> dict:
    return {"update": lambda: users.update_user(ctx, target, {"full_name": "改名"}),
            "disable": lambda: users.set_active(ctx, target, False),
            "reset": lambda: users.reset_password(ctx, target),
            "revoke_one": lambda: users.revoke_sessions(ctx, target, session_id),
            "revoke_all": lambda: users.revoke_sessions(ctx, target)}


def test_the_system_admin_cannot_take_over_the_security_or_audit_admin(admins):
    ctx = ctx_for("sys")
    for name in ("sec", "aud"):
        token, _ = auth.login(name, PASSWORD)
        target = user(name).id
        assert users.detail(ctx, target)["username"] == name  # it may see the account
        session_id = int(users.detail(ctx, target)["sessions"][0]["id"])
        for call in _calls(ctx, target, session_id).values():
            with pytest.raises(PermissionDenied, match="三员分立"):
                call()
        assert auth.resolve(token).username == name  # still logged in, same password, same name, active
        assert user(name).full_name == name.upper() and user(name).active and not user(name).must_change_password
        auth.login(name, PASSWORD)
    with session_scope() as session:  # a disabled protected account is not re-enabled by the system admin
        u = session.exec(select(User).where(User.username == "aud2")).one()
        u.active = False
        session.add(u)
    with pytest.raises(PermissionDenied, match="三员分立"):
        users.set_active(ctx, user("aud2").id, True)
    assert not user("aud2").active
    assert not [e for t in ("user.update", "user.disable", "user.enable", "user.reset_password", "session.revoke")
                for e in _entries(t)]


def test_the_security_admin_cannot_manage_accounts_either(admins):
    ctx = ctx_for("sec")
    for call in _calls(ctx, user("aud").id, 1).values():
        with pytest.raises(PermissionDenied):
            call()
    assert user("aud").active and not user("aud").must_change_password


def test_once_the_security_admin_revokes_the_role_the_system_admin_may_disable_the_account(admins):
    with session_scope() as session:
        grant = session.exec(select(UserRole).where(UserRole.user_id == user("aud2").id)).one()
    grants.revoke(ctx_for("sec"), grant.id)
    users.set_active(ctx_for("sys"), user("aud2").id, False)
    assert not user("aud2").active


def test_the_system_admin_still_manages_another_system_admin(admins):
    make_user("sys_b", "sys_admin", admins["unit"])
    assert users.detail(ctx_for("sys"), user("sys_b").id)["protected"] == ""
    password = users.reset_password(ctx_for("sys"), user("sys_b").id)
    assert auth.login("sys_b", password)[1].must_change_password


async def test_the_admin_page_shows_no_one_time_password_for_a_protected_account(admins):
    import reflex as rx

    import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
    from hbbudget.pages.security.users import AdminState
    from state.session import SessionState

    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("sys", PASSWORD)
    page = await root.get_state(AdminState)
    await page.load()
    await page.open_user(str(user("sec").id))
    assert page.sel["protected"] == "安全管理员"  # the page shows the note instead of the buttons
    result = await page.reset_password(str(user("sec").id))
    assert "三员分立" in str(result) and page.one_time == ""
    denied = _entries("permission.denied")
    assert len(denied) == 1 and denied[0].username == "sys" and denied[0].object_id == "AdminState.reset_password"
    auth.login("sec", PASSWORD)


def test_the_server_cli_recovers_a_locked_or_disabled_security_admin(admins, capsys):
    from hbbudget import cli

    token, _ = auth.login("sec", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login("sec", "wrong")
    assert user("sec").locked_until is not None
    assert cli.main(["user", "reset-password", "sec"]) == 0
    out = capsys.readouterr().out
    password = out.split("临时密码：")[1].split("（")[0]
    assert "仅显示一次" in out and password
    with pytest.raises(AuthError):
        auth.resolve(token)  # its sessions ended
    with pytest.raises(AuthError):
        auth.login("sec", PASSWORD)
    _, ctx = auth.login("sec", password)
    assert ctx.must_change_password and ctx.has("admin.roles")
    entry = _entries("user.reset_password")[-1]
    assert entry.username.startswith("cli") and entry.object_id == str(user("sec").id)
    assert "服务器命令行" in entry.detail and password not in entry.after

    with session_scope() as session:
        u = session.exec(select(User).where(User.username == "sec")).one()
        u.active = False
        session.add(u)
    assert cli.main(["user", "reset-password", "sec"]) == 0  # without --enable it stays disabled
    with pytest.raises(AuthError, match="已停用"):
        auth.login("sec", capsys.readouterr().out.split("临时密码：")[1].split("（")[0])
    assert cli.main(["user", "reset-password", "sec", "--enable"]) == 0
    password = capsys.readouterr().out.split("临时密码：")[1].split("（")[0]
    assert auth.login("sec", password)[1].must_change_password and user("sec").active
    assert "启用账号" in _entries("user.reset_password")[-1].detail
    assert cli.main(["user", "reset-password", "nobody"]) == 1
    assert "用户不存在" in capsys.readouterr().err


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
    make_user("chuna", "accountant", tree["unit"], subtree=False)
    listed = {u["username"]: u["roles"] for u in users.list_users(ctx)}
    assert listed["kuaiji"] == "会计@示范大学（含下级）" and listed["chuna"] == "会计@示范大学（仅本单位）"
    auth.login("kuaiji", PASSWORD, "10.1.1.1")
    detail = users.detail(ctx, user("kuaiji").id)
    assert detail["grants"][0]["role"] == "会计" and detail["sessions"][0]["client"] == "10.1.1.1"
    with session_scope() as session:
        assert session.exec(select(LoginSession)).all()
