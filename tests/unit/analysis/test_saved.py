"""Saved report definitions (per user, scoped) and the month/quarter-end snapshots: made by the job on the 1st,
frozen (a late booking changes the live report, not the snapshot), made once, listed within the user's scope."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, ReportSnapshot
from hbbudget.services.analysis import saved
from hbbudget.services.analysis.report import Definition, run
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import matching
from tests.budget_world import add_user
from tests.unit.analysis.test_report import AUG, YEAR, world  # noqa: F401  (the hand-computed fixture)

JULY_1 = date(YEAR, 7, 1)


def test_due_periods():
    assert saved.due_periods(date(2027, 7, 1)) == [(2027, "M06"), (2027, "Q2")]
    assert saved.due_periods(date(2027, 5, 1)) == [(2027, "M04")]
    assert saved.due_periods(date(2028, 1, 1)) == [(2027, "M12"), (2027, "Q4")]


def test_snapshots_are_made_once_and_stay_frozen(world):  # noqa: F811
    assert saved.produce(JULY_1) == 10  # M06 and Q2 of prov, city, unit, dept, other (空白学院 has no budget)
    assert saved.produce(JULY_1) == 0  # run again: nothing new, nothing changed
    listed = saved.snapshots(world["head"])
    assert sorted((s["org_name"], s["period"]) for s in listed) == [
        ("信息学院", "M06"), ("信息学院", "Q2"), ("示范大学", "M06"), ("示范大学", "Q2")]
    q2 = next(s for s in listed if s["org_name"] == "示范大学" and s["period"] == "Q2")
    frozen, as_of = saved.snapshot_report(world["head"], q2["id"])
    live = run(world["head"], Definition(world["unit"], YEAR, "Q2", "org"), AUG)
    assert as_of == JULY_1 and [r.values for r in frozen.rows] == [r.values for r in live.rows]
    assert frozen.rows[0].values["cumulative"] == 550_000 * 100
    # a late booking for June: the live report moves, the snapshot does not
    matching.record_manual(add_user("kj2", "accountant", world["unit"]), world["l1"], "1000", date(YEAR, 6, 15), "补记")
    live = run(world["head"], Definition(world["unit"], YEAR, "Q2", "org"), AUG)
    assert live.rows[0].values["cumulative"] == 551_000 * 100
    assert saved.snapshot_report(world["head"], q2["id"])[0].rows[0].values["cumulative"] == 550_000 * 100
    assert saved.produce(JULY_1) == 0
    wan, _ = saved.snapshot_report(world["head"], q2["id"], "wan")
    assert wan.unit_label == "万元"
    dept = next(s for s in listed if s["org_name"] == "信息学院" and s["period"] == "Q2")
    assert saved.snapshot_report(world["head"], dept["id"])[0].definition.rows == "econ"  # no sub-units
    with session_scope() as session:
        other = session.exec(select(ReportSnapshot.id).where(ReportSnapshot.org_id == world["other"])).first()
        assert len(session.exec(select(AuditEntry).where(AuditEntry.event_type == "report.snapshot")).all()) == 10
    with pytest.raises(PermissionDenied):
        saved.snapshot_report(world["head"], other)
    with pytest.raises(NotFound):
        saved.snapshot_report(world["head"], 999_999)


def test_saved_definitions_per_user_and_scope(world):  # noqa: F811
    head, leader = world["head"], world["leader"]
    first = saved.save_definition(head, "季度报表", Definition(world["unit"], YEAR, "Q2", "econ", "wan"))
    saved.save_definition(head, "季度报表", Definition(world["dept"], YEAR, "Q3", "org"))  # same name: replaced
    saved.save_definition(head, "按项目", Definition(world["unit"], YEAR, "M06", "project"))
    assert [(d["name"], d["org_id"], d["period"]) for d in saved.definitions(head)] == [
        ("季度报表", world["dept"], "Q3"), ("按项目", world["unit"], "M06")]
    assert saved.load_definition(head, first["id"]) == Definition(world["dept"], YEAR, "Q3", "org")
    assert saved.definitions(leader) == []
    with pytest.raises(NotFound):  # another user's definition
        saved.load_definition(leader, first["id"])
    with pytest.raises(NotFound):
        saved.delete_definition(leader, first["id"])
    with pytest.raises(PermissionDenied):  # an org outside the scope
        saved.save_definition(head, "越权", Definition(world["other"], YEAR, "Q2", "org"))
    with pytest.raises(ValidationError):
        saved.save_definition(head, " ", Definition(world["unit"], YEAR, "Q2", "org"))
    saved.delete_definition(head, first["id"])
    assert [d["name"] for d in saved.definitions(head)] == ["按项目"]


async def test_the_snapshot_job_runs_on_the_first_under_the_lease(world, monkeypatch):  # noqa: F811
    import asyncio

    from hbbudget import jobs

    monkeypatch.setattr("hbbudget.clock.today", lambda: JULY_1)
    job = next(j for j in jobs.build_scheduler(who="b").get_jobs() if j.id == "report-snapshots")
    assert str(job.trigger) == "cron[day='1', hour='1', minute='45']"
    assert await jobs.is_leader("a")  # another process holds the lease: this one makes nothing
    await job.func()
    assert await asyncio.to_thread(lambda: saved.snapshots(world["leader"])) == []
    holder = next(j for j in jobs.build_scheduler(who="a").get_jobs() if j.id == "report-snapshots")
    await holder.func()
    assert len(await asyncio.to_thread(lambda: saved.snapshots(world["leader"]))) == 10
