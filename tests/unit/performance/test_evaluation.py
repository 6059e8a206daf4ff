"""自评 on a worked example: actual values scored automatically, the execution rate from the ledger, an override
needing a reason and audited before/after, submit, 复核 only by performance.review in scope, the last grade."""

from datetime import date

import pytest
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Expenditure, PerfScore, PerfSetting, Project, ProjectTarget
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import facts
from hbbudget.services.performance import evaluation
from tests.budget_world import add_user
from tests.factories import approved_budget, make_tree

YEAR = 2026
TARGETS = [("产出", "数量", "新建教室数量", "间", "≥", "10", 30), ("产出", "时效", "项目按期完成率", "%", "=", "100", 20),
           ("成本", "经济成本", "单位产出成本", "元", "≤", "500", 10), ("效益", "社会效益", "办学条件改善", "", "定性", "达成", 20),
           ("满意度", "服务对象满意度", "学生满意度", "%", "≥", "90", 10)]


@pytest.fixture
def w(db):
    facts.forget()
    tree = make_tree()
    with session_scope() as session:
        p = Project(code="P-EV", name="智慧教室", org_id=tree["unit"], category="3", start_year=YEAR,
                    end_year=YEAR, status="执行中")
        o = Project(code="P-OT", name="他方项目", org_id=tree["other"], category="3", start_year=YEAR,
                    end_year=YEAR, status="执行中")
        session.add_all([p, o])
        session.flush()
        for pid in (p.id, o.id):
            session.add_all([ProjectTarget(project_id=pid, level1=l1, level2=l2, indicator=n, unit=u, direction=d,
                                           target_value=t, weight=wt) for l1, l2, n, u, d, t, wt in TARGETS])
        pid, oid = p.id, o.id
    _, lines = approved_budget(tree["unit"], [(pid, "31002", 1_000_000)], YEAR)
    with session_scope() as session:  # 8,500.00 of 10,000.00 spent: 85 %
        session.add(Expenditure(budget_line_id=lines[0], org_id=tree["unit"], amount=850_000,
                                spent_on=date(YEAR, 6, 1), kind="manual"))
    facts.forget()
    return {**tree, "pid": pid, "oid": oid, "op": add_user("op", "operator", tree["unit"]),
            "op_o": add_user("op_o", "operator", tree["other"]), "fin": add_user("fin", "finance_reviewer", tree["city"]),
            "head": add_user("head", "division_head", tree["unit"])}


def _actuals(ev: dict, values: list[str]) -> dict:
    return {str(r["target_id"]): {"actual": v, "evidence": "验收单"} for r, v in zip(ev["rows"], values)}


def test_scores_the_worked_example_with_the_execution_rate_from_the_ledger(w):
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    assert ev["budget_fen"] == 1_000_000 and ev["spent_fen"] == 850_000 and ev["exec_score"] == "8.50"
    ev = evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["12", "98", "0", "基本达成", "88"]), "无")
    assert [r["score"] for r in ev["rows"]] == ["30.00", "19.60", "10.00", "16.00", "9.78"]
    assert ev["rows"][0]["formula"] == "30 × min(12 ÷ 10, 1)"
    assert ev["total"] == "93.88" and ev["grade"] == "优"  # 85.38 + 8.50


def test_a_bad_actual_is_refused_and_nothing_changes(w):
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    with pytest.raises(ValidationError, match="办学条件改善"):
        evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["12", "98", "0", "很好", "88"]))
    assert evaluation.detail(w["op"], ev["id"])["rows"][0]["actual"] == ""


def test_an_override_needs_a_reason_and_is_audited(w):
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    ev = evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["8", "100", "600", "达成", "90"]))
    tid = ev["rows"][0]["target_id"]
    assert ev["rows"][0]["score"] == "24.00"
    with pytest.raises(ValidationError, match="调整理由"):
        evaluation.override(w["op"], ev["id"], tid, "28", "")
    with pytest.raises(ValidationError, match="0 至 30"):
        evaluation.override(w["op"], ev["id"], tid, "31", "超出")
    ev = evaluation.override(w["op"], ev["id"], tid, "28.5", "两间教室因疫情顺延，已于次年一月验收")
    assert ev["rows"][0]["score"] == "28.50" and ev["rows"][0]["auto"] == "24.00"
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "evaluation.override")).one()
        assert '"score": null' in entry.before and '"score": 2850' in entry.after and "疫情顺延" in entry.detail


def test_submit_then_review_by_the_finance_reviewer_in_scope(w):
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    with pytest.raises(ValidationError, match="尚未填写实际值"):
        evaluation.submit(w["op"], ev["id"])
    evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["10", "100", "500", "达成", "90"]))
    ev = evaluation.submit(w["op"], ev["id"])
    assert ev["status"] == "已提交" and ev["total"] == "98.50"
    with pytest.raises(ValidationError, match="不能修改"):
        evaluation.save_actuals(w["op"], ev["id"], {})
    with pytest.raises(PermissionDenied):
        evaluation.review(w["head"], ev["id"], "confirm")  # 处长 has no performance.review
    with pytest.raises(ValidationError, match="退回须填写意见"):
        evaluation.review(w["fin"], ev["id"], "return")
    assert evaluation.review(w["fin"], ev["id"], "confirm")["status"] == "已复核"
    with session_scope() as session:
        assert evaluation.last_grades(session, [w["pid"]], YEAR + 1) == {w["pid"]: (YEAR, "优")}
        assert evaluation.last_grades(session, [w["pid"]], YEAR) == {}


def test_another_units_project_is_refused(w):
    with pytest.raises(PermissionDenied):
        evaluation.open_evaluation(w["op"], w["oid"], YEAR)
    other = evaluation.open_evaluation(w["op_o"], w["oid"], YEAR)
    with pytest.raises(PermissionDenied):
        evaluation.detail(w["op"], other["id"])


def test_grade_bands_are_configurable_per_org(w):
    with session_scope() as session:
        session.add(PerfSetting(org_id=w["city"], band_excellent=99, band_good=95, band_fair=90))
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    ev = evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["10", "100", "500", "达成", "90"]))
    assert ev["total"] == "98.50" and ev["grade"] == "良"  # inherited from the city


async def _page(username: str):
    import reflex as rx

    from hbbudget.pages.performance.evaluation import EvaluationState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD

    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login(username, PASSWORD)
    state = await root.get_state(EvaluationState)
    await state.choose_year(str(YEAR))
    return state


async def test_the_page_enters_actuals_shows_score_and_grade_and_the_reviewer_confirms(w):
    page = await _page("op")
    assert [r["code"] for r in page.rows] == ["P-EV"] and page.rows[0]["status"] == "未开始"
    await page.open_project(page.rows[0]["project_id"])
    assert page.ev == {} and page.project_id
    await page.start()
    form = {f"a{t['target_id']}": v for t, v in zip(page.targets, ["12", "98", "0", "基本达成", "88"])}
    await page.save_actuals({**form, "problems": "两间教室顺延"})
    assert page.ev["total"] == "93.88" and page.ev["grade"] == "优"
    assert page.targets[1]["formula"].startswith("20 × (1 − |98 − 100|")
    result = await page.override({"target_id": page.targets[4]["target_id"], "points": "10", "reason": ""})
    assert "调整理由" in str(result) and page.ev["total"] == "93.88"
    await page.submit()
    assert page.ev["status"] == "已提交" and page.rows[0]["grade"] == "优"
    assert page.summary == "已提交及已复核 1 个项目，平均 93.88 分"
    assert page.by_org == [{"org_name": "示范大学", "count": "1", "average": "93.88"}]
    assert page.by_industry == [{"industry": "其他", "count": "1", "average": "93.88"}]  # no 功能分类 given
    assert list(page.grade_fig.data[0].y) == [1, 0, 0, 0]  # 优 良 中 差
    reviewer = await _page("fin")
    await reviewer.open_project(reviewer.rows[0]["project_id"])
    await reviewer.review({"action": "confirm", "comment": "同意"})
    assert reviewer.ev["status"] == "已复核"
    assert "没有权限" in str(await page.review({"action": "confirm", "comment": ""}))


def _confirmed(w, values: list[str]) -> dict:
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, values))
    evaluation.submit(w["op"], ev["id"])
    return evaluation.review(w["fin"], ev["id"], "confirm", "同意")


@pytest.mark.parametrize("values, grade, ok_amount, bad_amount", [
    (["1", "80", "5000", "未达成", "10"], "差", 900_000, 900_001),  # 差: at least 10 % less than 1,000,000 fen
    (["5", "100", "500", "部分达成", "70"], "中", 1_000_000, 1_000_001),  # 中: no growth
])
def test_the_grade_feeds_next_years_budget_rule_and_the_project_library(w, values, grade, ok_amount, bad_amount):
    from hbbudget.models import Budget, BudgetLine
    from hbbudget.services.budgeting import projects, rules

    assert _confirmed(w, values)["grade"] == grade
    rules.create_rule(w["fin"], w["unit"], YEAR + 1, "perf_grade", "warning", {"poor_cut": "10"})
    rows, _ = projects.list_projects(w["head"], search="P-EV")
    assert rows[0]["grade"] == f"{YEAR}年 {grade}"
    from hbbudget.pages.display import grid_line
    from hbbudget.services.budgeting import lines as budget_lines
    for seq, amount, ok in ((1, ok_amount, True), (2, bad_amount, False)):
        bid, lines = approved_budget(w["unit"], [(w["pid"], "31002", amount)], YEAR + 1, status="草稿", round="一上",
                                     seq=seq)
        with session_scope() as session:
            found = [r for r in rules.evaluate(session, session.get(Budget, bid)) if r["kind"] == "perf_grade"]
        assert found[0]["ok"] is ok and found[0]["severity"] == "warning", found
        assert f"上年绩效“{grade}”" in found[0]["message"]
        assert found[0]["line_ids"] == ([] if ok else lines)
        with session_scope() as session:  # the grade beside the project's lines in next year's editor
            shown = grid_line(budget_lines.rows(session, YEAR + 1, [session.get(BudgetLine, lines[0])])[0], "yuan")
        assert shown["project"] == f"智慧教室（P-EV）〔{YEAR}年绩效：{grade}〕"


def test_an_unconfirmed_evaluation_does_not_feed_the_rule(w):
    from hbbudget.models import Budget
    from hbbudget.services.budgeting import rules

    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["1", "80", "5000", "未达成", "10"]))
    rules.create_rule(w["fin"], w["unit"], YEAR + 1, "perf_grade", "error", {})
    bid, _ = approved_budget(w["unit"], [(w["pid"], "31002", 2_000_000)], YEAR + 1, status="草稿", round="一上")
    with session_scope() as session:
        found = [r for r in rules.evaluate(session, session.get(Budget, bid)) if r["kind"] == "perf_grade"]
    assert found[0]["ok"] is True


def test_rescore_all_agrees_with_the_one_by_one_scores(w):
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    ev = evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["12", "98", "0", "基本达成", "88"]))
    other = evaluation.open_evaluation(w["op_o"], w["oid"], YEAR)
    evaluation.save_actuals(w["op_o"], other["id"], _actuals(other, ["5", "100", "1000", "达成", "90"]))
    expected = {e: evaluation.detail(w["fin"], e) for e in (ev["id"], other["id"])}
    with session_scope() as session:  # spoil the stored scores: the bulk pass must put them back
        for s in session.exec(select(PerfScore)).all():
            s.auto_score = 0
            session.add(s)
    assert evaluation.rescore_all(YEAR) == 2
    for e, before in expected.items():
        after = evaluation.detail(w["fin"], e)
        assert (after["total"], after["grade"], [r["score"] for r in after["rows"]]) == \
            (before["total"], before["grade"], [r["score"] for r in before["rows"]])
    assert expected[ev["id"]]["total"] == "93.88"


async def test_the_printable_sheet_shows_the_evaluation(w):
    import reflex as rx
    from reflex.istate.data import RouterData

    from hbbudget import routes
    from hbbudget.pages.performance.sheet import EvaluationSheetState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD

    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["12", "98", "0", "基本达成", "88"]), "两间教室顺延")
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("fin", PASSWORD)
    sheet = await root.get_state(EvaluationSheetState)
    path = routes.evaluation_sheet(ev["id"])
    sheet.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    await sheet.load()
    assert sheet.head["title"] == f"{YEAR} 年度项目支出绩效自评表" and sheet.head["project"] == "P-EV 智慧教室"
    assert (sheet.head["rate"], sheet.head["total"], sheet.head["grade"]) == ("85.00%", "93.88", "优")
    assert sheet.head["problems"] == "两间教室顺延" and [r["score"] for r in sheet.rows][:2] == ["30.00", "19.60"]
