"""Every permission-guarded handler of the admin, security and audit pages, called with representative
arguments (1) by users without its permission and (2) by a user holding it outside the target's scope:
each call is refused, leaves a `permission.denied` audit entry, and changes neither the database nor the
page state. A new handler on these pages must be added to CASES (the first test insists)."""

from dataclasses import dataclass

import pytest
import reflex as rx
from sqlalchemy import text
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import get_engine, session_scope
from hbbudget.models import AuditEntry, LoginSession, Role, SecurityAlert, UserRole
from hbbudget.pages.core.orgs import OrgsState
from hbbudget.pages.security.audit import AuditState
from hbbudget.pages.security.policy import SecurityState
from hbbudget.pages.security.roles import RolesState
from hbbudget.pages.security.users import AdminState
from hbbudget.pages.shell.home import HomeState
from hbbudget.services.security import auth, roles
from state.guard import GUARD_ATTR
from state.session import SessionState
from tests.factories import PASSWORD, ctx_for, make_tree, make_user, user

STATES = (AdminState, OrgsState, RolesState, SecurityState, AuditState, HomeState)
# Tables whose rows must not change (loginsession without its activity timestamp).
TABLES = {"user": "*", "userrole": "*", "role": "*", "rolepermission": "*", "org": "*", "securitypolicy": "*",
          "securityalert": "*", "passwordhistory": "*", "joblease": "*",
          "loginsession": "id, user_id, expires_at, revoked_at"}
POLICY = {"min_length": "9", "min_classes": "3", "expiry_days": "60", "history_count": "5",
          "max_failed_logins": "5", "lockout_minutes": "15", "idle_timeout_minutes": "20",
          "session_lifetime_hours": "8", "inactive_days": "90"}


@dataclass
class World:
    tree: dict[str, int]
    kuaiji: str
    grant: str
    session: str
    custom_role: str
    operator: str
    alert: str


# handler -> (arguments from the world, what an out-of-scope holder gets: "refused" or a leak check)
CASES = {
    "AdminState.load": (lambda w: (), "no_kuaiji"),
    "AdminState.search": (lambda w: ({"q": "kuai"},), "no_kuaiji"),
    "AdminState.open_user": (lambda w: (w.kuaiji,), "refused"),
    "AdminState.close_user": (lambda w: (), "harmless"),
    "AdminState.create_user": (lambda w: ({"username": "intruder", "full_name": "x", "org_id": w.tree["unit"]},),
                               "refused"),
    "AdminState.save_user": (lambda w: ({"user_id": w.kuaiji, "full_name": "改名", "org_id": w.tree["unit"]},),
                             "refused"),
    "AdminState.set_active": (lambda w: (w.kuaiji, False), "refused"),
    "AdminState.reset_password": (lambda w: (w.kuaiji,), "refused"),
    "AdminState.add_grant": (lambda w: ({"user_id": w.kuaiji, "role_id": w.operator, "org_id": w.tree["unit"],
                                         "subtree": "on"},), "refused"),
    "AdminState.remove_grant": (lambda w: (w.grant,), "refused"),
    "AdminState.revoke_session": (lambda w: (w.kuaiji, w.session), "refused"),
    "AdminState.revoke_all": (lambda w: (w.kuaiji,), "refused"),
    "OrgsState.load": (lambda w: (), "no_unit"),
    "OrgsState.select_org": (lambda w: (str(w.tree["unit"]),), "refused"),
    "OrgsState.create_org": (lambda w: ({"parent_id": w.tree["unit"], "code": "X1", "name": "x", "unit_type": "高校"},),
                             "refused"),
    "OrgsState.save_org": (lambda w: ({"org_id": w.tree["unit"], "name": "改名", "unit_type": "高校"},), "refused"),
    "OrgsState.move_org": (lambda w: ({"org_id": w.tree["dept"], "parent_id": w.tree["other"]},), "refused"),
    "OrgsState.set_active": (lambda w: (str(w.tree["dept"]), False), "refused"),
    "RolesState.load": (lambda w: (), "refused"),
    "RolesState.create_role": (lambda w: ({"name": "越权角色"},), "refused"),
    "RolesState.select_role": (lambda w: (w.custom_role,), "refused"),
    "RolesState.rename_role": (lambda w: ({"role_id": w.custom_role, "name": "改名"},), "refused"),
    "RolesState.delete_role": (lambda w: (w.custom_role,), "refused"),
    "RolesState.set_permission": (lambda w: (w.custom_role, "report.view", True), "refused"),
    "RolesState.assign": (lambda w: ({"username": "kuaiji", "role_id": w.custom_role, "org_id": w.tree["unit"],
                                      "subtree": "on"},), "refused"),
    "RolesState.revoke": (lambda w: (w.grant,), "refused"),
    "SecurityState.load": (lambda w: (), "refused"),
    "SecurityState.save": (lambda w: (POLICY,), "refused"),
    "AuditState.load": (lambda w: (), "refused"),
    "AuditState.filter": (lambda w: ({"username": "kuaiji"},), "refused"),
    "AuditState.next_page": (lambda w: (), "refused"),
    "AuditState.prev_page": (lambda w: (), "refused"),
    "AuditState.verify_chain": (lambda w: (), "refused"),
    "AuditState.export": (lambda w: (), "refused"),
    "HomeState.acknowledge": (lambda w: (w.alert,), "refused"),
}
# permission -> users who lack it (a business user and the other two of the three admins),
# and a user who holds it outside the root or the target's subtree
LACKING = {"admin.users": ("kuaiji", "sec", "aud"), "admin.orgs": ("kuaiji", "sec", "aud"),
           "admin.roles": ("kuaiji", "sys", "aud"), "admin.security": ("kuaiji", "sys", "aud"),
           "audit.view": ("kuaiji", "sys", "sec"), "audit.export": ("kuaiji", "sys", "sec")}
OUT_OF_SCOPE = {"admin.users": "sys_o", "admin.orgs": "sys_o", "admin.roles": "sec_c", "admin.security": "sec_c",
                "audit.view": "aud_c", "audit.export": "aud_c"}


def _guarded_handlers() -> dict[str, str]:
    found = {}
    for cls in STATES:
        for name, handler in cls.event_handlers.items():
            permission = getattr(handler.fn, GUARD_ATTR, None)
            if permission:  # guarded(None) handlers need no permission: nothing to refuse
                found[f"{cls.__name__}.{name}"] = permission
    return found


def test_every_guarded_handler_of_these_pages_has_a_case():
    assert set(_guarded_handlers()) == set(CASES)


@pytest.fixture
def world(db) -> World:
    tree = make_tree()
    make_user("kuaiji", "accountant", tree["unit"])
    for name, code, org in (("sys", "sys_admin", "prov"), ("sec", "sec_admin", "prov"), ("aud", "audit_admin", "prov"),
                            ("sys_o", "sys_admin", "other"), ("sec_c", "sec_admin", "city"),
                            ("aud_c", "audit_admin", "city")):
        make_user(name, code, tree[org])
    auth.login("kuaiji", PASSWORD, "10.0.0.9")
    custom = roles.create_role(ctx_for("sec"), "自定义角色")
    with session_scope() as session:
        grant = session.exec(select(UserRole).where(UserRole.user_id == user("kuaiji").id)).one()
        login = session.exec(select(LoginSession).where(LoginSession.user_id == grant.user_id)).first()
        operator = session.exec(select(Role).where(Role.code == "operator")).one()
        alert = SecurityAlert(kind="test", message="测试告警")
        session.add(alert)
        session.flush()
        return World(tree, str(grant.user_id), str(grant.id), str(login.id), str(custom), str(operator.id),
                     str(alert.id))


def _snapshot() -> dict[str, list]:
    with get_engine().connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f'SELECT {cols} FROM "{t}"')).all()), key=repr)
                for t, cols in TABLES.items()}


def _denied(username: str) -> int:
    with session_scope() as session:
        return len(session.exec(select(AuditEntry).where(AuditEntry.event_type == "permission.denied",
                                                         AuditEntry.username == username)).all())


def _vars(state) -> dict:
    return {k: getattr(state, k) for k in state.base_vars}


async def _check(handler: str, arguments: tuple, expect: str, roots: dict) -> None:
    permission = _guarded_handlers()[handler]
    cls_name, name = handler.split(".")
    cls = next(c for c in STATES if c.__name__ == cls_name)
    for username in (*LACKING[permission], OUT_OF_SCOPE[permission]):
        state = await roots[username].get_state(cls)
        db_before, denied, before = _snapshot(), _denied(username), _vars(state)
        result = await getattr(state, name)(*arguments)
        assert _snapshot() == db_before, f"{handler} changed data for {username}"
        if username in LACKING[permission] or expect == "refused":
            assert "没有权限" in str(result), (handler, username, result)
            assert _denied(username) == denied + 1, (handler, username)
            assert _vars(state) == before, (handler, username)
        elif expect == "no_kuaiji":  # a list filtered to the caller's scope
            assert {u["username"] for u in state.users} <= {"sys_o"}, handler
        elif expect == "no_unit":
            assert [r["code"] for r in state.rows] == ["O"], handler


async def test_refused_without_permission_and_out_of_scope(world):
    """One world for all handlers (a refusal changes nothing, which is asserted after every call)."""
    roots = {}
    for username in {u for users in LACKING.values() for u in users} | set(OUT_OF_SCOPE.values()):
        roots[username] = rx.State()
        (await roots[username].get_state(SessionState)).sid, _ = auth.login(username, PASSWORD)
    for handler, (args_for, expect) in sorted(CASES.items()):
        await _check(handler, args_for(world), expect, roots)
    admin = await roots["sys_o"].get_state(AdminState)
    await admin.load()
    assert [u["username"] for u in admin.users] == ["sys_o"]  # the filtered list is not empty by accident
