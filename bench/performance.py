"""绩效评价: rescoring every evaluation of a year for 500 units (5,000 projects × 6 targets, each with an actual value,
the execution rate from the ledger's facts) with `evaluation.rescore_all` (target ≤ 2 s); then the year's summary
(`evaluation.summary`, what the 绩效自评 page's summary shows) over the 5,000 submitted evaluations for a province-wide
viewer (p95 of 20, target ≤ 300 ms); then the 绩效监控 board (`monitor.board`, first page of every project with
its targets and the ledger's execution at the checkpoint, nothing reported yet) for the same viewer (≤ 1 s). Setup is written in bulk
and not measured; the ledger facts are computed once before timing (cached per data version, as in the app).

Runs on a fresh SQLite file, or on HBB_BENCH_DATABASE_URL (an empty PostgreSQL database) when set."""

from __future__ import annotations

import statistics
import time

from bench.fresh_db import run_on_fresh_database

YEAR = 2027
UNITS, PROJECTS_PER_UNIT, TARGETS = 500, 10, 6
SPEC = [("产出", "≥", "10", 30, "9"), ("产出", "=", "100", 15, "98"), ("成本", "≤", "500", 10, "520"),
        ("效益", "定性", "达成", 15, "基本达成"), ("效益", "≥", "90", 10, "95"), ("满意度", "≥", "90", 10, "88")]


def _build() -> tuple[int, str]:
    from sqlalchemy import insert

    from hbbudget.db import session_scope
    from hbbudget.models import Budget, BudgetLine, PerfEvaluation, PerfScore, Project, ProjectTarget
    from hbbudget.services.core import orgs

    with session_scope() as session:
        root = orgs.create(session, "B0", "省财政厅", "行政")
        units = [orgs.create(session, f"B{n:04d}", f"单位{n}", "高校", root) for n in range(1, UNITS + 1)]
        session.flush()
        conn = session.connection()
        projects = [{"code": f"BP{u.id:04d}{k:02d}", "name": f"项目{u.id}-{k}", "org_id": u.id, "category": "3",
                     "start_year": YEAR, "end_year": YEAR, "status": "执行中"}
                    for u in units for k in range(PROJECTS_PER_UNIT)]
        conn.execute(insert(Project.__table__), projects)
        pids = conn.execute(Project.__table__.select().with_only_columns(Project.__table__.c.id,
                                                                          Project.__table__.c.org_id)).all()
        conn.execute(insert(ProjectTarget.__table__), [
            {"project_id": pid, "indicator": f"指标{i}", "unit": "", "direction": d, "target_value": t, "weight": w,
             "level1": l1, "level2": "", "standard": ""} for pid, _ in pids for i, (l1, d, t, w, _) in enumerate(SPEC)])
        budget = Budget(org_id=root.id, fiscal_year=YEAR, round="二下", status="已批复")
        session.add(budget)
        session.flush()
        conn.execute(insert(BudgetLine.__table__), [
            {"budget_id": budget.id, "project_id": pid, "econ_code": "31002", "func_code": "2050205",
             "source": "财政拨款", "amount": 1_000_000} for pid, _ in pids])
        conn.execute(insert(PerfEvaluation.__table__), [
            {"project_id": pid, "org_id": org_id, "fiscal_year": YEAR, "status": "填报中", "budget_fen": 0,
             "spent_fen": 0, "exec_weight": 10, "exec_score": 0, "total_score": 0, "grade": "", "problems": "",
             "comment": "", "updated_at": budget.created_at} for pid, org_id in pids])
        evs = dict(conn.execute(PerfEvaluation.__table__.select().with_only_columns(
            PerfEvaluation.__table__.c.project_id, PerfEvaluation.__table__.c.id)).all())
        targets = conn.execute(ProjectTarget.__table__.select().with_only_columns(
            ProjectTarget.__table__.c.id, ProjectTarget.__table__.c.project_id)
            .order_by(ProjectTarget.__table__.c.id)).all()
        conn.execute(insert(PerfScore.__table__), [
            {"evaluation_id": evs[pid], "target_id": tid, "actual": SPEC[n % TARGETS][4], "evidence": "",
             "auto_score": 0, "override_score": None, "override_reason": ""} for n, (tid, pid) in enumerate(targets)])
        return len(pids), root.path


def _measure() -> list[dict]:
    from sqlalchemy import update

    from hbbudget.db import session_scope
    from hbbudget.models import PerfEvaluation
    from hbbudget.services.execution import facts
    from hbbudget.services.performance import evaluation
    from hbbudget.services.security.permissions import Grant, UserContext

    projects, root_path = _build()
    facts.facts(YEAR)
    start = time.perf_counter()
    done = evaluation.rescore_all(YEAR)
    took = time.perf_counter() - start
    assert done == projects == UNITS * PROJECTS_PER_UNIT, (done, projects)
    with session_scope() as session:
        session.connection().execute(update(PerfEvaluation.__table__).values(status="已提交"))
    ctx = UserContext(user_id=1, username="bench", full_name="bench", org_id=1, org_name="省财政厅", role_names=(),
                      grants=(Grant(frozenset({"performance.view"}), root_path, True),))
    samples = []
    for _ in range(20):
        t0 = time.perf_counter()
        s = evaluation.summary(ctx, YEAR)
        samples.append(time.perf_counter() - t0)
    assert s["count"] == projects, s["count"]
    p95 = statistics.quantiles(samples, n=20)[-1]
    from hbbudget.services.performance import monitor

    board = []
    for _ in range(5):
        t0 = time.perf_counter()
        rows, shown, _ = monitor.board(ctx, YEAR, 1, "", 0, 20)
        board.append(time.perf_counter() - t0)
    assert shown == projects and len(rows) == 20, shown
    board_median = statistics.median(board)
    return [{"name": f"绩效自评 rescore {done} projects × {TARGETS} targets", "target": "≤ 2 s",
             "measured": f"{took:.2f} s", "pass": took <= 2.0},
            {"name": f"绩效自评 summary over {projects} evaluations (p95)", "target": "≤ 300 ms",
             "measured": f"{p95 * 1000:.0f} ms", "pass": p95 <= 0.3},
            {"name": f"绩效监控 board over {projects} projects × {TARGETS} targets (median of 5)", "target": "≤ 1 s",
             "measured": f"{board_median * 1000:.0f} ms", "pass": board_median <= 1.0}]


def run() -> list[dict]:
    return run_on_fresh_database(_measure)


if __name__ == "__main__":
    for row in run():
        print(row)
