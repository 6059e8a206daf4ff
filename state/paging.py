"""Next/previous page handlers for a state with `offset`, `total` and `async _refresh(ctx)`."""

from __future__ import annotations

import reflex as rx

from hbbudget.services.security.permissions import UserContext
from state.guard import guarded


def paging(owner: str, permission: str | None, page_size: int) -> tuple:
    """`next_page, prev_page = paging("MatchingState", PERMISSION, PAGE_SIZE)` in the state's class body."""

    async def next_page(self, ctx: UserContext):
        if self.offset + page_size < self.total:
            self.offset += page_size
            await self._refresh(ctx)

    async def prev_page(self, ctx: UserContext):
        if self.offset > 0:
            self.offset = max(0, self.offset - page_size)
            await self._refresh(ctx)

    handlers = []
    for fn in (next_page, prev_page):
        fn.__qualname__ = f"{owner}.{fn.__name__}"  # names the action in audit entries
        handlers.append(rx.event(guarded(permission)(fn)))
    return tuple(handlers)
