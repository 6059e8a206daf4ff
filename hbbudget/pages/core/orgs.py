"""单位管理: the org tree of the system admin's scope: add, rename, move, deactivate, thresholds."""

import asyncio

import reflex as rx

from components import tokens
from components.forms import field, fixed_select, hidden, option_select, text_input
from components.table import row_table
from hbbudget import routes
from hbbudget.models.org import UNIT_TYPES
from hbbudget.pages.shell.base import app_page
from hbbudget.services.core import orgadmin
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

TYPES = [(t, t) for t in UNIT_TYPES]
EMPTY = {"id": "", "name": "", "code": "", "unit_type": "", "region_code": "", "major_threshold": "",
         "alert_over_pct": "", "alert_behind_points": "", "alert_unmatched_days": "", "active": "",
         "limit_manual": "", "limit_freeze": "", "limit_bank": "", "control_sources": ""}
LIMIT_CHOICES = [("inherit", "沿用上级"), ("refuse", "超出则拒绝"), ("alert", "允许并预警")]


class OrgsState(rx.State):
    rows: list[dict[str, str]] = []
    options: list[dict[str, str]] = []
    sel: dict[str, str] = EMPTY

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(orgadmin.tree, ctx)
        self.rows = rows
        self.options = [{"id": r["id"], "name": r["label"]} for r in rows if r["active"] == "启用"]
        if self.sel["id"]:
            self.sel = next((_pick(r) for r in rows if r["id"] == self.sel["id"]), EMPTY)

    @rx.event
    @guarded("admin.orgs")
    async def load(self, ctx: UserContext):
        await self._refresh(ctx)
        self.sel = EMPTY

    @rx.event
    @guarded("admin.orgs")
    async def select_org(self, ctx: UserContext, org_id: str):
        row = await asyncio.to_thread(orgadmin.row, ctx, args.as_id(org_id, "单位"))
        self.sel = _pick(row)

    @rx.event
    @guarded("admin.orgs")
    async def create_org(self, ctx: UserContext, form_data: dict):
        await asyncio.to_thread(orgadmin.create_org, ctx, args.form(form_data))
        await self._refresh(ctx)
        return rx.toast.success("已新增单位")

    @rx.event
    @guarded("admin.orgs")
    async def save_org(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(orgadmin.update_org, ctx, args.as_id(data.get("org_id"), "单位"), data)
        await self._refresh(ctx)
        return rx.toast.success("已保存")

    @rx.event
    @guarded("admin.orgs")
    async def move_org(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(orgadmin.move_org, ctx, args.as_id(data.get("org_id"), "单位"),
                                args.as_id(data.get("parent_id"), "上级单位"))
        await self._refresh(ctx)
        return rx.toast.success("已移动")

    @rx.event
    @guarded("admin.orgs")
    async def set_active(self, ctx: UserContext, org_id: str, active: bool):
        await asyncio.to_thread(orgadmin.set_active, ctx, args.as_id(org_id, "单位"), active)
        await self._refresh(ctx)
        return rx.toast.success("已启用" if active else "已停用")


def _pick(row: dict) -> dict[str, str]:
    return {k: str(row.get(k, "")) for k in EMPTY}


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.button(r["label"], variant="ghost", size="1", on_click=OrgsState.select_org(r["id"]),
                                id="org-" + r["code"])),
        rx.table.cell(r["code"]), rx.table.cell(r["unit_type"]), rx.table.cell(r["region_code"]),
        rx.table.cell(r["thresholds"]), rx.table.cell(r["active"]),
    )


def _threshold_inputs(prefix: str, sel: rx.Var | None = None) -> list[rx.Component]:
    def default(key: str):
        return None if sel is None else sel[key]

    return [
        text_input("major_threshold", "三重一大金额（元，空=沿用上级）", default=default("major_threshold"), width="10em",
                   element_id=f"{prefix}-major"),
        text_input("alert_over_pct", "超支预警 %（空=沿用）", default=default("alert_over_pct"), width="7em",
                   element_id=f"{prefix}-over"),
        text_input("alert_behind_points", "滞后预警 点（空=沿用）", default=default("alert_behind_points"),
                   width="7em", element_id=f"{prefix}-behind"),
        text_input("alert_unmatched_days", "未匹配预警 天（空=沿用）", default=default("alert_unmatched_days"),
                   width="7em", element_id=f"{prefix}-unmatched"),
        fixed_select("limit_manual", "手工支出超限", LIMIT_CHOICES, default=default("limit_manual"),
                     element_id=f"{prefix}-limit-manual"),
        fixed_select("limit_freeze", "冻结超限", LIMIT_CHOICES, default=default("limit_freeze"),
                     element_id=f"{prefix}-limit-freeze"),
        fixed_select("limit_bank", "银行付款超限", LIMIT_CHOICES, default=default("limit_bank"),
                     element_id=f"{prefix}-limit-bank"),
        text_input("control_sources", "控制数资金来源（空=沿用，默认财政拨款）", default=default("control_sources"),
                   width="12em", element_id=f"{prefix}-control-sources"),
    ]


def _create_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            option_select("parent_id", "上级单位", OrgsState.options, element_id="new-org-parent"),
            text_input("code", "单位编码", width="9em", element_id="new-org-code"),
            text_input("name", "单位名称", width="14em", element_id="new-org-name"),
            fixed_select("unit_type", "类型", TYPES, element_id="new-org-type"),
            text_input("region_code", "行政区划代码", width="7em", element_id="new-org-region"),
            *_threshold_inputs("new-org"),
            rx.button("新增单位", type="submit", id="create-org"),
            align="end", spacing="3", wrap="wrap",
        ),
        on_submit=OrgsState.create_org, reset_on_submit=True,
    )


def _edit_panel() -> rx.Component:
    sel = OrgsState.sel
    return rx.vstack(
        rx.heading(sel["name"], size="4"),
        rx.form(
            rx.hstack(hidden("org_id", sel["id"]),
                      text_input("name", "单位名称", default=sel["name"], width="14em", element_id="edit-org-name"),
                      fixed_select("unit_type", "类型", TYPES, default=sel["unit_type"], element_id="edit-org-type"),
                      text_input("region_code", "行政区划代码", default=sel["region_code"], width="7em",
                                 element_id="edit-org-region"),
                      *_threshold_inputs("edit-org", sel),
                      rx.button("保存", type="submit", id="save-org"), align="end", spacing="3", wrap="wrap"),
            on_submit=OrgsState.save_org, key=sel["id"],
        ),
        rx.form(
            rx.hstack(hidden("org_id", sel["id"]),
                      option_select("parent_id", "移至上级单位", OrgsState.options, element_id="move-org-parent"),
                      rx.button("移动", type="submit", variant="soft"), align="end", spacing="3"),
            on_submit=OrgsState.move_org, key="move-" + sel["id"],
        ),
        field("状态", rx.cond(
            sel["active"] == "启用",
            rx.button("停用单位", color_scheme="red", variant="soft", on_click=OrgsState.set_active(sel["id"], False)),
            rx.button("启用单位", variant="soft", on_click=OrgsState.set_active(sel["id"], True)))),
        spacing="3", width="100%", style=tokens.PANEL,
    )


@app_page(routes.ORGS, "单位管理", "admin.orgs", menu="network", on_load=OrgsState.load)
def orgs_page() -> rx.Component:
    return rx.vstack(
        _create_form(),
        rx.cond(OrgsState.sel["id"] != "", _edit_panel()),
        row_table(["单位", "编码", "类型", "区划", "生效阈值", "状态"], OrgsState.rows, _row, "orgs-table"),
        rx.text("阈值留空表示沿用上级单位；顶级默认超支预警 5%、进度滞后预警 10 个百分点。", size="1", color_scheme="gray"),
        spacing="4", width="100%",
    )
