"""预算编制 in a real browser: a unit operator builds a project and a budget, the reviewers above return and
approve it, and the consolidated view shows the new total.

Review chain of the operator's org (河北示范大学信息工程学院): 河北示范大学 (chuzhang), its head (xiaozhang: a budget
leaves the unit only with the unit head's signature) → 石家庄市财政局 (caizheng).
Set E2E_SHOTS=/some/dir to keep screenshots of each page."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser

YEAR = "2027"
OPERATOR_ORG = "河北示范大学信息工程学院"


def _shot(page, name: str) -> None:
    folder = os.environ.get("E2E_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _as(browser, app_url: str, username: str):
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    login(page, username, DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)  # argon2 and a loaded machine
    return page


def _approve_project(browser, app_url: str, username: str, code: str) -> None:
    page = _as(browser, app_url, username)
    page.goto("/review")
    row = page.locator("#pending-projects tbody tr").filter(has_text=code)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="通过").click()
    page.locator("#review-comment").fill("同意")
    page.locator("#review-confirm").click()
    expect(page.locator("#pending-projects tbody tr").filter(has_text=code)).to_have_count(0)
    page.context.close()


def _sql(app_env, query: str, *params) -> list:
    with sqlite3.connect(app_env["HBB_DATABASE_URL"].split("///", 1)[1]) as conn:
        return conn.execute(query, params).fetchall()


def _grid_row(page, text: str):
    return page.locator("#budget-grid tbody tr").filter(has_text=text)


def test_operator_builds_budget_reviewers_return_then_approve(browser, app_env, app_url, tmp_path):
    stamp = time.strftime("%H%M%S")
    name = f"智慧教室建设{stamp}"

    # ---- the operator creates a project, gives it a target and declares it ----
    op = _as(browser, app_url, "jingban")
    op.locator("#menu-\\/projects").click()
    expect(op.locator("#projects-table")).to_be_visible()
    op.locator("#new-project").click()
    op.locator("#project-name").fill(name)
    op.locator("#project-start").fill(YEAR)
    op.locator("#project-end").fill(YEAR)
    op.locator("#project-total").fill("300000")
    op.locator("#project-func").fill("2050205")
    op.locator("#project-owner").fill("王经办")
    op.locator("#project-description").fill("建设智慧教室 2 间")
    _shot(op, "01-project-new")
    op.locator("#create-project").click()
    expect(op).to_have_url(re.compile(r"/projects/\d+/?$"))
    expect(op.locator("#project-status")).to_have_text("草稿")
    code = op.locator("#project-title").inner_text().split()[0]
    op.locator("#add-target").click()
    op.locator(".target-indicator input, input.target-indicator").first.fill("建成智慧教室数量")
    op.locator(".target-value input, input.target-value").first.fill("2")
    op.locator(".target-weight input, input.target-weight").first.fill("90")  # + 预算执行率 10
    op.locator("#save-targets").click()
    expect(op.get_by_text("绩效目标已保存")).to_be_visible()  # saved before declaring (it needs targets)
    op.locator("#project-action-declare").click()
    op.locator("#project-action-confirm").click()
    expect(op.locator("#project-status")).to_have_text("已申报")
    _shot(op, "02-project-declared")

    # ---- the project goes through review into the library ----
    _approve_project(browser, app_url, "chuzhang", code)
    _approve_project(browser, app_url, "caizheng", code)
    op.reload()
    expect(op.locator("#project-status")).to_have_text("已入库")

    # ---- the operator opens (or starts) the 2027 budget and adds lines ----
    op.locator("#menu-\\/budgets").click()
    expect(op.locator("#budgets-table")).to_be_visible()
    _shot(op, "03-budgets")
    mine = op.locator("#budgets-table tbody tr").filter(has_text=OPERATOR_ORG).filter(has_text=YEAR)
    # decided from the database, not from a page that may still be loading; then the page must agree
    if not _sql(app_env, "SELECT b.id FROM budget b JOIN org o ON o.id = b.org_id WHERE o.name = ? "
                         "AND b.fiscal_year = ? AND b.seq = 0", OPERATOR_ORG, int(YEAR)):
        op.locator("#new-budget").click()
        op.locator("#create-year").fill(YEAR)
        op.locator("#create-blank").click()
    else:
        expect(mine.first).to_be_visible()
        mine.first.get_by_role("link").first.click()
    expect(op).to_have_url(re.compile(r"/budgets/\d+/?$"))
    budget_id = re.search(r"/budgets/(\d+)", op.url).group(1)
    expect(op.locator("#budget-title")).to_contain_text(OPERATOR_ORG)
    expect(op.locator("#new-line-form")).to_be_visible()

    op.locator("#new-line-project").click()
    op.get_by_role("option", name=re.compile(code)).click()
    op.locator("#pick-new-econ").click()
    op.locator("#picker-q").fill("办公")
    op.locator("#picker-q").press("Enter")
    op.locator("#pick-30201").click()
    expect(op.locator("#new-econ")).to_have_value("30201")
    op.locator("#new-func").fill("2050205")
    op.locator("#new-amount").fill("0")
    op.locator("#new-note").fill("多媒体设备")
    op.locator("#add-line").click()
    row = _grid_row(op, code)
    expect(row).to_have_count(1)

    # ---- a rule error: the amount must be positive ----
    expect(op.locator("#rule-panel")).to_contain_text("金额为正")
    expect(op.locator("#rule-panel-summary")).to_contain_text("个错误")
    expect(op.locator("#rule-panel-summary")).not_to_contain_text("0 个错误")
    _shot(op, "04-editor-rule-error")

    # ---- fix it in the grid: the panel changes in the same event ----
    amount = row.locator("input[id^='amount-']")
    amount.fill("120000")
    amount.press("Tab")
    expect(row).to_contain_text("¥120,000.00")
    expect(op.locator("#rule-panel-summary")).to_have_text(re.compile(r"^(全部 \d+ 条规则通过|0 个错误)"))
    op.get_by_role("tab", name="分类小计").click()
    expect(op.locator("#econ-subtotals")).to_contain_text("302")
    _shot(op, "05-editor-subtotals")
    op.get_by_role("tab", name="明细").click()

    # ---- Excel: export, then import the same file (preview first, all or nothing) ----
    with op.expect_download() as download:
        op.locator("#export-excel").click()
    xlsx = tmp_path / download.value.suggested_filename
    download.value.save_as(xlsx)
    op.locator("#open-import").click()
    op.locator("#budget-import input[type=file]").set_input_files(str(xlsx))
    op.locator("#import-preview").click()
    expect(op.locator("#import-summary")).to_contain_text("可以导入")
    op.locator("#import-commit").click()
    expect(op.locator("#import-summary")).to_have_count(0)
    expect(_grid_row(op, code)).to_contain_text("¥120,000.00")
    row.get_by_role("button", name=re.compile("已平衡|不平衡")).click()
    expect(op.locator("#save-plan")).to_be_visible()
    _shot(op, "06-editor-plan")
    op.get_by_role("button", name="关闭").click()

    # ---- submit (a reason is always accepted; needed only when warnings exist) ----
    op.locator("#action-submit").click()
    op.locator("#action-comment").fill("按学院实际需求编制")
    op.locator("#action-confirm").click()
    expect(op.locator("#budget-status")).to_have_text("审核中")
    _shot(op, "07-editor-submitted")

    # ---- the unit above returns it with a comment ----
    head = _as(browser, app_url, "chuzhang")
    expect(head.locator("#bell-count")).to_be_visible()
    head.goto("/review")
    pending = head.locator(f"#pending-budget-{budget_id}")
    expect(pending).to_be_visible()
    _shot(head, "08-review-pending")
    head.locator(f"#return-budget-{budget_id}").click()
    head.locator("#review-confirm").click()  # refused without a comment: the dialog stays open
    expect(head.get_by_text("审核意见不能为空")).to_be_visible()
    expect(head.locator(f"#pending-budget-{budget_id}")).to_be_visible()
    head.locator("#review-comment").fill("请补充设备采购清单")
    head.locator("#review-confirm").click()
    expect(head.locator(f"#pending-budget-{budget_id}")).to_have_count(0)

    # ---- the operator sees the comment, fixes and resubmits ----
    op.reload()
    expect(op.locator("#budget-status")).to_have_text("退回")
    expect(op.locator("#budget-comment")).to_contain_text("请补充设备采购清单")
    note = _grid_row(op, code).locator("input[id^='note-']")
    note.fill("多媒体设备：交互式黑板 2 套、录播系统 1 套")
    note.press("Tab")
    expect(_grid_row(op, code).locator("input[id^='note-']")).to_have_value(re.compile("录播系统"))
    # the note's save is queued before the submit (events of a tab run in order): no wait needed to decide
    op.locator("#action-submit").click()
    op.locator("#action-comment").fill("已补充采购清单")
    op.locator("#action-confirm").click()
    expect(op.locator("#budget-status")).to_have_text("审核中")
    total = op.locator("#budget-total").inner_text()

    # ---- the 处长, then the 校长 (before it leaves the university), then the city approve ----
    head.goto("/review")
    head.locator(f"#approve-budget-{budget_id}").click()
    head.locator("#review-confirm").click()
    expect(head.locator(f"#pending-budget-{budget_id}")).to_have_count(0)
    lead = _as(browser, app_url, "xiaozhang")
    lead.goto("/review")
    lead.locator(f"#approve-budget-{budget_id}").click()
    lead.locator("#review-confirm").click()
    expect(lead.locator(f"#pending-budget-{budget_id}")).to_have_count(0)
    lead.context.close()
    fin = _as(browser, app_url, "caizheng")
    fin.goto("/review")
    fin.locator(f"#approve-budget-{budget_id}").click()
    fin.locator("#review-confirm").click()
    expect(fin.locator(f"#pending-budget-{budget_id}")).to_have_count(0)
    fin.context.close()
    op.reload()
    expect(op.locator("#budget-status")).to_have_text("已审核")

    # ---- the consolidated view of the unit shows the new total, and drills down to the line ----
    head.locator("#review-year").click()
    head.get_by_role("option", name=YEAR, exact=True).click()
    head.locator("#tab-cons").click()
    org_row = head.locator("#consolidated-table tbody tr").filter(has_text=OPERATOR_ORG)
    expect(org_row).to_contain_text(total)
    org_row.get_by_role("button", name="明细").click()
    expect(head.locator("#drill-table")).to_contain_text(code)
    _shot(head, "09-review-consolidated")
    head.locator("#tab-subs").click()
    expect(head.locator("#subordinates-table")).to_contain_text(OPERATOR_ORG)
    head.locator("#tab-controls").click()
    expect(head.locator("#controls-table")).to_contain_text(OPERATOR_ORG)
    _shot(head, "10-review-controls")
    head.context.close()

    # ---- the version history shows the two submissions ----
    op.get_by_role("tab", name="版本记录").click()
    expect(op.locator("#versions-table tbody tr").first).to_be_visible()
    _shot(op, "11-editor-versions")
    op.locator("#menu-\\/notifications").click()
    expect(op.locator("#notifications-list")).to_contain_text("退回")
    _shot(op, "12-notifications")
    op.context.close()


def test_finance_reviewer_sets_control_numbers_below_the_university_after_confirming(browser, app_env, app_url):
    """Issue 11 item 5: the city's 财政审核 picks an org of its subtree (the university), fills a college's
    control number, sees the change in a confirmation, and only then issues it."""
    fin = _as(browser, app_url, "caizheng")
    fin.goto("/review")
    fin.locator("#tab-controls").click()
    expect(fin.locator("#control-org")).to_contain_text("石家庄市财政局")
    fin.locator("#control-org").click()
    fin.get_by_role("option", name=re.compile("^河北示范大学（")).click()
    row = fin.locator("#controls-table tbody tr").filter(has_text="河北示范大学经济管理学院")
    expect(row).to_have_count(1)
    row.locator("input").fill("1234.5")
    fin.locator("#issue-controls").click()
    confirm = fin.locator("#confirm-controls-table tbody tr").filter(has_text="河北示范大学经济管理学院")
    expect(confirm).to_contain_text("¥1,234.50")
    assert _sql(app_env, "SELECT c.amount FROM controlnumber c JOIN org o ON o.id = c.org_id "
                         "WHERE o.code = 'DEMO-U01-02' AND c.fiscal_year = ?", int(YEAR)) == []  # not yet
    fin.locator("#confirm-controls").click()
    expect(fin.get_by_text("控制数已下达").first).to_be_visible()
    expect(row).to_contain_text("¥1,234.50")
    assert _sql(app_env, "SELECT c.amount FROM controlnumber c JOIN org o ON o.id = c.org_id "
                         "WHERE o.code = 'DEMO-U01-02' AND c.fiscal_year = ?", int(YEAR)) == [(123450,)]
    fin.context.close()
