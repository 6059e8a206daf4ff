"""Next/previous page handlers for a state with `offset`, `total` and `async _refresh(ctx)`.

Each click re-reads the page through the service (at the first or last page the same one), so the service's
permission check runs on every call; when it refuses, the offset stays where it was."""

from __future__ import annotations

import reflex as rx

from hbbudget.services.security.permissions import UserContext
from state.guard import guarded


def paging(owner: str, permission: str | None, page_size: int) -> tuple:
    """`next_page, prev_page = paging("MatchingState", PERMISSION, PAGE_SIZE)` in the state's class body."""

    async def _move(self, ctx: UserContext, offset: int):
        before, self.offset = self.offset, offset
        try:
            await self._refresh(ctx)
        except Exception:
            self.offset = before
            raise

    async def next_page(self, ctx: UserContext):
        await _move(self, ctx, self.offset + page_size if self.offset + page_size < self.total else self.offset)

    async def prev_page(self, ctx: UserContext):
        await _move(self, ctx, max(0, self.offset - page_size))

    handlers = []
    for fn in (next_page, prev_page):
        fn.__qualname__ = f"{owner}.{fn.__name__}"  # names the action in audit entries
        handlers.append(rx.event(guarded(permission)(fn)))
    return tuple(handlers)
