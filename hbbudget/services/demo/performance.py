"""绩效评价 demo data: a confirmed self-evaluation of the college's 智能计算实验室建设 for this year (its grade shows
in the project library) and the 绩效结果应用 rule at the city finance bureau for next year (a warning in the draft).
Idempotent: adds only what is missing."""

from __future__ import annotations

import json

from sqlmodel import select

from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import Org, PerfEvaluation, PerfScore, Project, ProjectTarget, Rule
from hbbudget.services.core import audit, orgs
from hbbudget.services.demo.budget import COLLEGE, FINANCE
from hbbudget.services.performance import evaluation

ACTUALS = {"新增计算节点": ("36", "验收单 2 份"), "设备验收合格率": ("100", "验收报告"), "支撑科研项目数": ("18", "项目清单"),
           "师生满意度": ("88", "问卷汇总 312 份")}


def seed() -> dict[str, int]:
    year = current_fiscal_year()
    with session_scope() as session:
        college, finance = orgs.by_code(session, COLLEGE), orgs.by_code(session, FINANCE)
        if college is None or finance is None:
            return {}
        lab = session.exec(select(Project).where(Project.org_id == college.id,
                                                 Project.name == "智能计算实验室建设")).first()
        counts = {"evaluations": 0, "rules": 0}
        if lab is not None and session.exec(select(PerfEvaluation.id).where(
                PerfEvaluation.project_id == lab.id, PerfEvaluation.fiscal_year == year)).first() is None:
            ev = PerfEvaluation(project_id=lab.id, org_id=college.id, fiscal_year=year, status="已复核",
                                problems="个别计算节点到货延迟，已督促供应商于下季度交付。", comment="同意（演示数据）")
            session.add(ev)
            session.flush()
            for t in session.exec(select(ProjectTarget).where(ProjectTarget.project_id == lab.id)).all():
                actual, evidence = ACTUALS.get(t.indicator, ("", ""))
                session.add(PerfScore(evaluation_id=ev.id, target_id=t.id, actual=actual, evidence=evidence))
            session.flush()
            evaluation.rescore(session, ev, session.get(Org, college.id))
            counts["evaluations"] = 1
        if session.exec(select(Rule.id).where(Rule.org_id == finance.id, Rule.fiscal_year == year + 1,
                                              Rule.kind == "perf_grade")).first() is None:
            session.add(Rule(org_id=finance.id, fiscal_year=year + 1, kind="perf_grade", severity="warning",
                             name="绩效结果应用", params=json.dumps({"poor_cut": "10"})))
            counts["rules"] = 1
        if any(counts.values()):
            audit.record(session, "demo.seed", detail="载入绩效评价演示数据", after=counts)
        return counts
