"""The data-scope framework business services build on: grants over an org or its subtree, the WHERE clause
for scoped queries, and root-only (global) permissions."""

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Org, User
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.security import scope
from tests.factories import ctx_for, make_tree, make_user, org_path


@pytest.fixture
def tree(db):
    tree = make_tree()
    make_user("unit_all", "accountant", tree["unit"], subtree=True)
    make_user("unit_only", "operator", tree["unit"], subtree=False)
    make_user("city", "finance_reviewer", tree["city"])
    make_user("dept", "operator", tree["dept"])
    make_user("sec", "sec_admin", tree["prov"])
    make_user("sec_c", "sec_admin", tree["city"])
    return tree


def _visible(username: str, permission: str) -> set[str]:
    """Users (standing in for any business row with an org_id) a user may see under `permission`."""
    ctx = ctx_for(username)
    with session_scope() as session:
        rows = session.exec(select(User).where(scope.org_condition(ctx, permission, User.org_id))).all()
    return {u.username for u in rows}


def test_scoped_queries_follow_the_grants(tree):
    assert _visible("unit_all", "budget.view") == {"unit_all", "unit_only", "dept"}
    assert _visible("unit_only", "budget.edit") == {"unit_all", "unit_only"}
    assert _visible("dept", "budget.edit") == {"dept"}
    assert _visible("city", "budget.review") == {"unit_all", "unit_only", "city", "dept", "sec_c"}


def test_no_grant_means_refusal_not_an_empty_list(tree):
    with pytest.raises(PermissionDenied, match="没有权限：审核预算"):
        _visible("dept", "budget.review")


def test_can_checks_one_org(tree):
    ctx = ctx_for("unit_only")
    assert ctx.can("budget.edit", org_path(tree["unit"])) and not ctx.can("budget.edit", org_path(tree["dept"]))
    with session_scope() as session:
        dept = session.get(Org, tree["dept"])
    with pytest.raises(PermissionDenied, match="信息学院"):
        scope.require(ctx, "budget.edit", dept)


def test_a_deactivated_org_grants_nothing(tree):
    with session_scope() as session:
        unit = session.get(Org, tree["unit"])
        unit.active = False
        session.add(unit)
    assert not ctx_for("unit_all").has("budget.view")


def test_global_permissions_need_a_root_grant(tree):
    scope.require_global(ctx_for("sec"), "admin.roles")
    with pytest.raises(PermissionDenied, match="须在顶级单位范围内授予"):
        scope.require_global(ctx_for("sec_c"), "admin.roles")
    with pytest.raises(PermissionDenied, match="没有权限：角色权限"):
        scope.require_global(ctx_for("city"), "admin.roles")


def test_permission_kinds_for_separation_of_duties():
    assert scope.permission_kind("admin.users") == "system" and scope.permission_kind("subject.manage") == "system"
    assert scope.permission_kind("admin.security") == "security" and scope.permission_kind("audit.export") == "audit"
    assert scope.permission_kind("budget.edit") is None and scope.permission_kind("project.review") is None
