"""从指标库选择 on the project page: the operator finds an indicator of the project's year, picks it (a target row
with the library's levels), sets the weights and saves; the saved targets keep the library link."""

import reflex as rx
from reflex.istate.data import RouterData

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget import routes
from hbbudget.db import session_scope
from hbbudget.pages.budgeting.projects_state import ProjectDetailState
from hbbudget.pages.performance.target_picker import TargetPickerState
from hbbudget.services.budgeting import projects
from hbbudget.services.performance import library
from hbbudget.services.security import auth
from state.session import SessionState
from tests import budget_world
from tests.budget_world import YEAR
from tests.factories import PASSWORD


async def test_pick_three_indicators_set_weights_and_save(db):
    bw = budget_world.world()
    with session_scope() as session:
        library.load_shipped(session, YEAR)
    p = projects.create_project(bw.op, bw.org["dept"], {
        "name": "智慧教室", "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR,
        "total": "100000", "func_code": "2050205"})
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("op", PASSWORD)
    path = routes.project_detail(p["id"])
    detail = await root.get_state(ProjectDetailState)
    picker = await root.get_state(TargetPickerState)
    for s in (detail, picker):
        s.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    await detail.load()
    await picker.open_picker()
    assert picker.open and picker.total >= 120
    for name, industry in (("新建改建教室数量", "教育"), ("毕业生就业率", "教育"), ("学生满意度", "教育")):
        await picker.search_picker({"q": name, "industry": industry, "level1": "全部"})
        await picker.pick(picker.rows[0]["id"])
    assert [(t["indicator"], t["level1"]) for t in detail.targets] == [
        ("新建改建教室数量", "产出"), ("毕业生就业率", "效益"), ("学生满意度", "满意度")]
    form = {}
    for t, (value, weight) in zip(detail.targets, (("10", "50"), ("90", "30"), ("90", "10"))):
        form.update({f"{t['uid']}_indicator": t["indicator"], f"{t['uid']}_unit": t["unit"],
                     f"{t['uid']}_direction": t["direction"], f"{t['uid']}_value": value,
                     f"{t['uid']}_weight": weight})
    result = await detail.save_targets(form)
    assert "绩效目标已保存" in str(result)
    saved = projects.get_project(bw.op, p["id"])["targets"]
    assert [t["level1"] for t in saved] == ["产出", "效益", "满意度"] and all(t["indicator_id"] for t in saved)
    assert projects.transition(bw.op, p["id"], "declare")["status"] != "草稿"
