"""The app's main queries compile for every database it may run on (issue 17): the statements the 执行报告, the
执行台账, 预警 (evaluation and list) and 执行监控 services really send are captured while they run on the test
database, then compiled with the PostgreSQL dialect (which 人大金仓 Kingbase speaks), SQLite, and 达梦 DM when its
dialect package loads here (see test_portability for why it does not with SQLAlchemy 2.1)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, registry, sqlite
from sqlalchemy.orm import Session

from hbbudget.models import Project
from hbbudget.services.analysis.report import Definition, run
from hbbudget.services.execution import alerts, dashboard, facts, ledger, matching
from tests.budget_world import add_user
from tests.factories import approved_budget, make_tree
from tests.unit.operations.test_portability import _dm_reason

YEAR = 2027
JULY_1 = date(YEAR, 7, 1)


def _dialects() -> list:
    found = [pytest.param(postgresql.dialect(), id="postgresql-kingbase"), pytest.param(sqlite.dialect(), id="sqlite")]
    reason = _dm_reason()
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    found.append(pytest.param("dm", id="dm", marks=marks))
    return found


@pytest.fixture
def captured(db):
    """{area: [statements]} sent while each area's services ran on a small world."""
    from hbbudget.db import session_scope

    facts.forget()
    tree = make_tree()
    with session_scope() as session:
        lab = Project(code="P-LAB", name="实验室建设", org_id=tree["unit"], category="3", start_year=YEAR, end_year=YEAR)
        session.add(lab)
        session.flush()
        lab_id = lab.id
    budget_id, (lab_line, office_line) = approved_budget(
        tree["unit"], [(lab_id, "31002", 100_000_000), (None, "30201", 6_000_000)], YEAR)
    kuaiji = add_user("kuaiji", "accountant", tree["unit"])
    head = add_user("head", "division_head", tree["unit"])
    matching.record_manual(kuaiji, lab_line, "200000", date(YEAR, 3, 10), "测试")
    matching.record_manual(kuaiji, office_line, "3000", date(YEAR, 2, 5), "测试")

    lock, sent, area = threading.Lock(), {}, {"now": ""}

    def record(state) -> None:  # facts reads on pool threads too
        with lock:
            sent.setdefault(area["now"], []).append(state.statement)

    event.listen(Session, "do_orm_execute", record)
    try:
        for name, call in [
            ("report", lambda: [run(head, Definition(tree["unit"], YEAR, "Q2", rows), JULY_1)
                                for rows in ("org", "econ", "func", "project", "source")]),
            ("ledger", lambda: (ledger.budgets(head, YEAR), ledger.budget_ledger(head, budget_id, JULY_1),
                                ledger.line_choices(kuaiji, "实验", year=YEAR))),
            ("alerts", lambda: (alerts.evaluate(JULY_1, trigger="nightly"), alerts.list_alerts(head, status=""))),
            ("dashboard", lambda: dashboard.overview(head, today=JULY_1, year=YEAR)),
        ]:
            facts.forget()
            area["now"] = name
            call()
    finally:
        event.remove(Session, "do_orm_execute", record)
    return sent


@pytest.mark.parametrize("dialect", _dialects())
def test_the_main_queries_compile_for_each_dialect(captured, dialect):
    if dialect == "dm":
        dialect = registry.load("dm")()
    assert set(captured) == {"report", "ledger", "alerts", "dashboard"}
    for area, statements in captured.items():
        assert len(statements) >= 2, area
        for stmt in statements:
            sql = str(stmt.compile(dialect=dialect))
            assert sql.strip(), (area, stmt)
