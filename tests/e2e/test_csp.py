"""The Content-Security-Policy has no 'unsafe-eval' (issue 11 item 29), and the app still works under it: server
toasts (state/notices.py, no eval), a toast that comes with a redirect, the Plotly charts (bars, heatmap,
scatter) and the evaluation sheet's print button. Every page opened records `securitypolicyviolation`
events and console errors; there must be none."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser

RECORD = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _recorded(browser, app_url: str):
    """A page recording CSP violations (in the page, across reloads: each document adds its own) and console
    errors."""
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    context.add_init_script(RECORD)
    page = context.new_page()
    seen = {"console": [], "violations": []}
    page.on("console", lambda m: m.type == "error" and seen["console"].append(m.text))
    return page, seen


def _violations(page, seen) -> list[str]:
    return seen["violations"] + page.evaluate("window.__violations || []")


def _leave(page, seen) -> None:
    """Collect the current document's violations before navigating away."""
    seen["violations"] += page.evaluate("window.__violations || []")


def test_csp_has_no_unsafe_eval_and_server_toasts_still_show(browser, app_url):
    for path in ("/login", "/"):
        csp = httpx.get(app_url + path, timeout=10).headers["content-security-policy"]
        assert "'unsafe-eval'" not in csp and "script-src 'self'" in csp
    page, seen = _recorded(browser, app_url)
    login(page, "chuzhang", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    _leave(page, seen)
    page.goto("/audit")  # refused by the guard: the toast is a notice in the state, shown without eval
    expect(page.get_by_text("没有权限：查看审计日志", exact=True)).to_be_visible()
    page.goto("/")
    expect(page.locator("#welcome")).to_be_visible()
    _leave(page, seen)
    page.reload()  # a reload does not show the old notices again
    expect(page.locator("#welcome")).to_be_visible()
    expect(page.get_by_text("没有权限：查看审计日志", exact=True)).to_have_count(0)
    # a notice that comes with a redirect: a dead session's toast on the login page
    token = next(c for c in page.context.cookies() if c["name"] == "hbb_sid")
    page.locator("#logout").click()
    expect(page.locator("#login-submit")).to_be_visible()
    page.context.add_cookies([token])
    _leave(page, seen)
    page.goto("/")
    expect(page.get_by_text("会话已失效，请重新登录").first).to_be_visible()
    expect(page.locator("#login-submit")).to_be_visible()
    assert _violations(page, seen) == [] and seen["console"] == []
    page.context.close()


def test_charts_and_the_print_button_need_no_eval(browser, app_url):
    page, seen = _recorded(browser, app_url)
    login(page, "lingdao", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    _leave(page, seen)
    page.goto("/cockpit")
    expect(page.locator("#chart-cockpit-orgs .barlayer .point path").first).to_be_visible()
    _leave(page, seen)
    page.goto("/analysis")
    expect(page.locator("#chart-trend .scatterlayer .points path").first).to_be_visible()
    expect(page.locator("#chart-composition .barlayer .point path").last).to_be_visible()
    expect(page.locator("#chart-heat .heatmaplayer image, #chart-heat .heatmaplayer .hm").first).to_be_attached()
    _leave(page, seen)
    # the sheet's 打印 button (assets/print_button.js); an id that does not exist: the service's refusal toasts
    page.add_init_script("window.print = () => document.body.setAttribute('data-printed', 'yes');")
    page.goto("/evaluation-sheet/999999")
    expect(page.locator("[data-sonner-toast]").first).to_be_visible()
    page.locator("#sheet-print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    assert _violations(page, seen) == [] and seen["console"] == []
    page.context.close()
