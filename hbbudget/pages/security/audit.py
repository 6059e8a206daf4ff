"""审计日志 (审计管理员): read-only; filter, export to xlsx, check the hash chain."""

import asyncio

import reflex as rx

from components.forms import field, fixed_select, text_input
from components.table import data_table, pager
from hbbudget import routes
from hbbudget.clock import now, to_local_text
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.security import auditlog
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded
from state.paging import paging

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_FILTER = {"actor": "", "username": "", "event_type": "", "date_from": "", "date_to": "", "object": "", "result": ""}


class AuditState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    filters: dict[str, str] = NO_FILTER
    verify_result: str = ""

    async def _refresh(self, ctx: UserContext, filters: dict[str, str] | None = None, offset: int | None = None) -> None:
        """The page at `offset` (default: the current one) under `filters` (default: the current ones)."""
        filters = dict(self.filters) if filters is None else filters
        offset = self.offset if offset is None else offset
        rows, total = await asyncio.to_thread(auditlog.search, ctx, filters, offset, PAGE_SIZE)
        self.rows, self.total, self.filters, self.offset = rows, total, filters, offset

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    @rx.event
    @guarded("audit.view")
    async def load(self, ctx: UserContext):
        await self._refresh(ctx, dict(NO_FILTER), 0)
        self.verify_result = ""

    @rx.event
    @guarded("audit.view")
    async def filter(self, ctx: UserContext, form_data: dict):
        await self._refresh(ctx, auditlog.clean_filters(form_data), 0)

    next_page, prev_page = paging("AuditState", "audit.view", PAGE_SIZE)

    @rx.event
    @guarded("audit.view")
    async def verify_chain(self, ctx: UserContext):
        self.verify_result = await asyncio.to_thread(auditlog.verify_text, ctx)

    @rx.event
    @guarded("audit.export")
    async def export(self, ctx: UserContext):
        data, count = await asyncio.to_thread(auditlog.export_xlsx, ctx, auditlog.clean_filters(dict(self.filters)))
        stamp = to_local_text(now(), seconds=True).replace(" ", "_").replace(":", "")
        return [rx.download(data=data, filename=f"audit_{stamp}.xlsx", mime_type=XLSX),
                rx.toast.success(f"已导出 {count} 条记录")]


@app_page(routes.AUDIT, "审计日志", "audit.view", menu="file-search", on_load=AuditState.load)
def audit_page() -> rx.Component:
    events = [(code, name) for code, name in auditlog.event_options()]
    return rx.vstack(
        rx.form(
            rx.hstack(
                text_input("username", "用户名", width="9em", element_id="audit-user"),
                fixed_select("event_type", "事件", events, element_id="audit-event", width="11em"),
                field("开始日期", rx.input(name="date_from", type="date", id="audit-from")),
                field("结束日期", rx.input(name="date_to", type="date", id="audit-to")),
                text_input("object", "对象（如 用户 12）", width="9em", element_id="audit-object"),
                fixed_select("result", "结果", [("success", "成功"), ("failure", "失败")], element_id="audit-result",
                             width="6em"),
                fixed_select("actor", "操作方", list(auditlog.ACTORS.items()), element_id="audit-actor", width="9em"),
                rx.button("筛选", type="submit", id="audit-filter"),
                rx.button("重置", type="reset", variant="soft", on_click=AuditState.load),
                align="end", spacing="3", wrap="wrap",
            ),
            on_submit=AuditState.filter,
        ),
        rx.hstack(
            rx.button("导出 Excel", variant="soft", on_click=AuditState.export, id="audit-export"),
            rx.button("校验哈希链", variant="soft", on_click=AuditState.verify_chain, id="audit-verify"),
            spacing="3",
        ),
        rx.cond(AuditState.verify_result != "", rx.callout(AuditState.verify_result, id="verify-result")),
        data_table([("时间", "time"), ("用户", "username"), ("事件", "event"), ("结果", "result"),
                    ("对象", "object"), ("详情", "detail"), ("来源地址", "client")], AuditState.rows, "audit-table"),
        pager(AuditState.page_label, AuditState.prev_page, AuditState.next_page),
        spacing="3",
        width="100%",
    )
