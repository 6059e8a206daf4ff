"""编制模板: category templates (an amount split over economic 款 by fixed shares), kept by finance."""

import asyncio
import re

import reflex as rx

from components import tokens
from components.table import row_table
from components.widgets import labelled, money_cell
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import templates
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

MAX_ITEMS_TEXT = 4000


def _parse_items(text: str) -> list[dict]:
    """One item per line: "30201 40" (款 code, share %); commas, tabs and full-width spaces accepted."""
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        parts = [p for p in re.split(r"[\s,，、\u3000%％]+", line) if p]
        if len(parts) != 2:
            raise ValidationError(f"第{n}行应为“科目编码 比例”，例如“30201 40”")
        items.append({"econ_code": parts[0], "share": parts[1]})
    return items


class TemplatesState(rx.State):
    rows: list[dict[str, str]] = []
    editing: str = ""  # template id being edited, "" = new
    form_key: int = 0
    form_name: str = ""
    form_description: str = ""
    form_items: str = ""
    preview_rows: list[dict[str, str]] = []
    preview_title: str = ""
    _ids: list[int] = []
    _raw: dict = {}

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(templates.list_templates, ctx)
        self._ids = [t["id"] for t in rows]
        self._raw = {t["id"]: t for t in rows}
        self.rows = [{"id": str(t["id"]), "name": str(t["name"]), "description": str(t.get("description", "")),
                      "org_name": str(t.get("org_name", "")),
                      "items": "；".join(f"{i['econ_code']} {i.get('econ_name', '')} {i['share']}%" for i in t["items"])}
                     for t in rows]

    def _reset_form(self) -> None:
        self.editing, self.form_name, self.form_description, self.form_items = "", "", "", ""
        self.form_key += 1

    def _known(self, template_id: object) -> int:
        return args.offered_id(template_id, self._ids, "模板", "模板不存在")

    @rx.event
    @guarded("budget.templates")
    async def load(self, ctx: UserContext):
        self._reset_form()
        self.preview_rows, self.preview_title = [], ""
        await self._refresh(ctx)

    @rx.event
    @guarded("budget.templates")
    async def edit(self, ctx: UserContext, template_id: str):
        t = self._raw[self._known(template_id)]
        self.editing, self.form_name, self.form_description = str(t["id"]), str(t["name"]), str(t.get("description", ""))
        self.form_items = "\n".join(f"{i['econ_code']} {i['share']}" for i in t["items"])
        self.form_key += 1

    @rx.event
    @guarded("budget.templates")
    async def cancel_edit(self, ctx: UserContext):
        self._reset_form()

    @rx.event
    @guarded("budget.templates")
    async def save(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        name = args.field(data, "name", "模板名称", 64, required=True)
        description = args.field(data, "description", "模板说明", 500)
        items = _parse_items(args.field(data, "items", "科目比例", MAX_ITEMS_TEXT, required=True))
        if self.editing:
            await asyncio.to_thread(templates.update_template, ctx, self._known(self.editing), name=name,
                                    description=description, items=items)
        else:
            await asyncio.to_thread(templates.create_template, ctx, ctx.org_id, name, description, items)
        self._reset_form()
        await self._refresh(ctx)
        return rx.toast.success("模板已保存")

    @rx.event
    @guarded("budget.templates")
    async def remove(self, ctx: UserContext, template_id: str):
        await asyncio.to_thread(templates.delete_template, ctx, self._known(template_id))
        await self._refresh(ctx)
        return rx.toast.success("模板已停用")

    @rx.event
    @guarded("budget.templates")
    async def preview(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        tid = self._known(data.get("template_id"))
        amount = args.field(data, "amount", "金额", 32, required=True)
        rows = await asyncio.to_thread(templates.template_preview, ctx, tid, amount, current_fiscal_year() + 1)
        self.preview_title = f"{self._raw[tid]['name']}：按 {amount} 元拆分"
        self.preview_rows = [{"econ_code": str(r["econ_code"]), "econ_name": str(r.get("econ_name", "")),
                              "share": f"{r['share']}%", "amount": display.amount(r["amount"], "yuan")} for r in rows]


S = TemplatesState


@app_page(routes.TEMPLATES, "编制模板", "budget.templates", menu="layout-template", on_load=TemplatesState.load)
def templates_page() -> rx.Component:
    return rx.vstack(
        row_table(("模板", "说明", "制定单位", "科目及比例", ""), S.rows, lambda t: rx.table.row(
                rx.table.cell(t["name"]), rx.table.cell(t["description"]), rx.table.cell(t["org_name"]),
                rx.table.cell(rx.text(t["items"], size="1")),
                rx.table.cell(rx.hstack(
                    rx.button("修改", size="1", variant="soft", on_click=S.edit(t["id"])),
                    rx.button("停用", size="1", variant="soft", color_scheme="red", on_click=S.remove(t["id"])),
                    spacing="2")),
            ), "templates-table"),
        rx.box(rx.form(rx.vstack(
            rx.heading(rx.cond(S.editing != "", "修改模板", "新建模板"), size="3"),
            rx.hstack(
                labelled("模板名称", rx.input(name="name", default_value=S.form_name, max_length=64, width="16em")),
                labelled("说明", rx.input(name="description", default_value=S.form_description, max_length=500,
                                          width="28em")),
                style=tokens.TOOLBAR),
            labelled("科目及比例：每行一个款级科目和比例（%），合计 100，例如“30201 40”",
                     rx.text_area(name="items", default_value=S.form_items, rows="6", width="28em",
                                  max_length=MAX_ITEMS_TEXT)),
            rx.hstack(rx.button("保存模板", type="submit"),
                      rx.cond(S.editing != "", rx.button("取消", type="button", variant="soft", color_scheme="gray",
                                                       on_click=S.cancel_edit)), spacing="2"),
            spacing="3"), on_submit=S.save, reset_on_submit=False, key=S.form_key.to_string()), style=tokens.PANEL,
            width="100%"),
        rx.box(rx.vstack(
            rx.heading("拆分预览", size="3"),
            rx.form(rx.hstack(
                rx.select.root(rx.select.trigger(placeholder="选择模板", width="14em"), rx.select.content(
                    rx.foreach(S.rows, lambda t: rx.select.item(t["name"], value=t["id"]))), name="template_id"),
                rx.input(name="amount", placeholder="金额（元）", max_length=32, style=tokens.AMOUNT_INPUT),
                rx.button("预览", type="submit", variant="soft"), spacing="2"),
                on_submit=S.preview, reset_on_submit=False),
            rx.cond(S.preview_title != "", rx.text(S.preview_title, weight="bold")),
            rx.table.root(rx.table.body(rx.foreach(S.preview_rows, lambda r: rx.table.row(
                rx.table.cell(r["econ_code"]), rx.table.cell(r["econ_name"]), rx.table.cell(r["share"]),
                money_cell(r["amount"])))), size="1"),
            spacing="2"), style=tokens.PANEL, width="100%"),
        spacing="4", width="100%",
    )
