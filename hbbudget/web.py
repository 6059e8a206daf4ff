"""HTTP hardening for the served app (frontend and backend on one port in prod), as plain ASGI middleware
passed to `rx.App(api_transformer=...)`:

- security headers on every HTTP response (CSP, nosniff, frame-ancestors, Referrer-Policy, …);
- requests and websocket handshakes for a Host or from an Origin not configured (HBB_ALLOWED_ORIGINS, default
  the app's own localhost origins) are refused (besides Reflex's own CORS): no DNS rebinding;
- the public upload folder (`/_upload/...`) is not served: our uploads live in a private folder
  (services save under `private_dir()`, never under Reflex's upload dir);
- login and logout are plain HTTP form posts (`/api/session/login`, `/api/session/logout`): the session token
  travels only in the HttpOnly `hbb_sid` cookie they set and clear; the backend reads it from the websocket
  handshake's Cookie header (state/session.py), and no script of the page can read it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from hbbudget.settings import get_settings

# What the Reflex 0.10 build needs: 'unsafe-inline' for the React Router bootstrap script and Emotion/Radix
# styles. No 'unsafe-eval': server-sent toasts are state (state/notices.py), not a `_call_function` that
# state.js would eval, and no page uses rx.call_script (the print button is assets/print_button.js).
# No third-party origins, no plugins, no framing, no <base> tricks. React's escaping is the XSS defence.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")
UPLOAD_PREFIX = "/_upload/"
OA_CALLBACK = "/api/oa/callback"  # signed OA approval callbacks (services/approvals/oa.py)
OA_MAX_BODY = 64 * 1024
LOGIN = "/api/session/login"  # the login form posts here (username, password)
LOGOUT = "/api/session/logout"  # the shell's 退出 button posts here
FORM_MAX_BODY = 8 * 1024
COOKIE = "hbb_sid"
COOKIE_MAX_AGE = 24 * 3600  # the server-side policy decides a session's life; 24 h is its upper bound


def private_dir() -> Path:
    """Where uploaded files are kept (e.g. project attachments under private/attachments): under
    HBB_VAR_DIR, outside Reflex's upload folder, never served over HTTP."""
    path = get_settings().var_dir / "private"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""


def session_token(cookie_header: str) -> str:
    """The `hbb_sid` value of a Cookie header ("" when absent)."""
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value.strip()[:128]
    return ""


def same_origin(scope: dict, allowed: list[str]) -> bool:
    """The Host is one of the configured origins' (a foreign name resolving to us, i.e. DNS rebinding, is
    refused even when its Origin equals its Host), and the Origin, when sent, is a configured origin."""
    if _header(scope, b"host") not in {urlsplit(o).netloc for o in allowed}:
        return False
    origin = _header(scope, b"origin")
    return not origin or origin in allowed


class SecurityMiddleware:
    def __init__(self, app) -> None:
        self.app = app
        settings = get_settings()
        self.allowed = settings.origins
        self.headers = HEADERS + ((HSTS,) if settings.cookie_secure else ())

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "websocket" and not same_origin(scope, self.allowed):
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path", "") == OA_CALLBACK:  # server to server, signed per org (HMAC): no browser, no cookie
            await self._oa_callback(scope, receive, send)
            return
        if not same_origin(scope, self.allowed):
            await self._plain(send, 403, "跨站请求被拒绝")
            return
        if scope.get("path", "") in (LOGIN, LOGOUT):  # same-origin only (checked above): no login CSRF
            await self._session(scope, receive, send)
            return
        if scope.get("path", "").startswith(UPLOAD_PREFIX) and scope.get("method") in ("GET", "HEAD"):
            await self._plain(send, 404, "Not Found")
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in self.headers if k not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _oa_callback(self, scope, receive, send) -> None:
        """POST only; the body is read up to OA_MAX_BODY and handed to the service with the signature headers."""
        if scope.get("method") != "POST":
            await self._plain(send, 405, "Method Not Allowed")
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > OA_MAX_BODY:
                await self._plain(send, 413, "Payload Too Large")
                return
        from hbbudget.services.approvals import oa

        client = (scope.get("client") or ("",))[0] or ""
        status, text = await asyncio.to_thread(
            oa.handle_callback, _header(scope, b"x-oa-org"), _header(scope, b"x-oa-timestamp"),
            _header(scope, b"x-oa-nonce"), _header(scope, b"x-oa-signature"), body, client)
        await self._plain(send, status, text)

    async def _body(self, receive, limit: int) -> bytes | None:
        """The request body, or None when it exceeds `limit` bytes."""
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                return None
        return body

    async def _session(self, scope, receive, send) -> None:
        """POST /api/session/login: the form's credentials → the HttpOnly cookie and the workbench (or the
        password page), else back to the login page with the refusal's code. POST /api/session/logout: the
        session ends on the server and the cookie is cleared."""
        from hbbudget import routes
        from hbbudget.services.errors import AuthError
        from hbbudget.services.security import auth, login_codes

        if scope.get("method") != "POST":
            await self._plain(send, 405, "Method Not Allowed")
            return
        body = await self._body(receive, FORM_MAX_BODY)
        if body is None:
            await self._plain(send, 413, "Payload Too Large")
            return
        client = str((scope.get("client") or ("",))[0] or "")[:64]
        if scope["path"] == LOGOUT:
            token = session_token(_header(scope, b"cookie"))
            if token:
                await asyncio.to_thread(auth.logout, token, client)
            await self._redirect(send, routes.LOGIN, cookie=f"{COOKIE}=; Max-Age=0")
            return
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        username = (form.get("username") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        if not username or not password:
            await self._redirect(send, f"{routes.LOGIN}?error={login_codes.code_of(login_codes.EMPTY)}")
            return
        try:
            token, ctx = await asyncio.to_thread(auth.login, username, password, client)
        except AuthError as err:
            await self._redirect(send, f"{routes.LOGIN}?error={quote(login_codes.code_of(err.message) or 'x')}")
            return
        target = routes.PASSWORD if ctx.must_change_password else routes.HOME  # demo: only the admins are exempt
        await self._redirect(send, target, cookie=f"{COOKIE}={token}; Max-Age={COOKIE_MAX_AGE}")

    async def _redirect(self, send, location: str, cookie: str = "") -> None:
        headers = [(b"location", location.encode()), (b"content-length", b"0"), (b"cache-control", b"no-store"),
                   *self.headers]
        if cookie:
            secure = "; Secure" if get_settings().cookie_secure else ""
            headers.append((b"set-cookie", f"{cookie}; Path=/; HttpOnly; SameSite=Strict{secure}".encode()))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _plain(self, send, status: int, body: str) -> None:
        data = body.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(data)).encode()), *self.headers]})
        await send({"type": "http.response.body", "body": data})


def security_middleware(app):
    """The api_transformer for rx.App."""
    return SecurityMiddleware(app)
