"""Live execution updates: a shared counter pages link to, and the open-alert count in the shell header.

How a newly booked payment reaches an open page (no reload, no polling): the scheduler's bank poll ingests it
and calls `bump()` (registered with jobs.ON_EXECUTION_CHANGE by `install`), which increments `ExecFeed.version`
through `app.modify_state` on the shared token; Reflex sends the change to every linked client and
re-evaluates, per client, the computed vars that read the feed (the header count here, the dashboard's figures
in pages/monitor.py). Those vars resolve the user from the login session *without* counting as activity
(auth.resolve touch=False: an open dashboard does not defeat the idle timeout) and read the aggregates from
services.exec_facts, which computes them once per data version however many clients watch.

The feed holds only a number: never per-user data."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex_base.utils.exceptions import ReflexRuntimeError

from hbbudget import jobs
from hbbudget.services.errors import ServiceError
from hbbudget.services.execution import alerts
from hbbudget.services.security import auth
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded
from state.session import SessionState

log = logging.getLogger("hbbudget.feed")
FEED = "exec-feed"  # a link token may not contain "_"
_app: rx.App | None = None
_tasks: set[asyncio.Task] = set()


class ExecFeed(rx.SharedState):
    version: int = 0


async def link(state: rx.State) -> None:
    """Link the calling client to the shared feed (call from a guarded handler, after the auth check)."""
    feed = await state.get_state(ExecFeed)
    try:
        await feed._link_to(FEED)
    except ReflexRuntimeError:  # outside event processing (handler unit tests): the page works, just not live
        log.debug("feed not linked: no event context")


async def bump() -> None:
    """Tell every linked client that execution data changed."""
    if _app is None:
        return
    async with _app.modify_state(rx.BaseStateToken(ident=FEED, cls=ExecFeed)) as root:
        feed = await root.get_state(ExecFeed)
        feed.version += 1


def bump_soon() -> None:
    """From an event handler: bump after the handler returns (it may hold the feed's lock meanwhile)."""
    if _app is None:
        return
    task = asyncio.get_running_loop().create_task(bump())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class _FeedIsNoClient(logging.Filter):
    """`app.modify_state` on the shared token also tries to send the delta to that token as if it were a tab;
    Reflex logs a warning for it on every bump. The linked tabs get theirs; drop just this one message."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage().startswith("Attempting to send delta to disconnected client")
                    and repr(FEED) in record.getMessage())


def install(app: rx.App) -> None:
    """hbbudget.py: the scheduler's jobs bump the feed of this app."""
    global _app
    _app = app
    if bump not in jobs.ON_EXECUTION_CHANGE:
        jobs.ON_EXECUTION_CHANGE.append(bump)
        logging.getLogger("reflex.app").addFilter(_FeedIsNoClient())


async def quiet_context(state: rx.State) -> UserContext | None:
    """The signed-in user for a live refresh, without counting as activity; None when signed out."""
    session = await state.get_state(SessionState)
    sid = session.sid
    if not sid:
        return None
    try:
        return await asyncio.to_thread(auth.resolve, sid, "", False)
    except ServiceError:
        return None


class AlertBadgeState(rx.State):
    """The open execution-alert count beside the bell (users with execution.view only)."""

    _active: bool = False
    _uid: int = 0  # who the count is for (set by refresh): another sign-in in this tab recomputes it

    @rx.var
    async def count(self) -> int:
        feed = await self.get_state(ExecFeed)
        _ = feed.version  # dependency: recomputed for each linked client on every bump
        if not self._active:
            return 0
        ctx = await quiet_context(self)
        if ctx is None or ctx.user_id != self._uid:
            return 0
        try:
            return await asyncio.to_thread(alerts.open_count, ctx)
        except Exception:  # a live refresh never raises into the client
            log.exception("alert count failed")
            return 0

    @rx.event
    @guarded(None, during_password_change=True)
    async def refresh(self, ctx: UserContext):
        """on_mount of the header badge: link to the feed and show the count (0 without execution.view)."""
        if ctx.scope_paths("execution.view"):
            await link(self)
            self._uid, self._active = ctx.user_id, True
        elif self._active:
            self._active = False
