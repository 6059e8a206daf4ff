"""Issue 17 in a real browser on the production build: the 系统管理员 backs up from 数据备份 and signs the month's
系统巡检; a user opens 帮助 from a page (that page's help, the FAQ searched and rated), files 意见反馈, and sees
the handler's reply in the bell and on the page."""

import os
import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sql(app_env, query: str, *params):
    with sqlite3.connect(app_env["HBB_DATABASE_URL"].split("///", 1)[1]) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def users(app_env, app_url):
    from tests.factories import make_user

    old = os.environ.get("HBB_DATABASE_URL")
    os.environ["HBB_DATABASE_URL"] = app_env["HBB_DATABASE_URL"]
    try:
        root = _sql(app_env, "SELECT id FROM org WHERE code = '130000000'")[0][0]
        for name, role in (("e2e_ops", "sys_admin"), ("e2e_kj", "accountant")):
            if not _sql(app_env, "SELECT 1 FROM user WHERE username = ?", name):
                make_user(name, role, root)
    finally:
        if old is None:
            os.environ.pop("HBB_DATABASE_URL", None)
        else:
            os.environ["HBB_DATABASE_URL"] = old
    return {"sys": "e2e_ops", "user": "e2e_kj"}


def _login(page, username: str) -> None:
    login(page, username, PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()  # signed in before the next navigation


def _shot(page, app_env, name: str) -> None:
    page.screenshot(path=os.path.join(app_env["E2E_FOLDER"], name), full_page=True)


def test_backup_and_inspection(page, app_env, users):
    _login(page, users["sys"])
    page.locator("#menu-\\/backups").click()
    expect(page.get_by_text("还没有备份。")).to_be_visible()
    page.locator("#backup-now").click()
    expect(page.locator("#backup-list tbody tr")).to_have_count(1)
    expect(page.locator("#backup-last")).to_contain_text("成功")
    files = [f for f in os.listdir(app_env["HBB_BACKUP_DIR"]) if f.endswith(".sqlite")]
    assert len(files) == 1 and os.path.exists(os.path.join(app_env["HBB_BACKUP_DIR"], files[0] + ".json"))
    _shot(page, app_env, "backups.png")
    page.locator("#menu-\\/inspection").click()
    expect(page.locator("#health-checks")).to_contain_text("最近备份", timeout=60_000)  # verifies the audit chain
    page.locator("#health-note").fill("端到端测试巡检")
    page.locator("#health-sign").click()
    expect(page.locator("#health-records")).to_contain_text("端到端测试巡检")
    assert _sql(app_env, "SELECT note FROM healthrecord") == [("端到端测试巡检",)]


def test_help_feedback_and_the_reply_in_the_bell(page, browser, app_url, app_env, users):
    _login(page, users["user"])
    page.goto("/matching")
    page.locator("#help-link").click()
    expect(page.locator("#page-help")).to_contain_text("待匹配")
    page.locator("#faq-q").fill("锁定")
    page.locator("#faq-search").click()
    first = page.locator("#faq-list > *").first
    expect(first).to_contain_text("账号已锁定")
    first.get_by_role("button", name=re.compile("有帮助")).click()
    expect(first.get_by_role("button", name=re.compile("有帮助"))).to_contain_text("1")
    _shot(page, app_env, "help.png")
    page.locator("#to-feedback").click()
    expect(page.locator("#feedback-page")).to_have_value("/matching")
    page.locator("#feedback-text").fill("端到端：待匹配里找不到上月的流水")
    page.locator("#feedback-submit").click()
    expect(page.locator("#feedback-mine")).to_contain_text("端到端：待匹配里找不到上月的流水")
    handler = browser.new_context(locale="zh-CN", base_url=app_url).new_page()
    _login(handler, users["sys"])
    handler.goto("/tickets")
    card = handler.locator("#tickets-list > *", has_text="端到端：待匹配")
    card.get_by_placeholder("回复内容").fill("请把日期范围改到上月")
    card.get_by_role("button", name="回复").click()
    expect(card).to_contain_text("已回复")
    handler.context.close()
    page.reload()
    expect(page.locator("#feedback-mine")).to_contain_text("请把日期范围改到上月")
    expect(page.locator("#bell-count")).to_be_visible()
