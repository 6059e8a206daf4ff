"""Issue 12: an event on one page does not evaluate another page's vars. The 执行监控 figures are plain vars
filled on load and when the feed version moves (not computed vars re-run for every event of every client);
the header's alert count likewise."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.pages.budgeting.editor_state import BudgetEditorState
from hbbudget.pages.execution import charts
from hbbudget.pages.execution.monitor import MonitorState
from hbbudget.services.budgeting import budgets
from hbbudget.services.core import setup
from hbbudget.services.execution import alerts, dashboard
from hbbudget.services.security import auth
from state.exec_feed import AlertBadgeState, ExecFeed
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user

YEAR = 2027


@pytest.fixture
def world(db):
    setup.init_reference_data()
    tree = make_tree()
    make_user("op", "accountant", tree["dept"], subtree=False)  # 会计: edits budgets and sees 执行监控
    op = auth.login("op", PASSWORD)[1]
    header = budgets.create_budget(op, tree["dept"], YEAR)
    line = budgets.add_line(op, header["id"], {"econ_code": "30201", "func_code": "2050205", "source": "财政拨款",
                                                 "amount": "1000", "note": "办公用品"})["row"]
    return {**tree, "budget": header["id"], "line": line["id"]}


@pytest.fixture
def counted(monkeypatch):
    """Calls of the figure builders and of the services behind the live vars."""
    calls: list[str] = []
    for module, names in ((charts, ("cumulative", "rate_bars", "monthly", "empty")),
                          (dashboard, ("overview_cached",)), (alerts, ("open_count",))):
        for name in names:
            original = getattr(module, name)

            def wrapper(*args, _original=original, _name=name, **kwargs):
                calls.append(_name)
                return _original(*args, **kwargs)
            monkeypatch.setattr(module, name, wrapper)
    return calls


def _at(state, path: str) -> None:
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})


async def test_an_editor_event_does_not_evaluate_the_monitor(world, counted):
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("op", PASSWORD)
    monitor = await root.get_state(MonitorState)
    badge = await root.get_state(AlertBadgeState)
    await monitor.load()  # the user opened 执行监控 and the header badge, then went to the editor
    await badge.refresh()
    await root._get_resolved_delta()
    root._clean()
    counted.clear()
    editor = await root.get_state(BudgetEditorState)
    _at(editor, f"/budgets/{world['budget']}")
    await editor.load()
    await root._get_resolved_delta()
    root._clean()
    feed = await root.get_state(ExecFeed)
    for amount in ("77", "78", "79"):
        # what Reflex does at each event of a client linked to the shared feed (reflex/istate/shared.py,
        # _patch_state): it swaps the shared copy in and out, re-marking every var that reads the feed
        feed._mark_dirty_computed_vars(["version"])
        assert await editor.save_amount(str(world["line"]), amount) is None
        await root._get_resolved_delta()
        root._clean()
    assert counted == []


async def test_the_monitor_redraws_once_per_feed_version(world, counted):
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("op", PASSWORD)
    monitor = await root.get_state(MonitorState)
    assert await monitor.load() is None
    assert counted.count("overview_cached") == 1 and monitor.cards and monitor.updated
    counted.clear()
    await monitor.refresh()  # the same version (a remount without a bump): nothing is read or drawn
    assert counted == []
    (await root.get_state(ExecFeed)).version += 1
    await monitor.refresh()
    assert counted.count("overview_cached") == 1 and counted.count("cumulative") == 1


async def test_a_refused_page_says_so_at_once_and_the_accountant_has_the_monitor(world):
    """Issue 11 item 21: 会计 opens 执行监控 for its scope; a page the user may not open shows the refusal as soon
    as the shell knows the user (no empty charts waiting for the on_load refusal)."""
    from hbbudget import routes
    from hbbudget.pages.execution.monitor import monitor_page

    rendered = str(monitor_page())
    assert 'id:"page-refused"' in rendered and "没有权限：查看驾驶舱".encode("unicode_escape").decode() in rendered
    assert '"dashboard.view"' in rendered  # the condition names the page's permission
    make_user("jingban", "operator", world["dept"], subtree=False)
    for username, allowed in (("op", True), ("jingban", False)):
        root = rx.State()
        session = await root.get_state(SessionState)
        session.sid, _ = auth.login(username, PASSWORD)
        monitor = await root.get_state(MonitorState)
        result = await monitor.load()
        assert session.signed_in and ("dashboard.view" in session.permissions) is allowed
        assert (routes.MONITOR in [m["route"] for m in session.menu]) is allowed
        assert (result is None and monitor.cards != []) if allowed else ("没有权限" in str(result))
