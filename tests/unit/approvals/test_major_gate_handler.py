"""三重一大 through the page: a crafted client of the college's leader calls the project page's 审核通过 on a major
project with no collective decision recorded; it is refused and nothing moves. Recording the meeting on the
审批事项 page (with the minutes uploaded) lets the same call through."""

import reflex as rx
from reflex.istate.data import RouterData

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget import routes
from hbbudget.db import session_scope
from hbbudget.models import Org
from hbbudget.pages.approvals.matters import MattersState
from hbbudget.pages.budgeting.projects import ProjectDetailState
from hbbudget.services.budgeting import projects
from hbbudget.services.security import auth
from state.session import SessionState
from tests.budget_world import YEAR, add_user, world
from tests.factories import PASSWORD
from tests.unit.business_coverage import Upload


async def _client(username: str, cls: type, path: str):
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login(username, PASSWORD)[0]
    state = await root.get_state(cls)
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    return state


async def test_a_crafted_approval_of_a_major_project_is_refused_until_the_meeting_is_recorded(db, tmp_path,
                                                                                            monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    w = world()
    add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    with session_scope() as session:
        unit = session.get(Org, w.org["unit"])
        unit.major_threshold_fen = 50_000_000  # 50万
        session.add(unit)
    p = projects.create_project(w.op, w.org["dept"], {
        "name": "大型设备", "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR,
        "total": "600000", "func_code": "2050205"})
    projects.set_targets(w.op, p["id"], [{"indicator": "设备数量", "unit": "台", "direction": "≥",
                                          "target_value": "1", "weight": 90}])
    assert projects.transition(w.op, p["id"], "declare")["step_org_name"] == "信息学院"

    page = await _client("leader", ProjectDetailState, routes.project_detail(p["id"]))
    await page.load()
    page.action = "approve"  # crafted: straight to the action, no dialog
    result = await page.do_action({"comment": "直接通过"})
    assert "须先录入集体决策" in str(result)
    after = projects.get_project(w.op, p["id"])
    assert (after["status"], after["step_org_name"]) == ("已申报", "信息学院")

    # the operator records the meeting with its minutes on the 审批事项 page
    matters = await _client("op", MattersState, routes.MATTERS)
    await matters.load()
    assert [r["matter"] for r in matters.rows] == [f"项目 {p['code']} 大型设备"]
    await matters.open_matter(matters.rows[0]["run_id"])
    assert matters.can_record and matters.stops[0]["name"] == "三重一大集体决策"
    await matters.stage_decision({"meeting_kind": "院务会", "meeting_date": "2026-11-30", "minutes_no": "院纪12号",
                                  "decision": "同意", "attendees": "9"})
    result = await matters.record([Upload("院务会纪要.pdf", b"%PDF-1.4 minutes")])
    assert "集体决策已录入" in str(result)
    assert "院纪12号" in matters.decision

    page.action = "approve"
    await page.do_action({"comment": "按院务会决定"})
    assert projects.get_project(w.op, p["id"])["step_org_name"] == "示范大学"
