"""消息: my notifications, newest first, one page at a time; opening one marks it read."""

import asyncio

import reflex as rx

from components.table import pager
from hbbudget import routes
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.core import notifications
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.paging import paging
from state.session import SessionState

PAGE_SIZE = 20


def _safe_link(link: str) -> str:
    """Only in-app paths: a notification never sends the browser elsewhere."""
    link = str(link or "")
    return link if link.startswith("/") and not link.startswith("//") else ""


class NotificationsState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    unread_only: bool = False
    _links: dict[int, str] = {}

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(notifications.list_notifications, ctx, self.unread_only,
                                                   self.offset, PAGE_SIZE)
        self._links = {r["id"]: _safe_link(r.get("link", "")) for r in rows}
        self.rows = [{"id": str(r["id"]), "title": str(r["title"]), "body": str(r.get("body", "")),
                      "created_at": str(r.get("created_at", "")), "read": "1" if r.get("read") else "",
                      "link": self._links[r["id"]]} for r in rows]
        session = await self.get_state(SessionState)
        session.unread = await asyncio.to_thread(notifications.unread_count, ctx)

    @rx.event
    @guarded(None)
    async def load(self, ctx: UserContext):
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded(None)
    async def toggle_unread(self, ctx: UserContext, value: bool):
        if not isinstance(value, bool):
            raise ValidationError("参数无效")
        self.unread_only, self.offset = value, 0
        await self._refresh(ctx)

    @rx.event
    @guarded(None)
    async def open(self, ctx: UserContext, notification_id: str):
        nid = args.offered_id(notification_id, self._links, "通知编号", "通知不存在")
        await asyncio.to_thread(notifications.mark_read, ctx, [nid])
        link = self._links[nid]
        if link:
            return rx.redirect(link)
        await self._refresh(ctx)

    @rx.event
    @guarded(None)
    async def mark_all(self, ctx: UserContext):
        count = await asyncio.to_thread(notifications.mark_read, ctx, None)
        await self._refresh(ctx)
        return rx.toast.success(f"已将 {count} 条消息标为已读")

    next_page, prev_page = paging("NotificationsState", None, PAGE_SIZE)


S = NotificationsState


@app_page(routes.NOTIFICATIONS, "消息", None, menu="bell", on_load=NotificationsState.load)
def notifications_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.checkbox("只看未读", checked=S.unread_only, on_change=S.toggle_unread),
            rx.button("全部标为已读", variant="soft", size="1", on_click=S.mark_all, id="mark-all-read"),
            spacing="4", align="center",
        ),
        rx.vstack(rx.foreach(S.rows, lambda n: rx.card(
            rx.hstack(
                rx.cond(n["read"] == "1", rx.icon("mail-open", size=16, color=rx.color("gray", 9)),
                        rx.icon("mail", size=16, color=rx.color("accent", 9))),
                rx.vstack(
                    rx.text(n["title"], weight=rx.cond(n["read"] == "1", "regular", "bold")),
                    rx.text(n["body"], size="2", color_scheme="gray"),
                    spacing="1",
                ),
                rx.spacer(),
                rx.text(n["created_at"], size="1", color_scheme="gray"),
                rx.button(rx.cond(n["link"] != "", "查看", "标为已读"), size="1", variant="soft",
                          on_click=S.open(n["id"])),
                align="center", width="100%", spacing="3",
            ),
            width="100%",
        )), spacing="2", width="100%", id="notifications-list"),
        pager(S.page_label, S.prev_page, S.next_page),
        spacing="3", width="100%",
    )
