"""执行监控 aggregates from known data: totals, rates, months, per org and per project, alert levels, scope;
money charged to an earlier version of a line counts against the current one; one aggregate query per data
version however many users watch."""

from datetime import date

import pytest
from sqlalchemy import event
from sqlmodel import select

from hbbudget.db import get_engine, session_scope
from hbbudget.models import Budget, Org, Project
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.execution import dashboard, facts, matching
from tests.budget_world import add_user
from tests.factories import approved_budget, make_tree

YEAR = 2027
JULY_1 = date(YEAR, 7, 1)


def _budget(org_id: int, lines: list[tuple[int | None, str, int]], **fields) -> tuple[int, list[int]]:
    """Lines in whole 元."""
    return approved_budget(org_id, [(p, econ, yuan * 100) for p, econ, yuan in lines], YEAR, **fields)


@pytest.fixture
def world(db):
    facts.forget()
    tree = make_tree()
    with session_scope() as session:
        for org in session.exec(select(Org)).all():  # spending beyond the plan is allowed here (with a warning):
            org.limit_manual = "alert"  # the dashboard shows it
            session.add(org)
        lab = Project(code="P-LAB", name="实验室建设", org_id=tree["unit"], category="3", start_year=YEAR, end_year=YEAR)
        office = Project(code="P-OFF", name="公用经费", org_id=tree["unit"], category="21", start_year=YEAR, end_year=YEAR)
        session.add_all([lab, office])
        session.flush()
        pids = {"lab": lab.id, "office": office.id}
    old_id, (old_lab, _, _) = _budget(tree["unit"], [(pids["lab"], "31002", 1_200_000), (pids["office"], "30201", 60_000),
                                                     (pids["office"], "30202", 60_000)])
    new_id, (lab_line, office_a, office_b) = _budget(
        tree["unit"], [(pids["lab"], "31002", 1_300_000), (pids["office"], "30201", 60_000),
                       (pids["office"], "30202", 60_000)], seq=1, round="调整", based_on_id=old_id)
    with session_scope() as session:
        old = session.get(Budget, old_id)
        old.superseded_by_id = new_id
        session.add(old)
    _, (dept_line,) = _budget(tree["dept"], [(None, "30201", 100_000)])
    _, (other_line,) = _budget(tree["other"], [(None, "30201", 10_000)])
    w = {**tree, **pids, "old_lab": old_lab, "lab_line": lab_line, "office_a": office_a, "dept_line": dept_line,
         "other_line": other_line}
    kuaiji = add_user("kuaiji", "accountant", tree["unit"])
    outsider = add_user("outsider", "accountant", tree["other"])
    spend = [(kuaiji, old_lab, "480000", date(YEAR, 3, 10)), (kuaiji, office_a, "30000", date(YEAR, 2, 5)),
             (kuaiji, dept_line, "50000", date(YEAR, 5, 20)), (outsider, other_line, "1000", date(YEAR, 6, 1))]
    with session_scope() as session:  # the old version's line was current when this was charged
        session.get(Budget, old_id).superseded_by_id = None
    for ctx, line, yuan, on in spend:
        matching.record_manual(ctx, line, yuan, on, "测试")
    with session_scope() as session:
        old = session.get(Budget, old_id)
        old.superseded_by_id = new_id
        session.add(old)
    matching.record_manual(kuaiji, lab_line, "5000", date(YEAR, 6, 1), "已承诺", kind="frozen")  # not spending
    facts.forget()
    return {**w, "head": add_user("head", "division_head", tree["unit"]),
            "leader": add_user("leader", "leader", tree["prov"]), "kuaiji": kuaiji}


def test_totals_rates_and_months_over_the_scope(world):
    data = dashboard.overview(world["head"], today=JULY_1)
    assert (data["year"], data["progress"]) == (YEAR, 5027)
    assert data["budget"] == (1_300_000 + 120_000 + 100_000) * 100 and data["spent"] == 560_000 * 100
    assert data["rate"] == 3684  # 560 000 / 1 520 000
    spent = [m["spent"] // 100 for m in data["months"]]
    assert spent == [0, 30_000, 480_000, 0, 50_000, 0, 0, 0, 0, 0, 0, 0]
    assert [m["cum_spent"] // 100 for m in data["months"]][:5] == [0, 30_000, 510_000, 510_000, 560_000]
    assert [m["cum_rate"] for m in data["months"]][6:8] == [3684, -1]  # July shown, August not yet
    assert [m["cum_progress"] for m in data["months"]][5] == 5000
    assert sum(m["plan"] for m in data["months"]) == data["budget"]


def test_per_org_and_per_project_sorted_with_alert_levels(world):
    data = dashboard.overview(world["head"], today=JULY_1)
    assert [(o["name"], o["rate"], o["level"]) for o in data["by_org"]] == [
        ("信息学院", 5000, "warn"),  # 0.27 points behind 50.27 %: within the 10 points
        ("示范大学", 3592, "alert")]  # 510 000 / 1 420 000: 14.35 points behind
    assert [(p["name"], p["rate"], p["level"]) for p in data["by_project"]] == [
        ("实验室建设（P-LAB）", 3692, "alert"), ("公用经费（P-OFF）", 2500, "alert")]


def test_scope_and_permission(world):
    assert {o["name"] for o in dashboard.overview(world["leader"], today=JULY_1)["by_org"]} == {
        "示范大学", "信息学院", "另一单位"}
    # 会计 sees 执行监控 for its own scope (issue 11 item 21): its unit and the unit's subtree, not the others
    assert {o["name"] for o in dashboard.overview(world["kuaiji"], today=JULY_1)["by_org"]} == {"示范大学", "信息学院"}
    with pytest.raises(PermissionDenied):
        dashboard.overview(add_user("jingban", "operator", world["unit"]), today=JULY_1)  # 经办人: no dashboard.view


def test_one_aggregate_query_per_data_version_however_many_watch(world):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "FROM expendituremonth" in statement:  # the month sums (kept by triggers on expenditure)
            statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        viewers = [world["head"], world["leader"]] + [add_user(f"v{i}", "division_head", world["unit"]) for i in range(5)]
        computed = facts.stats["computed"]
        first = [dashboard.overview(v, today=JULY_1)["spent"] for v in viewers]
        per_aggregate = len(statements)
        assert per_aggregate == 1 and facts.stats["computed"] == computed + 1
        matching.record_manual(world["kuaiji"], world["office_a"], "100", date(YEAR, 7, 1), "新的一笔")  # bumps
        second = [dashboard.overview(v, today=JULY_1)["spent"] for v in viewers]
        assert len(statements) == 2 * per_aggregate and facts.stats["computed"] == computed + 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert second[0] == first[0] + 10_000


def test_the_live_page_overview_is_kept_per_user_and_data_version(world):
    dashboard._memo.clear()
    first = dashboard.overview_cached(world["head"], 7)
    assert dashboard.overview_cached(world["head"], 7) is first  # the same version: not computed again
    assert dashboard.overview_cached(world["leader"], 7) is not first  # another user, another scope
    fresh = dashboard.overview_cached(world["head"], 8)  # a new version: computed again
    assert fresh is not first and fresh == dashboard.overview(world["head"])
    assert dashboard.overview_cached(world["head"], 8) is fresh
    with pytest.raises(PermissionDenied):
        dashboard.overview_cached(add_user("jingban", "operator", world["unit"]), 8)
