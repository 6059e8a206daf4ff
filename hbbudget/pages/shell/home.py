"""工作台: who you are and what you may open."""

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.operations import tickets
from hbbudget.services.security import alerts, auth
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded
from state.session import SessionState


class HomeState(rx.State):
    last_login: str = ""
    alerts: list[dict[str, str]] = []
    show_alerts: bool = False
    overdue_tickets: int = 0  # 用户反馈 past 48 hours, for the ticket handler

    @rx.event
    @guarded(None)
    async def load(self, ctx: UserContext):
        """The shell is refreshed by the guard; the previous login, and security alerts for the admins."""
        logins = await asyncio.to_thread(auth.recent_logins, ctx, 2)
        prev = logins[1] if len(logins) > 1 else None
        self.last_login = f"上次登录：{prev['time']}，来自 {prev['client']}" if prev else "这是您的首次登录"
        self.show_alerts = alerts.can_see(ctx)
        self.alerts = await asyncio.to_thread(alerts.open_alerts, ctx) if self.show_alerts else []
        self.overdue_tickets = await asyncio.to_thread(tickets.overdue_count, ctx)

    @rx.event
    @guarded("admin.security")
    async def acknowledge(self, ctx: UserContext, alert_id: str):
        await asyncio.to_thread(alerts.acknowledge, ctx, args.as_id(alert_id, "告警"))
        self.alerts = await asyncio.to_thread(alerts.open_alerts, ctx)


def _alert(a: rx.Var) -> rx.Component:
    return rx.callout(
        rx.hstack(rx.text(a["time"], " ", a["message"]),
                  rx.button("确认", size="1", variant="soft", on_click=HomeState.acknowledge(a["id"])),
                  align="center", spacing="3"),
        color_scheme="red", icon="triangle_alert", width="100%",
    )


def _alerts() -> rx.Component:
    return rx.cond(HomeState.show_alerts, rx.vstack(
        rx.heading("安全告警", size="4"),
        rx.cond(HomeState.alerts.length() > 0, rx.foreach(HomeState.alerts, _alert),
                rx.text("暂无未处理的安全告警", color_scheme="gray", size="2")),
        spacing="2", width="100%", id="security-alerts",
    ))


def _card(item: rx.Var) -> rx.Component:
    return rx.link(rx.card(rx.text(item["label"], weight="bold"), width="12em"), href=item["route"])


@app_page(routes.HOME, "工作台", None, menu="layout-dashboard", on_load=HomeState.load)
def home_page() -> rx.Component:
    return rx.vstack(
        rx.text("您好，", SessionState.user_name, "（", SessionState.org_name, "）", id="welcome"),
        rx.text("角色：", SessionState.role_text, color_scheme="gray"),
        rx.text(HomeState.last_login, size="2", color_scheme="gray", id="last-login"),
        _alerts(),
        rx.cond(HomeState.overdue_tickets > 0, rx.link(rx.callout(
            rx.text(HomeState.overdue_tickets, " 条用户反馈已超过 48 小时未回复"), color_scheme="red",
            icon="triangle_alert"), href=routes.TICKETS, id="home-overdue-tickets")),
        rx.heading("可用功能", size="4"),
        rx.flex(rx.foreach(SessionState.menu, _card), wrap="wrap", spacing="3"),
        spacing="3",
    )
