"""意见反馈 (every signed-in user): file a ticket (category, the page it came from, text, an optional PNG/JPEG
screenshot) and see one's own tickets with their replies; the reply also arrives in the bell."""

from __future__ import annotations

import asyncio

import reflex as rx

from components.forms import text_input
from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations import tickets
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

UPLOAD_ID = "feedback-shot"
STATUS_COLORS = {"待处理": "amber", "已回复": "blue", "已关闭": "green"}


def _read_shot(files: list) -> tuple[str, bytes] | None:
    if not files:
        return None
    if not isinstance(files, list) or len(files) != 1:
        raise ValidationError("只能附一张截图")
    upload = files[0]
    name = str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "")[:100]
    data = upload.file.read(tickets.MAX_SCREENSHOT + 1)
    tickets.check_screenshot(name, data)
    return name, data


class FeedbackState(rx.State):
    rows: list[dict[str, str]] = []
    page: str = ""
    shot_name: str = ""
    version: int = 0
    _shot: bytes = b""

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(tickets.mine, ctx)
        self.rows = [{k: str(v) for k, v in r.items()} for r in rows]

    @rx.event
    @guarded(None)
    async def load(self, ctx: UserContext):
        self.page = str(self.router.url.query_parameters.get("from", ""))[:200]
        self.version += 1
        await self._refresh(ctx)

    @rx.event
    @guarded(None)
    async def attach(self, ctx: UserContext, files: list[rx.UploadFile]):
        self.shot_name, self._shot = "", b""
        shot = await asyncio.to_thread(_read_shot, files)
        if shot is None:
            raise ValidationError("请先选择截图文件")
        self.shot_name, self._shot = shot
        return rx.clear_selected_files(UPLOAD_ID)

    @rx.event
    @guarded(None)
    async def submit(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        shot = (self.shot_name, self._shot) if self._shot else None
        await asyncio.to_thread(tickets.create, ctx, str(data.get("category", "")),
                                args.field(data, "page", "所在页面", 200),
                                args.field(data, "text", "反馈内容", 2000, required=True), shot)
        self.shot_name, self._shot = "", b""
        self.version += 1
        await self._refresh(ctx)
        return rx.toast.success(f"已提交，系统管理员将在 {tickets.RESPONSE_HOURS} 小时内回复")


S = FeedbackState


@app_page(routes.FEEDBACK, "意见反馈", None, on_load=FeedbackState.load)
def feedback_page() -> rx.Component:
    return rx.vstack(
        rx.text(f"先在“帮助”的知识库中搜索；找不到答案时在这里反馈，系统管理员会在 {tickets.RESPONSE_HOURS} 小时内回复，"
                "回复会出现在右上角的消息中。", size="2", color_scheme="gray"),
        rx.form(rx.vstack(
            rx.hstack(
                rx.select.root(rx.select.trigger(), rx.select.content(
                    *[rx.select.item(c, value=c) for c in tickets.CATEGORIES]),
                    name="category", default_value=tickets.CATEGORIES[0]),
                text_input("page", "所在页面", default=S.page, width="16em", element_id="feedback-page"),
                align="end", spacing="3"),
            rx.text_area(name="text", placeholder="请描述问题：做了什么操作、看到什么提示、期望的结果", rows="5",
                         width="100%", id="feedback-text"),
            rx.cond(S.shot_name != "", rx.text("已附截图：", S.shot_name, size="2", id="feedback-shot-name")),
            rx.button("提交反馈", type="submit", id="feedback-submit"),
            spacing="3", width="100%"), on_submit=S.submit, id="feedback-form", key=S.version),
        rx.hstack(
            rx.upload(rx.text("可附一张截图（PNG 或 JPEG，不超过 5 MB）", size="2"), id=UPLOAD_ID, multiple=False,
                      max_files=1, accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                      border=f"1px dashed {rx.color('gray', 7)}", padding="0.8em"),
            rx.text(rx.selected_files(UPLOAD_ID).join("、"), size="2"),
            rx.button("附加截图", variant="soft", on_click=S.attach(rx.upload_files(upload_id=UPLOAD_ID)),
                      id="feedback-attach"),
            align="center", spacing="3"),
        rx.heading("我的反馈", size="3"),
        rx.vstack(rx.foreach(S.rows, lambda r: rx.card(rx.vstack(
            rx.hstack(rx.badge(r["status"], color_scheme=rx.match(r["status"], *STATUS_COLORS.items(), "gray")),
                      rx.text(r["category"], weight="bold"), rx.text(r["created"], size="1", color_scheme="gray"),
                      align="center"),
            rx.text(r["text"], size="2", white_space="pre-wrap"),
            rx.cond(r["reply"] != "", rx.text("回复（", r["replied_by"], " ", r["replied"], "）：", r["reply"], size="2",
                                              color_scheme="blue")),
            rx.cond(r["resolution"] != "", rx.text("处理结果：", r["resolution"], size="2", color_scheme="green")),
            spacing="1", align="start"), width="100%")), width="100%", id="feedback-mine"),
        spacing="4", width="100%",
    )
