"""Live execution updates: a shared counter pages link to, and the open-alert count in the shell header.

How a newly booked payment reaches an open page (no reload, no polling): the scheduler's bank poll ingests it
and calls `bump()` (registered with jobs.ON_EXECUTION_CHANGE by `install`), which increments `ExecFeed.version`
through `app.modify_state` on the shared token; Reflex sends the change to every linked client and
re-evaluates, per client, the computed vars that read the feed (the header count here, the dashboard's figures
in pages/execution/monitor.py, 领导驾驶舱). No computed var reads the feed: each live element holds a hidden box in a
fragment keyed by `ExecFeed.version`; the bump remounts it and its on_mount event refreshes that client's plain
vars once per version (issue 12: computed vars reading a linked shared state are re-run at every event of every
linked client). The aggregates come from services.exec_facts, computed once per data version however many
clients watch.

The feed holds only a number: never per-user data."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex_base.utils.exceptions import ReflexRuntimeError

from hbbudget import jobs
from hbbudget.services.execution import alerts
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded

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


class AlertBadgeState(rx.State):
    """The 未处理预警 count beside the bell (users with execution.view only): a plain var, read on mount and again
    when the feed version moves (a fragment keyed by it remounts the box that calls `refresh`), never on the
    events of other pages."""

    count: int = 0
    _seen: int = -1  # the feed version the count was read at
    _uid: int = 0  # who it was read for: another sign-in in this tab reads it again

    @rx.event
    @guarded(None, during_password_change=True, quiet=True)
    async def refresh(self, ctx: UserContext):
        """on_mount of the header badge (and at each feed version): link to the feed and read the count."""
        if not ctx.scope_paths("execution.view"):
            self._seen, self._uid = -1, ctx.user_id
            if self.count:
                self.count = 0
            return
        version = (await self.get_state(ExecFeed)).version
        if self._seen == -1 or self._uid != ctx.user_id:
            await link(self)
        elif version == self._seen:
            return
        self._seen, self._uid = version, ctx.user_id
        count = await asyncio.to_thread(alerts.open_count, ctx)
        if count != self.count:
            self.count = count
