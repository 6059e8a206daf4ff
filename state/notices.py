"""Toasts without eval (CSP without 'unsafe-eval').

Reflex sends a server-returned `rx.toast.*` as a `_call_function` whose JavaScript state.js runs with `eval`.
Here a toast is a notice in `NoticeState`, sent in the same delta as the event's other changes, and shown by
`notice_toaster()` (an app wrap: it lives across navigation, next to the sonner toaster Reflex mounts) with
the sonner `toast` function itself. A notice returned together with a redirect is in the state before the
redirect is applied, so it is shown on the new page too.

`rx.toast.error/success/warning/info` still return an EventSpec (its text shows in `str()`, unit tests read
it), marked as a `Notice`; `chain_updates` (where Reflex turns a handler's return into delta + events) moves
the notices of a locked event into the state. Where no state lock is held (the backend exception handler) a
notice is relayed through `NoticeState.relay`, a backend event that carries only a server-side key.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import uuid
from typing import Any

import reflex as rx
from reflex_base.components.memo import memo
from reflex_base.event import EventSpec
from reflex_base.event.processor import base_state_processor
from reflex_base.utils.imports import ImportVar
from reflex_base.vars import VarData
from reflex_base.vars.base import Var
from reflex_components_sonner.toast import Toaster, ToastNamespace

KEEP = 5  # notices kept in the state (the browser shows each once)
_PENDING: dict[str, tuple[float, dict[str, str]]] = {}  # relay key -> (time, notice); taken within seconds
_counter = itertools.count()


@dataclasses.dataclass(init=False, frozen=True)
class Notice(EventSpec):
    """A toast EventSpec that also says what it shows."""

    kind: str = "info"
    text: str = ""


def _notice(kind: str, make) -> Any:
    def toast(message: Any = "", **kwargs: Any) -> EventSpec:
        spec = make(message, **kwargs)
        if not isinstance(message, str):  # a Var (a toast bound in a page): the browser runs it, no eval
            return spec
        notice = Notice(spec.handler, spec.event_actions, spec.client_handler_name, spec.args)
        object.__setattr__(notice, "kind", kind)
        object.__setattr__(notice, "text", message)
        return notice

    return staticmethod(toast)


ToastNamespace.info = _notice("info", Toaster.toast_info)
ToastNamespace.success = _notice("success", Toaster.toast_success)
ToastNamespace.warning = _notice("warning", Toaster.toast_warning)
ToastNamespace.error = _notice("error", Toaster.toast_error)


def _item(notice: Notice) -> dict[str, str]:
    return {"id": f"{uuid.uuid4().hex[:12]}{next(_counter)}", "kind": notice.kind, "text": notice.text}


class NoticeState(rx.State):
    """The last notices of this client, newest last: {id, kind (error/success/warning/info), text}."""

    notices: list[dict[str, str]] = []

    def _add(self, items: list[dict[str, str]]) -> None:
        self.notices = [*self.notices, *items][-KEEP:]

    @rx.event
    def relay(self, key: str):
        """Public: shows a notice the server queued under `key` (an unknown key does nothing; no text comes
        from the client)."""
        _forget_old()
        entry = _PENDING.pop(str(key)[:40], None)
        if entry is not None:
            self._add([entry[1]])


def _forget_old() -> None:
    now = time.monotonic()
    for key in [k for k, (at, _) in _PENDING.items() if now - at > 60]:  # never relayed (the client left)
        _PENDING.pop(key, None)


def _split(events: Any) -> tuple[Any, list[Notice]]:
    if isinstance(events, Notice):
        return None, [events]
    if isinstance(events, (list, tuple)):
        notices = [e for e in events if isinstance(e, Notice)]
        if notices:
            return [e for e in events if not isinstance(e, Notice)] or None, notices
    return events, []


_chain_updates = base_state_processor.chain_updates


async def chain_updates(events: Any, handler_name: str, root_state: Any = None) -> None:
    """Reflex's chain_updates, with the notices taken out of the events into NoticeState."""
    events, notices = _split(events)
    if notices:
        if root_state is not None:  # the state lock is held: the notices go out in this delta
            (await root_state.get_state(NoticeState))._add([_item(n) for n in notices])
        else:
            _forget_old()
            relays = []
            for notice in notices:
                key = uuid.uuid4().hex
                _PENDING[key] = (time.monotonic(), _item(notice))
                relays.append(NoticeState.relay(key))
            events = [*relays, *(events if isinstance(events, list) else [events] if events else [])]
    await _chain_updates(events, handler_name, root_state)


base_state_processor.chain_updates = chain_updates  # process_event and the exception handler look it up here

# Shows each new notice once per tab (the ids shown are kept in sessionStorage, so a reload does not repeat one).
_SHOW = """useEffect(() => {
  const toast = refs['__toast'];
  if (!toast) return;
  let shown = [];
  try { shown = JSON.parse(sessionStorage.getItem('hbb_notices_shown') || '[]'); } catch (e) { shown = []; }
  let added = false;
  for (const n of (%(notices)s || [])) {
    if (shown.includes(n.id)) continue;
    (toast[n.kind] || toast)(n.text);
    shown.push(n.id);
    added = true;
  }
  if (added) sessionStorage.setItem('hbb_notices_shown', JSON.stringify(shown.slice(-50)));
}, [%(notices)s]);"""


class NoticeToaster(rx.Fragment):
    """Wraps the app; shows NoticeState's new notices with the sonner toaster."""

    def add_hooks(self) -> list[Var | str]:
        notices = NoticeState.notices
        return [Var(_js_expr=_SHOW % {"notices": str(notices)}, _var_data=VarData.merge(
            notices._get_all_var_data(),
            VarData(imports={"react": [ImportVar(tag="useEffect")], "$/utils/state": [ImportVar(tag="refs")]})))]


def _notice_shower() -> rx.Component:
    return NoticeToaster.create()


def notice_toaster(stateful: bool) -> rx.Component | None:
    """An app wrap (rx.App(extra_app_wraps=...)); memoized, so that its hook renders below the StateProvider
    (as Reflex's own overlay does)."""
    return rx.Fragment.create(memo(_notice_shower)()) if stateful else None
