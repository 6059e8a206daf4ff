"""The bell in the shell header: the count of unread notifications, refreshed when a page opens
(the shell's heartbeat refreshes it too, without counting as activity)."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget.services.core import notifications
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded
from state.session import SessionState


class BellState(rx.State):
    @rx.event
    @guarded(None, during_password_change=True)
    async def refresh(self, ctx: UserContext):
        session = await self.get_state(SessionState)
        unread = await asyncio.to_thread(notifications.unread_count, ctx)
        if unread != session.unread:
            session.unread = unread
