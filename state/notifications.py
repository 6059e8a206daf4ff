"""The bell in the shell header: the count of unread notifications, refreshed when a page opens
(the shell's heartbeat refreshes it too, without counting as activity)."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget.services import notifications
from hbbudget.services.permissions import UserContext

from .guard import guarded
from .session import SessionState


class BellState(rx.State):
    @rx.event
    @guarded(None, during_password_change=True)
    async def refresh(self, ctx: UserContext):
        session = await self.get_state(SessionState)
        unread = await asyncio.to_thread(notifications.unread_count, ctx)
        if unread != session.unread:
            session.unread = unread
