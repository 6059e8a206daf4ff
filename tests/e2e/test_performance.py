"""绩效评价 in a real browser: the unit operator picks three indicators from the library for a new project, sets the
weights and declares it; after review it reports progress at the 双监控 checkpoint (绩效监控: values reached,
estimates, likelihood; the execution rate from the ledger) and submits; then it enters actual values and sees the
score and grade; the finance reviewer confirms (复核); the grade shows in the project library."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from hbbudget.clock import current_fiscal_year
from tests.e2e.test_budgeting import _approve_project, _as, _shot

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)  # a shared 2-core machine: page compiles and argon2 logins are slow

YEAR = str(current_fiscal_year())
PICKS = (("新建改建教室数量", "2", "50"), ("毕业生就业率", "90", "30"), ("学生满意度", "90", "10"))


def _input(page, css: str):
    return page.locator(f"{css} input, input{css}")


def test_targets_from_the_library_self_evaluation_and_review(browser, app_url):
    name = f"绩效示范项目{time.strftime('%H%M%S')}"
    op = _as(browser, app_url, "jingban")
    op.goto("/projects")
    op.locator("#new-project").click()
    op.locator("#project-name").fill(name)
    op.locator("#project-start").fill(YEAR)
    op.locator("#project-end").fill(YEAR)
    op.locator("#project-total").fill("200000")
    op.locator("#project-func").fill("2050205")
    op.locator("#project-owner").fill("王经办")
    op.locator("#create-project").click()
    expect(op).to_have_url(re.compile(r"/projects/\d+/?$"))
    expect(op.locator("#project-title")).to_contain_text(name)
    code = op.locator("#project-title").inner_text().split()[0]

    # ---- three indicators from the library, weights 50 + 30 + 10 (+ 预算执行率 10) ----
    for n, (indicator, _, _) in enumerate(PICKS):
        op.locator("#pick-indicator").click()
        op.locator("#pick-search").fill(indicator)
        op.locator("#pick-search-submit").click()
        row = op.locator("#pick-table tbody tr").filter(has_text=indicator)
        expect(row).to_have_count(1)
        row.get_by_role("button", name="选择").click()
        expect(_input(op, ".target-indicator")).to_have_count(n + 1)
    expect(_input(op, ".target-indicator").nth(0)).to_have_value("新建改建教室数量")
    for n, (_, value, weight) in enumerate(PICKS):
        _input(op, ".target-value").nth(n).fill(value)
        _input(op, ".target-weight").nth(n).fill(weight)
    op.locator("#save-targets").click()
    expect(op.get_by_text("绩效目标已保存")).to_be_visible()
    op.locator("#project-action-declare").click()
    op.locator("#project-action-confirm").click()
    expect(op.locator("#project-status")).to_have_text("已申报")
    _shot(op, "p1-targets-declared")
    _approve_project(browser, app_url, "chuzhang", code)
    _approve_project(browser, app_url, "caizheng", code)

    # ---- 双监控: progress at the checkpoint (1–7 月 by default) ----
    op.goto("/perf-monitor")
    mrow = op.locator("#monitor-projects tbody tr").filter(has_text=code)
    expect(mrow).to_have_count(1)
    expect(mrow).to_contain_text("未填报")
    mrow.locator(".monitor-open").click()
    trs = op.locator("#monitor-table tbody tr")
    expect(trs).to_have_count(3)
    for n, (reached, estimate) in enumerate((("1", "2"), ("0", "92"), ("0", "91"))):
        tr = trs.nth(n)
        _input(tr, ".monitor-reached").fill(reached)
        _input(tr, ".monitor-estimate").fill(estimate)
        tr.get_by_role("combobox").click()
        op.get_by_role("option", name="确定能", exact=True).click()
        expect(tr.get_by_role("combobox")).to_contain_text("确定能")
    op.locator("#monitor-save").click()
    expect(mrow).to_contain_text("填报中")
    expect(mrow).to_contain_text("预计全年 92（确定能）")
    op.locator("#monitor-submit").click()
    expect(mrow).to_contain_text("已提交")
    expect(mrow.locator(".monitor-flag")).to_have_text("正常")  # no spending planned yet: nothing lags
    _shot(op, "p1b-checkpoint-reported")

    # ---- self-evaluation: actual values in, score and grade out ----
    op.goto("/evaluation")
    row = op.locator("#eval-projects tbody tr").filter(has_text=code)
    expect(row).to_have_count(1)
    row.locator(".eval-open").click()
    op.locator("#eval-start").click()
    actuals = _input(op, "#eval-table .eval-actual")
    expect(actuals).to_have_count(3)
    for n, value in enumerate(("2", "95", "92")):
        actuals.nth(n).fill(value)
    op.locator("#eval-save").click()
    # 50 + 30 + 10 (targets met, over-achievement capped) + 0 (nothing spent yet) = 90.00 → 优
    expect(op.locator("#eval-total")).to_have_text("90.00")
    expect(op.locator("#eval-grade")).to_have_text("优")
    op.locator("#eval-submit").click()
    expect(row).to_contain_text("已提交")
    _shot(op, "p2-evaluation-submitted")

    # ---- 复核 by the city's finance reviewer ----
    fin = _as(browser, app_url, "caizheng")
    fin.goto("/evaluation")
    frow = fin.locator("#eval-projects tbody tr").filter(has_text=code)
    expect(frow).to_have_count(1)
    frow.locator(".eval-open").click()
    fin.locator("#eval-review").click()
    expect(frow).to_contain_text("已复核")
    fin.context.close()

    # ---- the grade in the project library ----
    op.goto("/projects")
    expect(op.locator("#projects-table tbody tr").filter(has_text=code).locator(".project-grade")).to_have_text(
        f"{YEAR}年 优")
    op.context.close()
