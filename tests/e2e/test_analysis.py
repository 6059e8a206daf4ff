"""数据分析 in a real browser: the leader (陈领导, province-wide) opens the 领导驾驶舱 (a payment booked at the
bank simulator changes its 已支出 card within 5 s of the poll, without a reload), clicks the bar of the
lagging org (the lowest execution rate: the first bar), follows the drill-down bars to a budget line's payments,
goes back up by the breadcrumb, and exports the quarterly report as xlsx (read back with openpyxl)."""

from __future__ import annotations

import io
import re
import time

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from hbbudget.clock import current_fiscal_year
from hbbudget.services.demo.execution import ACCOUNTS
from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser

FIRST_BAR = "#chart-drill .barlayer .point path"


def test_leader_drills_from_the_dashboard_to_a_payment_and_exports_the_quarter(browser, app_url, bank_sim):
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, "lingdao", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    page.goto("/cockpit")
    expect(page.locator("#kpi-budget")).to_contain_text("万元")
    expect(page.locator("#kpi-forecast")).to_have_text(re.compile(r"^\d+\.\d\d%$"))
    # live: a payment booked at the bank reaches the open 驾驶舱 (poll every 2 s) without a reload
    spent = page.locator("#kpi-spent").inner_text()
    classroom = f"130100{current_fiscal_year()}P000004"  # 智慧教室改造: the college's one-line project
    booked = httpx.post(f"{bank_sim}/admin/book", json={
        "account": ACCOUNTS[0][0], "amount": "12345.00", "direction": "D",
        "purpose": f"{classroom} 教室设备款", "counterparty": "河北智联科技服务有限公司"}, timeout=10)
    assert booked.status_code == 200
    began = time.monotonic()
    expect(page.locator("#kpi-spent")).not_to_have_text(spent)
    elapsed = time.monotonic() - began
    print(f"\n领导驾驶舱 updated {elapsed:.1f} s after the booking (poll interval 2 s)")
    assert elapsed <= 2 + 5, f"live update took {elapsed:.1f} s"
    bars = page.locator("#chart-cockpit-orgs .barlayer .point path")
    expect(bars.first).to_be_visible()
    bars.first.click(force=True)  # Plotly takes the click from its drag layer at the bar's position
    expect(page).to_have_url(re.compile(r"/analysis\?p=org-\d+&y=\d{4}$"))
    crumbs = page.locator("#drill-crumbs a")
    expect(crumbs).to_have_count(2)  # 河北省财政厅 › the lagging city
    lagging = crumbs.last.inner_text()
    # down the first (lowest-rate) bar until a budget line's payments are shown: org → … → project → line
    for depth in range(3, 8):
        expect(page.locator(FIRST_BAR).first).to_be_visible()
        page.locator(FIRST_BAR).first.click(force=True)
        expect(crumbs).to_have_count(depth)
        if "line-" in page.url:
            break
    expect(page.locator("#drill-payments")).to_be_visible()
    expect(page.locator("#drill-payments tbody tr").first).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d"))
    crumbs.nth(1).click()  # back to the lagging org by the breadcrumb
    expect(crumbs).to_have_count(2)
    expect(crumbs.last).to_have_text(lagging)
    expect(page.locator("#chart-heat")).to_be_visible()

    page.goto("/reports")
    expect(page.locator("#report-title")).to_be_visible()
    page.locator("#report-period").select_option("Q3")
    page.locator("#report-run").click()
    expect(page.locator("#report-title")).to_contain_text("第三季度")
    with page.expect_download() as info:
        page.locator("#report-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith("第三季度预算执行情况表（按单位）.xlsx"), download.suggested_filename
    ws = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    assert "A3:A4" in {str(r) for r in ws.merged_cells.ranges} and ws["A5"].value == "合计"
    assert ws["C5"].number_format == "#,##0.00" and ws["C5"].value > 0 and ws["A5"].font.bold
    context.close()


def test_a_composition_bar_and_a_trend_point_drill_like_the_bars(browser, app_url):
    """The leader's 趋势与穿透: a 功能分类 bar opens the projects of that class, a point of the trend opens the
    next level as of that month (the URL carries both, breadcrumbs show them)."""
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, "lingdao", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    page.goto("/analysis")
    crumbs = page.locator("#drill-crumbs a")
    expect(crumbs).to_have_count(1)
    bar = page.locator("#chart-composition .barlayer .point path")  # 类, 款, 项 in code order: the last is a 项
    expect(bar.last).to_be_visible()
    bar.last.click(force=True)
    expect(page).to_have_url(re.compile(r"/analysis\?p=org-\d+\.func-\d{3,7}&y=\d{4}$"))
    expect(crumbs).to_have_count(2)
    expect(page.locator(FIRST_BAR).first).to_be_visible()  # the class's projects
    point = page.locator("#chart-trend .scatterlayer .points path")
    expect(point.first).to_be_visible()
    point.first.click(force=True)  # January of this year's curve
    expect(page).to_have_url(re.compile(r"/analysis\?p=org-\d+\.func-\d{3,7}&y=\d{4}&m=1$"))
    expect(crumbs.last).to_have_text("截至1月")
    context.close()
