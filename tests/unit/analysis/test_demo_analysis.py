"""数据分析 demo data: every demo unit has three years of approved budgets and spending with the seasonal
profile, two laggard projects and one overspent line; a second run adds nothing; the leader sees all of it."""

from sqlmodel import func, select

from hbbudget import clock
from hbbudget.db import session_scope
from hbbudget.models import Budget, Expenditure
from hbbudget.services.analysis import cockpit, drill
from hbbudget.services.analysis.report import Definition, run
from hbbudget.services.core import setup
from hbbudget.services.demo import analysis
from hbbudget.services.demo import seed as demo
from hbbudget.services.execution import facts
from hbbudget.services.security import auth


def _counts() -> tuple[int, int]:
    with session_scope() as session:
        return (session.exec(select(func.count()).select_from(Budget)).one(),
                session.exec(select(func.count()).select_from(Expenditure)).one())


def test_demo_data_for_every_unit_idempotent(db):
    setup.init_reference_data()
    demo.seed_demo()
    first = _counts()
    assert analysis.seed() == {"budgets": 0, "spending": 0}
    assert _counts() == first
    facts.forget()
    today = clock.today()
    _, leader = auth.login("lingdao", demo.DEMO_PASSWORD)
    with session_scope() as session:
        from hbbudget.services.core import orgs

        prov = orgs.by_code(session, "130000000").id
        units = {c: orgs.by_code(session, c).id for c in analysis.UNITS}
    for year in (today.year - 2, today.year - 1):  # past years: spent 90–99 % along the season
        report = run(leader, Definition(prov, year, "Q4", "org"), today)
        rows = {r.label: r.values for r in report.rows}
        for code in ("DEMO-H01", "DEMO-T01", "DEMO-E01", "DEMO-U01-02"):
            name = next(r.label for r in report.rows if r.key == f"org:{units[code]}")
            assert 8800 <= rows[name]["rate"] <= 10100, (year, name, rows[name]["rate"])
        q4 = run(leader, Definition(units["DEMO-H01"], year, "Q4", "org"), today).rows[0].values
        q1 = run(leader, Definition(units["DEMO-H01"], year, "Q1", "org"), today).rows[0].values
        assert q4["period"] > 1.5 * q1["period"]  # the December rush against the Spring Festival quarter
    if today.month > 2:
        risk = {r["name"]: r for r in drill.at_risk(leader, prov, today.year, today)}
        assert risk["村道硬化工程（DEMO-T01-ROAD）"]["flag"] and risk["案例教学中心建设（DEMO-U01-02-CASE）"]["flag"]
        econ = run(leader, Definition(units["DEMO-H01"], today.year, f"M{today.month - 1:02d}", "econ"), today)
        overspent = next(r.values for r in econ.rows if r.code == "30218")
        assert overspent["cumulative"] > overspent["adjusted"]  # the one overspend
        figures = cockpit.figures(leader, today)
        assert figures["budget"] > 0 and len(figures["by_org"]) == 2  # the two cities
