"""帮助 (every signed-in user; reached from the 帮助 link in the header of every page): the help of the page it
came from, and the FAQ knowledge base (search, categories, 这条有帮助吗). The 系统管理员 at the root also adds,
edits, hides and shows entries here."""

from __future__ import annotations

import asyncio

import reflex as rx

from components.forms import text_input
from hbbudget import routes
from hbbudget.pages.operations import help_text
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations import faq
from hbbudget.services.operations.faq_seed import CATEGORIES
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("请求无效")
    return value


class HelpState(rx.State):
    page_name: str = ""
    came_from: str = ""
    page_purpose: str = ""
    page_steps: list[str] = []
    entries: list[dict[str, str]] = []
    category: str = ""
    query: str = ""
    can_edit: bool = False
    editing: bool = False
    edit_id: str = "0"
    edit_values: dict[str, str] = {"category": CATEGORIES[0], "question": "", "answer": ""}
    version: int = 0
    _offered: list[int] = []

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(faq.search, ctx, self.query, self.category)
        self._offered = [r["id"] for r in rows]
        self.entries = [{**{k: str(v) for k, v in r.items()}, "active": "1" if r["active"] else "",
                         "mine": {True: "yes", False: "no"}.get(r["mine"], "")} for r in rows]

    def _entry(self, value: object) -> int:
        return args.offered_id(value, self._offered, "条目", "该条目不在列表中")

    @rx.event
    @guarded(None)
    async def load(self, ctx: UserContext):
        came_from = str(self.router.url.query_parameters.get("from", ""))[:200]
        self.came_from = came_from
        found = help_text.for_path(came_from) if came_from else None
        self.page_name, self.page_purpose, steps = found or ("", "", ())
        self.page_steps = list(steps)
        self.query, self.category, self.editing = "", "", False
        self.can_edit = await asyncio.to_thread(faq.can_edit, ctx)
        await self._refresh(ctx)

    @rx.event
    @guarded(None)
    async def search(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        self.query = args.field(data, "q", "搜索内容", 100)
        category = str(data.get("category", "") or "")
        self.category = "" if category in ("", "全部") else args.as_choice(category, CATEGORIES, "分类")
        await self._refresh(ctx)

    @rx.event
    @guarded(None)
    async def vote(self, ctx: UserContext, entry_id: str, helpful: bool):
        eid = self._entry(entry_id)
        await asyncio.to_thread(faq.vote, ctx, eid, _flag(helpful))
        await self._refresh(ctx)
        return rx.toast.success("谢谢您的反馈")

    @rx.event
    @guarded(faq.PERMISSION)
    async def open_edit(self, ctx: UserContext, entry_id: str):
        await asyncio.to_thread(scope.require_global, ctx, faq.PERMISSION)
        if str(entry_id) in ("0", ""):
            self.edit_id, self.edit_values = "0", {"category": self.category or CATEGORIES[0], "question": "",
                                                   "answer": ""}
        else:
            eid = self._entry(entry_id)
            row = next(e for e in self.entries if e["id"] == str(eid))
            self.edit_id = str(eid)
            self.edit_values = {k: row[k] for k in ("category", "question", "answer")}
        self.editing = True
        self.version += 1

    @rx.event
    @guarded(None)
    async def close_edit(self, ctx: UserContext):
        self.editing = False

    @rx.event
    @guarded(faq.PERMISSION)
    async def save(self, ctx: UserContext, form_data: dict):
        await asyncio.to_thread(scope.require_global, ctx, faq.PERMISSION)
        if not self.editing:
            raise ValidationError("请先打开要编辑的条目")
        data = args.form(form_data)
        eid = 0 if self.edit_id == "0" else self._entry(self.edit_id)
        await asyncio.to_thread(faq.save, ctx, eid, str(data.get("category", "")),
                                args.field(data, "question", "问题", 200, required=True),
                                args.field(data, "answer", "回答", 4000, required=True))
        self.editing = False
        await self._refresh(ctx)
        return rx.toast.success("知识库条目已保存")

    @rx.event
    @guarded(faq.PERMISSION)
    async def set_active(self, ctx: UserContext, entry_id: str, active: bool):
        await asyncio.to_thread(scope.require_global, ctx, faq.PERMISSION)
        eid = self._entry(entry_id)
        await asyncio.to_thread(faq.set_active, ctx, eid, _flag(active))
        await self._refresh(ctx)


S = HelpState


def _entry(e: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.badge(e["category"], variant="soft"), rx.text(e["question"], weight="bold"),
                  rx.cond(e["active"] == "", rx.badge("已停用", color_scheme="gray")), align="center", wrap="wrap"),
        rx.text(e["answer"], size="2", white_space="pre-wrap"),
        rx.hstack(
            rx.text("这条有帮助吗？", size="1", color_scheme="gray"),
            rx.button("有帮助 ", e["helpful"], size="1", variant=rx.cond(e["mine"] == "yes", "solid", "soft"),
                      on_click=S.vote(e["id"], True), id="faq-yes-" + e["id"]),
            rx.button("没帮助 ", e["not_helpful"], size="1", color_scheme="gray",
                      variant=rx.cond(e["mine"] == "no", "solid", "soft"), on_click=S.vote(e["id"], False),
                      id="faq-no-" + e["id"]),
            rx.cond(S.can_edit, rx.hstack(
                rx.button("编辑", size="1", variant="ghost", on_click=S.open_edit(e["id"])),
                rx.button(rx.cond(e["active"] == "", "启用", "停用"), size="1", variant="ghost",
                          on_click=S.set_active(e["id"], e["active"] == "")))),
            align="center", spacing="2"),
        spacing="2", align="start"), width="100%")


def _editor() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(rx.cond(S.edit_id == "0", "新增知识库条目", "编辑知识库条目")),
        rx.form(rx.vstack(
            rx.select.root(rx.select.trigger(), rx.select.content(*[rx.select.item(c, value=c) for c in CATEGORIES]),
                           name="category", default_value=S.edit_values["category"]),
            text_input("question", "问题", default=S.edit_values["question"], width="100%", element_id="faq-question"),
            rx.text_area(name="answer", default_value=S.edit_values["answer"], placeholder="回答", rows="8",
                         width="100%", id="faq-answer"),
            rx.hstack(rx.button("保存", type="submit", id="faq-save"),
                      rx.button("取消", variant="soft", color_scheme="gray", type="button", on_click=S.close_edit)),
            spacing="3", width="100%"), on_submit=S.save, key=S.version),
    ), open=S.editing)


@app_page(routes.HELP, "帮助与反馈", None, on_load=HelpState.load)
def help_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.page_name != "", rx.card(rx.vstack(
            rx.heading("本页说明：", S.page_name, size="3"), rx.text(S.page_purpose, size="2"),
            rx.ordered_list(rx.foreach(S.page_steps, lambda s: rx.list_item(rx.text(s, size="2")))),
            spacing="2"), width="100%", id="page-help")),
        rx.form(rx.hstack(
            text_input("q", "搜索问题或关键词", width="24em", element_id="faq-q"),
            rx.select.root(rx.select.trigger(placeholder="全部分类"), rx.select.content(
                rx.select.item("全部分类", value="全部"), *[rx.select.item(c, value=c) for c in CATEGORIES]),
                name="category", default_value="全部"),
            rx.button("搜索", type="submit", id="faq-search"),
            rx.cond(S.can_edit, rx.button("新增条目", type="button", variant="soft", on_click=S.open_edit("0"),
                                          id="faq-new")),
            align="end", spacing="2"), on_submit=S.search),
        rx.hstack(rx.text("共 ", S.entries.length(), " 条。找不到答案？", size="2", color_scheme="gray"),
                  rx.link("意见反馈", href=routes.FEEDBACK + "?from=" + S.came_from, id="to-feedback", size="2"),
                  align="center"),
        rx.vstack(rx.foreach(S.entries, _entry), spacing="2", width="100%", id="faq-list"),
        _editor(),
        spacing="4", width="100%",
    )
