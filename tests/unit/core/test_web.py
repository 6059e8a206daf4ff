"""The ASGI hardening middleware, in process (the running prod server is checked in tests/e2e)."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hbbudget import web


async def _hello(request):
    return PlainTextResponse("ok")


def _app():
    return Starlette(routes=[Route("/x", _hello, methods=["GET", "POST"]), Route("/_upload/a.txt", _hello)])


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("HBB_PORT", "3999")
    transport = httpx.ASGITransport(app=web.security_middleware(_app()))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost:3999")


async def test_security_headers_on_every_response(client):
    response = await client.get("/x")
    assert response.text == "ok"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp
    assert "strict-transport-security" not in response.headers


async def test_hsts_when_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("HBB_COOKIE_SECURE", "1")
    transport = httpx.ASGITransport(app=web.security_middleware(_app()))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        assert "strict-transport-security" in (await c.get("/x")).headers


async def test_foreign_origin_is_refused_own_origin_is_not(client):
    assert (await client.post("/x", headers={"Origin": "http://evil.example"})).status_code == 403
    assert (await client.post("/x", headers={"Origin": "http://localhost:3999"})).status_code == 200
    assert (await client.post("/x")).status_code == 200  # no Origin: not a cross-site browser request


async def test_a_foreign_host_is_refused_even_with_its_own_origin(client):
    """DNS rebinding: evil.example resolves to this server; its page's requests carry its own Host and Origin."""
    rebound = {"Host": "evil.example:3999", "Origin": "http://evil.example:3999"}
    assert (await client.post("/x", headers=rebound)).status_code == 403
    assert (await client.get("/x", headers={"Host": "evil.example:3999"})).status_code == 403
    assert (await client.get("/x", headers={"Host": "127.0.0.1:3999"})).status_code == 200
    sent, reached = await _handshake("http://evil.example:3999", host="evil.example:3999")
    assert sent == [{"type": "websocket.close", "code": 1008}] and not reached


async def test_configured_origins_decide_the_hosts(monkeypatch):
    monkeypatch.setenv("HBB_ALLOWED_ORIGINS", "https://ys.hebei.example")
    transport = httpx.ASGITransport(app=web.security_middleware(_app()))
    async with httpx.AsyncClient(transport=transport, base_url="https://ys.hebei.example") as c:
        assert (await c.post("/x", headers={"Origin": "https://ys.hebei.example"})).status_code == 200
        assert (await c.get("/x", headers={"Host": "localhost:3000"})).status_code == 403


async def _handshake(origin: str, host: str = "localhost:3999") -> tuple[list[dict], bool]:
    """Drive the middleware with a websocket scope; returns (messages sent, whether the app was reached)."""
    reached = []

    async def inner(scope, receive, send):
        reached.append(True)

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", "path": "/_event/", "headers": [(b"host", host.encode()),
                                                                  (b"origin", origin.encode())]}
    await web.SecurityMiddleware(inner)(scope, receive, send)
    return sent, bool(reached)


async def test_foreign_origin_websocket_handshake_is_refused(monkeypatch):
    monkeypatch.setenv("HBB_PORT", "3999")
    sent, reached = await _handshake("http://evil.example")
    assert sent == [{"type": "websocket.close", "code": 1008}] and not reached
    sent, reached = await _handshake("http://localhost:3999")
    assert sent == [] and reached


async def test_public_upload_folder_is_not_served(client, tmp_path, monkeypatch):
    assert (await client.get("/_upload/a.txt")).status_code == 404
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    assert web.private_dir() == tmp_path / "private" and web.private_dir().is_dir()


# ---- the HTTP login and logout (issue 11 item 29: the session cookie is HttpOnly) ----

@pytest.fixture
def login_client(monkeypatch, db):
    from tests.factories import make_tree, make_user

    make_user("kuaiji", "accountant", make_tree()["unit"])
    monkeypatch.setenv("HBB_PORT", "3999")
    transport = httpx.ASGITransport(app=web.security_middleware(_app()), client=("127.0.0.1", 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost:3999")


async def test_the_http_login_sets_an_httponly_cookie_and_logout_clears_it(login_client):
    from hbbudget.services.security import auth
    from tests.factories import PASSWORD

    bad = await login_client.post(web.LOGIN, data={"username": "kuaiji", "password": "Wrong@pass1"})
    assert bad.status_code == 303 and bad.headers["location"] == "/login?error=left-4"
    assert "set-cookie" not in bad.headers
    empty = await login_client.post(web.LOGIN, data={"username": "kuaiji"})
    assert empty.headers["location"] == "/login?error=empty"
    assert (await login_client.get(web.LOGIN)).status_code == 405
    ok = await login_client.post(web.LOGIN, data={"username": "kuaiji", "password": PASSWORD})
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("hbb_sid=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # HBB_COOKIE_SECURE unset
    token = web.session_token(cookie.split(";")[0])
    assert auth.resolve(token).username == "kuaiji"
    out = await login_client.post(web.LOGOUT, headers={"Cookie": f"hbb_sid={token}"})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert out.headers["set-cookie"].startswith("hbb_sid=; Max-Age=0")
    with pytest.raises(Exception, match="会话已失效"):
        auth.resolve(token)


async def test_a_login_from_another_site_is_refused(login_client):
    from tests.factories import PASSWORD

    r = await login_client.post(web.LOGIN, data={"username": "kuaiji", "password": PASSWORD},
                                headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "set-cookie" not in r.headers
