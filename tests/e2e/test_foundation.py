"""A newcomer's first minutes in a real browser: log in, see the allowed menu, be refused, be locked, log out."""

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def _audit_rows(app_env, event_type: str, username: str) -> int:
    path = app_env["HBB_DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM auditentry WHERE event_type=? AND username=?",
                            (event_type, username)).fetchone()[0]


def test_accountant_sees_only_allowed_menu(page):
    login(page, "kuaiji", DEMO_PASSWORD)
    expect(page.locator("#shell-user")).to_have_text("李会计")
    expect(page.locator("#shell-org")).to_have_text("河北示范大学")
    expect(page.locator("#shell-roles")).to_have_text("会计")
    menu = page.locator("#menu a")
    expect(menu).to_have_text(["工作台", "项目库", "预算编制", "结转", "审批事项", "执行监控", "执行台账", "待匹配", "预警中心",
                               "电子发票", "领导驾驶舱", "执行报告", "趋势与穿透", "基础数据", "消息"])  # 执行监控: issue 11 item 21
    page.locator("#menu-\\/subjects").click()
    expect(page.locator("#subjects-table tbody tr").first).to_be_visible()
    expect(page.locator("#subjects-table")).to_contain_text("一般公共服务支出")


def test_accountant_opening_admin_url_is_refused(page, app_env):
    login(page, "kuaiji", DEMO_PASSWORD)
    expect(page.locator("#shell-user")).to_have_text("李会计")
    before = _audit_rows(app_env, "permission.denied", "kuaiji")
    page.goto("/admin")
    expect(page.locator("#page-refused")).to_contain_text("没有权限：用户管理")  # the page says so itself
    expect(page.get_by_text("没有权限：用户管理", exact=True)).to_be_visible()  # and the server refused (toast)
    expect(page.locator("#users-table tbody tr")).to_have_count(0)
    assert _audit_rows(app_env, "permission.denied", "kuaiji") == before + 1


def test_five_wrong_passwords_lock_the_account(page):
    for attempt in range(1, 5):
        login(page, "xiaozhang", "Wrong@pass1")
        expect(page.locator("#login-error")).to_contain_text(f"还可尝试 {5 - attempt} 次")
    login(page, "xiaozhang", "Wrong@pass1")
    expect(page.locator("#login-error")).to_contain_text("账号已锁定 15 分钟")
    login(page, "xiaozhang", DEMO_PASSWORD)
    expect(page.locator("#login-error")).to_contain_text("账号已锁定，请于")
    expect(page).to_have_url(re.compile(r"/login/?(\?error=[\w%:-]+)?$"))  # the HTTP login's refusal


def test_logout_ends_the_session(page):
    login(page, "chuzhang", DEMO_PASSWORD)
    expect(page.locator("#shell-user")).to_have_text("张处长")
    token = next(c for c in page.context.cookies() if c["name"] == "hbb_sid")
    page.locator("#logout").click()
    expect(page.locator("#login-submit")).to_be_visible()
    page.goto("/")
    expect(page.locator("#login-submit")).to_be_visible()  # signed out: the login page, no error (issue 11)
    # The old token, replayed, is dead on the server too.
    page.context.add_cookies([token])
    page.goto("/")
    expect(page.get_by_text("会话已失效，请重新登录").first).to_be_visible(timeout=20_000)
    expect(page.locator("#login-submit")).to_be_visible()


def test_admin_must_change_initial_password_then_sees_admin_pages(page):
    login(page, "sysadmin", DEMO_PASSWORD)
    expect(page.locator("#change-password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/password/?$"))
    page.goto("/admin")  # refused until the password is changed
    expect(page.get_by_text("请先修改初始密码")).to_be_visible(timeout=20_000)
    page.locator("#old-password").fill(DEMO_PASSWORD)
    page.locator("#new-password").fill("Admin#2027new")
    page.locator("#confirm-password").fill("Admin#2027new")
    page.locator("#change-password").click()
    expect(page.locator("#welcome")).to_be_visible()
    expect(page.locator("#menu a")).to_have_text(["工作台", "科目年度更新", "系统管理", "单位管理", "接口状态", "数据备份",
                                                  "历史数据迁移", "系统巡检", "反馈处理", "消息"])
    page.locator("#menu-\\/admin").click()
    expect(page.locator("#users-table")).to_contain_text("kuaiji")
    expect(page.locator("#users-table")).to_contain_text("会计@河北示范大学")
    # 接口状态: the accounts and their runs, no amounts; 立即同步 adds a manual run at once.
    page.locator("#menu-\\/interfaces").click()
    accounts = page.locator("#interface-accounts tbody tr")
    expect(accounts).to_have_count(2)
    expect(page.locator("#interface-runs")).not_to_contain_text("¥")
    accounts.first.get_by_role("button", name="立即同步").click()
    expect(page.get_by_text("同步完成：新增")).to_be_visible()
    # the manual run is listed (a scheduled poll may have started a newer run meanwhile)
    expect(page.locator("#interface-runs tbody tr").filter(has_text="手动").first).to_be_visible()
