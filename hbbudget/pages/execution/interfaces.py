"""接口状态 (system admin, admin.settings): the bank accounts polled from the gateway (HBB_BANK_URL) and every
sync run: account, start, end, result, new rows, duplicates, pending rows that booked (转记账), error, whether the
statement reconciles. 立即同步 polls one account now (one attempt, recorded as a manual run). No business amounts
are shown (三员分立)."""

from __future__ import annotations

import asyncio

import reflex as rx

from components.table import pager, row_table
from hbbudget import clock, routes
from hbbudget.pages import display
from hbbudget.pages.approvals.oa_status import OaStatusState, oa_panel
from hbbudget.pages.shell.base import app_page
from hbbudget.services.execution.bank import poll, status
from hbbudget.services.integrations import fincloud
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state import args
from state.exec_feed import bump_soon
from state.guard import guarded
from state.paging import paging

PERMISSION = status.PERMISSION
PAGE_SIZE = 30
RESULT_COLORS = {"成功": "green", "失败": "red", "运行中": "blue", "从未同步": "gray", "无变化": "gray"}


class InterfacesState(rx.State):
    accounts: list[dict[str, str]] = []
    runs: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    account_filter: str = "0"
    gateway: str = ""
    _account_ids: list[int] = []
    fincloud_runs: list[dict[str, str]] = []  # 财政云 exchange (issue 16): a root system admin only

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
        found = await asyncio.to_thread(fincloud.runs, ctx)
        self.fincloud_runs = [{**{k: str(v) for k, v in r.items() if k != "rejections"},
                               "reasons": "；".join(f"{x['agency']} {x['project']} {x['econ']}：{x['reason']}"
                                                   for x in r["rejections"][:5])} for r in found]

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

    @rx.event
    @guarded(PERMISSION)
    async def export_fincloud(self, ctx: UserContext):
        run = await asyncio.to_thread(fincloud.export_now, ctx, clock.today().year)
        await self._refresh(ctx)
        if run["result"] == "失败":
            return rx.toast.error(f"财政云导出失败：{run['error']}")
        return rx.toast.success(f"财政云导出{run['result']}：发送 {run['records']} 条，接收 {run['accepted']} 条，"
                                f"拒收 {run['rejected']} 条")

    next_page, prev_page = paging("InterfacesState", PERMISSION, PAGE_SIZE)


S = InterfacesState


def _badge(result: rx.Var) -> rx.Component:
    return rx.badge(result, color_scheme=rx.match(result, *RESULT_COLORS.items(), "gray"), variant="soft")


def _fincloud_runs() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text("财政云交换记录", weight="bold"),
                  rx.button("立即导出本年度预算", size="1", variant="soft", on_click=S.export_fincloud,
                            id="fincloud-export"), align="center", spacing="3"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("#", "年度", "批次", "开始", "方式", "结果", "发送", "接收", "拒收", "重复页",
                                            "错误/拒收原因")])),
            rx.table.body(rx.foreach(S.fincloud_runs, lambda r: rx.table.row(
                rx.table.cell(r["id"]), rx.table.cell(r["year"]), rx.table.cell(r["batch_id"]),
                rx.table.cell(r["started_at"]), rx.table.cell(r["trigger"]), rx.table.cell(_badge(r["result"])),
                rx.table.cell(r["records"]), rx.table.cell(r["accepted"]), rx.table.cell(r["rejected"]),
                rx.table.cell(r["duplicate_pages"]), rx.table.cell(r["error"], " ", r["reasons"]),
            ))),
            variant="surface", size="1", width="100%", id="fincloud-runs"),
        spacing="2", width="100%")


@app_page(routes.INTERFACES, "接口状态", PERMISSION, menu="plug", on_load=[InterfacesState.load, OaStatusState.load])
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
        rx.cond(S.fincloud_runs.length() > 0, _fincloud_runs()),
        oa_panel(),
        spacing="4", width="100%",
    )
