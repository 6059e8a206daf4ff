"""The shell: header (user, org, roles, logout), a menu built from permissions, the demo banner."""

import reflex as rx

from components import text, tokens
from components.native_form import native_form
from hbbudget import routes, web
from state.exec_feed import AlertBadgeState, ExecFeed
from state.notifications import BellState
from state.session import SessionState


def _menu_item(item: rx.Var) -> rx.Component:
    return rx.link(
        rx.hstack(rx.text(item["label"]), align="center"),
        href=item["route"],
        underline="none",
        style=tokens.MENU_LINK,
        id="menu-" + item["route"].to(str),
    )


def bell() -> rx.Component:
    """Unread notifications; mounted only while signed in (refreshed on mount and by the heartbeat)."""
    return rx.link(
        rx.box(
            rx.icon("bell", size=20),
            rx.cond(SessionState.unread > 0,
                    rx.badge(SessionState.unread, color_scheme="amber", variant="solid", size="1", radius="full",
                             position="absolute", top="-0.6em", right="-0.9em", id="bell-count")),
            style=tokens.BELL,
        ),
        href=routes.NOTIFICATIONS, title="消息", id="bell", on_mount=BellState.refresh,
    )


def alert_badge() -> rx.Component:
    """Open execution warnings (预警), live: the count follows the shared feed (state/exec_feed.py)."""
    return rx.fragment(
        # remounted when the feed version moves: the count is read again once per version (state/exec_feed.py)
        rx.fragment(rx.box(display="none", on_mount=AlertBadgeState.refresh), key=ExecFeed.version.to_string()),
        rx.cond(AlertBadgeState.count > 0, rx.link(
            rx.box(rx.icon("siren", size=20),
                   rx.badge(AlertBadgeState.count, color_scheme="yellow", variant="solid", high_contrast=True, size="1", radius="full",
                            position="absolute", top="-0.6em", right="-0.9em", id="alert-count"),
                   style=tokens.BELL),
            href=routes.EXEC_ALERTS, title="预警", id="alert-bell")),
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.image(src=text.LOGO, alt="", height="1.8em", width="1.8em", id="shell-logo"),
        rx.heading(text.APP_NAME, size="4"),
        rx.spacer(),
        rx.cond(SessionState.signed_in, bell()),
        rx.cond(SessionState.signed_in, alert_badge()),
        rx.cond(SessionState.signed_in, rx.link(rx.icon("circle-help", size=20), title="帮助与反馈", id="help-link",
                                                href=routes.HELP + "?from=" + rx.State.router.page.path)),
        rx.cond(SessionState.signed_in, rx.hstack(
            rx.text(SessionState.user_name, weight="bold", id="shell-user"),
            rx.text(SessionState.org_name, id="shell-org"),
            rx.badge(SessionState.role_text, variant="surface", id="shell-roles"),
            native_form(rx.button(text.LOGOUT, type="submit", variant="soft", color_scheme="gray", id="logout"),
                        action=web.LOGOUT),  # HTTP: ends the session and clears the HttpOnly cookie
            align="center", spacing="4")),
        align="center",
        spacing="4",
        style=tokens.HEADER,
        id="shell-header",
    )


def loading() -> rx.Component:
    """Shown until the page's first data has arrived (issue 11 item 13), never an empty page or 无记录."""
    return rx.hstack(rx.spinner(size="2"), rx.text(text.LOADING, color_scheme="gray"), align="center", spacing="2",
                     padding="2em", id="page-loading")


def shell(content: rx.Component, ready=None) -> rx.Component:
    """The page's content shows once the user is known and the page's on_load handlers have run (Reflex's
    `is_hydrated`: false from the start of a navigation until its on_load events are done, also after a
    reconnect), so a list says 无记录 only when it is empty; before that, `loading()`. The user's name and the
    menu show only once signed in. `ready`: the page's own "first step is in" flag (a page whose on_load sends
    its data in steps shows from the first one)."""
    shown = rx.State.is_hydrated if ready is None else (rx.State.is_hydrated | ready)
    return rx.box(
        header(),
        rx.cond(SessionState.demo_mode, rx.text(text.DEMO_BANNER, size="2", style=tokens.BANNER)),
        rx.hstack(
            rx.vstack(rx.cond(SessionState.signed_in, rx.foreach(SessionState.menu, _menu_item)),
                      spacing="1", style=tokens.SIDEBAR, id="menu"),
            rx.box(rx.cond(SessionState.signed_in & shown, content, loading()),
                   style=tokens.CONTENT, id="shell-content"),
            align="stretch",  # the menu's column runs the content's full height
            spacing="0",
        ),
        rx.moment(interval=60_000, on_change=SessionState.heartbeat, display="none"),
    )
