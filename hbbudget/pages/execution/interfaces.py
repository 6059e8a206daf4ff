"""接口状态 (system admin, admin.settings): the bank accounts polled from the gateway (HBB_BANK_URL) and every
sync run: account, start, end, result, new rows, duplicates, pending rows that booked (转记账), error, whether the
statement reconciles. 立即同步 polls one account now (one attempt, recorded as a manual run). No business amounts
are shown (三员分立)."""

from __future__ import annotations

import asyncio

import reflex as rx

from components.table import pager, row_table
from hbbudget import routes
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.execution.bank import poll, status
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state import args
from state.exec_feed import bump_soon
from state.guard import guarded
from state.paging import paging

PERMISSION = status.PERMISSION
PAGE_SIZE = 30
RESULT_COLORS = {"成功": "green", "失败": "red", "运行中": "blue", "从未同步": "gray"}


class InterfacesState(rx.State):
    accounts: list[dict[str, str]] = []
    runs: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    account_filter: str = "0"
    gateway: str = ""
    _account_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        accounts = await asyncio.to_thread(status.accounts, ctx)
        self._account_ids = [a["id"] for a in accounts]
        self.accounts = [{**{k: str(v) for k, v in a.items()}, "active": "启用" if a["active"] else "停用"}
                         for a in accounts]
        rows, self.total = await asyncio.to_thread(status.runs, ctx, int(self.account_filter), self.offset,
                                                   PAGE_SIZE)
        self.runs = [{k: str(v) for k, v in r.items()} for r in rows]

    def _account(self, value: object) -> int:
        return args.offered_id(value, self._account_ids, "账户", "该账户不在列表中")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        settings = get_settings()
        self.gateway = f"银行网关 {settings.bank_url}，每 {settings.bank_poll_seconds} 秒轮询一次，失败按 2、4 秒退避重试"
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def choose_account(self, ctx: UserContext, account_id: str):
        self.account_filter = "0" if account_id in ("0", "") else str(self._account(account_id))
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def sync_now(self, ctx: UserContext, account_id: str):
        aid = self._account(account_id)
        result = await asyncio.to_thread(poll.sync_now, ctx, aid)
        if result["changed"]:
            bump_soon()
        self.offset = 0
        await self._refresh(ctx)
        if result["result"] != "成功":
            return rx.toast.error(f"同步失败：{result['error']}")
        return rx.toast.success(f"同步完成：新增 {result['new_rows']} 笔")

    next_page, prev_page = paging("InterfacesState", PERMISSION, PAGE_SIZE)


S = InterfacesState


def _badge(result: rx.Var) -> rx.Component:
    return rx.badge(result, color_scheme=rx.match(result, *RESULT_COLORS.items(), "gray"), variant="soft")


@app_page(routes.INTERFACES, "接口状态", PERMISSION, menu="plug", on_load=InterfacesState.load)
def interfaces_page() -> rx.Component:
    return rx.vstack(
        rx.text(S.gateway, size="2", color_scheme="gray"),
        row_table(("账户", "账号", "单位", "格式", "状态", "最近同步", "结果", ""), S.accounts, lambda a: rx.table.row(
                rx.table.cell(a["name"]), rx.table.cell(a["number"]), rx.table.cell(a["org_name"]),
                rx.table.cell(a["format"]), rx.table.cell(a["active"]), rx.table.cell(a["last_run"]),
                rx.table.cell(_badge(a["last_result"])),
                rx.table.cell(rx.button("立即同步", size="1", on_click=S.sync_now(a["id"]),
                                        id="sync-" + a["id"])),
            ), "interface-accounts"),
        rx.hstack(rx.text("同步记录", weight="bold"), rx.select.root(rx.select.trigger(), rx.select.content(
            rx.select.item("全部账户", value="0"),
            rx.foreach(S.accounts, lambda a: rx.select.item(a["name"], value=a["id"]))),
            value=S.account_filter, on_change=S.choose_account), align="center", spacing="3"),
        row_table(("#", "账户", "开始", "结束", "方式", "结果", "新增", "重复", "转记账", "对账",
                                            "错误"), S.runs, lambda r: rx.table.row(
                rx.table.cell(r["id"]), rx.table.cell(r["account"]), rx.table.cell(r["started_at"]),
                rx.table.cell(r["finished_at"]), rx.table.cell(r["trigger"]), rx.table.cell(_badge(r["result"])),
                rx.table.cell(r["new_rows"]), rx.table.cell(r["duplicates"]), rx.table.cell(r["promoted"]),
                rx.table.cell(r["reconciles"]),
                rx.table.cell(r["error"]),
            ), "interface-runs"),
        pager(S.page_label, S.prev_page, S.next_page),
        spacing="4", width="100%",
    )
