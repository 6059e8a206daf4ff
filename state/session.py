"""The login session: the bearer token cookie, who is signed in, and the menu they may see."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.services.core import notifications
from hbbudget.services.errors import AuthError, ServiceError
from hbbudget.services.security import auth
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

_settings = get_settings()


class SessionState(rx.State):
    """Identity lives on the server: the cookie only carries an opaque token (see services.auth)."""

    sid: str = rx.Cookie("", name="hbb_sid", same_site="strict", secure=_settings.cookie_secure,
                         max_age=24 * 3600)  # the server-side policy decides; 24 h is its upper bound
    user_name: str = ""
    org_name: str = ""
    role_text: str = ""
    menu: list[dict[str, str]] = []
    signed_in: bool = False
    demo_mode: bool = _settings.demo_mode
    must_change_password: bool = False
    login_error: str = ""
    unread: int = 0  # notifications not yet read (the bell in the shell header)
    permissions: list[str] = []  # the codes the user holds somewhere: a page the user may not open says so at once

    def _show(self, ctx: UserContext) -> None:
        """Refresh what the shell shows; only changed fields are sent to the browser."""
        values = {
            "user_name": ctx.full_name,
            "org_name": ctx.org_name,
            "role_text": "、".join(ctx.role_names) or "（无角色）",
            "menu": routes.menu_for(ctx.permissions),
            "permissions": sorted(ctx.permissions),
            "signed_in": True,
            "must_change_password": ctx.must_change_password,
        }
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _clear(self) -> None:
        self.sid = ""
        self.user_name = self.org_name = self.role_text = ""
        self.menu = []
        self.permissions = []
        self.signed_in = False
        self.must_change_password = False
        self.unread = 0

    def _client_addr(self) -> str:
        return str(self.router.session.client_ip or "")[:64]

    @rx.event
    async def login(self, form_data: dict):
        """Public: the login form. Validates its own input."""
        if not isinstance(form_data, dict):
            self.login_error = "请求无效"
            return
        username = str(form_data.get("username") or "").strip()
        password = str(form_data.get("password") or "")
        if not username or not password:
            self.login_error = "请输入用户名和密码"
            return
        try:
            token, ctx = await asyncio.to_thread(auth.login, username, password, self._client_addr())
        except AuthError as err:
            self.login_error = err.message
            return
        self.login_error = ""
        self.sid = token
        self._show(ctx)
        if ctx.must_change_password and not self.demo_mode:
            return rx.redirect(routes.PASSWORD)
        return rx.redirect(routes.HOME)

    @rx.event
    async def logout(self):
        """Public: ends the server-side session whatever state it is in."""
        if self.sid:
            await asyncio.to_thread(auth.logout, self.sid, self._client_addr())
        self._clear()
        return rx.redirect(routes.LOGIN)

    @rx.event
    async def open_login(self):
        """Public: on_load of the login page; a signed-in user goes straight to the workbench.

        It leaves login_error alone: Reflex queues on_load after any event the user already fired,
        so a fast first submit would otherwise have its error wiped.
        """
        if not self.sid:
            return
        try:
            ctx = await asyncio.to_thread(auth.resolve, self.sid, self._client_addr())
        except ServiceError:
            self._clear()
            return
        self._show(ctx)
        return rx.redirect(routes.HOME)

    @rx.event
    async def heartbeat(self):
        """Public: a timer in the shell; ends an idle session without counting as activity."""
        if not self.signed_in:
            return
        try:
            ctx = await asyncio.to_thread(auth.resolve, self.sid, self._client_addr(), touch=False)
        except AuthError as err:
            self._clear()
            return [rx.toast.error(err.message), rx.redirect(routes.LOGIN)]
        unread = await asyncio.to_thread(notifications.unread_count, ctx)  # the caller's own count only
        if unread != self.unread:
            self.unread = unread
