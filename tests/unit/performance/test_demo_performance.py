"""The performance demo data: a confirmed evaluation with a grade shown in the project library, the rule for next
year, and nothing added on a second run."""

from sqlmodel import func, select

from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import Org, PerfEvaluation, PerfScore, Project, ProjectTarget, Rule
from hbbudget.services.core import setup
from hbbudget.services.demo import performance
from hbbudget.services.demo import seed as demo
from hbbudget.services.performance import evaluation
from hbbudget.services.performance import targets as perf_targets


def test_demo_evaluation_and_rule_once(db):
    setup.init_reference_data()
    demo.seed_demo()
    year = current_fiscal_year()
    with session_scope() as session:
        ev = session.exec(select(PerfEvaluation)).one()
        lab = session.get(Project, ev.project_id)
        assert lab.name == "智能计算实验室建设" and ev.status == "已复核" and ev.fiscal_year == year
        assert ev.grade in ("优", "良", "中", "差") and ev.total_score > 0
        assert session.exec(select(func.count()).select_from(PerfScore)).one() == 4
        assert 0 < ev.total_score <= 100_00  # cents of a 100-point scale (the demo's targets once weighed 100 + 10)
        assert evaluation.last_grades(session, [lab.id], year + 1) == {lab.id: (year, ev.grade)}
        assert session.exec(select(Rule).where(Rule.kind == "perf_grade")).one().fiscal_year == year + 1
    assert performance.seed() == {"evaluations": 0, "rules": 0}


def test_demo_targets_pass_the_declaration_checks(db):
    """Every demo project with targets could be declared as it stands: placed by 一级, weights to 100 with 执行率."""
    setup.init_reference_data()
    demo.seed_demo()
    with session_scope() as session:
        projects = session.exec(select(Project)).all()
        checked = 0
        for p in projects:
            rows = [{"indicator": t.indicator, "level1": t.level1, "weight": t.weight}
                    for t in session.exec(select(ProjectTarget).where(ProjectTarget.project_id == p.id))]
            if rows:
                org = session.get(Org, p.org_id)
                assert perf_targets.problems(rows, perf_targets.effective(session, org)) == [], p.name
                checked += 1
    assert checked >= 4
