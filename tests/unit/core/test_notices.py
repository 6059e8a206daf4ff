"""Toasts without eval (state/notices.py): through Reflex's own event processing, a returned rx.toast becomes a
notice in NoticeState's delta, never a `_call_function` event (which state.js would eval); a redirect next to it
still goes out; where no state lock is held the notice is relayed by a key, not by its text."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex_base.event.context import EventContext
from reflex_base.event.processor import base_state_processor

from state import guard, notices  # guard: setvar is refused on every state
from state.notices import NoticeState
from state.session import SessionState

NOTICES = NoticeState.get_full_name()
assert guard.refuse_setvar  # installed on import


class Client:
    """What Reflex would send to the browser (deltas, frontend events) and queue on the server."""

    def __init__(self):
        self.deltas, self.events, self.queued = [], [], []
        self.ctx = EventContext(token="t-notices", state_manager=None, enqueue_impl=self._enqueue,
                                emit_delta_impl=self._delta, emit_event_impl=self._event)

    async def _enqueue(self, token, *events):
        self.queued += events

    async def _delta(self, token, delta):
        self.deltas.append(delta)

    async def _event(self, token, *events):
        self.events += events

    def notices(self) -> list[dict]:
        found = [d[NOTICES]["notices" + "_rx_state_"] for d in self.deltas if NOTICES in d]
        return found[-1] if found else []


@pytest.fixture
def client():
    c = Client()
    EventContext.set(c.ctx)
    return c


def test_toast_is_a_notice_that_still_names_its_text():
    spec = rx.toast.error("没有权限：查看审计日志")
    assert isinstance(spec, notices.Notice) and spec.kind == "error" and "没有权限：查看审计日志" in str(spec)
    assert rx.toast.success("已保存").kind == "success"


async def test_refused_setvar_sends_its_toast_as_state_not_as_eval(client):
    root = rx.State()
    session = await root.get_state(SessionState)
    handler = type(session).event_handlers["setvar"]
    await base_state_processor.process_event(handler, {"var_name": "sid", "value": "x"}, session, root)
    assert [(n["kind"], n["text"]) for n in client.notices()] == [("error", "请求无效")]
    assert [e.name for e in client.events] == []  # no _call_function


async def test_a_notice_with_a_redirect_goes_out_in_the_same_delta(client):
    root = rx.State()
    await base_state_processor.chain_updates([rx.toast.error("会话已失效，请重新登录"), rx.redirect("/login")],
                                             "test", root)
    assert [n["text"] for n in client.notices()] == ["会话已失效，请重新登录"]
    assert [e.name for e in client.events] == ["_redirect"]


async def test_without_the_state_lock_a_notice_is_relayed_by_key(client):
    await base_state_processor.chain_updates(rx.toast.error("系统内部错误"), "backend_error", None)
    assert client.events == [] and len(client.queued) == 1
    relay = client.queued[0]
    assert relay.name.endswith("notice_state.relay") and "系统内部错误" not in str(relay.payload)
    root = rx.State()
    state = await root.get_state(NoticeState)
    await base_state_processor.process_event(NoticeState.event_handlers["relay"], relay.payload, state, root)
    assert [n["text"] for n in client.notices()] == ["系统内部错误"]
    # a key sent again (or made up) shows nothing
    client.deltas.clear()
    await base_state_processor.process_event(NoticeState.event_handlers["relay"], relay.payload, state, root)
    assert client.notices() == []


def test_old_notices_are_dropped():
    state = NoticeState()
    state._add([{"id": str(i), "kind": "info", "text": str(i)} for i in range(notices.KEEP + 3)])
    assert [n["id"] for n in state.notices] == [str(i) for i in range(3, notices.KEEP + 3)]
