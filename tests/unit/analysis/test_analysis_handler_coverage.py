"""Every permission-guarded handler of the 数据分析 pages (执行报告), called (1) by users without report.view:
refused, a `permission.denied` entry, no change; (2) by the accountant of 示范大学 (report scope: its subtree),
with the other unit's org: a report of it is refused with a `request.rejected` entry (the page never offered
it), lists show own data only, exports carry nothing of the other unit. Machinery and world:
tests/unit/business_coverage.py."""

import base64
import io
import re
import zipfile
from datetime import date

import pytest
from sqlmodel import select

from hbbudget import clock, routes
from hbbudget.db import session_scope
from hbbudget.models import Org, ReportSnapshot
from hbbudget.pages.analysis.cockpit import CockpitState
from hbbudget.pages.analysis.reports import ReportState
from hbbudget.pages.analysis.trends import TrendState
from hbbudget.services.analysis import saved
from hbbudget.services.analysis.report import Definition
from tests.budget_world import add_user
from tests.unit.business_coverage import (
    Case,
    build_world,
    check_cases_cover,
    check_lacking,
    check_out_of_scope,
)

STATES = (ReportState, TrendState, CockpitState)
PREP = {"ReportState": lambda w: [(None, "load", ())], "TrendState": lambda w: [(routes.ANALYSIS, "load", ())],
        "CockpitState": lambda w: [(None, "load", ())]}
H, R, L = "harmless", "rejected", "list"


def _form(org_key: str):
    return lambda w: ({"org_id": str(w[org_key]), "year": "2027", "period": "Q1", "rows_by": "org"},)


def _file_text(event) -> str:
    """The text inside a download: the print view's HTML, or every XML part of the xlsx."""
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", repr(event)).group(1))
    if data[:2] != b"PK":
        return data.decode()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))


async def _export(state) -> str:
    """What the exports hand out (the loaded report of the own unit), decoded as the browser would get it."""
    text = _file_text(await state.export_xlsx()) + _file_text(await state.export_print())
    assert text.count("示范大学") >= 2, "the exports are empty"
    return text


CASES = {
    "ReportState.load": Case(expect=L, shows="示范大学"),
    "ReportState.run_report": Case(_form("other"), R),
    "ReportState.choose_unit": Case(lambda w: ("wan",), L, shows="万元"),
    "ReportState.export_xlsx": Case(expect=H, probe=_export),
    "ReportState.export_print": Case(expect=H, probe=_export),
    "ReportState.save_definition": Case(lambda w: ({"name": "本方季报"},), "own_org"),
    "ReportState.open_definition": Case(lambda w: (str(w["o_definition"]),), R),
    "ReportState.delete_definition": Case(lambda w: (str(w["o_definition"]),), R),
    "ReportState.open_snapshot": Case(lambda w: (str(w["o_snapshot"]),), R),
    # 趋势与穿透: a shared link to the other unit is refused (permission.denied), so are paths and chart points
    # the page never offered
    "TrendState.load": Case(prep=lambda w: [(f"{routes.ANALYSIS}?p=org-{w['other']}", "", ())], expect=R),
    "TrendState.open": Case(lambda w: (f"org-{w['other']}",), R),
    "TrendState.bar_click": Case(lambda w: ([{"pointIndex": 50}],), R),
    "TrendState.heat_click": Case(lambda w: ([{"pointNumber": [50, 1]}],), R),
    "TrendState.tile_click": Case(lambda w: ([{"pointNumber": 50}],), R),
    "TrendState.trend_click": Case(lambda w: ([{"curveNumber": 4, "pointIndex": 1, "x": "13月"}],), R),
    "TrendState.choose_year": Case(lambda w: (str(clock.today().year - 1),), H),
    # 领导驾驶舱 (the head of U: dashboard.view over U's subtree)
    "CockpitState.load": Case(expect=L, shows="信息学院", prep=lambda w: []),
    "CockpitState.refresh": Case(expect=L, shows="信息学院", prep=lambda w: []),
    "CockpitState.org_click": Case(lambda w: ([{"pointIndex": 50}],), R),
}


def test_every_guarded_handler_of_these_pages_has_a_case():
    check_cases_cover(STATES, CASES)


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HBB_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        w = build_world()
        # a saved definition of the other unit's user, and the month-end snapshots of both units
        w["o_definition"] = saved.save_definition(add_user("rep_o", "accountant", w["other"]), "他方报表",
                                                  Definition(w["other"], 2027, "Q1", "org"))["id"]
        saved.produce(date(clock.today().year, 4, 1))
        with session_scope() as session:
            w["o_snapshot"] = session.exec(select(ReportSnapshot.id).where(ReportSnapshot.org_id == w["other"])).first()
        assert w["o_snapshot"]
        yield w


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_refused_without_the_permission(world, handler):
    await check_lacking(world, handler, CASES[handler], STATES, lambda w: "/")


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_out_of_scope_changes_and_shows_nothing_of_the_other_unit(world, handler):
    await check_out_of_scope(world, handler, CASES[handler], STATES, PREP)


async def test_a_report_of_the_own_unit_is_shown(world):
    from tests.unit.business_coverage import fresh, restore, snapshot

    state = await fresh(world, "kuaiji", ReportState, PREP["ReportState"](world))
    await state.run_report(*_form("unit")(world))
    assert state.title.startswith("示范大学2027年第一季度") and state.rows[0]["label"] == "合计"
    assert "另一单位" not in repr(state.rows)
    assert len(state.snapshots) == 2 and all("示范大学" in s["title"] for s in state.snapshots)  # M03, Q1
    await state.open_snapshot(state.snapshots[0]["id"])
    assert "快照" in state.title and state.rows[0]["label"] == "合计"
    assert "请先生成报告" in str(await state.save_definition({"name": "快照不能保存"}))
    before = snapshot()
    try:
        await state.run_report(*_form("unit")(world))
        await state.save_definition({"name": "本方季报"})
        assert [d["name"] for d in state.definitions] == ["本方季报"]
    finally:
        restore(before)


async def test_drill_down_from_the_org_to_a_payment(world):
    from tests.unit.business_coverage import fresh

    state = await fresh(world, "kuaiji", TrendState, PREP["TrendState"](world))
    assert state.level == "org" and [c["label"] for c in state.crumbs] == ["示范大学"]
    step = str(await state.bar_click([{"pointIndex": 0}]))
    assert f"p=org-{world['unit']}.project-{world['u_xproject']}" in step
    state = await fresh(world, "kuaiji", TrendState, [(f"{routes.ANALYSIS}?p=org-{world['unit']}.project-"
                                                       f"{world['u_xproject']}", "load", ())])
    assert state.level == "project" and state.crumbs[1]["label"] == "本方执行项目（P-OWN）"
    step = str(await state.bar_click([{"pointIndex": 0}]))
    assert f".line-{world['u_aline']}" in step
    line_path = f"org-{world['unit']}.project-{world['u_xproject']}.line-{world['u_aline']}"
    state = await fresh(world, "kuaiji", TrendState, [(f"{routes.ANALYSIS}?p={line_path}", "load", ())])
    assert state.level == "line" and len(state.crumbs) == 3 and "他方" not in repr(state.payments)
    assert f"p=org-{world['unit']}&" in str(await state.open(f"org-{world['unit']}"))  # back by the breadcrumb


async def test_the_drill_page_shows_its_first_step_before_the_forecast(world):
    """Issue 12 (first useful paint): TrendState.load sends the page in steps; the trend and bars are shown
    (ready) while the year-end risk list, a forecast per project, is still being computed."""
    from tests.unit.business_coverage import fresh

    state = await fresh(world, "kuaiji", TrendState, [(routes.ANALYSIS, "", ())])
    state.ready, state.level = True, "stale"  # what an earlier visit left
    steps = await state.load()
    seen = []
    async for _ in steps:
        seen.append((state.ready, state.risk_pending, state.level, bool(state.crumbs), len(state.at_risk)))
    assert seen[0] == (False, False, "", False, 0)  # the earlier visit's page is gone first
    assert seen[1][:4] == (True, True, "org", True)  # first paint: the trend and bars, the forecast still pending
    assert (state.ready, state.risk_pending, state.level) == (True, False, "org")


async def test_cockpit_recomputes_when_the_feed_moves(world):
    from hbbudget.services.execution import facts, matching
    from state.exec_feed import ExecFeed
    from tests.unit.business_coverage import fresh, restore, snapshot

    state = await fresh(world, "head", CockpitState, PREP["CockpitState"](world))
    spent = next(c for c in state.cards if c["id"] == "kpi-spent")["value"]
    before = snapshot()
    try:
        with session_scope() as session:  # beyond January's 用款计划 on purpose: the unit allows it with a warning
            org = session.get(Org, world["unit"])
            org.limit_manual = "alert"
            session.add(org)
        matching.record_manual(add_user("kj_live", "accountant", world["unit"]), world["u_aline"], "500",
                               date(clock.today().year, 1, 6), "新入账")
        facts.forget()
        await state.refresh()  # the same feed version: not recomputed
        assert next(c for c in state.cards if c["id"] == "kpi-spent")["value"] == spent
        (await state.get_state(ExecFeed)).version += 1  # what a booking's bump does
        await state.refresh()
        assert next(c for c in state.cards if c["id"] == "kpi-spent")["value"] != spent
    finally:
        restore(before)


async def test_a_tile_and_a_trend_point_drill_like_bars(world):
    from tests.unit.business_coverage import fresh

    state = await fresh(world, "kuaiji", TrendState, PREP["TrendState"](world))
    assert state.level == "org"
    tile = str(await state.tile_click([{"pointNumber": 0}]))
    assert f"p=org-{world['unit']}.func-" in tile
    path = tile.split("p=")[1].split("&")[0]
    state = await fresh(world, "kuaiji", TrendState, [(f"{routes.ANALYSIS}?p={path}", "load", ())])
    assert state.level == "func" and state._bar_keys and "他方" not in repr(state.fig_bars)
    point = str(await state.trend_click([{"curveNumber": 2, "pointIndex": 2, "x": "3月"}]))
    assert f"p={path}&" in point and "m=3" in point
    state = await fresh(world, "kuaiji", TrendState, [(f"{routes.ANALYSIS}?p={path}&m=3", "load", ())])
    assert state.month == "3" and state.crumbs[-1]["label"] == "截至3月"
