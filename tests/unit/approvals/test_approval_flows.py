"""审批流模板: the default (org tree) flow, conditions and skips, all/any, versions; the 三重一大 gate."""

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import ApprovalAct, ApprovalRun, AuditEntry, Org
from hbbudget.services.approvals import major, templates
from hbbudget.services.budgeting import projects
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, add_user, world

MINUTES = {"meeting_kind": "院务会", "meeting_date": "2026-11-30", "minutes_no": "院纪〔2026〕12号",
           "decision": "同意", "attendees": "9"}


def _declared(w, total: str = "100000", name: str = "实验室建设", **extra) -> dict:
    p = projects.create_project(w.op, w.org["dept"], {
        "name": name, "category": extra.pop("category", "3"), "kind": extra.pop("kind", "新增"), "start_year": YEAR,
        "end_year": YEAR, "total": total, "func_code": "2050205"})
    projects.set_targets(w.op, p["id"], [{"indicator": "设备数量", "unit": "台", "direction": "≥",
                                          "target_value": "10", "weight": 90}])
    return projects.transition(w.op, p["id"], "declare")


def _run(project_id: int) -> ApprovalRun:
    with session_scope() as session:
        return session.exec(select(ApprovalRun).where(ApprovalRun.object_type == "project",
                                                      ApprovalRun.object_id == project_id)
                            .order_by(ApprovalRun.id.desc())).first()


def _progress(w, project_id: int) -> dict:
    return major.progress(w.fin, _run(project_id).id)


def _leader_flow(w, min_amount: str = "") -> dict:
    """项目申报 at the university: the college's own leader first (only from `min_amount` on), then the org tree."""
    return templates.save_template(w.fin, w.org["unit"], "项目申报", [
        {"name": "院长审批", "actor": "unit", "mode": "any", "days": 3, "min_amount": min_amount},
        {"name": "逐级审核", "actor": "chain", "mode": "any", "days": 5}])


def test_without_templates_the_org_tree_is_the_flow(db):
    w = world()
    p = _declared(w)
    assert p["step_org_name"] == "示范大学"
    p = projects.transition(w.head, p["id"], "approve", "同意")
    assert p["step_org_name"] == "市财政局"
    p = projects.transition(w.fin, p["id"], "approve")
    assert p["status"] == "已入库"
    prog = _progress(w, p["id"])
    assert prog["version"] == 0 and prog["status"] == "通过"
    assert [(s["org_name"], s["state"]) for s in prog["stops"]] == [("示范大学", "已通过"), ("市财政局", "已通过")]
    assert [(a["action"], a["user"], a["comment"]) for a in prog["acts"]] == \
        [("提交", "OP", ""), ("通过", "HEAD", "同意"), ("通过", "FIN", "")]


def test_a_template_is_inherited_and_its_steps_apply_by_condition(db):
    w = world()
    leader = add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    view = _leader_flow(w, min_amount="500000")
    assert view["version"] == 1 and view["steps"][0]["condition"] == "金额≥¥500,000.00"
    inherited = templates.get_template(w.fin, w.org["dept"], "项目申报")
    assert inherited["source"] == "继承自示范大学" and inherited["version"] == 1
    # below the amount: the leader's step is skipped, and the skip is shown
    small = _declared(w, "100000", "小项目")
    assert small["step_org_name"] == "示范大学"
    stops = _progress(w, small["id"])["stops"]
    assert stops[0]["state"] == "已跳过：金额低于 ¥500,000.00" and stops[1]["state"] == "当前"
    # at the amount: the college's leader acts first, and a reviewer above may not skip the step
    big = _declared(w, "600000", "大项目")
    assert big["step_org_name"] == "信息学院"
    with pytest.raises(PermissionDenied):
        projects.transition(w.head, big["id"], "approve")
    big = projects.transition(leader, big["id"], "approve", "同意申报")
    assert big["step_org_name"] == "示范大学"
    for r in (w.head, w.fin):
        big = projects.transition(r, big["id"], "approve")
    assert big["status"] == "已入库"


def test_category_and_first_time_conditions(db):
    w = world()
    templates.save_template(w.fin, w.org["unit"], "项目申报", [
        {"name": "院长审批", "actor": "unit", "mode": "any", "category": "3", "first_time": True},
        {"name": "财政审核", "actor": "finance", "mode": "any"}])
    new = _declared(w, "1000", "新项目")
    assert new["step_org_name"] == "信息学院"
    cont = _declared(w, "1000", "延续项目", kind="延续")
    assert cont["step_org_name"] == "市财政局"  # not first-time: skipped; finance only
    assert _progress(w, cont["id"])["stops"][0]["state"] == "已跳过：不是首次申报项目"
    other = _declared(w, "1000", "公用项目", category="22")
    assert _progress(w, other["id"])["stops"][0]["state"] == "已跳过：项目类别不是 3"


def test_all_must_agree_at_an_all_step(db):
    w = world()
    a = add_user("leader_a", "unit_leader", w.org["dept"], subtree=False)
    b = add_user("leader_b", "unit_leader", w.org["dept"], subtree=False)
    templates.save_template(w.fin, w.org["unit"], "项目申报", [
        {"name": "班子会签", "actor": "unit", "mode": "all"}, {"name": "财政审核", "actor": "finance"}])
    p = _declared(w)
    p = projects.transition(a, p["id"], "approve")
    assert p["step_org_name"] == "信息学院" and p["status"] == "审核中"  # still waiting for B
    p = projects.transition(b, p["id"], "approve")
    assert p["step_org_name"] == "市财政局"


def test_a_matter_keeps_its_template_version(db):
    w = world()
    leader = add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    _leader_flow(w)
    early = _declared(w, "1000", "早项目")
    assert early["step_org_name"] == "信息学院"
    v2 = templates.save_template(w.fin, w.org["unit"], "项目申报", [{"name": "财政审核", "actor": "finance"}])
    assert v2["version"] == 2
    late = _declared(w, "1000", "晚项目")
    assert late["step_org_name"] == "市财政局" and _progress(w, late["id"])["version"] == 2
    early = projects.transition(leader, early["id"], "approve")
    assert early["step_org_name"] == "示范大学" and _progress(w, early["id"])["version"] == 1
    # returned and declared again: the new version applies
    early = projects.transition(w.head, early["id"], "return", "补充材料")
    early = projects.transition(w.op, early["id"], "declare")
    assert early["step_org_name"] == "市财政局" and _progress(w, early["id"])["version"] == 2


def test_bad_templates_are_refused(db):
    w = world()
    for steps, message in (([], "至少要有一步"), ([{"name": "x", "actor": "boss"}], "请选择审批人"),
                           ([{"name": "x", "actor": "unit", "mode": "some"}], "会签方式"),
                           ([{"name": "x", "actor": "unit", "days": "-1"}], "0 到 365"),
                           ([{"name": "x", "actor": "unit", "min_amount": "abc"}], "金额条件"),
                           ([{"name": "", "actor": "unit"}], "名称")):
        with pytest.raises(ValidationError, match=message):
            templates.save_template(w.fin, w.org["unit"], "项目申报", steps)
    with pytest.raises(ValidationError, match="未知的事项类型"):
        templates.save_template(w.fin, w.org["unit"], "请假", [{"name": "x", "actor": "unit"}])
    with pytest.raises(PermissionDenied):
        templates.save_template(w.op, w.org["dept"], "项目申报", [{"name": "x", "actor": "unit"}])
    assert templates.get_template(w.fin, w.org["unit"], "项目申报")["version"] == 0


# ---- 三重一大 ----

def _threshold(w, yuan: int) -> None:
    with session_scope() as session:
        unit = session.get(Org, w.org["unit"])
        unit.major_threshold_fen = yuan * 100
        session.add(unit)


def test_a_major_matter_cannot_pass_without_the_collective_decision(db):
    w = world()
    leader = add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    _threshold(w, 500000)
    p = _declared(w, "600000")
    assert p["step_org_name"] == "信息学院"  # the 集体决策 step at the college comes first
    prog = _progress(w, p["id"])
    assert prog["stops"][0]["name"] == "三重一大集体决策" and prog["stops"][0]["state"] == "当前"
    with pytest.raises(ValidationError, match="须先录入集体决策"):
        projects.transition(leader, p["id"], "approve")
    assert projects.get_project(w.op, p["id"])["step_org_name"] == "信息学院"
    run_id = _run(p["id"]).id
    # bad records change nothing
    for data, name, content, message in (
            ({**MINUTES, "meeting_kind": "茶话会"}, "纪要.pdf", b"%PDF", "会议类型"),
            ({**MINUTES, "meeting_date": "2099-01-01"}, "纪要.pdf", b"%PDF", "晚于今天"),
            ({**MINUTES, "decision": "原则同意"}, "纪要.pdf", b"%PDF", "决策结果"),
            ({**MINUTES, "attendees": "0"}, "纪要.pdf", b"%PDF", "参会人数"),
            (MINUTES, "纪要.exe", b"MZ", "会议纪要仅支持"),
            (MINUTES, "纪要.pdf", b"", "请上传会议纪要")):
        with pytest.raises(ValidationError, match=message):
            major.record_decision(w.op, run_id, data, name, content)
    with pytest.raises(PermissionDenied):  # another unit may not record it
        major.record_decision(w.other, run_id, MINUTES, "纪要.pdf", b"%PDF")
    # 不同意: still no way through
    major.record_decision(w.op, run_id, {**MINUTES, "decision": "不同意"}, "纪要.pdf", b"%PDF-1")
    with pytest.raises(ValidationError, match="不同意"):
        projects.transition(leader, p["id"], "approve")
    prog = major.record_decision(w.op, run_id, MINUTES, "纪要.pdf", b"%PDF-2")
    assert prog["decision"]["minutes_no"] == "院纪〔2026〕12号" and prog["decision"]["decision"] == "同意"
    p = projects.transition(leader, p["id"], "approve", "按会议决定")
    assert p["step_org_name"] == "示范大学"
    for r in (w.head, w.fin):
        p = projects.transition(r, p["id"], "approve")
    assert p["status"] == "已入库"
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "approval.decision")
                             .order_by(AuditEntry.id.desc())).first()
        assert "院纪〔2026〕12号" in entry.detail and entry.object_type == "collective_decision"


def test_below_the_threshold_no_collective_step(db):
    w = world()
    _threshold(w, 500000)
    p = _declared(w, "499999.99")
    assert p["step_org_name"] == "示范大学"
    assert not _progress(w, p["id"])["collective"]
    with pytest.raises(ValidationError, match="不需要录入集体决策"):
        major.record_decision(w.op, _run(p["id"]).id, MINUTES, "纪要.pdf", b"%PDF")


def test_the_inspection_list_and_its_export(db):
    w = world()
    leader = add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    _threshold(w, 500000)
    done = _declared(w, "600000", "已决策项目")
    major.record_decision(w.op, _run(done["id"]).id, MINUTES, "纪要.pdf", b"%PDF")
    projects.transition(leader, done["id"], "approve")
    waiting = _declared(w, "700000", "待决策项目")
    _declared(w, "1000", "小项目")
    year = _run(done["id"]).started_at.year
    rows, total = major.list_major(w.fin, w.org["city"], year)
    assert total == 2
    by_id = {r["run_id"]: r for r in rows}
    assert by_id[_run(done["id"]).id]["finding"] == "已按程序集体决策"
    assert by_id[_run(done["id"]).id]["meeting_kind"] == "院务会"
    assert by_id[_run(waiting["id"]).id]["finding"] == "待集体决策"
    assert major.list_major(w.fin, w.org["city"], year - 1) == ([], 0)
    with pytest.raises(PermissionDenied):
        major.list_major(w.other, w.org["unit"], year)
    name, data = major.export_major(w.fin, w.org["city"], year)
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][0] == "单位" and len(values) == 3
    assert {v[-1] for v in values[1:]} == {"已按程序集体决策", "待集体决策"}


def test_a_budget_at_the_threshold_needs_the_decision_too(db):
    from hbbudget.services.budgeting import review
    from tests.budget_world import budget_with

    w = world()
    leader = add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    _threshold(w, 5000)
    bid = budget_with(w, {"30101": "5000"})
    h = review.submit(w.op, bid)
    assert h["step_org_name"] == "信息学院"
    with pytest.raises(ValidationError, match="须先录入集体决策"):
        review.approve(leader, bid)
    with session_scope() as session:
        run = session.exec(select(ApprovalRun).where(ApprovalRun.object_type == "budget")).one()
    major.record_decision(w.op, run.id, {**MINUTES, "meeting_kind": "党委会"}, "纪要.pdf", b"%PDF")
    assert review.approve(leader, bid)["step_org_name"] == "示范大学"


def test_a_matter_in_flight_before_templates_is_stopped_when_it_is_major(db):
    w = world()
    p = _declared(w, "600000")
    with session_scope() as session:  # as if declared before the approval runs existed
        run_id = _run(p["id"]).id
        for act in session.exec(select(ApprovalAct).where(ApprovalAct.run_id == run_id)).all():
            session.delete(act)
        session.flush()
        session.delete(session.get(ApprovalRun, run_id))
    _threshold(w, 500000)
    with pytest.raises(ValidationError, match="没有集体决策环节"):
        projects.transition(w.head, p["id"], "approve")
    _threshold(w, 700000)
    assert projects.transition(w.head, p["id"], "approve")["step_org_name"] == "市财政局"


def test_an_approver_marks_a_matter_major(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    w = world()
    leader = add_user("leader", "unit_leader", w.org["dept"], subtree=False)
    p = _declared(w, "1000")
    run_id = _run(p["id"]).id
    with pytest.raises(PermissionDenied):  # only the approver at the current step
        major.mark_major(w.fin, run_id)
    assert major.progress(w.head, run_id)["can_mark"] and not major.progress(w.fin, run_id)["can_mark"]
    prog = major.mark_major(w.head, run_id, "涉及大额采购")
    assert [(s["name"], s["state"]) for s in prog["stops"]][:2] == [("三重一大集体决策", "当前"), ("逐级审核", "待审")]
    assert projects.get_project(w.op, p["id"])["step_org_name"] == "信息学院"
    with pytest.raises(ValidationError, match="须先录入集体决策"):
        projects.transition(leader, p["id"], "approve")
    with pytest.raises(ValidationError, match="已在集体决策步骤"):
        major.mark_major(leader, run_id)
    major.record_decision(w.op, run_id, MINUTES, "纪要.pdf", b"%PDF")
    assert projects.transition(leader, p["id"], "approve")["step_org_name"] == "示范大学"
    assert projects.transition(w.head, p["id"], "approve")["step_org_name"] == "市财政局"
    rows, _ = major.list_major(w.fin, w.org["city"], _run(p["id"]).started_at.year)
    assert [r["finding"] for r in rows] == ["已按程序集体决策"]


def test_a_step_past_its_time_limit_is_flagged(db):
    from datetime import timedelta

    from hbbudget.clock import now

    w = world()
    _leader_flow(w)  # 院长审批 within 3 days
    p = _declared(w)
    year = _run(p["id"]).started_at.year
    rows, _ = major.list_major(w.fin, w.org["city"], year, major_only=False)
    assert rows[0]["overdue"] == ""
    with session_scope() as session:
        act = session.exec(select(ApprovalAct).where(ApprovalAct.run_id == _run(p["id"]).id)).one()
        act.at = now() - timedelta(days=5, hours=1)
        session.add(act)
    rows, _ = major.list_major(w.fin, w.org["city"], year, major_only=False)
    assert rows[0]["overdue"] == "超期 2 天" and rows[0]["finding"] == ""
