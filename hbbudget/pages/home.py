"""工作台: who you are and what you may open."""

import reflex as rx

from hbbudget import routes
from hbbudget.services.permissions import UserContext
from state.guard import guarded
from state.session import SessionState

from .base import app_page


class HomeState(rx.State):
    @rx.event
    @guarded(None)
    async def load(self, ctx: UserContext):
        """The shell is refreshed by the guard; nothing else to load yet."""


def _card(item: rx.Var) -> rx.Component:
    return rx.link(rx.card(rx.text(item["label"], weight="bold"), width="12em"), href=item["route"])


@app_page(routes.HOME, "工作台", on_load=HomeState.load)
def home_page() -> rx.Component:
    return rx.vstack(
        rx.text("您好，", SessionState.user_name, "（", SessionState.org_name, "）", id="welcome"),
        rx.text("角色：", SessionState.role_text, color_scheme="gray"),
        rx.heading("可用功能", size="4"),
        rx.flex(rx.foreach(SessionState.menu, _card), wrap="wrap", spacing="3"),
        spacing="3",
    )
