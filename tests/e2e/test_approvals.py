"""审批流与三重一大 in a real browser: the finance reviewer adds a 三重一大 step to 项目申报 from 50万 on; the
college's operator declares a 60万 project, records the 院务会 with its minutes; the college's OA (the simulator,
WeCom-style) approves and its signed callback moves the project on to the university."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from hbbudget.sim.oa import OaSim, create_app
from hbbudget.sim.server import ThreadedServer
from hbbudget.web import OA_CALLBACK
from tests.e2e.conftest import ROOT, login

pytestmark = pytest.mark.browser

COLLEGE = "DEMO-U01-01"


def _as(browser, app_url: str, username: str):
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    login(page, username, DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    return page


@pytest.fixture
def college_oa(app_env, app_url):
    """The college's OA: the simulator, connected in the app's database (as `hbbudget sim --oa --demo` does)."""
    sim = OaSim(COLLEGE, "", app_url + OA_CALLBACK)
    with ThreadedServer(create_app(sim)) as sim_url:
        code = ("import json; from hbbudget.services.approvals import oa; "
                f"print(json.dumps(oa.demo_config({sim_url!r}, {COLLEGE!r}, 'wecom')))")
        done = subprocess.run([sys.executable, "-c", code], env=app_env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        sim.secret = json.loads(done.stdout.strip().splitlines()[-1])[1]
        yield sim, sim_url


def test_a_major_project_needs_the_meeting_and_the_oa_approval_moves_it_on(browser, app_url, college_oa, tmp_path):
    sim, sim_url = college_oa
    stamp = time.strftime("%H%M%S")
    name = f"高性能计算平台{stamp}"

    # ---- the finance reviewer adds the 三重一大 step (from 50万 on) before the org-tree review ----
    fin = _as(browser, app_url, "caizheng")
    fin.goto("/approval-flows")
    expect(fin.locator("#flow-current")).to_contain_text("逐级审核")
    fin.locator("#step-name").fill("三重一大集体决策")
    fin.locator("#step-amount").fill("500000")
    fin.locator("#step-collective").click()
    fin.locator("#step-add").click()
    draft = fin.locator("#flow-draft tbody tr")
    expect(draft).to_have_count(2)
    draft.nth(1).get_by_role("button", name="上移").click()
    expect(draft.first).to_contain_text("三重一大集体决策")
    fin.locator("#flow-save").click()
    expect(fin.get_by_text("项目申报审批流已保存为第")).to_be_visible()
    expect(fin.locator("#flow-current .flow-step").first).to_contain_text("金额≥¥500,000.00")
    fin.context.close()

    # ---- the college's operator declares a 60万 project ----
    op = _as(browser, app_url, "jingban")
    op.goto("/projects")
    op.locator("#new-project").click()
    op.locator("#project-name").fill(name)
    op.locator("#project-start").fill("2027")
    op.locator("#project-end").fill("2027")
    op.locator("#project-total").fill("600000")
    op.locator("#project-func").fill("2050205")
    op.locator("#create-project").click()
    expect(op.locator("#project-status")).to_have_text("草稿")
    project_url = op.url
    op.locator("#add-target").click()
    op.locator(".target-indicator input, input.target-indicator").first.fill("计算节点数量")
    op.locator(".target-value input, input.target-value").first.fill("20")
    op.locator(".target-weight input, input.target-weight").first.fill("90")  # free targets: 90 + 预算执行率 10 = 100
    op.locator("#save-targets").click()
    expect(op.get_by_text("绩效目标已保存")).to_be_visible()
    op.locator("#project-action-declare").click()
    op.locator("#project-action-confirm").click()
    expect(op.locator("#project-status")).to_have_text("已申报")
    expect(op.get_by_text("当前审核：河北示范大学信息工程学院")).to_be_visible()

    # the scheduled OA poll sends the 集体决策 step to the college's OA
    deadline = time.monotonic() + 60
    while not sim.instances and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(sim.instances) == 1, "the OA instance was not created"
    sp_no = next(iter(sim.instances))

    # ---- the OA approves before the meeting is recorded: the step does not pass ----
    r = httpx.post(f"{sim_url}/admin/decide", json={"id": sp_no, "outcome": "agree"}, timeout=30)
    assert r.json()["callbacks"] == [200]
    op.reload()
    expect(op.locator("#project-status")).to_have_text("已申报")

    # ---- the operator records the 院务会 with its minutes ----
    op.goto("/matters")
    row = op.locator("#matters-table tbody tr").filter(has_text=name)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="查看").click()
    expect(op.locator("#matter-stops")).to_contain_text("三重一大集体决策")
    op.locator("#meeting-kind").select_option("院务会")
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    op.locator("#meeting-date").fill(today)
    op.locator("#meeting-minutes-no").fill(f"院纪〔2026〕{stamp}号")
    op.locator("#meeting-decision").select_option("同意")
    op.locator("#meeting-attendees").fill("11")
    op.locator("#meeting-stage").click()
    expect(op.get_by_text("待上传纪要：")).to_be_visible()
    minutes = tmp_path / "院务会纪要.pdf"
    minutes.write_bytes(b"%PDF-1.4\n% minutes of the meeting\n")
    op.locator("#minutes-upload input[type=file]").set_input_files(str(minutes))
    op.locator("#record-decision").click()
    expect(op.get_by_text("集体决策已录入")).to_be_visible()
    expect(op.locator("#matter-decision")).to_contain_text(f"院纪〔2026〕{stamp}号")

    # ---- the OA's approval now moves the project on: the callback again (a poll may have come first) ----
    assert sim.send_callback(sp_no, "agree") == 200
    op.goto(project_url)
    expect(op.locator("#project-status")).to_have_text("审核中")
    expect(op.get_by_text("当前审核：河北示范大学", exact=True)).to_be_visible()
    op.context.close()
