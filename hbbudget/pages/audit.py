"""审计日志: read-only, filtered, with a check of the hash chain (audit admin only)."""

import asyncio

import reflex as rx

from components.table import data_table, pager
from hbbudget import routes
from hbbudget.db import session_scope
from hbbudget.services import audit
from hbbudget.services.permissions import UserContext
from state.guard import guarded

from .base import app_page

PAGE_SIZE = 50


def _verify_text() -> str:
    with session_scope() as session:
        result = audit.verify(session)
    if result.ok:
        return f"哈希链完整：已校验 {result.checked} 条记录"
    return f"哈希链已断裂：记录 id={result.broken_id}，{result.reason}"


class AuditState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    username: str = ""
    event_type: str = ""
    verify_result: str = ""

    async def _refresh(self) -> None:
        self.rows, self.total = await asyncio.to_thread(
            audit.list_entries, self.username, self.event_type, self.offset, PAGE_SIZE)

    @rx.var
    def page_label(self) -> str:
        if not self.total:
            return "无记录"
        return f"第 {self.offset + 1}–{min(self.offset + PAGE_SIZE, self.total)} 条，共 {self.total} 条"

    @rx.event
    @guarded("audit.view")
    async def load(self, ctx: UserContext):
        self.offset, self.verify_result = 0, ""
        await self._refresh()

    @rx.event
    @guarded("audit.view")
    async def filter(self, ctx: UserContext, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        self.username = str(data.get("username") or "").strip()[:64]
        event_type = str(data.get("event_type") or "")
        self.event_type = event_type if event_type in audit.EVENT_NAMES else ""
        self.offset = 0
        await self._refresh()

    @rx.event
    @guarded("audit.view")
    async def next_page(self, ctx: UserContext):
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
            await self._refresh()

    @rx.event
    @guarded("audit.view")
    async def prev_page(self, ctx: UserContext):
        if self.offset > 0:
            self.offset = max(0, self.offset - PAGE_SIZE)
            await self._refresh()

    @rx.event
    @guarded("audit.view")
    async def verify_chain(self, ctx: UserContext):
        self.verify_result = await asyncio.to_thread(_verify_text)


@app_page(routes.AUDIT, "审计日志", on_load=AuditState.load)
def audit_page() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(name="username", placeholder="用户名", id="audit-user"),
                rx.select.root(
                    rx.select.trigger(placeholder="全部事件"),
                    rx.select.content(*[rx.select.item(name, value=code) for code, name in audit.EVENT_NAMES.items()]),
                    name="event_type",
                ),
                rx.button("筛选", type="submit"),
                rx.button("校验哈希链", type="button", variant="soft", on_click=AuditState.verify_chain),
                spacing="3",
            ),
            on_submit=AuditState.filter,
        ),
        rx.cond(AuditState.verify_result != "", rx.callout(AuditState.verify_result, id="verify-result")),
        data_table([("时间", "time"), ("用户", "username"), ("事件", "event"), ("结果", "result"),
                    ("对象", "object"), ("详情", "detail"), ("来源地址", "client")], AuditState.rows, "audit-table"),
        pager(AuditState.page_label, AuditState.prev_page, AuditState.next_page),
        spacing="3",
        width="100%",
    )
