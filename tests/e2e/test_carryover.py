"""结转 in Chromium (issue 11 item 7): the college's operator carries unspent 指标 of a 延续 project of last year
into this year; the city finance reviewer approves, and the proposal names the 结转 budget it became."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser
COLLEGE = "河北示范大学信息工程学院"


def _as(browser, app_url: str, username: str):
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    login(page, username, DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)
    return page


def test_unit_proposes_and_finance_approves_a_carry_over(browser, app_url):
    last_year = dt.date.today().year - 1
    op = _as(browser, app_url, "jingban")
    op.goto("/carryover")
    op.locator("#carry-budget").click()
    op.get_by_role("option", name=re.compile(f"{COLLEGE} {last_year} 年度预算")).click()
    lines = op.locator("#carry-lines tbody tr")
    expect(lines.first).to_be_visible()
    # a line with unspent 指标 (column 7 is not ¥0.00)
    line = lines.filter(has=op.locator("td:nth-child(7)", has_not_text="¥0.00")).first
    line.locator("input").fill("999999999")  # more than is unspent: refused, nothing proposed
    op.locator("#carry-submit").click()
    expect(op.get_by_text("超过未执行指标")).to_be_visible()
    expect(op.locator("#carry-table tbody tr")).to_have_count(0)
    line.locator("input").fill("1.00")
    op.locator("#carry-reason").fill("设备尾款结转")
    op.locator("#carry-submit").click()
    row = op.locator("#carry-table tbody tr").filter(has_text="设备尾款结转")
    expect(row).to_contain_text("待审核")
    expect(row).to_contain_text("¥1.00")
    op.context.close()

    fin = _as(browser, app_url, "caizheng")
    fin.goto("/carryover")
    row = fin.locator("#carry-table tbody tr").filter(has_text="设备尾款结转")
    row.get_by_role("button", name="审核").click()
    fin.locator("#carry-comment").fill("同意结转")
    fin.locator("#carry-approve").click()
    expect(row).to_contain_text("已批准")
    expect(row).to_contain_text("已列入预算")
    fin.context.close()
