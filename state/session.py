"""The login session: who is signed in (from the HttpOnly token cookie), and the menu they may see.

The browser logs in and out with plain HTTP form posts (hbbudget/web.py), which set and clear the HttpOnly
`hbb_sid` cookie. The backend reads the token from the Cookie header of this tab's websocket handshake
(`router.headers`, taken by Reflex from the connection, not from the event a client sends; Reflex 0.10
leaves the Cookie header out of the headers it sends to the browser). The token is never a frontend var.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget import routes, web
from hbbudget.services.core import notifications
from hbbudget.services.errors import AuthError, ServiceError
from hbbudget.services.security import auth, login_codes
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

_settings = get_settings()


class SessionState(rx.State):
    """Identity lives on the server: the cookie only carries an opaque token (see services.auth)."""

    _sid: str = ""  # backend-only; a token set by server code (tests sign a state in this way)
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

    @property
    def sid(self) -> str:
        """The session token: the handshake's `hbb_sid` cookie, else one set on the server."""
        return web.session_token(self.router.headers.cookie) or self._sid

    @sid.setter
    def sid(self, token: str) -> None:
        self._sid = token

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
        self._sid = ""
        self.user_name = self.org_name = self.role_text = ""
        self.menu = []
        self.permissions = []
        self.signed_in = False
        self.must_change_password = False
        self.unread = 0

    def _client_addr(self) -> str:
        return str(self.router.session.client_ip or "")[:64]

    @rx.event
    async def open_login(self):
        """Public: on_load of the login page: the refusal named by the address (the HTTP login's redirect);
        a signed-in user goes straight to the workbench."""
        message = login_codes.message_of(self.router.url.query_parameters.get("error", ""))
        if message != self.login_error:
            self.login_error = message
        if not self.sid:
            if self.signed_in:  # logged out over HTTP: this tab's state still shows the old shell
                self._clear()
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
