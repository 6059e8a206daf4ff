"""Every event handler is guarded or on a short public list; guarded handlers refuse crafted calls."""

import inspect

import pytest
import reflex as rx
from reflex.state import BaseState
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry
from hbbudget.pages.core.subjects import SubjectsState
from hbbudget.pages.security.audit import AuditState
from hbbudget.pages.security.users import AdminState
from hbbudget.pages.shell.notifications import NotificationsState
from hbbudget.services.core import setup
from hbbudget.services.errors import NotOffered
from hbbudget.services.events import EVENT_NAMES
from hbbudget.services.security import auth
from state.guard import GUARD_ATTR, guarded
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user

# Handlers a signed-out browser must be able to call; each validates its own input.
# login/logout: HTTP (hbbudget/web.py); relay shows a notice the server queued under a key (state/notices.py)
PUBLIC = {("SessionState", "open_login"), ("SessionState", "heartbeat"), ("NoticeState", "relay")}
# Reflex's own handlers: hydration, on_load dispatch, client-storage sync, frontend error reports,
# and setvar, refused on every state (state.guard.refuse_setvar; tested below).
FRAMEWORK = {"setvar", "hydrate", "set_is_hydrated", "hydrate_and_load", "on_load_internal",
             "update_vars_internal", "handle_frontend_exception"}


def _states():
    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)
    return list(walk(BaseState))


def test_every_handler_is_guarded_or_explicitly_public():
    ours = [c for c in _states() if not c.__module__.startswith("reflex")]
    assert {c.__name__ for c in ours} >= {"SessionState", "SubjectsState", "AdminState", "AuditState"}
    unguarded = []
    for cls in _states():
        for name, handler in cls.event_handlers.items():
            if name in FRAMEWORK and cls.__module__.startswith("reflex") or name == "setvar":
                continue
            if name in FRAMEWORK and name in BaseState.event_handlers:
                continue  # inherited framework handler
            if getattr(handler.fn, GUARD_ATTR, None) is None and (cls.__name__, name) not in PUBLIC:
                unguarded.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert unguarded == []


def test_no_unguarded_setters_reachable_through_setvar():
    for cls in _states():
        if cls.__module__.startswith("reflex"):
            continue
        for var in set(cls.vars) - set(rx.State.vars):
            setter = getattr(cls, f"set_{var}", None)
            assert setter is None or getattr(getattr(setter, "fn", setter), GUARD_ATTR, None) is not None, \
                f"{cls.__name__}.set_{var} can be called through setvar without a guard"


def test_setvar_is_refused_on_every_state():
    from state.guard import _refuse_setvar

    states = _states() + [BaseState]
    assert len([c for c in states if not c.__module__.startswith("reflex")]) > 20
    handlers = [(c.__name__, c.event_handlers.get("setvar")) for c in states]
    assert len([h for _, h in handlers if h is not None]) > 20
    assert [name for name, h in handlers if h is not None and h.fn is not _refuse_setvar] == []


async def test_a_crafted_setvar_reaches_no_setter(people):
    from hbbudget.pages.core.orgs import OrgsState

    calls = []
    root = await _root_with("sys")
    orgs = await root.get_state(OrgsState)
    original = OrgsState.event_handlers["set_active"].fn
    object.__setattr__(OrgsState.event_handlers["set_active"], "fn",
                       lambda *a, **k: calls.append(a))  # would record a call reaching the setter
    try:
        result = await _call(orgs, "setvar", "active", True)
    finally:
        object.__setattr__(OrgsState.event_handlers["set_active"], "fn", original)
    assert calls == [] and "请求无效" in str(result)


async def _call(state, name: str, *args):
    """Run a handler as the event processor does: the handler's function with the state instance."""
    result = type(state).event_handlers[name].fn(state, *args)
    return await result if inspect.isawaitable(result) else result


@pytest.fixture
def people(db):
    setup.init_reference_data()
    tree = make_tree()
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("sys", "sys_admin", tree["city"])
    make_user("aud", "audit_admin", tree["prov"])
    return tree


async def _root_with(username: str | None):
    root = rx.State()
    session = await root.get_state(SessionState)
    if username:
        session.sid, _ = auth.login(username, PASSWORD)
    return root


def _denied(username: str, event_type: str = "permission.denied") -> list[AuditEntry]:
    with session_scope() as session:
        return session.exec(select(AuditEntry).where(AuditEntry.event_type == event_type,
                                                     AuditEntry.username == username)).all()


def _redirects_to(events, path: str) -> bool:
    events = events if isinstance(events, list) else [events]
    return any(path in str(e) for e in events)


async def test_signed_out_call_is_redirected_to_login(people):
    root = await _root_with(None)
    admin = await root.get_state(AdminState)
    result = await admin.load()
    assert _redirects_to(result, "/login") and admin.users == []
    assert "toast" not in str(result)  # a visitor without a session gets the login page, no red 请先登录 (item 13)


async def test_forged_token_is_refused(people):
    root = await _root_with(None)
    (await root.get_state(SessionState)).sid = "forged-" + "x" * 40
    audit_state = await root.get_state(AuditState)
    result = await audit_state.load()
    assert _redirects_to(result, "/login") and audit_state.rows == []
    assert "toast" in str(result)  # a token that is no session: the user is told why


async def test_crafted_call_without_permission_is_refused_and_audited(people):
    root = await _root_with("kuaiji")
    admin = await root.get_state(AdminState)
    result = await admin.load()
    assert "没有权限：用户管理" in str(result) and admin.users == []
    denied = _denied("kuaiji")
    assert len(denied) == 1 and denied[0].object_id == "AdminState.load" and not denied[0].success
    audit_state = await root.get_state(AuditState)
    await audit_state.verify_chain()
    assert audit_state.verify_result == "" and len(_denied("kuaiji")) == 2


async def test_a_request_naming_an_object_not_offered_is_refused_and_audited(people):
    async def pick(self, ctx, row_id: str):
        raise NotOffered("该行不在当前页，请刷新后重试")

    handler = guarded("subject.view")(pick)
    root = await _root_with("kuaiji")
    subjects = await root.get_state(SubjectsState)
    result = await handler(subjects, "42")
    assert "该行不在当前页，请刷新后重试" in str(result) and "error" in str(result)
    rejected = _denied("kuaiji", "request.rejected")
    assert len(rejected) == 1 and rejected[0].object_id == pick.__qualname__[:64] and not rejected[0].success
    assert rejected[0].object_type == "action" and "该行不在当前页" in rejected[0].detail
    assert _denied("kuaiji") == []  # not a permission refusal
    # a real page: a notification id the list never showed (someone else's, or none at all)
    notes = await root.get_state(NotificationsState)
    result = await notes.open("999")
    assert "通知不存在" in str(result)
    rejected = _denied("kuaiji", "request.rejected")
    assert len(rejected) == 2 and rejected[1].object_id == "NotificationsState.open"
    assert EVENT_NAMES["request.rejected"] == "请求对象不在页面范围内被拒绝"


async def test_system_admin_cannot_read_the_audit_log(people):
    root = await _root_with("sys")
    audit_state = await root.get_state(AuditState)
    await audit_state.load()
    assert audit_state.rows == [] and len(_denied("sys")) == 1
    admin = await root.get_state(AdminState)
    await admin.load()
    names = {u["username"] for u in admin.users}
    assert names == {"kuaiji", "sys"}  # its scope: the city subtree, not the province's auditor


async def test_audit_admin_reads_the_log(people):
    root = await _root_with("aud")
    audit_state = await root.get_state(AuditState)
    await audit_state.load()
    assert audit_state.total >= 1 and audit_state.rows[0]["event"] == "登录成功"
    await audit_state.verify_chain()
    assert audit_state.verify_result.startswith("哈希链完整")


async def test_bad_arguments_are_refused_in_chinese_without_change(people):
    root = await _root_with("kuaiji")
    subjects = await root.get_state(SubjectsState)
    await subjects.load()
    kind, rows = subjects.kind, list(subjects.rows)
    assert rows
    for call in (subjects.choose_kind("'; drop table user; --"), subjects.choose_year("20x6"),
                 subjects.choose_year(99999)):
        result = await call
        assert "无效" in str(result) or "未知" in str(result)
    assert subjects.kind == kind and subjects.rows == rows
    result = await subjects.choose_kind(kind="dept", extra="crafted")
    assert "请求参数无效" in str(result) and subjects.kind == kind


def test_guard_hides_the_context_parameter_from_clients():
    params = inspect.signature(SubjectsState.choose_kind.fn).parameters
    assert list(params) == ["self", "kind"]


async def test_heartbeat_ends_an_idle_session_without_touching_it(people):
    from datetime import timedelta

    from hbbudget.clock import now
    from hbbudget.models import LoginSession

    root = await _root_with("kuaiji")
    session_state = await root.get_state(SessionState)
    home = await root.get_state(AdminState)
    await home.load()  # any guarded event signs the shell in
    assert session_state.signed_in
    with session_scope() as session:
        row = session.exec(select(LoginSession)).one()
        row.last_seen_at = now() - timedelta(minutes=20)
        session.add(row)
    assert await session_state.heartbeat() is None and session_state.signed_in
    with session_scope() as session:
        row = session.exec(select(LoginSession)).one()
        assert now() - row.last_seen_at >= timedelta(minutes=20)
        row.last_seen_at = now() - timedelta(minutes=31)
        session.add(row)
    result = await session_state.heartbeat()
    assert "会话已超时" in str(result) and _redirects_to(result, "/login") and not session_state.signed_in
