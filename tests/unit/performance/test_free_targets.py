"""A self-evaluation is out of 100 even when the project's targets are free ones weighing 100 on their own (stored
before set_targets required 100 − 预算执行率): the targets' points are scaled by 90 ÷ 100, the scaling is shown
(detail, print sheet, xlsx), every total agrees (rescore_all, list, summary, last grade) and stored totals over
100 are put right by `evaluation.correct_stored_totals` (run by init-db), each with an audit entry."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Expenditure, PerfEvaluation, PerfScore, PerfSetting, Project, ProjectTarget
from hbbudget.services.errors import ValidationError
from hbbudget.services.execution import facts
from hbbudget.services.performance import evaluation, scoring, sheet
from tests.budget_world import add_user
from tests.factories import approved_budget, make_tree

YEAR = 2026
# free targets (no 一级, no library indicator) weighing 100 on their own, as set_targets once allowed
FREE = [("新增设备", "台", "≥", "10", 70), ("单位产出成本", "元", "≤", "500", 30)]
# targets placed by 一级, weighing 90 (+ 预算执行率 10)
PLACED = [("产出", "新增设备", "台", "≥", "10", 60), ("满意度", "学生满意度", "%", "≥", "90", 30)]


@pytest.fixture
def w(db):
    facts.forget()
    tree = make_tree()
    with session_scope() as session:
        free = Project(code="P-FREE", name="实验设备", org_id=tree["unit"], category="3", start_year=YEAR,
                       end_year=YEAR, status="执行中")
        placed = Project(code="P-PLACED", name="智慧教室", org_id=tree["unit"], category="3", start_year=YEAR,
                         end_year=YEAR, status="执行中")
        session.add_all([free, placed])
        session.flush()
        session.add_all([ProjectTarget(project_id=free.id, indicator=n, unit=u, direction=d, target_value=t, weight=wt)
                         for n, u, d, t, wt in FREE])
        session.add_all([ProjectTarget(project_id=placed.id, level1=l1, indicator=n, unit=u, direction=d,
                                       target_value=t, weight=wt) for l1, n, u, d, t, wt in PLACED])
        ids = free.id, placed.id
    _, lines = approved_budget(tree["unit"], [(ids[0], "31002", 1_000_000), (ids[1], "31002", 1_000_000)], YEAR)
    with session_scope() as session:  # 8,500.00 of 10,000.00 spent on each: 85 %
        session.add_all([Expenditure(budget_line_id=line, org_id=tree["unit"], amount=850_000,
                                     spent_on=date(YEAR, 6, 1), kind="manual") for line in lines])
    facts.forget()
    return {**tree, "free": ids[0], "placed": ids[1], "op": add_user("op", "operator", tree["unit"]),
            "fin": add_user("fin", "finance_reviewer", tree["city"])}


def _save(w, pid: int, values: list[str]) -> dict:
    ev = evaluation.open_evaluation(w["op"], pid, YEAR)
    return evaluation.save_actuals(w["op"], ev["id"], {str(r["target_id"]): {"actual": v, "evidence": "验收单"}
                                                       for r, v in zip(ev["rows"], values)})


def test_target_points_scale_only_when_weights_and_execution_do_not_make_100():
    assert scoring.target_points(Decimal("85.38"), 90, 10) == (Decimal("85.38"), "")
    assert scoring.target_points(Decimal("88.00"), 100, 10) == (
        Decimal("79.20"), "目标权重合计 100 分，按 90 分折算（另 10 分为预算执行率）：88.00 × 90 ÷ 100 = 79.20")
    # 50 × 90 ÷ 70 = 64.2857… → 64.29 (half up, once); full marks never pass the room left by 执行率
    assert scoring.target_points(Decimal("50"), 70, 10)[0] == Decimal("64.29")
    assert scoring.target_points(Decimal("70.00"), 70, 10)[0] == Decimal("90.00")
    assert scoring.target_points(Decimal("100.00"), 100, 15)[0] == Decimal("85.00")


def test_free_targets_weighing_100_are_scored_out_of_100(w):
    ev = _save(w, w["free"], ["9", "600"])
    # by hand: 70 × 9 ÷ 10 = 63.00; 30 × 500 ÷ 600 = 25.00; (63 + 25) × 90 ÷ 100 = 79.20; 执行率 10 × 85 % = 8.50
    assert [r["score"] for r in ev["rows"]] == ["63.00", "25.00"] and ev["exec_score"] == "8.50"
    assert ev["total"] == "87.70" and ev["grade"] == "良"  # the old sum, 96.50, said 优
    assert ev["target_points"] == "79.20"
    assert ev["scale_note"] == "目标权重合计 100 分，按 90 分折算（另 10 分为预算执行率）：88.00 × 90 ÷ 100 = 79.20"
    full = _save(w, w["free"], ["10", "500"])
    assert full["total"] == "98.50" and Decimal(full["total"]) <= 100  # 90.00 + 8.50, not 108.50


def test_placed_targets_are_not_scaled(w):
    ev = _save(w, w["placed"], ["9", "90"])
    assert ev["scale_note"] == "" and ev["target_points"] == "84.00"  # 54.00 + 30.00
    assert ev["total"] == "92.50" and ev["grade"] == "优"


def test_an_override_stays_on_the_targets_own_weight_and_is_scaled_with_the_others(w):
    ev = _save(w, w["free"], ["9", "600"])
    tid = ev["rows"][0]["target_id"]
    with pytest.raises(ValidationError, match="0 至 70"):
        evaluation.override(w["op"], ev["id"], tid, "70.01", "超出")
    ev = evaluation.override(w["op"], ev["id"], tid, "70", "两台设备已于次年一月验收")
    # (70 + 25) × 90 ÷ 100 = 85.50; + 8.50
    assert ev["rows"][0]["score"] == "70.00" and ev["total"] == "94.00" and ev["target_points"] == "85.50"


def test_every_total_agrees(w):
    ev = _save(w, w["free"], ["9", "600"])
    with session_scope() as session:  # spoil the stored total: the bulk pass must put back the scaled one
        row = session.get(PerfEvaluation, ev["id"])
        row.total_score, row.grade = 9650, "优"
        session.add(row)
    assert evaluation.rescore_all(YEAR) == 1
    assert (evaluation.detail(w["fin"], ev["id"])["total"], evaluation.detail(w["fin"], ev["id"])["grade"]) == \
        ("87.70", "良")
    rows, _ = evaluation.list_projects(w["fin"], YEAR)
    assert {r["code"]: (r["total"], r["grade"]) for r in rows}["P-FREE"] == ("87.70", "良")
    evaluation.submit(w["op"], ev["id"])
    evaluation.review(w["fin"], ev["id"], "confirm", "同意")
    assert evaluation.summary(w["fin"], YEAR)["average"] == Decimal("87.70")
    with session_scope() as session:
        assert evaluation.last_grades(session, [w["free"]], YEAR + 1) == {w["free"]: (YEAR, "良")}


def test_the_xlsx_shows_the_scaling(w):
    ev = _save(w, w["free"], ["9", "600"])
    _, data = sheet.export_xlsx(w["fin"], ev["id"])
    ws = load_workbook(io.BytesIO(data)).active
    labels = {row[0].value: row[2].value for row in ws.iter_rows() if row[0].value}
    assert labels["目标得分折算"] == ev["scale_note"] and Decimal(str(labels["总分"])) == Decimal("87.70")
    placed = _save(w, w["placed"], ["9", "90"])
    _, data = sheet.export_xlsx(w["fin"], placed["id"])
    assert "目标得分折算" not in [row[0].value for row in load_workbook(io.BytesIO(data)).active.iter_rows()]


async def test_the_evaluation_page_and_the_print_sheet_show_the_scaling(w):
    import reflex as rx
    from reflex.istate.data import RouterData

    from hbbudget import routes
    from hbbudget.pages.performance.evaluation import EvaluationState
    from hbbudget.pages.performance.sheet import EvaluationSheetState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD

    ev = _save(w, w["free"], ["9", "600"])
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("op", PASSWORD)
    page = await root.get_state(EvaluationState)
    await page.choose_year(str(YEAR))
    await page.open_project(w["free"])
    assert page.ev["total"] == "87.70" and page.ev["scale_note"].startswith("目标权重合计 100 分，按 90 分折算")
    printed = await root.get_state(EvaluationSheetState)
    path = routes.evaluation_sheet(ev["id"])
    printed.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    await printed.load()
    assert (printed.head["scale_note"], printed.head["total"]) == (ev["scale_note"], "87.70")


def test_stored_totals_over_100_are_corrected_with_an_audit_entry(w):
    free = _save(w, w["free"], ["10", "500"])
    placed = _save(w, w["placed"], ["9", "90"])
    with session_scope() as session:
        session.add(PerfSetting(org_id=w["city"], band_excellent=99, band_good=95, band_fair=90))
        for e in session.exec(select(PerfEvaluation)).all():
            e.status = "已复核"
            session.add(e)
        stored = session.get(PerfEvaluation, free["id"])  # as the old code stored it: 100 + 8.50
        stored.total_score, stored.grade = 10850, "优"
        session.add(stored)
        assert session.exec(select(PerfScore).where(PerfScore.evaluation_id == free["id"])).all()
    assert evaluation.correct_stored_totals() == 1
    with session_scope() as session:
        fixed, kept = session.get(PerfEvaluation, free["id"]), session.get(PerfEvaluation, placed["id"])
        assert (fixed.total_score, fixed.grade) == (9850, "良")  # 90.00 + 8.50, the city's bands (良 ≥ 95)
        assert (kept.total_score, kept.grade) == (9250, "优")  # placed targets: untouched
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "evaluation.correct")).one()
        assert (entry.object_id, entry.before, entry.after) == (
            str(free["id"]), '{"grade": "优", "total": "108.50"}', '{"grade": "良", "total": "98.50"}')
        assert "目标权重合计 100 分，按 90 分折算" in entry.detail
        assert fixed.status == "已复核"  # corrected, not reopened
    assert evaluation.correct_stored_totals() == 0  # nothing left to correct: no second entry
