"""Issue 11, pages in a real browser: no empty or "no data" page while loading and no error for a visitor
without a session (item 13), no English word on any menu page (item 15), Enter/Esc in the budget grid
(item 19), and another user's save announced on an open budget (item 20)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import ROOT, login

pytestmark = pytest.mark.browser

# Texts a page may show only when they are true: an empty greeting, "no data" while the data is on its way.
NEVER_WHILE_LOADING = ("您好，（", "暂无现行已批复预算", "请先登录")
WATCH = "const bad = " + json.dumps(NEVER_WHILE_LOADING, ensure_ascii=False) + ";" + """
window.__seen = new Set();
new MutationObserver(() => {
  const text = document.body ? document.body.innerText : "";
  for (const b of bad) { if (text.includes(b)) window.__seen.add(b); }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""

# ASCII words a user may see: names of formats and systems, and the letters of codes (account, project,
# document numbers are checked apart: a word glued to digits is a code)
ALLOWED = {"Excel", "OA", "xlsx", "OFD", "XML", "XBRL", "JSON", "camt", "PDF", "CSV", "ID", "IP", "URL", "HTTP",
           "HTTPS", "API", "CNY", "SQLite", "PostgreSQL", "KPI",
           "CT"}  # the demo hospital's project CT设备购置 (the word Chinese hospitals use)
WORD = re.compile(r"(?<![A-Za-z0-9_\-.{])[A-Za-z]{2,}(?![A-Za-z0-9_\-])")
ROLES = ("jingban", "kuaiji", "chuzhang", "caizheng", "lingdao")


def _context(browser, app_url: str):
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(30_000)
    context.add_init_script(WATCH)
    return context


def _signed_in(browser, app_url: str, username: str, password: str = DEMO_PASSWORD):
    page = _context(browser, app_url).new_page()
    login(page, username, password)
    expect(page.locator("#welcome")).to_be_visible(timeout=30_000)
    return page


def _seen(page) -> list[str]:
    return page.evaluate("Array.from(window.__seen)")


def test_a_visitor_without_a_session_gets_the_login_page_without_an_error(browser, app_url):
    page = _context(browser, app_url).new_page()
    page.goto("/")
    expect(page.locator("#login-submit")).to_be_visible()
    page.goto("/ledger")
    expect(page.locator("#login-submit")).to_be_visible()
    assert "请先登录" not in _seen(page)
    page.context.close()


def test_pages_show_loading_until_their_data_arrives(browser, app_url):
    page = _signed_in(browser, app_url, "kuaiji")
    page.goto("/ledger")  # a fresh load: the shell before hydration, then the list
    expect(page.locator("#ledger-budgets tbody tr").first).to_be_visible()
    page.locator("#menu-\\/").click()  # client-side navigation back and forth
    expect(page.locator("#welcome")).to_contain_text("李会计")
    page.locator("#menu-\\/ledger").click()
    expect(page.locator("#ledger-budgets tbody tr").first).to_be_visible()
    assert _seen(page) == [], f"shown while loading: {_seen(page)}"
    page.context.close()


def _english(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w not in ALLOWED}


def test_no_english_word_on_any_menu_page(browser, app_url):
    found: dict[str, set[str]] = {}
    for username in ROLES:
        page = _signed_in(browser, app_url, username)
        hrefs = page.locator("#menu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs, username
        for href in hrefs:
            page.goto(href)
            expect(page.locator("#shell-content h1").first).to_be_visible(timeout=60_000)  # a loaded machine
            expect(page.locator("#page-loading")).to_have_count(0, timeout=60_000)
            words = _english(page.locator("body").inner_text())
            if words:
                found[f"{username} {href}"] = words
        page.context.close()
    assert not found, f"English words on screen: {found}"


SETUP = """
from sqlmodel import select
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import Budget, Org
from hbbudget.services.budgeting import budgets
from hbbudget.services.security import auth
from tests.factories import PASSWORD, make_user

with session_scope() as session:
    org = session.exec(select(Org).where(Org.code == "DEMO-U01-02")).one().id
from hbbudget.models import User

for name in ("gridop1", "gridop2"):
    with session_scope() as session:
        exists = session.exec(select(User.id).where(User.username == name)).first()
    if not exists:
        make_user(name, "operator", org, subtree=False)
ctx = auth.login("gridop1", PASSWORD)[1]
year = current_fiscal_year() + 1
with session_scope() as session:
    found = session.exec(select(Budget.id).where(Budget.org_id == org, Budget.fiscal_year == year,
                                                 Budget.seq == 0)).first()
bid = found or budgets.create_budget(ctx, org, year)["id"]
for amount in ("100", "200", "300"):
    budgets.add_line(ctx, bid, {"econ_code": "30201", "func_code": "2050205", "source": "财政拨款",
                                "amount": amount, "note": "键盘测试"})
print(bid)
"""


@pytest.fixture(scope="module")
def grid_budget(app_env) -> str:
    """A draft budget of 河北示范大学经济管理学院 with three lines, and two operators there (gridop1, gridop2)."""
    out = subprocess.run([sys.executable, "-c", SETUP], env=app_env, cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def _amounts(page):
    return page.locator("#budget-grid tbody tr input[id^='amount-']")


def test_enter_saves_and_moves_down_esc_restores(browser, app_url, grid_budget):
    from tests.factories import PASSWORD

    page = _signed_in(browser, app_url, "gridop1", PASSWORD)
    page.goto(f"/budgets/{grid_budget}")
    amounts = _amounts(page)
    expect(amounts.nth(2)).to_be_visible()
    first, second = amounts.nth(0), amounts.nth(1)
    first.fill("111")
    first.press("Enter")
    expect(second).to_be_focused()
    expect(page.locator("#budget-grid tbody tr").nth(0)).to_contain_text("¥111.00")  # saved
    stored = second.input_value()
    second.fill("999")
    second.press("Escape")
    expect(second).to_have_value(stored)
    expect(second).not_to_be_focused()
    expect(page.locator("#budget-grid")).not_to_contain_text("¥999.00")
    page.reload()
    expect(_amounts(page).nth(1)).to_have_value(stored)  # Esc saved nothing
    page.context.close()


def test_another_users_save_is_announced_on_an_open_budget(browser, app_url, grid_budget):
    from tests.factories import PASSWORD

    viewer = _signed_in(browser, app_url, "gridop2", PASSWORD)
    viewer.goto(f"/budgets/{grid_budget}")
    expect(_amounts(viewer).nth(2)).to_be_visible()
    expect(viewer.locator("#others-changed")).to_have_count(0)
    editor = _signed_in(browser, app_url, "gridop1", PASSWORD)
    editor.goto(f"/budgets/{grid_budget}")
    amount = _amounts(editor).nth(2)
    expect(amount).to_be_visible()
    amount.fill("333")
    amount.press("Tab")
    expect(editor.locator("#budget-grid tbody tr").nth(2)).to_contain_text("¥333.00")
    expect(editor.locator("#others-changed")).to_have_count(0)  # its own save
    expect(viewer.locator("#others-changed")).to_be_visible()  # pushed, no reload
    viewer.locator("#refresh-lines").click()
    expect(viewer.locator("#budget-grid tbody tr").nth(2)).to_contain_text("¥333.00")
    expect(viewer.locator("#others-changed")).to_have_count(0)
    viewer.context.close()
    editor.context.close()
