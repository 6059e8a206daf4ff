"""The performance demo data: a confirmed evaluation with a grade shown in the project library, the rule for next
year, and nothing added on a second run."""

from sqlmodel import func, select

from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import PerfEvaluation, PerfScore, Project, Rule
from hbbudget.services.core import setup
from hbbudget.services.demo import performance
from hbbudget.services.demo import seed as demo
from hbbudget.services.performance import evaluation


def test_demo_evaluation_and_rule_once(db):
    setup.init_reference_data()
    demo.seed_demo()
    year = current_fiscal_year()
    with session_scope() as session:
        ev = session.exec(select(PerfEvaluation)).one()
        lab = session.get(Project, ev.project_id)
        assert lab.name == "智能计算实验室建设" and ev.status == "已复核" and ev.fiscal_year == year
        assert ev.grade in ("优", "良", "中", "差") and ev.total_score > 0
        assert session.exec(select(func.count()).select_from(PerfScore)).one() == 3
        assert evaluation.last_grades(session, [lab.id], year + 1) == {lab.id: (year, ev.grade)}
        assert session.exec(select(Rule).where(Rule.kind == "perf_grade")).one().fiscal_year == year + 1
    assert performance.seed() == {"evaluations": 0, "rules": 0}
