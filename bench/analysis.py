"""数据分析 speed and forecast quality.

- 执行报告 at the province level (rows by 单位) over 1,000,000 transactions × 5,000 projects × 500 orgs (generated
  with executemany into a temp SQLite database), cold (the facts aggregate included) and warm (the facts cached
  for the data version), beside a hand-written single SQL query producing the same figures in the same run; the
  bench asserts both give identical totals. Targets: ≤ 1 s, ≤ 1.3× the SQL.
- A drill-down step (org → its bars) and the heatmap over the same data. Targets: ≤ 300 ms, ≤ 500 ms.
- The forecast: the mean absolute error at month 6 and 9 against the stated bounds (services/analysis/evaluation),
  for series alone and in groups, and the time of the year-end forecast of 5,000 generated projects in 500 orgs
  in one batch (forecast.forecast_many, as the at-risk list and the 驾驶舱 call it)."""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta

ROWS, ORGS, PROJECTS, YEAR = 1_000_000, 500, 5_000, 2027
TODAY = date(YEAR, 11, 28)


def _db(url: str):
    """The generated data in the database at `url` (migrated here): 500 orgs, 5,000 projects, 1,000,000
    expenditures (bulk: executemany on SQLite, COPY on PostgreSQL; the month-sum triggers run for each row)."""
    from sqlalchemy import text
    from sqlmodel import select

    from hbbudget.cli import _migrate
    from hbbudget.db import get_engine, session_scope
    from hbbudget.models import Budget, BudgetLine, Project, RolePermission
    from hbbudget.models.budget import MONTHS
    from hbbudget.services.core import orgs
    from hbbudget.services.security import roles
    from hbbudget.services.security.permissions import Grant, UserContext

    os.environ["HBB_DATABASE_URL"] = url
    _migrate()
    rnd = random.Random(14)
    lines: list[BudgetLine] = []
    with session_scope() as session:
        roles.ensure_default_roles(session)
        root = orgs.create(session, "130000000", "河北省财政厅", "行政")
        cities = [orgs.create(session, f"C{c:02d}", f"市{c:02d}", "行政", root) for c in range(10)]
        for u in range(ORGS - 11):
            unit = orgs.create(session, f"U{u:03d}", f"单位{u:03d}", "其他事业", cities[u % 10])
            budget = Budget(org_id=unit.id, fiscal_year=YEAR, round="二下", status="已批复")
            session.add(budget)
            session.flush()
            for p in range(PROJECTS // (ORGS - 11) + (1 if u < PROJECTS % (ORGS - 11) else 0)):
                project = Project(code=f"P{u:03d}{p:02d}", name=f"项目{u:03d}-{p:02d}", org_id=unit.id, category="3",
                                  start_year=YEAR, end_year=YEAR, status="执行中")
                session.add(project)
                session.flush()
                fen = rnd.randint(100_000, 5_000_000) * 100
                lines.append(BudgetLine(budget_id=budget.id, project_id=project.id, econ_code=f"302{p % 30:02d}",
                                        func_code="2050205", source="财政拨款", amount=fen,
                                        **{m: fen // 12 for m in MONTHS}))
            lines.append(BudgetLine(budget_id=budget.id, econ_code="30101", func_code="2050205", source="财政拨款",
                                    amount=10_000_000_00, **{m: 10_000_000_00 // 12 for m in MONTHS}))
        session.add_all(lines)
        role = roles.by_code(session, "leader")
        perms = frozenset(session.exec(select(RolePermission.permission).where(RolePermission.role_id == role.id)).all())
        ctx = UserContext(user_id=1, username="lingdao", full_name="领导", org_id=root.id, org_name=root.name,
                          role_names=(role.name,), grants=(Grant(perms, root.path, True),))
        root_id = root.id
    with get_engine().connect() as conn:
        pairs = conn.execute(text("SELECT l.id, b.org_id FROM budgetline l JOIN budget b ON b.id = l.budget_id")).all()
    start = date(YEAR, 1, 1)
    spent = []
    for i in range(ROWS):
        line_id, org_id = pairs[rnd.randrange(len(pairs))]
        spent.append((line_id, org_id, rnd.randint(100, 2_000_000), start + timedelta(days=rnd.randrange(330)),
                      "frozen" if i % 97 == 0 else "bank", "", "自动", datetime(2027, 1, 1)))
    columns = "budget_line_id, org_id, amount, spent_on, kind, note, matched_by, created_at"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executemany(f"INSERT INTO expenditure ({columns}) VALUES (?,?,?,?,?,?,?,?)",
                             [(*r[:3], r[3].isoformat(), *r[4:7], "2027-01-01 00:00:00") for r in spent])
            conn.execute("ANALYZE")
    else:
        raw = get_engine().raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy(f"COPY expenditure ({columns}) FROM STDIN") as copy:
                    for r in spent:
                        copy.write_row(r)
            raw.commit()
            with raw.cursor() as cur:
                cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
    return ctx, root_id


SQL = """SELECT b.org_id, SUM(CASE WHEN e.spent_on >= :q THEN e.amount ELSE 0 END), SUM(e.amount)
FROM expenditure e JOIN budgetline l ON l.id = e.budget_line_id JOIN budget b ON b.id = l.budget_id
WHERE e.spent_on >= :start AND e.spent_on < :end AND e.kind != 'frozen' AND b.fiscal_year = :year
  AND b.status = '已批复' GROUP BY b.org_id"""
BUDGET_SQL = """SELECT SUM(l.amount) FROM budgetline l JOIN budget b ON b.id = l.budget_id
WHERE b.fiscal_year = :year AND b.status = '已批复' AND b.superseded_by_id IS NULL"""


def _sql() -> tuple[float, int, int, int]:
    """The hand-written query on its own connection (sqlite3 directly; psycopg through the engine's pool)."""
    from sqlalchemy import text

    from hbbudget.db import get_engine

    url = os.environ["HBB_DATABASE_URL"]
    began = time.perf_counter()
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            args = {"q": f"{YEAR}-07-01", "start": f"{YEAR}-01-01", "end": f"{YEAR}-10-01", "year": YEAR}
            rows = conn.execute(SQL, args).fetchall()
            budget = conn.execute(BUDGET_SQL, {"year": YEAR}).fetchone()[0]
    else:
        with get_engine().connect() as conn:
            args = {"q": date(YEAR, 7, 1), "start": date(YEAR, 1, 1), "end": date(YEAR, 10, 1), "year": YEAR}
            rows = conn.execute(text(SQL), args).all()
            budget = conn.execute(text(BUDGET_SQL), {"year": YEAR}).scalar_one()
    return time.perf_counter() - began, sum(r[1] for r in rows), sum(r[2] for r in rows), int(budget)


def _measure(url: str) -> list[dict]:
    from hbbudget.services.analysis import drill
    from hbbudget.services.analysis.report import Definition, run
    from hbbudget.services.execution import facts

    ctx, root = _db(url)
    defn = Definition(root, YEAR, "Q3", "org")
    cold, warm, sql, steps, heats = [], [], [], [], []
    for _ in range(3):
        sql_s, period, cumulative, budget = _sql()
        sql.append(sql_s)
        facts.forget()
        began = time.perf_counter()
        report = run(ctx, defn, TODAY)
        cold.append(time.perf_counter() - began)
        began = time.perf_counter()
        run(ctx, defn, TODAY)
        warm.append(time.perf_counter() - began)
        total = report.rows[0].values
        assert (total["period"], total["cumulative"], total["adjusted"]) == (period, cumulative, budget), \
            (total, period, cumulative, budget)
        began = time.perf_counter()
        drill.node(ctx, f"org-{root}", YEAR, TODAY)
        steps.append(time.perf_counter() - began)
        began = time.perf_counter()
        drill.org_overview(ctx, root, YEAR, TODAY)
        heats.append(time.perf_counter() - began)
    c, w, s = (statistics.median(x) * 1000 for x in (cold, warm, sql))
    step, heat = statistics.median(steps) * 1000, statistics.median(heats) * 1000
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    return [
        {"name": f"[{db}] report by org, province, {ROWS:,} tx × {PROJECTS:,} projects × {ORGS} orgs (cold)",
         "target": "≤ 1000 ms", "measured": f"{c:.0f} ms", "pass": c <= 1000},
        {"name": f"[{db}] report, same data version (facts cached)", "target": "≤ 1.3× SQL",
         "measured": f"{w:.0f} ms ({w / s:.2f}×)", "pass": w <= 1.3 * s},
        {"name": f"[{db}] hand-written single SQL, same totals (asserted)", "target": "(info)",
         "measured": f"{s:.0f} ms", "pass": True},
        {"name": f"[{db}] report cold against the SQL", "target": "≤ 1.3× SQL", "measured": f"{c / s:.2f}×",
         "pass": c <= 1.3 * s},
        {"name": f"[{db}] drill-down step (province → its bars, facts cached)", "target": "≤ 300 ms",
         "measured": f"{step:.0f} ms", "pass": step <= 300},
        {"name": f"[{db}] heatmap, composition, laggards (province, facts cached)", "target": "≤ 500 ms",
         "measured": f"{heat:.0f} ms", "pass": heat <= 500},
    ]


def _speed() -> list[dict]:
    saved = os.environ.get("HBB_DATABASE_URL")
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows = _measure(f"sqlite:///{folder}/analysis.db")
        return rows + _speed_postgres()
    finally:
        if saved is None:
            os.environ.pop("HBB_DATABASE_URL", None)
        else:
            os.environ["HBB_DATABASE_URL"] = saved


def _speed_postgres() -> list[dict]:
    """The same rows on a throwaway PostgreSQL server (tests.pg_server, as the suite uses); one skipped row
    when PostgreSQL is not installed."""
    from pathlib import Path

    from tests import pg_server

    if pg_server.bin_dir() is None:
        return [{"name": "[PostgreSQL] report, drill-down, heatmap: skipped, PostgreSQL is not installed",
                 "target": "(skipped)", "measured": "—", "pass": True}]
    from hbbudget.db import get_engine

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)  # handed to the postgres user, as the suite's `mktemp -d`
        url = pg_server.start(base)
        try:
            return _measure(url)
        finally:
            os.environ["HBB_DATABASE_URL"] = url
            get_engine().dispose()
            pg_server.stop(base)


def _forecast() -> list[dict]:
    from hbbudget.services.analysis import forecast as fc
    from hbbudget.services.analysis.evaluation import BOUNDS, GROUP, batch, mae, synthetic

    data = synthetic()
    rows = []
    for group, label in ((1, "alone (an org)"), (GROUP, f"in groups of {GROUP} (projects of an org)")):
        for month, bound in BOUNDS.items():
            error, chosen = mae(month, data, group)
            rows.append({"name": f"forecast MAE at month {month}, {label}, last of 3 generated years hidden "
                                 f"(chosen: {chosen})",
                         "target": f"≤ {bound} points", "measured": f"{error:.2f} points", "pass": error <= bound})
    series = batch(9, synthetic(seed=5, series=PROJECTS), PROJECTS // ORGS)  # 5,000 projects in 500 orgs
    began = time.perf_counter()
    fc.forecast_many(series)
    took = time.perf_counter() - began
    rows.append({"name": f"forecast, {PROJECTS:,} projects × {ORGS} orgs, one batch (nightly), all measured",
                 "target": "≤ 10 s", "measured": f"{took:.1f} s", "pass": took <= 10})
    return rows


def run() -> list[dict]:
    return _forecast() + _speed()
