"""Issue 12: the guard resolves the user from a per-session cache checked against the access version (one indexed
read per event), and a change of role, grant, permission or account still applies at the very next event."""

from __future__ import annotations

import pytest
import reflex as rx
from sqlalchemy import event
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import get_engine, session_scope
from hbbudget.models import Role, User, UserRole
from hbbudget.pages.execution.monitor import MonitorState
from hbbudget.services.security import auth, grants, roles
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user


@pytest.fixture
def world(db):
    tree = make_tree()
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("sec", "sec_admin", tree["prov"])
    make_user("sys", "sys_admin", tree["prov"])
    return tree


async def _monitor(username: str) -> MonitorState:
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login(username, PASSWORD)
    return await root.get_state(MonitorState)


@pytest.fixture
def statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_cached_session_costs_one_query(world, statements):
    token, _ = auth.login("kuaiji", PASSWORD)
    first = auth.resolve(token)
    statements.clear()
    hits = auth.stats["hits"]
    again = auth.resolve(token, "10.0.0.9")
    assert auth.stats["hits"] == hits + 1 and len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert again.user_id == first.user_id and again.permissions == first.permissions and again.client_addr == "10.0.0.9"


async def test_a_role_permission_removed_refuses_the_next_event(world):
    monitor = await _monitor("kuaiji")
    assert await monitor.load() is None and monitor.cards
    with session_scope() as session:
        role_id = session.exec(select(Role.id).where(Role.code == "accountant")).one()
    roles.set_permission(auth.login("sec", PASSWORD)[1], role_id, "dashboard.view", False)
    assert "没有权限" in str(await monitor.load())


async def test_a_revoked_grant_and_a_disabled_account_apply_at_the_next_event(world):
    monitor = await _monitor("kuaiji")
    assert await monitor.load() is None
    with session_scope() as session:
        uid = session.exec(select(User.id).where(User.username == "kuaiji")).one()
        grant_id = session.exec(select(UserRole.id).where(UserRole.user_id == uid)).one()
    grants.revoke(auth.login("sec", PASSWORD)[1], grant_id)
    assert "没有权限" in str(await monitor.load())
    make_user("kuaiji2", "accountant", world["unit"])
    other = await _monitor("kuaiji2")
    assert await other.load() is None
    with session_scope() as session:  # written directly, as any code path might: the flush hook bumps the version
        user = session.exec(select(User).where(User.username == "kuaiji2")).one()
        user.active = False
        session.add(user)
    await other.load()
    session_state = await other.get_state(SessionState)
    assert session_state.sid == "" and not session_state.signed_in  # signed out by the guard, sent to the login


def test_a_login_elsewhere_does_not_invalidate_every_cached_session(world):
    token, _ = auth.login("kuaiji", PASSWORD)
    auth.resolve(token)
    auth.login("sys", PASSWORD)  # writes last_login_at: login bookkeeping, not an access change
    hits = auth.stats["hits"]
    auth.resolve(token)
    assert auth.stats["hits"] == hits + 1
