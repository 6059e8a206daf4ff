"""修改密码: also where a user with an initial password is sent first."""

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import auth, policy
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded
from state.session import SessionState


class PasswordState(rx.State):
    message: str = ""
    rule_text: str = ""

    @rx.event
    @guarded(None, during_password_change=True)
    async def load(self, ctx: UserContext):
        self.message = ""
        self.rule_text = policy.describe(await asyncio.to_thread(policy.get))

    @rx.event
    @guarded(None, during_password_change=True)
    async def change(self, ctx: UserContext, form_data: dict):
        if not isinstance(form_data, dict):
            raise ValidationError("请求无效")
        new = str(form_data.get("new_password") or "")
        if new != str(form_data.get("confirm_password") or ""):
            raise ValidationError("两次输入的新密码不一致")
        await asyncio.to_thread(auth.change_password, ctx, form_data.get("old_password"), new)
        session = await self.get_state(SessionState)
        session.must_change_password = False
        self.message = ""
        return [rx.toast.success("密码已修改"), rx.redirect(routes.HOME)]


@app_page(routes.PASSWORD, "修改密码", None, on_load=PasswordState.load)
def password_page() -> rx.Component:
    return rx.vstack(
        rx.cond(SessionState.must_change_password,
                rx.callout("首次登录、密码已重置或已过期，请先修改密码。", color_scheme="amber")),
        rx.text(PasswordState.rule_text, size="2", id="password-rules"),
        rx.form(
            rx.vstack(
                rx.input(name="old_password", type="password", placeholder="原密码", id="old-password"),
                rx.input(name="new_password", type="password", placeholder="新密码", id="new-password"),
                rx.input(name="confirm_password", type="password", placeholder="确认新密码", id="confirm-password"),
                rx.button("修改密码", type="submit", id="change-password"),
                spacing="3",
                width="20em",
            ),
            on_submit=PasswordState.change,
        ),
        spacing="3",
    )
