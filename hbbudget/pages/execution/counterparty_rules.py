"""对方户名规则, the second section of the 待匹配 page: the counterparty → project rules automatic matching uses
(learned from manual matches or entered by hand), with 停用/启用/删除 and a form for a 手工 rule.
Services: counterparty_rules.list_rules / save_rule / set_active / delete_rule, orgadmin.options."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.forms import option_select, text_input
from components.table import pager, row_table
from components.widgets import section, status_badge
from hbbudget.pages import display
from hbbudget.services.core import orgadmin
from hbbudget.services.errors import ValidationError
from hbbudget.services.execution import counterparty_rules
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.paging import paging

PERMISSION = "execution.match"
PAGE_SIZE = 20


class CounterpartyRuleState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    org_options: list[dict[str, str]] = []
    form_key: int = 0
    delete_id: str = ""  # the rule the confirmation dialog is about
    delete_label: str = ""
    _rule_ids: list[int] = []
    _org_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(counterparty_rules.list_rules, ctx, self.offset, PAGE_SIZE)
        self._rule_ids = [r["id"] for r in rows]
        self.rows = [{k: ("1" if v else "") if isinstance(v, bool) else str(v) for k, v in r.items()} for r in rows]

    def _rule(self, value: object) -> int:
        return args.offered_id(value, self._rule_ids, "规则", "该规则不在当前列表中")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self.offset = 0
        await self._refresh(ctx)
        options = await asyncio.to_thread(orgadmin.options, ctx, PERMISSION)
        self._org_ids = [int(o["id"]) for o in options]
        self.org_options = options

    @rx.event
    @guarded(PERMISSION)
    async def set_active(self, ctx: UserContext, rule_id: str, active: bool):
        rid, on = self._rule(rule_id), args.as_flag(active, "状态")
        await asyncio.to_thread(counterparty_rules.set_active, ctx, rid, on)
        await self._refresh(ctx)
        return rx.toast.success("已启用" if on else "已停用")

    @rx.event
    @guarded(PERMISSION)
    async def ask_delete(self, ctx: UserContext, rule_id: str):
        """删除 asks first: the confirmation dialog names the counterparty."""
        rid = self._rule(rule_id)
        self.delete_id = str(rid)
        self.delete_label = next((r["counterparty"] for r in self.rows if r["id"] == self.delete_id), "")

    @rx.event
    @guarded(PERMISSION)
    async def cancel_delete(self, ctx: UserContext):
        self.delete_id, self.delete_label = "", ""

    @rx.event
    @guarded(PERMISSION)
    async def confirm_delete(self, ctx: UserContext):
        if not self.delete_id:
            raise ValidationError("请先选择要删除的规则")
        rid, self.delete_id, self.delete_label = self._rule(self.delete_id), "", ""
        await asyncio.to_thread(counterparty_rules.delete_rule, ctx, rid)
        if self.offset and self.offset >= self.total - 1:
            self.offset = max(0, self.offset - PAGE_SIZE)
        await self._refresh(ctx)
        return rx.toast.success("已删除")

    @rx.event
    @guarded(PERMISSION)
    async def submit_rule(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        if not data.get("org_id"):
            raise ValidationError("请选择单位")
        org_id = args.offered_id(data.get("org_id"), self._org_ids, "单位", "请选择列表中的单位")
        name = args.field(data, "counterparty", "对方户名", counterparty_rules.MAX_LEN, required=True)
        code = args.field(data, "project_code", "项目编码", 32, required=True)
        await asyncio.to_thread(counterparty_rules.save_rule, ctx, org_id, name, code)
        self.form_key += 1
        self.offset = 0
        await self._refresh(ctx)
        return rx.toast.success("已保存对方户名规则")

    next_page, prev_page = paging("CounterpartyRuleState", PERMISSION, PAGE_SIZE)


S = CounterpartyRuleState
HEADERS = ("单位", "对方户名", "项目", "来源", "状态", "自动匹配", "更新时间", "")


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["org_name"]), rx.table.cell(r["counterparty"]),
        rx.table.cell(r["project_name"], rx.text(r["project_code"], size="1", color_scheme="gray")),
        rx.table.cell(r["source"]), rx.table.cell(status_badge(r["status"])),
        rx.table.cell(r["hits"], style=tokens.NUM), rx.table.cell(r["updated_at"]),
        rx.table.cell(rx.hstack(
            rx.cond(r["status"] == "启用",
                    rx.button("停用", size="1", variant="soft", on_click=S.set_active(r["id"], False)),
                    rx.button("启用", size="1", variant="soft", on_click=S.set_active(r["id"], True))),
            rx.button("删除", size="1", variant="soft", color_scheme="red", on_click=S.ask_delete(r["id"])),
            spacing="2")),
    )


def _form() -> rx.Component:
    return rx.form(
        rx.hstack(
            option_select("org_id", "单位", S.org_options, element_id="rule-org"),
            text_input("counterparty", "对方户名", element_id="rule-counterparty", width="20em",
                       max_length=counterparty_rules.MAX_LEN),
            text_input("project_code", "项目编码", element_id="rule-project", max_length=32),
            rx.button("添加规则", type="submit", id="rule-submit"),
            style=tokens.TOOLBAR, align="end",
        ),
        key=S.form_key, on_submit=S.submit_rule, reset_on_submit=False, style=tokens.PANEL, width="100%",
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("删除对方户名规则"),
        rx.alert_dialog.description(rx.text("确定删除“", S.delete_label, "”的规则？删除后该户名的付款不再自动匹配。")),
        rx.hstack(
            rx.button("取消", variant="soft", color_scheme="gray", on_click=S.cancel_delete),
            rx.button("删除", color_scheme="red", on_click=S.confirm_delete, id="rule-confirm-delete"),
            spacing="2", justify="end", margin_top="1em",
        ),
    ), open=S.delete_id != "")


def rules_section() -> rx.Component:
    return section(
        "对方户名规则",
        rx.text("摘要中没有项目编码时，按付款对方户名自动匹配到项目（项目须只有一条预算明细）。手工匹配完成的付款会学习规则；"
                "同一户名后来匹配到其他项目时，学习的规则标记为冲突并停用。", size="2", color_scheme="gray"),
        row_table(HEADERS, S.rows, _row, "rule-table"),
        pager(S.page_label, S.prev_page, S.next_page),
        _form(),
        _delete_dialog(),
    )
