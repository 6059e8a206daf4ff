"""反馈处理 (系统管理员 at the root, admin.settings): the open tickets, overdue (past 48 hours without a reply)
in red; reply (reaches the user's bell), close with a resolution, optionally as a new FAQ entry."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.operations import tickets
from hbbudget.services.operations.faq_seed import CATEGORIES as FAQ_CATEGORIES
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = tickets.PERMISSION


class TicketsState(rx.State):
    rows: list[dict[str, str]] = []
    overdue: int = 0
    version: int = 0
    _offered: list[int] = []

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(tickets.queue, ctx)
        self._offered = [r["id"] for r in rows]
        self.rows = [{**{k: str(v) for k, v in r.items()}, "overdue": "1" if r["overdue"] else "",
                      "screenshot": "1" if r["screenshot"] else ""} for r in rows]
        self.overdue = sum(1 for r in rows if r["overdue"])

    def _ticket(self, value: object) -> int:
        return args.offered_id(value, self._offered, "反馈", "该反馈不在列表中")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def reply(self, ctx: UserContext, form_data: dict):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        data = args.form(form_data)
        tid = self._ticket(data.get("ticket_id"))
        await asyncio.to_thread(tickets.reply, ctx, tid, args.field(data, "text", "回复", 2000, required=True))
        self.version += 1
        await self._refresh(ctx)
        return rx.toast.success("已回复，用户会在消息中看到")

    @rx.event
    @guarded(PERMISSION)
    async def close(self, ctx: UserContext, form_data: dict):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        data = args.form(form_data)
        tid = self._ticket(data.get("ticket_id"))
        category = str(data.get("faq_category", "") or "")
        category = "" if category in ("", "不转") else args.as_choice(category, FAQ_CATEGORIES, "知识库分类")
        await asyncio.to_thread(tickets.close, ctx, tid, args.field(data, "resolution", "处理结果", 2000,
                                                                     required=True), category)
        self.version += 1
        await self._refresh(ctx)
        return rx.toast.success("已关闭" + ("，并已加入知识库" if category else ""))

    @rx.event
    @guarded(PERMISSION)
    async def screenshot(self, ctx: UserContext, ticket_id: str):
        await asyncio.to_thread(scope.require_global, ctx, PERMISSION)
        name, data = await asyncio.to_thread(tickets.screenshot, ctx, self._ticket(ticket_id))
        return rx.download(data=data, filename=name)


S = TicketsState


def _ticket(r: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.badge(r["status"]), rx.text("#", r["id"], " ", r["category"], weight="bold"),
                  rx.text(r["user"], " · ", r["page"], " · ", r["created"], size="1", color_scheme="gray"),
                  rx.cond(r["overdue"] == "1", rx.badge("已超 48 小时", color_scheme="red", variant="solid"),
                          rx.text("须在 ", r["due"], " 前回复", size="1")),
                  rx.cond(r["screenshot"] == "1", rx.button("截图", size="1", variant="ghost",
                                                            on_click=S.screenshot(r["id"]))),
                  align="center", wrap="wrap"),
        rx.text(r["text"], size="2", white_space="pre-wrap"),
        rx.cond(r["reply"] != "", rx.text("已回复（", r["replied_by"], "）：", r["reply"], size="2", color_scheme="blue")),
        rx.form(rx.hstack(rx.input(type="hidden", name="ticket_id", value=r["id"]),
                          rx.input(name="text", placeholder="回复内容", width="28em"),
                          rx.button("回复", size="1", type="submit"), align="center"), on_submit=S.reply),
        rx.form(rx.hstack(rx.input(type="hidden", name="ticket_id", value=r["id"]),
                          rx.input(name="resolution", placeholder="处理结果", width="22em"),
                          rx.select.root(rx.select.trigger(), rx.select.content(
                              rx.select.item("不转知识库", value="不转"),
                              *[rx.select.item(f"转为知识库：{c}", value=c) for c in FAQ_CATEGORIES]),
                              name="faq_category", default_value="不转"),
                          rx.button("关闭", size="1", type="submit", color_scheme="green"), align="center"),
                on_submit=S.close),
        spacing="2", align="start"),
        width="100%", border=rx.cond(r["overdue"] == "1", "2px solid var(--red-9)", "none"))


@app_page(routes.TICKETS, "反馈处理", "admin.settings", menu="message-square-warning", on_load=TicketsState.load)
def tickets_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.overdue > 0, rx.callout(rx.text(S.overdue, " 条反馈已超过 48 小时未回复"), color_scheme="red",
                                          icon="triangle-alert", id="tickets-overdue")),
        rx.vstack(rx.foreach(S.rows, _ticket), width="100%", id="tickets-list", key=S.version),
        rx.cond(S.rows.length() == 0, rx.text("没有待处理的反馈。", color_scheme="gray")),
        spacing="4", width="100%",
    )
