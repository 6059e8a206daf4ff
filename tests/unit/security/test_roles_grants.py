"""Custom roles, the permission matrix, role grants and 三员分立."""

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Role, RolePermission, UserRole
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.security import auditlog, auth, grants, roles
from tests.factories import PASSWORD, ctx_for, make_tree, make_user, user


@pytest.fixture
def tree(db):
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sec", "sec_admin", tree["prov"])
    make_user("aud", "audit_admin", tree["prov"])
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("lingdao", "leader", tree["city"])
    return tree


def _role_id(code: str) -> int:
    with session_scope() as session:
        return session.exec(select(Role).where(Role.code == code)).one().id


def test_security_admin_creates_a_custom_role_and_the_change_applies_at_the_next_event(tree):
    sec = ctx_for("sec")
    token, before = auth.login("lingdao", PASSWORD)
    assert not before.has("subject.view")
    role_id = roles.create_role(sec, "预算查询员", "只读查询")
    roles.set_permission(sec, role_id, "subject.view", True)
    roles.set_permission(sec, role_id, "budget.view", True)
    grants.grant_by_username(sec, "lingdao", role_id, tree["unit"], True)
    after = auth.resolve(token)  # the same session, next event
    assert after.has("subject.view") and after.has("budget.view") and "预算查询员" in after.role_names
    roles.set_permission(sec, role_id, "subject.view", False)
    assert not auth.resolve(token).has("subject.view")
    with session_scope() as session:
        kinds = [e.event_type for e in session.exec(select(AuditEntry).where(AuditEntry.username == "sec")
                                                    .order_by(AuditEntry.id)).all()]
    assert kinds[-5:] == ["role.create", "role.permission", "role.permission", "role.grant", "role.permission"]


def test_rename_and_delete_only_custom_roles_without_holders(tree):
    sec = ctx_for("sec")
    role_id = roles.create_role(sec, "临时角色")
    with pytest.raises(ValidationError, match="已存在"):
        roles.create_role(sec, "会计")
    roles.rename_role(sec, role_id, "临时角色二", "说明")
    with pytest.raises(ValidationError, match="内置角色不能改名"):
        roles.rename_role(sec, _role_id("accountant"), "会计师")
    with pytest.raises(ValidationError, match="内置角色不能删除"):
        roles.delete_role(sec, _role_id("accountant"))
    roles.set_permission(sec, role_id, "report.view", True)
    grant_id = grants.grant_by_username(sec, "kuaiji", role_id, tree["unit"])
    with pytest.raises(ValidationError, match="仍分配给 1 个授权"):
        roles.delete_role(sec, role_id)
    grants.revoke(sec, grant_id)
    roles.delete_role(sec, role_id)
    with session_scope() as session:
        assert session.get(Role, role_id) is None
        assert not session.exec(select(RolePermission).where(RolePermission.role_id == role_id)).all()


def test_matrix_refuses_admin_permissions_on_business_roles_and_edits_of_admin_roles(tree):
    sec = ctx_for("sec")
    with pytest.raises(ValidationError, match="管理员权限，不能授予业务角色"):
        roles.set_permission(sec, _role_id("accountant"), "audit.view", True)
    with pytest.raises(ValidationError, match="权限固定"):
        roles.set_permission(sec, _role_id("sys_admin"), "admin.users", False)
    with pytest.raises(ValidationError, match="请求参数无效"):
        roles.set_permission(sec, _role_id("accountant"), "no.such", True)
    cells = {(c["role_id"], c["code"]): c for row in roles.matrix(sec)["rows"] for c in row["cells"]}
    assert cells[(str(_role_id("accountant")), "budget.edit")] == {
        "role_id": str(_role_id("accountant")), "code": "budget.edit", "on": "1", "editable": "1"}
    assert cells[(str(_role_id("sys_admin")), "admin.users")]["editable"] == ""


def test_three_admin_roles_never_share_an_account_or_mix_with_business_roles(tree):
    sec = ctx_for("sec")
    with pytest.raises(ValidationError, match="三员分立：已担任系统管理员的账号不能再分配“审计管理员”"):
        grants.grant(sec, user("sys").id, _role_id("audit_admin"), tree["prov"])
    with pytest.raises(ValidationError, match="三员分立：已担任审计管理员的账号不能再分配“会计”"):
        grants.grant(sec, user("aud").id, _role_id("accountant"), tree["unit"])
    with pytest.raises(ValidationError, match="三员分立：已担任业务角色的账号不能再分配“安全管理员”"):
        grants.grant(sec, user("kuaiji").id, _role_id("sec_admin"), tree["prov"])
    grants.grant(sec, user("sys").id, _role_id("sys_admin"), tree["city"])  # same kind, another org: fine


def test_only_the_security_admin_grants_admin_roles_and_nobody_grants_themselves(tree):
    sys_ctx = ctx_for("sys")
    make_user("newbie", "operator", tree["dept"])
    with session_scope() as session:
        session.delete(session.exec(select(UserRole).where(UserRole.user_id == user("newbie").id)).one())
    with pytest.raises(PermissionDenied):
        grants.grant(sys_ctx, user("newbie").id, _role_id("audit_admin"), tree["prov"])
    grants.grant(sys_ctx, user("newbie").id, _role_id("operator"), tree["dept"])  # business role: fine
    with pytest.raises(PermissionDenied, match="不能修改自己的角色"):
        grants.grant(sys_ctx, sys_ctx.user_id, _role_id("sys_admin"), tree["city"])
    sec = ctx_for("sec")
    with session_scope() as session:
        own_grant = session.exec(select(UserRole).where(UserRole.user_id == sec.user_id)).one()
    with pytest.raises(PermissionDenied, match="不能修改自己的角色"):
        grants.revoke(sec, own_grant.id)


def test_the_last_holder_of_an_admin_role_keeps_it(tree):
    sec = ctx_for("sec")
    with session_scope() as session:
        aud_grant = session.exec(select(UserRole).where(UserRole.user_id == user("aud").id)).one()
    with pytest.raises(ValidationError, match="最后一个有效的审计管理员"):
        grants.revoke(sec, aud_grant.id)
    make_user("aud2", "audit_admin", tree["prov"])
    grants.revoke(sec, aud_grant.id)


def test_only_effective_holders_count_for_the_last_holder_rule(tree):
    """Holders of the audit role who cannot act as audit admin (a grant below the root, at the root without
    its subtree, or at a deactivated root) do not keep the role alive."""
    from hbbudget.services.core import orgs

    with session_scope() as session:
        dead_root = orgs.create(session, "R2", "已撤销机构", "行政")
        dead_root.active = False
        session.add(dead_root)
        dead_root_id = dead_root.id
    make_user("aud_c", "audit_admin", tree["city"])
    make_user("aud_here", "audit_admin", tree["prov"], subtree=False)
    make_user("aud_dead", "audit_admin", dead_root_id)
    for name in ("aud_c", "aud_here", "aud_dead"):  # none of them may read the log
        with pytest.raises(PermissionDenied):
            auditlog.search(ctx_for(name), {})
    sec = ctx_for("sec")
    with session_scope() as session:
        aud_grant = session.exec(select(UserRole).where(UserRole.user_id == user("aud").id)).one().id
        here_grant = session.exec(select(UserRole).where(UserRole.user_id == user("aud_here").id)).one().id
    with pytest.raises(ValidationError, match="最后一个有效的审计管理员"):
        grants.revoke(sec, aud_grant)
    grants.revoke(sec, here_grant)  # a non-effective grant may go, even with a single effective holder
    grants.grant(sec, user("aud_here").id, _role_id("audit_admin"), tree["prov"], True)  # now effective
    grants.revoke(sec, aud_grant)
    assert auditlog.search(ctx_for("aud_here"), {})[1] > 0
    with pytest.raises(PermissionDenied):
        auditlog.search(ctx_for("aud"), {})


def test_system_admin_grants_business_roles_only_within_its_scope(tree):
    make_user("sys_o", "sys_admin", tree["other"])
    ctx = ctx_for("sys_o")
    with pytest.raises(PermissionDenied):
        grants.grant(ctx, user("kuaiji").id, _role_id("operator"), tree["other"])  # user outside its scope
    make_user("doc", "operator", tree["other"])
    with pytest.raises(PermissionDenied):
        grants.grant(ctx, user("doc").id, _role_id("leader"), tree["unit"])  # org outside its scope
    grants.grant(ctx, user("doc").id, _role_id("leader"), tree["other"], False)
    assert "领导查看" in ctx_for("doc").role_names


def _chinese(value: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in value)


def test_the_permission_matrix_is_grouped_by_module_with_chinese_names(tree):
    from hbbudget.services.security.permissions import PERMISSIONS

    matrix = roles.matrix(ctx_for("sec"))
    assert {"会计", "系统管理员", "安全管理员", "审计管理员"} <= set(matrix["roles"])
    assert [r["code"] for r in matrix["rows"]] == list(PERMISSIONS)  # every permission, once
    headers, module = [], ""
    for row in matrix["rows"]:
        if row["module"]:  # a module's name heads its first row only, and each module heads one block
            headers.append(row["module"])
            module = row["module"]
        assert module == PERMISSIONS[row["code"]][0], row["code"]
        assert _chinese(module) and _chinese(row["name"]) and _chinese(row["description"]), row["code"]
        assert len(row["cells"]) == len(matrix["roles"])
    assert len(headers) == len(set(headers)) and {"系统管理", "安全管理"} <= set(headers)
    users_row = next(r for r in matrix["rows"] if r["code"] == "admin.users")
    assert (users_row["name"], users_row["description"]) == ("用户管理", "管理用户账号和角色分配")
    cells = dict(zip(matrix["roles"], users_row["cells"]))
    assert cells["系统管理员"]["on"] == "1" and cells["会计"]["on"] == ""
    assert all(c["editable"] == "" for c in users_row["cells"])  # admin permissions are fixed
    match_row = next(r for r in matrix["rows"] if r["code"] == "execution.match")
    accountant = dict(zip(matrix["roles"], match_row["cells"]))["会计"]
    assert accountant == {"role_id": str(_role_id("accountant")), "code": "execution.match", "on": "1",
                          "editable": "1"}


def test_roles_pages_need_the_security_admin_at_the_root(tree):
    make_user("sec_c", "sec_admin", tree["city"])
    for name in ("sys", "sec_c", "kuaiji"):
        ctx = ctx_for(name)
        for call in (lambda: roles.matrix(ctx), lambda: roles.create_role(ctx, "x"),
                     lambda: roles.list_roles(ctx), lambda: grants.members(ctx, 1)):
            with pytest.raises(PermissionDenied):
                call()


def _accountant_permissions() -> set[str]:
    with session_scope() as session:
        return set(session.exec(select(RolePermission.permission)
                                .where(RolePermission.role_id == _role_id("accountant"))).all())


def _defaults_added() -> list[str]:
    with session_scope() as session:
        return [e.after for e in session.exec(select(AuditEntry).where(AuditEntry.event_type == "role.defaults_added")
                                              .order_by(AuditEntry.id)).all()]


def test_a_new_release_default_reaches_built_in_roles_once_and_removals_stay(tree, monkeypatch):
    from hbbudget.services.security.permissions import DEFAULT_ROLES

    sec = ctx_for("sec")
    roles.set_permission(sec, _role_id("accountant"), "execution.match", False)  # the admin's choice
    name, kind, perms = DEFAULT_ROLES["accountant"]
    monkeypatch.setitem(DEFAULT_ROLES, "accountant", (name, kind, perms | {"performance.view"}))  # a new release
    with session_scope() as session:
        assert roles.ensure_default_roles(session) == 0
    held = _accountant_permissions()
    assert "performance.view" in held and "execution.match" not in held
    assert _defaults_added() == ['{"permissions": ["performance.view"]}']
    assert ctx_for("kuaiji").has("performance.view")

    roles.set_permission(sec, _role_id("accountant"), "performance.view", False)
    with session_scope() as session:
        roles.ensure_default_roles(session)  # the next start: nothing given back
    assert "performance.view" not in _accountant_permissions()
    assert len(_defaults_added()) == 1
