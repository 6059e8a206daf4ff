"""Every permission-guarded handler of the execution pages (执行监控, 执行台账, 待匹配 and 对方户名规则, 预警中心,
接口状态), called (1) by users without its permission: refused, a `permission.denied` entry, no change in the
database nor the page state; (2) by a holder of the permission whose scope excludes the other unit, with the other
unit's ids, after loading the page as a client could: refused with an entry (`permission.denied`, or
`request.rejected` when the id is not on the page), or (lists) no row of the other unit; only calls naming no id,
lacking the page context (no_context), need no entry. A new handler on these pages must be added to CASES (the first test
insists). The budgeting pages are in test_business_handler_coverage.py; machinery and world: business_coverage.py."""

import pytest

from hbbudget import routes
from hbbudget.clock import today
from hbbudget.pages.execution.alerts import ExecAlertsState
from hbbudget.pages.execution.counterparty_rules import CounterpartyRuleState
from hbbudget.pages.execution.interfaces import InterfacesState
from hbbudget.pages.execution.ledger import LedgerState
from hbbudget.pages.execution.matching import MatchingState
from hbbudget.pages.execution.monitor import MonitorState
from tests.unit.business_coverage import (
    Case,
    build_world,
    check_cases_cover,
    check_lacking,
    check_out_of_scope,
)

STATES = (MonitorState, LedgerState, MatchingState, CounterpartyRuleState, ExecAlertsState, InterfacesState)
PATHS = {"LedgerState": lambda w: routes.ledger(w["o_approved"])}
PREP = {"LedgerState": lambda w: [(routes.ledger(w["o_approved"]), "load", ())],
        **{s: lambda w: [(None, "load", ())] for s in ("MonitorState", "MatchingState", "CounterpartyRuleState",
                                                       "ExecAlertsState", "InterfacesState")}}
H, R, NC, L = "harmless", "rejected", "no_context", "list"


async def _charts(state) -> str:
    """The dashboard's figures: the KPI cards and the per-unit and per-project bars."""
    return repr([state.cards, state.fig_orgs.data, state.fig_projects.data])


def _day() -> str:
    return f"{today().year}-01-06"


CASES = {
    # 执行监控 (head of U)
    "MonitorState.load": Case(expect=L, prep=lambda w: [], probe=_charts),
    "MonitorState.refresh": Case(expect=L, probe=_charts),
    # 执行台账 (the accountant of U); the ledger of O's budget is refused
    "LedgerState.load_list": Case(expect=L, shows="示范大学"),
    "LedgerState.load": Case(prep=lambda w: [(routes.ledger(w["o_approved"]), "", ())]),
    "LedgerState.choose_unit": Case(lambda w: ("wan",), H),
    "LedgerState.open_line": Case(lambda w: (str(w["o_aline"]),), R),  # O's line is not on the refused page
    "LedgerState.close_line": Case(expect=H),
    # 待匹配 (the accountant of U)
    "MatchingState.load": Case(expect=L, shows="本方冻结"),
    "MatchingState.select": Case(lambda w: (str(w["o_tx"]),), R),
    # its own payment, charged to O's budget line
    "MatchingState.submit_match": Case(lambda w: ({"line0": str(w["o_aline"]), "amount0": "100"},), R,
                                       more=lambda w: [(None, "select", (str(w["u_tx"]),))]),
    "MatchingState.submit_manual": Case(lambda w: ({"line": str(w["o_aline"]), "amount": "5", "spent_on": _day(),
                                                    "kind": "manual"},), R),
    "MatchingState.release_freeze": Case(lambda w: (str(w["o_freeze"]),), R),
    "MatchingState.search_lines": Case(lambda w: ({"q": "执行项目"},), L, shows="本方执行项目"),
    "MatchingState.next_page": Case(expect=L, shows="本方供应商"),
    "MatchingState.prev_page": Case(expect=L, shows="本方供应商"),
    "CounterpartyRuleState.load": Case(expect=L, shows="本方供应商"),
    "CounterpartyRuleState.set_active": Case(lambda w: (str(w["o_crule"]), False), R),
    "CounterpartyRuleState.ask_delete": Case(lambda w: (str(w["o_crule"]),), R),
    "CounterpartyRuleState.cancel_delete": Case(expect=H),
    "CounterpartyRuleState.confirm_delete": Case(expect=NC),  # nothing asked
    # a rule of its own unit pointing at O's project code
    "CounterpartyRuleState.submit_rule": Case(lambda w: ({"org_id": str(w["unit"]), "counterparty": "越权户名",
                                                          "project_code": "P-OTH"},), R),
    "CounterpartyRuleState.next_page": Case(expect=L, shows="本方供应商"),
    "CounterpartyRuleState.prev_page": Case(expect=L, shows="本方供应商"),
    # 预警中心 (the accountant of U; thresholds: head of U)
    "ExecAlertsState.load": Case(expect=L, shows="示范大学"),
    "ExecAlertsState.filter": Case(lambda w: ({"status": "all", "kind": "all", "search": ""},), L, "示范大学"),
    "ExecAlertsState.acknowledge": Case(lambda w: (str(w["o_alert"]),), R),
    "ExecAlertsState.close": Case(lambda w: ({"alert_id": str(w["o_alert"]), "comment": "越权关闭"},), R),
    "ExecAlertsState.next_page": Case(expect=L, shows="示范大学"),
    "ExecAlertsState.prev_page": Case(expect=L, shows="示范大学"),
    "ExecAlertsState.choose_project": Case(lambda w: (str(w["o_xproject"]),), R),
    # the form's project_id is not read: the page saves the project it showed (none chosen here)
    "ExecAlertsState.save_thresholds": Case(lambda w: ({"over_pct": "50", "behind_points": "",
                                                        "project_id": str(w["o_xproject"])},), NC),
    # 接口状态 (a system admin over U)
    "InterfacesState.load": Case(expect=L, shows="本方基本户"),
    "InterfacesState.choose_account": Case(lambda w: (str(w["o_account"]),), R),
    "InterfacesState.sync_now": Case(lambda w: (str(w["o_account"]),), R),
    "InterfacesState.export_fincloud": Case(expect="refused"),  # installation-wide: a root system admin only
    "InterfacesState.next_page": Case(expect=L, shows="本方基本户"),
    "InterfacesState.prev_page": Case(expect=L, shows="本方基本户"),
}


def _params() -> list:
    return [pytest.param(h, marks=pytest.mark.xfail(strict=True, reason=c.bug)) if c.bug else h
            for h, c in sorted(CASES.items())]


def test_every_guarded_handler_of_these_pages_has_a_case():
    check_cases_cover(STATES, CASES)


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HBB_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        yield build_world()


@pytest.mark.parametrize("handler", _params())
async def test_refused_without_the_permission(world, handler):
    await check_lacking(world, handler, CASES[handler], STATES, PATHS.get(handler.split(".")[0], lambda w: "/"))


@pytest.mark.parametrize("handler", _params())
async def test_out_of_scope_changes_and_shows_nothing_of_the_other_unit(world, handler):
    await check_out_of_scope(world, handler, CASES[handler], STATES, PREP)
