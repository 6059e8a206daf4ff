"""操作手册 screenshots (docs/manual.md, issue 17): the usual tasks of the system's users on the demo data, each step
checked with expect(...) before its viewport screenshot (1280×800 JPEG). `make manual` writes them to docs/manual/
(HBB_MANUAL_DIR); otherwise they go to the e2e folder. STEPS is plain data, read by
tests/unit/operations/test_manual_doc.py (with ast) to check the manual's image references.

The walk has an app instance of its own (fixture `manual`): it shows the demo data as seeded, whatever the other
browser tests did, and what it changes (an amount, a submission, a backup, a signed inspection) stays there."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hbbudget.clock import current_fiscal_year
from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import ROOT, login, make_env, serve

pytestmark = pytest.mark.browser

# (image name, who does it, what the screenshot shows): the manual's images are exactly these names
STEPS = (
    ("01-login", "所有用户", "登录页"),
    ("02-home", "单位经办人", "工作台：欢迎信息和可用功能"),
    ("03-projects", "单位经办人", "项目库：本单位项目及状态"),
    ("04-budgets", "单位经办人", "预算编制：各年度预算列表"),
    ("05-budget-edit", "单位经办人", "预算编辑：修改金额后合计随之更新"),
    ("06-budget-submit", "单位经办人", "预算编辑：上报后状态为审核中"),
    ("07-review", "处长", "预算审核：待审核预算"),
    ("08-monitor", "处长", "执行监控：执行进度图表"),
    ("09-ledger", "会计", "执行台账：预算明细的支出和余额"),
    ("10-alerts", "会计", "预警中心：执行预警和阈值"),
    ("11-evaluation", "单位经办人", "绩效自评：项目自评得分和等级"),
    ("12-trends", "领导查看", "趋势与穿透：执行趋势和逐级穿透"),
    ("13-reports", "领导查看", "执行报告：生成并导出 Excel"),
    ("14-help", "所有用户", "帮助与反馈：本页帮助和常见问题"),
    ("15-backups", "系统管理员", "数据备份：备份列表和立即备份"),
    ("16-inspection", "系统管理员", "系统巡检：红黄绿检查和签字记录"),
)

COLLEGE = "河北示范大学信息工程学院"
VIEWPORT = {"width": 1280, "height": 800}
NIGHTLY_ALERTS = "from hbbudget.services.execution import alerts; print(alerts.evaluate(trigger='nightly'))"


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory):
    """An app instance of its own, in demo mode as `make run` serves it: the walk changes data (an amount, a
    submission, a backup, a signed inspection) that the other browser tests must not see, and they must not
    change what it shows. The bank simulator is its own too; the nightly 预警 evaluation has run."""
    from hbbudget.services.demo.execution import sim_accounts
    from hbbudget.sim.bank import BankSim, create_app
    from hbbudget.sim.server import ThreadedServer

    with ThreadedServer(create_app(BankSim(sim_accounts(), seed=5))) as bank_url:
        env = make_env(tmp_path_factory.mktemp("manual"), bank_url)
        env["HBB_DEMO"] = "1"  # the three admin accounts keep the demo password, as with `make run`
        with serve(env) as base:
            subprocess.run([sys.executable, "-c", NIGHTLY_ALERTS], env=env, cwd=ROOT, check=True, timeout=300)
            yield {"url": base, "env": env}


@pytest.fixture(scope="module")
def shots(manual) -> dict:
    """Where the images go (HBB_MANUAL_DIR, relative to the checkout, or the instance's e2e folder), and the
    names taken so far."""
    folder = os.environ.get("HBB_MANUAL_DIR")
    out = (ROOT / folder if folder else Path(manual["env"]["E2E_FOLDER"]) / "manual").resolve()
    out.mkdir(parents=True, exist_ok=True)
    return {"folder": out, "taken": []}


@pytest.fixture
def patient():
    """expect(...) waits up to 20 s here (2 cores shared with other work), back to the default afterwards."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=None)


def _shot(page, shots: dict, name: str) -> None:
    assert name in {s[0] for s in STEPS}, name
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)  # an earlier step's toast gone from the picture
    page.mouse.move(0, 0)  # no hover highlight in the picture
    page.screenshot(path=str(shots["folder"] / f"{name}.jpg"), type="jpeg", quality=70)
    shots["taken"].append(name)


def _context(browser, url: str):
    context = browser.new_context(locale="zh-CN", base_url=url, viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    return context.new_page()


def _as(browser, url: str, username: str):
    page = _context(browser, url)
    login(page, username, DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible(timeout=30_000)  # argon2 on a loaded machine
    return page


def _yuan(text: str) -> Decimal:
    return Decimal(text.replace("¥", "").replace(",", "").strip())


def test_manual_walk(browser, manual, shots, patient):
    url, year = manual["url"], str(current_fiscal_year() + 1)
    database = manual["env"]["HBB_DATABASE_URL"].split("///", 1)[1]

    # ---- 登录, 工作台, 项目库 (单位经办人 王经办) ----
    op = _context(browser, url)
    op.goto("/login")
    expect(op.locator("#login-submit")).to_be_visible()
    op.locator("#username").fill("jingban")
    _shot(op, shots, "01-login")
    op.locator("#password").fill(DEMO_PASSWORD)
    op.locator("#login-submit").click()
    expect(op.locator("#welcome")).to_contain_text("王经办", timeout=30_000)
    expect(op.locator("#menu a").first).to_have_text("工作台")
    _shot(op, shots, "02-home")

    op.locator("#menu-\\/projects").click()
    expect(op.locator("#projects-table")).to_contain_text("智能计算实验室建设")
    _shot(op, shots, "03-projects")

    # ---- 预算编制: the list, then next year's draft: one amount changed, the total follows; then 上报 ----
    op.locator("#menu-\\/budgets").click()
    draft = op.locator("#budgets-table tbody tr").filter(has_text=COLLEGE).filter(has_text=year)
    expect(draft).to_have_count(1)
    expect(draft).to_contain_text("草稿")
    _shot(op, shots, "04-budgets")
    draft.get_by_role("link").first.click()
    expect(op).to_have_url(re.compile(r"/budgets/\d+/?$"))
    budget_id = re.search(r"/budgets/(\d+)", op.url).group(1)
    expect(op.locator("#budget-status")).to_have_text("草稿")
    amount = op.locator("#budget-grid tbody tr input[id^='amount-']").first
    expect(amount).to_be_visible()
    total = op.locator("#budget-total")
    expect(total).to_have_text(re.compile(r"^¥[\d,]+\.\d\d$"))
    before, old = _yuan(total.inner_text()), _yuan(amount.input_value())
    new = old + 10_000
    amount.fill(str(new))
    amount.press("Tab")
    expect(total).to_have_text(f"¥{before + 10_000:,.2f}")
    expect(op.locator("#budget-grid tbody tr").first).to_contain_text(f"¥{new:,.2f}")
    amount.focus()  # the edited cell in the picture
    _shot(op, shots, "05-budget-edit")
    op.locator("#action-submit").click()
    op.locator("#action-comment").fill("按学院实际需求编制")
    op.locator("#action-confirm").click()
    expect(op.locator("#budget-status")).to_have_text("审核中")
    _shot(op, shots, "06-budget-submit")

    # ---- 预算审核 and 执行监控 (处长 张处长): the draft is pending; returned with a comment ----
    head = _as(browser, url, "chuzhang")
    head.locator("#menu-\\/review").click()
    expect(head.locator(f"#pending-budget-{budget_id}")).to_contain_text(COLLEGE)
    _shot(head, shots, "07-review")
    head.locator(f"#return-budget-{budget_id}").click()
    head.locator("#review-comment").fill("请补充设备采购清单")
    head.locator("#review-confirm").click()
    expect(head.locator(f"#pending-budget-{budget_id}")).to_have_count(0)
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT status FROM budget WHERE id = ?", (int(budget_id),)).fetchall() == [("退回",)]

    head.locator("#menu-\\/monitor").click()
    expect(head.locator("#kpi-spent")).to_contain_text("万元")
    expect(head.locator("#chart-monthly .main-svg").first).to_be_visible()
    expect(head.locator("#chart-cumulative .main-svg").first).to_be_visible()
    _shot(head, shots, "08-monitor")
    head.context.close()

    # ---- 执行台账 and 预警中心 (会计 李会计) ----
    acc = _as(browser, url, "kuaiji")
    acc.locator("#menu-\\/ledger").click()
    college = acc.locator("#ledger-budgets tbody tr").filter(has_text="学院")
    expect(college.first).to_be_visible()
    college.first.get_by_role("link", name="查看台账").click()
    rows = acc.locator("#ledger-table tbody tr")
    expect(rows.last).to_contain_text("合计")
    expect(rows.last.locator("td").nth(6)).to_have_text(re.compile(r"^¥[1-9][\d,]*\.\d\d$"))  # spent
    _shot(acc, shots, "09-ledger")
    acc.locator("#menu-\\/exec-alerts").click()
    expect(acc.locator("#exec-alert-list")).to_contain_text("执行进度落后")  # the nightly evaluation's
    expect(acc.locator("#exec-alert-list").get_by_role("button", name="关闭").first).to_be_visible()
    _shot(acc, shots, "10-alerts")
    acc.context.close()

    # ---- 绩效自评 (单位经办人): the demo's confirmed self-evaluation ----
    op.locator("#menu-\\/evaluation").click()
    lab = op.locator("#eval-projects tbody tr").filter(has_text="智能计算实验室建设")
    expect(lab).to_have_count(1)
    lab.get_by_role("button", name="查看").click()
    expect(op.locator("#eval-total")).to_have_text(re.compile(r"^\d+\.\d\d$"))
    expect(op.locator("#eval-grade")).not_to_be_empty()
    op.locator("#eval-table").scroll_into_view_if_needed()
    _shot(op, shots, "11-evaluation")

    # ---- 趋势与穿透 and 执行报告 (领导查看 陈领导) ----
    lead = _as(browser, url, "lingdao")
    lead.locator("#menu-\\/analysis").click()
    expect(lead.locator("#drill-crumbs a").first).to_be_visible()
    expect(lead.locator("#chart-trend .main-svg").first).to_be_visible()
    expect(lead.locator("#chart-drill .barlayer .point path").first).to_be_visible()
    _shot(lead, shots, "12-trends")
    lead.locator("#menu-\\/reports").click()
    expect(lead.locator("#report-title")).to_be_visible()
    expect(lead.locator("#report-table tbody tr").first).to_be_visible()
    with lead.expect_download() as info:
        lead.locator("#report-xlsx").click()
    assert info.value.suggested_filename.endswith(".xlsx"), info.value.suggested_filename
    _shot(lead, shots, "13-reports")
    lead.context.close()

    # ---- 帮助与反馈 (any user): the page's help from 预算编制, the FAQ searched ----
    op.locator("#menu-\\/budgets").click()
    expect(op.locator("#budgets-table")).to_be_visible()
    op.locator("#help-link").click()
    expect(op.locator("#page-help")).to_contain_text("按上年预算生成")
    op.locator("#faq-q").fill("锁定")
    op.locator("#faq-search").click()
    expect(op.locator("#faq-list > *").first).to_contain_text("账号已锁定")
    expect(op.locator("#to-feedback")).to_be_visible()
    _shot(op, shots, "14-help")
    op.context.close()

    # ---- 数据备份 and 系统巡检 (系统管理员 sysadmin) ----
    admin = _as(browser, url, "sysadmin")
    admin.locator("#menu-\\/backups").click()
    expect(admin.get_by_text("还没有备份。")).to_be_visible()
    admin.locator("#backup-now").click()
    expect(admin.locator("#backup-list tbody tr")).to_have_count(1)
    expect(admin.locator("#backup-last")).to_contain_text("成功")
    _shot(admin, shots, "15-backups")
    admin.locator("#menu-\\/inspection").click()
    expect(admin.locator("#health-checks")).to_contain_text("最近备份", timeout=60_000)  # verifies the audit chain
    admin.locator("#health-note").fill("本月巡检：各项正常")
    admin.locator("#health-sign").click()
    expect(admin.locator("#health-records")).to_contain_text("本月巡检：各项正常")
    _shot(admin, shots, "16-inspection")
    admin.context.close()

    assert shots["taken"] == [s[0] for s in STEPS]  # every step shot, in the manual's order
