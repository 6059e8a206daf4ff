"""Issue 5 in a real browser and over raw HTTP against the production server: roles configured in the app,
三员分立, the audit log, lockout and reset, escaping, and the HTTP hardening."""

import io
import os
import re
import socket
import sqlite3
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"


@contextmanager
def app_db(app_env):
    """Run service code against the e2e server's database."""
    old = os.environ.get("HBB_DATABASE_URL")
    os.environ["HBB_DATABASE_URL"] = app_env["HBB_DATABASE_URL"]
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HBB_DATABASE_URL", None)
        else:
            os.environ["HBB_DATABASE_URL"] = old


def _sql(app_env, query: str, *params):
    with sqlite3.connect(app_env["HBB_DATABASE_URL"].split("///", 1)[1]) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def admins(app_env, app_url):
    """Fresh three admins (known password, no forced change), so these tests never depend on order."""
    from tests.factories import make_user

    with app_db(app_env):
        root = _sql(app_env, "SELECT id FROM org WHERE code = '130000000'")[0][0]
        for name, role in (("e2e_sys", "sys_admin"), ("e2e_sec", "sec_admin"), ("e2e_aud", "audit_admin")):
            if not _sql(app_env, "SELECT 1 FROM user WHERE username = ?", name):
                make_user(name, role, root)
    return {"sys": "e2e_sys", "sec": "e2e_sec", "aud": "e2e_aud"}


@pytest.fixture
def watched(page):
    """The page, recording script dialogs and CSP violations (both must stay empty)."""
    seen = {"dialogs": [], "csp": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("console", lambda m: "Content Security Policy" in m.text and seen["csp"].append(m.text))
    yield page
    assert seen["dialogs"] == [] and seen["csp"] == []


def _pick(page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_custom_role_changes_the_menu_without_logging_in_again(watched, browser, app_url, app_env, admins):
    leader = browser.new_context(locale="zh-CN", base_url=app_url).new_page()
    login(leader, "lingdao", DEMO_PASSWORD)
    expect(leader.locator("#shell-user")).to_have_text("陈领导")
    expect(leader.locator("#menu")).not_to_contain_text("基础数据")

    page = watched
    login(page, admins["sec"], PASSWORD)
    page.locator("#menu-\\/roles").click()
    expect(page.locator("#roles-matrix")).to_be_visible()
    page.locator("#new-role-name").fill("查询员E2E")
    page.locator("#new-role-desc").fill("只读查询")
    page.locator("#create-role").click()
    expect(page.locator("#roles-table")).to_contain_text("查询员E2E")
    role_id = _sql(app_env, "SELECT id FROM role WHERE name = '查询员E2E'")[0][0]
    for perm in ("subject.view", "budget.view"):
        box = page.locator(f'[id="perm-{role_id}-{perm}"]')
        box.click()
        expect(box).to_have_attribute("aria-checked", "true")
    assert {p for (p,) in _sql(app_env, "SELECT permission FROM rolepermission WHERE role_id = ?", role_id)} == \
        {"subject.view", "budget.view"}
    page.locator("#assign-username").fill("lingdao")
    _pick(page, "#assign-role", "查询员E2E")
    _pick(page, "#assign-org", "河北省财政厅")
    page.locator("#assign-submit").click()
    expect(page.locator("#assign-message")).to_contain_text("已将角色分配给 lingdao")

    leader.locator("#menu-\\/").click()  # the next event of the same session
    expect(leader.locator("#menu")).to_contain_text("基础数据")
    expect(leader.locator("#shell-roles")).to_contain_text("查询员E2E")
    leader.locator("#menu-\\/subjects").click()
    expect(leader.locator("#subjects-table tbody tr").first).to_be_visible()
    leader.context.close()


def test_system_admin_cannot_open_the_audit_log(watched, app_env, admins):
    page = watched
    login(page, admins["sys"], PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    expect(page.locator("#menu")).not_to_contain_text("审计日志")
    before = _sql(app_env, "SELECT count(*) FROM auditentry WHERE event_type='permission.denied' AND username=?",
                  admins["sys"])[0][0]
    page.goto("/audit")
    expect(page.locator("#page-refused")).to_contain_text("没有权限：查看审计日志")  # the page says so itself
    expect(page.get_by_text("没有权限：查看审计日志", exact=True)).to_be_visible()  # and the server refused (toast)
    expect(page.locator("#audit-table tbody tr")).to_have_count(0)
    after = _sql(app_env, "SELECT count(*) FROM auditentry WHERE event_type='permission.denied' AND username=?",
                 admins["sys"])[0][0]
    assert after == before + 1


def test_audit_admin_sees_failed_logins_and_exports_them(watched, app_env, admins):
    page = watched
    login(page, "chuzhang", "Wrong#pass9")
    expect(page.locator("#login-error")).to_contain_text("用户名或密码错误")
    login(page, admins["aud"], PASSWORD)
    page.locator("#menu-\\/audit").click()
    expect(page.locator("#audit-table tbody tr").first).to_be_visible()
    page.locator("#audit-user").fill("chuzhang")
    _pick(page, "#audit-event", "登录失败")
    page.locator("#audit-filter").click()
    rows = page.locator("#audit-table tbody tr")
    expect(rows.first).to_contain_text("登录失败")
    expect(rows.first).to_contain_text("chuzhang")
    expect(rows.first).to_contain_text("失败")
    with page.expect_download() as info:
        page.locator("#audit-export").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    exported = list(sheet.iter_rows(values_only=True))
    assert exported[0][2] == "用户" and all(r[2] == "chuzhang" and r[3] == "登录失败" for r in exported[1:])
    assert len(exported) >= 2
    page.locator("#audit-verify").click()
    expect(page.locator("#verify-result")).to_contain_text("哈希链完整")


def test_locked_user_is_unlocked_by_a_password_reset(watched, browser, app_url, admins):
    page = watched
    for _ in range(5):
        login(page, "jingban", "Wrong#pass9")
        expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("账号已锁定 15 分钟")
    login(page, admins["sys"], PASSWORD)
    page.locator("#menu-\\/admin").click()
    row = page.locator("#users-table tbody tr", has_text="jingban")
    expect(row).to_contain_text("锁定")
    page.locator("#manage-jingban").click()
    expect(page.locator("#sel-name")).to_have_text("王经办")
    page.locator("#reset-password").click()
    notice = page.locator("#one-time-password")
    expect(notice).to_contain_text("临时密码")
    password = re.search(r"临时密码：(\S+)（", notice.inner_text()).group(1)
    other = browser.new_context(locale="zh-CN", base_url=app_url).new_page()
    login(other, "jingban", password)
    expect(other.locator("#change-password")).to_be_visible()  # forced change first
    other.context.close()


def test_html_in_a_name_is_shown_as_text(watched, browser, app_url, admins):
    page = watched
    login(page, admins["sys"], PASSWORD)
    page.locator("#menu-\\/admin").click()
    page.locator("#new-username").fill("xss.user")
    page.locator("#new-fullname").fill(XSS)
    _pick(page, "#new-org", "河北省财政厅")
    page.locator("#create-user").click()
    expect(page.locator("#one-time-password")).to_contain_text("临时密码")
    expect(page.locator("#users-table")).to_contain_text(XSS)
    expect(page.locator("#sel-name")).to_have_text(XSS)
    assert page.locator('img[src="x"]').count() == 0
    password = re.search(r"临时密码：(\S+)（", page.locator("#one-time-password").inner_text()).group(1)
    other = browser.new_context(locale="zh-CN", base_url=app_url).new_page()
    dialogs = []
    other.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(other, "xss.user", password)
    expect(other.locator("#shell-user")).to_have_text(XSS)
    assert other.locator('img[src="x"]').count() == 0 and dialogs == []
    other.context.close()


def test_security_headers_on_the_served_app(app_url):
    for path in ("/", "/login", "/ping"):
        response = httpx.get(app_url + path, follow_redirects=True)
        assert response.status_code == 200, path
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
    asset = re.search(r'src="(/assets/[^"]+\.js)"', httpx.get(app_url + "/login").text)
    if asset:
        assert httpx.get(app_url + asset.group(1)).headers["x-content-type-options"] == "nosniff"


def test_foreign_origins_and_the_upload_folder_are_refused(app_url):
    evil = {"Origin": "http://evil.example"}
    assert httpx.post(app_url + "/_upload", headers=evil).status_code == 403
    assert httpx.get(app_url + "/_event/?EIO=4&transport=polling", headers=evil).status_code == 403
    assert httpx.get(app_url + "/_upload/secret.txt").status_code == 404
    preflight = httpx.options(app_url + "/_event/", headers={**evil, "Access-Control-Request-Method": "GET"})
    assert preflight.headers.get("access-control-allow-origin") != "http://evil.example"
    assert _websocket_status(app_url, "http://evil.example") != 101
    assert _websocket_status(app_url, app_url) == 101
    rebound = f"evil.example:{urlsplit(app_url).port}"  # DNS rebinding: a foreign name resolving to us
    assert httpx.get(app_url + "/", headers={"Host": rebound, "Origin": f"http://{rebound}"}).status_code == 403


def _websocket_status(app_url: str, origin: str) -> int:
    """The HTTP status a raw websocket handshake to /_event gets."""
    url = urlsplit(app_url)
    request = (f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: {origin}\r\n\r\n")
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_the_scheduler_runs_with_a_lease(app_env, app_url):
    rows = _sql(app_env, "SELECT holder FROM joblease WHERE name = 'scheduler'")
    assert rows and rows[0][0]


def test_system_admin_adds_a_unit_with_thresholds(watched, app_env, admins):
    page = watched
    login(page, admins["sys"], PASSWORD)
    page.locator("#menu-\\/orgs").click()
    expect(page.locator("#orgs-table")).to_contain_text("河北示范大学")
    _pick(page, "#new-org-parent", "　　河北示范大学")
    page.locator("#new-org-code").fill("E2E-U01-09")
    page.locator("#new-org-name").fill("河北示范大学网络中心")
    _pick(page, "#new-org-type", "高校")
    page.locator("#new-org-major").fill("500000")
    page.locator("#create-org").click()
    row = page.locator("#orgs-table tbody tr", has_text="河北示范大学网络中心")
    expect(row).to_contain_text("三重一大 ¥500,000.00；超支 5%；滞后 10 点")
    assert _sql(app_env, "SELECT major_threshold_fen FROM org WHERE code = 'E2E-U01-09'") == [(50_000_000,)]
    page.locator("#org-E2E-U01-09").click()
    page.locator("#edit-org-over").fill("8")
    page.locator("#save-org").click()
    expect(row).to_contain_text("超支 8%")
    page.screenshot(path=os.path.join(app_env["E2E_FOLDER"], "orgs.png"), full_page=True)


def test_security_admin_tightens_the_password_policy(watched, app_env, admins):
    page = watched
    login(page, admins["sec"], PASSWORD)
    page.locator("#menu-\\/security").click()
    field = page.locator("#policy-min_length")
    expect(field).to_have_value("8")
    field.fill("7")
    page.locator("#save-policy").click()
    expect(page.get_by_text("密码最小长度（位）须为 8–32 之间的整数")).to_be_visible()
    assert _sql(app_env, "SELECT count(*) FROM securitypolicy") == [(0,)]
    page.locator("#policy-min_length").fill("10")
    page.locator("#save-policy").click()
    expect(page.get_by_text("安全策略已保存")).to_be_visible()
    assert _sql(app_env, "SELECT min_length FROM securitypolicy") == [(10,)]
    page.screenshot(path=os.path.join(app_env["E2E_FOLDER"], "security.png"), full_page=True)
    with app_db(app_env):  # back to the default, so other tests see the usual policy
        from sqlmodel import delete

        from hbbudget.db import session_scope
        from hbbudget.models import SecurityPolicy

        with session_scope() as session:
            session.execute(delete(SecurityPolicy))


def test_the_apps_assets_are_served(app_url):
    """assets/ is copied to the served root: the logo, the favicon and the print stylesheet."""
    for path, kind in (("/logo.svg", "svg"), ("/favicon.ico", "icon"), ("/print.css", "css")):
        response = httpx.get(app_url + path)
        assert response.status_code == 200 and kind in response.headers["content-type"], path


def test_the_session_cookie_is_httponly_and_never_reaches_the_page(watched):
    """Issue 11 item 29: the token is set by the HTTP login as an HttpOnly cookie; scripts cannot read it, the
    websocket never carries it back to the page, and the app still works (navigation, events)."""
    page = watched
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    login(page, "kuaiji", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_contain_text("李会计")  # the backend resolved the cookie
    cookie = next(c for c in page.context.cookies() if c["name"] == "hbb_sid")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and len(cookie["value"]) >= 40
    assert "hbb_sid" not in page.evaluate("document.cookie")
    page.locator("#menu-\\/notifications").click()  # client-side navigation, a guarded on_load
    expect(page).to_have_url(re.compile(r"/notifications/?$"))
    expect(page.locator("#mark-all-read")).to_be_visible()
    page.locator("#mark-all-read").click()  # a guarded event
    expect(page.locator("#bell-count")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/notifications/?$"))
    page.reload()  # a new websocket: the handshake carries the cookie again
    expect(page.locator("#shell-user")).to_have_text("李会计")
    assert frames and not any(cookie["value"] in f for f in frames)
    assert "hbb_sid" not in page.evaluate("document.cookie")
    page.locator("#logout").click()
    expect(page.locator("#login-submit")).to_be_visible()
    assert not any(c["name"] == "hbb_sid" and c["value"] for c in page.context.cookies())

