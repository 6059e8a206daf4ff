"""The OA part of 接口状态: per connected unit the adapter, last poll, consecutive failures, the last error and
instances waiting, with 立即同步; and the form that connects a unit's OA (the secret is never shown back)."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.widgets import labelled, section
from hbbudget.services.approvals import oa
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = oa.PERMISSION


class OaStatusState(rx.State):
    rows: list[dict[str, str]] = []
    form_key: int = 0
    _org_ids: list[int] = []

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(oa.status_rows, ctx)
        self._org_ids = [r["org_id"] for r in rows]
        self.rows = [{**{k: str(v) for k, v in r.items()}, "active": "启用" if r["active"] else "停用"} for r in rows]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def sync_now(self, ctx: UserContext, org_id: str):
        oid = args.offered_id(org_id, self._org_ids, "单位", "该单位不在列表中")
        counts = await asyncio.to_thread(oa.sync_now, ctx, oid)
        await self._refresh(ctx)
        message = f"OA 同步：发起 {counts['created']} 个审批，处理 {counts['applied']} 个结果"
        return rx.toast.error(message + f"，失败 {counts['failed']} 次") if counts["failed"] else \
            rx.toast.success(message)

    @rx.event
    @guarded(PERMISSION)
    async def configure(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(
            oa.configure_code, ctx, args.field(data, "org_code", "单位编码", 32, required=True),
            args.field(data, "style", "OA 类型", 16), args.field(data, "base_url", "OA 地址", 200, required=True),
            args.field(data, "secret", "回调密钥", 128, required=True), data.get("active") in ("on", True, "true"))
        self.form_key += 1
        await self._refresh(ctx)
        return rx.toast.success("OA 对接已保存")


S = OaStatusState


def oa_panel() -> rx.Component:
    return section(
        "OA 审批对接",
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "单位", "类型", "地址", "状态", "最近轮询", "连续失败", "最近错误", "待结果", "")])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(r["org_name"]), rx.table.cell(r["style"]), rx.table.cell(r["base_url"]),
                rx.table.cell(r["active"]), rx.table.cell(r["last_poll"]), rx.table.cell(r["failures"]),
                rx.table.cell(r["last_error"]), rx.table.cell(r["waiting"]),
                rx.table.cell(rx.button("立即同步", size="1", on_click=S.sync_now(r["org_id"]),
                                        id="oa-sync-" + r["org_id"]))))),
            variant="surface", size="1", width="100%", id="oa-status"),
        rx.form(rx.hstack(
            labelled("单位编码", rx.input(name="org_code", max_length=32, width="9em")),
            labelled("类型", rx.select.root(rx.select.trigger(width="9em"), rx.select.content(
                *[rx.select.item(label, value=code) for code, label in oa.STYLES.items()]), name="style",
                default_value="wecom")),
            labelled("OA 地址", rx.input(name="base_url", max_length=200, width="16em")),
            labelled("回调密钥（至少 16 位）", rx.input(name="secret", type="password", max_length=128, width="14em")),
            rx.checkbox("启用", name="active", default_checked=True),
            rx.button("保存", type="submit", variant="soft"), style=tokens.TOOLBAR),
            on_submit=S.configure, reset_on_submit=True, key=S.form_key.to_string()),
        style=tokens.PANEL)
