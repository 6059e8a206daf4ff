"""系统巡检 (系统管理员 at the root, admin.settings): every check green / amber / red with its value, and the
monthly 巡检 record the administrator signs (kept and listed; one per month)."""

from __future__ import annotations

import asyncio

import reflex as rx

from components.forms import text_input
from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.operations import health
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = health.PERMISSION
COLORS = {health.GREEN: "green", health.AMBER: "amber", health.RED: "red"}


class HealthState(rx.State):
    checks: list[dict[str, str]] = []
    records: list[dict[str, str]] = []
    overall: str = ""
    month: str = ""
    signed: bool = False
    version: int = 0

    async def _refresh(self, ctx: UserContext) -> None:
        data = await asyncio.to_thread(health.view, ctx)
        self.checks = [{"name": c.name, "level": c.level, "value": c.value, "detail": c.detail} for c in data["checks"]]
        self.records = [{k: str(v) for k, v in r.items()} for r in data["records"]]
        self.overall, self.month, self.signed = data["overall"], data["month"], data["signed"]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def sign_off(self, ctx: UserContext, form_data: dict):
        note = args.field(args.form(form_data), "note", "巡检说明", 500)
        record = await asyncio.to_thread(health.sign_off, ctx, note)
        await self._refresh(ctx)
        self.version += 1
        return rx.toast.success(f"{record.month} 巡检已签字（总体{record.overall}）")


S = HealthState


def _level(level: rx.Var) -> rx.Component:
    return rx.badge(level, color_scheme=rx.match(level, *COLORS.items(), "gray"), variant="solid")


@app_page(routes.HEALTH, "系统巡检", "admin.settings", menu="activity", on_load=HealthState.load)
def health_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text("总体："), _level(S.overall), rx.spacer(),
                  rx.button("刷新", variant="soft", on_click=S.load, id="health-refresh"), align="center", width="100%"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("检查项", "状态", "当前值", "说明")])),
            rx.table.body(rx.foreach(S.checks, lambda c: rx.table.row(
                rx.table.cell(c["name"]), rx.table.cell(_level(c["level"])), rx.table.cell(c["value"]),
                rx.table.cell(c["detail"])))),
            variant="surface", size="1", width="100%", id="health-checks"),
        rx.heading("月度巡检记录", size="3"),
        rx.cond(S.signed, rx.text(S.month, " 的巡检已签字。", size="2", color_scheme="green"),
                rx.form(rx.hstack(text_input("note", "巡检说明（有红色项目时必填）", width="32em", element_id="health-note"),
                                  rx.button("签字确认本月巡检", type="submit", id="health-sign"), align="end"),
                        on_submit=S.sign_off, key=S.version)),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("月份", "总体", "签字人", "签字时间", "说明", "当时各项")])),
            rx.table.body(rx.foreach(S.records, lambda r: rx.table.row(
                rx.table.cell(r["month"]), rx.table.cell(_level(r["overall"])), rx.table.cell(r["signed_by"]),
                rx.table.cell(r["signed_at"]), rx.table.cell(r["note"]), rx.table.cell(r["checks"])))),
            variant="surface", size="1", width="100%", id="health-records"),
        spacing="4", width="100%",
    )
