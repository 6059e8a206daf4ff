"""登录 page: a plain HTML form posted to the HTTP login (hbbudget/web.py), which sets the HttpOnly session
cookie; a refusal comes back as /login?error=<code>, shown by SessionState.open_login. No shell. It works before
the page has hydrated, too."""

import reflex as rx

from components import text
from components.native_form import native_form
from hbbudget import routes, web
from state.session import SessionState


@rx.page(route=routes.LOGIN, title=f"{text.LOGIN} · {text.APP_SHORT}", on_load=SessionState.open_login)
def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            native_form(
                rx.vstack(
                    rx.hstack(rx.image(src=text.LOGO, alt="", height="2em", width="2em", id="login-logo"),
                              rx.heading(text.APP_NAME, size="5"), align="center", spacing="2"),
                    rx.text(text.LOGIN, size="3", color_scheme="gray"),
                    rx.input(name="username", placeholder=text.USERNAME, id="username", max_length=64,
                             auto_complete="username", width="100%"),
                    rx.input(name="password", type="password", placeholder=text.PASSWORD, id="password",
                             max_length=128, auto_complete="current-password", width="100%"),
                    rx.cond(SessionState.login_error != "",
                            rx.callout(SessionState.login_error, color_scheme="red", id="login-error", width="100%")),
                    rx.button(text.LOGIN, type="submit", width="100%", id="login-submit"),
                    rx.cond(SessionState.demo_mode, rx.text("演示账号见 README", size="1", color_scheme="gray")),
                    spacing="3",
                ),
                action=web.LOGIN,
                id="login-form",
            ),
            width="22em",
        ),
        height="100vh",
        background=rx.color("gray", 2),
    )
