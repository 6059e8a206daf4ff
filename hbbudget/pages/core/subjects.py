"""基础数据: the classification codes by year, searchable, one page at a time."""

import asyncio

import reflex as rx

from components.table import data_table, pager
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.core import subjects
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded
from state.paging import paging

PAGE_SIZE = 50
KINDS = {"function": "支出功能分类", "dept": "部门预算经济分类", "gov": "政府预算经济分类"}


class SubjectsState(rx.State):
    kind: str = "function"
    year: str = ""
    years: list[str] = []
    search_text: str = ""
    offset: int = 0
    total: int = 0
    rows: list[dict[str, str]] = []

    async def _refresh(self, ctx: UserContext) -> None:
        year = int(self.year) if self.year else current_fiscal_year()
        rows, total, years = await asyncio.to_thread(subjects.browse, ctx, self.kind, year, self.search_text,
                                                     self.offset, PAGE_SIZE)
        self.rows = [{**r, "parent_code": r["parent_code"] or "", "active": "启用" if r["active"] else "停用"}
                     for r in rows]
        self.total = total
        self.years = [str(y) for y in years]
        self.year = str(year)

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    @rx.event
    @guarded("subject.view")
    async def load(self, ctx: UserContext):
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded("subject.view")
    async def choose_kind(self, ctx: UserContext, kind: str):
        if kind not in KINDS:
            raise ValidationError("未知的科目类别")
        self.kind, self.offset = kind, 0
        await self._refresh(ctx)

    @rx.event
    @guarded("subject.view")
    async def choose_year(self, ctx: UserContext, year: str):
        if not str(year).isdigit() or not 2000 <= int(year) <= 2100:
            raise ValidationError("年度无效")
        self.year, self.offset = str(year), 0
        await self._refresh(ctx)

    @rx.event
    @guarded("subject.view")
    async def search(self, ctx: UserContext, form_data: dict):
        text = str((form_data or {}).get("q") or "").strip() if isinstance(form_data, dict) else ""
        self.search_text, self.offset = text[:64], 0
        await self._refresh(ctx)

    next_page, prev_page = paging("SubjectsState", "subject.view", PAGE_SIZE)


@app_page(routes.SUBJECTS, "基础数据", "subject.view", menu="book-open", on_load=SubjectsState.load)
def subjects_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.select.root(
                rx.select.trigger(),
                rx.select.content(*[rx.select.item(label, value=k) for k, label in KINDS.items()]),
                value=SubjectsState.kind,
                on_change=SubjectsState.choose_kind,
            ),
            rx.select(SubjectsState.years, value=SubjectsState.year, on_change=SubjectsState.choose_year),
            rx.form(
                rx.hstack(rx.input(name="q", placeholder="编码或名称", id="subject-search"),
                          rx.button("查询", type="submit")),
                on_submit=SubjectsState.search,
            ),
            spacing="3",
        ),
        rx.text("来源：已核实＝见于公开资料；推断＝编码与名称分别见于资料；骨架＝标准类级；导入＝官方科目表导入。",
                size="1", color_scheme="gray"),
        data_table([("编码", "code"), ("名称", "name"), ("级次", "level_name"), ("上级", "parent_code"),
                    ("状态", "active"), ("来源", "source")], SubjectsState.rows, "subjects-table"),
        pager(SubjectsState.page_label, SubjectsState.prev_page, SubjectsState.next_page),
        spacing="3",
        width="100%",
    )
