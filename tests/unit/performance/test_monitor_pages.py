"""The 绩效监控 and 绩效设置 pages over the services: the board with execution rate vs 序时进度, a project opened,
its report saved and submitted from the form, the flag filter; the settings page shows what is inherited and
saves the org's own values. (Refusals: test_performance_handler_coverage.py.)"""

import reflex as rx

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.pages.performance.monitor import PerfMonitorState
from hbbudget.pages.performance.settings import PerfSettingsState
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD
from tests.unit.performance.test_monitor import YEAR, w  # noqa: F401  (w: the worked example)


async def _state(username: str, cls):
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login(username, PASSWORD)
    return await root.get_state(cls)


async def test_the_monitor_page_reports_a_checkpoint(w):  # noqa: F811
    page = await _state("op", PerfMonitorState)
    await page.load()
    await page.choose_year(str(YEAR))
    assert [(r["code"], r["rate"], r["progress"], r["flag"]) for r in page.rows] == [
        ("P-MO", "30.00%", "58.33%", "严重偏差")]
    await page.open_project(page.rows[0]["project_id"])
    assert page.head["status"] == "未填报" and page.head["lag"] == "28.33" and len(page.targets) == 3
    form = {}
    for t, (reached, estimate) in zip(page.targets, [("6", "10"), ("基本达成", "达成"), ("88", "92")], strict=True):
        tid = t["target_id"]
        form.update({f"r{tid}": reached, f"e{tid}": estimate, f"l{tid}": "确定能", f"w{tid}": ""})
    result = await page.submit_report()
    assert "请先填写并保存" in str(result)
    await page.save_report({**form, "problems": "设备采购合同 9 月付款"})
    assert page.head["status"] == "填报中" and page.rows[0]["status"] == "填报中"
    await page.submit_report()
    assert page.head["status"] == "已提交" and page.head["editable"] == ""
    assert "新建教室数量：目标 ≥ 10间，已完成 6，预计全年 10（确定能）" in page.rows[0]["targets"]
    await page.choose_flag("正常")
    assert page.rows == [] and page.counts == "严重偏差 1 个　轻微偏差 0 个　正常 0 个"
    assert "偏差标记无效" in str(await page.choose_flag("红"))
    assert page.can_review is False  # no 退回重填 for the unit
    reviewer = await _state("fin", PerfMonitorState)
    await reviewer.load()
    await reviewer.choose_year(str(YEAR))
    assert reviewer.can_review is True
    await reviewer.choose_flag("严重偏差")
    assert [r["code"] for r in reviewer.rows] == ["P-MO"]


async def test_the_settings_page_shows_inheritance_and_saves(w):  # noqa: F811
    page = await _state("fin_u", PerfSettingsState)
    await page.load()
    assert [o["name"].strip("　") for o in page.orgs] == ["示范大学", "信息学院"]
    await page.choose_year(str(YEAR))
    assert page.values["setting_source"] == "系统默认" and page.values["output"] == "50"
    assert (page.values["m1"], page.values["d1"], page.values["m2"]) == ("7", f"{YEAR}-08-15", "")
    form = {"output": "50", "benefit": "30", "satisfaction": "10", "exec": "10", "excellent": "90", "good": "80",
            "fair": "60", "tolerance": "5", "lag_points": "15", "req_output": "on", "req_benefit": "on"}
    result = await page.save_setting({**form, "output": "55"})
    assert "合计为 105 分" in str(result) and page.values["setting_source"] == "系统默认"
    await page.save_setting(form)
    assert page.values["setting_source"] == "本单位设置" and page.values["lag_points"] == "15"
    assert page.required == ["产出", "效益"]
    await page.save_checkpoints({"m1": "6", "d1": f"{YEAR}-07-15", "m2": "10", "d2": f"{YEAR}-11-10"})
    assert [c["through_month"] for c in page.checkpoints] == ["6", "10"]
    await page.choose_org(str(w["dept"]))
    assert page.values["setting_source"] == "继承自“示范大学”" and page.values["checkpoint_source"] == "继承自“示范大学”"
