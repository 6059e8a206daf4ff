"""Every permission-guarded handler of the 审批流 and 审批事项 pages, called (1) by users without its permission:
refused, a `permission.denied` entry, no change; (2) by a holder of it whose scope excludes the other unit (O), with
O's ids after loading the page: refused with an entry, or (lists) no row of O. Both units have a 三重一大 project in
approval (a run with a 集体决策 step). Machinery and world: tests/unit/business_coverage.py."""

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import ApprovalRun, OaConfig, Org
from hbbudget.pages.approvals.flows import FlowsState
from hbbudget.pages.approvals.matters import MattersState
from hbbudget.pages.approvals.oa_status import OaStatusState
from hbbudget.services.budgeting import projects
from tests.factories import ctx_for
from tests.unit import business_coverage
from tests.unit.business_coverage import (
    Case,
    Upload,
    build_world,
    check_cases_cover,
    check_lacking,
    check_out_of_scope,
)

STATES = (FlowsState, MattersState, OaStatusState)
# report.view: held by every business role; lacking it: the three admins. Its holder over U only: the accountant.
business_coverage.LACKING.setdefault("report.view", ("sys", "sec", "aud"))
business_coverage.OUT_OF_SCOPE.setdefault("report.view", "kuaiji")
# project.review: lacking it, the accountant; its holder over U only, the division head.
business_coverage.LACKING.setdefault("project.review", ("sys", "sec", "aud", "kuaiji"))
business_coverage.OUT_OF_SCOPE.setdefault("project.review", "head")
PREP = {s.__name__: lambda w: [(None, "load", ())] for s in STATES}
MEETING = {"meeting_kind": "党委会", "meeting_date": "2026-01-05", "minutes_no": "越权", "decision": "同意",
           "attendees": "9"}
H, R, NC, L, OWN = "harmless", "rejected", "no_context", "list", "own_org"

CASES = {
    # 审批流 (a finance reviewer over U: acts on its own unit's flow whatever it sends)
    "FlowsState.load": Case(expect=L, shows="逐级审核"),
    "FlowsState.choose_kind": Case(lambda w: ("预算上报",), L, shows="逐级审核"),
    "FlowsState.add_step": Case(lambda w: ({"name": "越权", "actor": "unit", "mode": "any"},), H),
    "FlowsState.remove_step": Case(lambda w: ("1",), H),
    "FlowsState.move_up": Case(lambda w: ("1",), NC),
    "FlowsState.save": Case(expect=OWN),
    # 审批事项 (the accountant over U sees U's matters; the operator of D records meetings)
    "MattersState.load": Case(expect=L, shows="本方"),
    "MattersState.search": Case(lambda w: ({"year": w["run_year"], "major_only": "on"},), L, shows="本方"),
    "MattersState.export": Case(expect=L),
    "MattersState.open_matter": Case(lambda w: (str(w["o_run"]),), R),
    "MattersState.close_matter": Case(expect=H),
    "MattersState.mark_major": Case(expect=NC),  # no matter open
    "MattersState.stage_decision": Case(lambda w: (MEETING,), NC),  # no matter open
    "MattersState.record": Case(lambda w: ([Upload("纪要.pdf", b"%PDF")],), NC),
    # 接口状态, OA part (the system admin over U)
    "OaStatusState.load": Case(expect=L, shows="示范大学"),
    "OaStatusState.sync_now": Case(lambda w: (str(w["other"]),), R),
    "OaStatusState.configure": Case(lambda w: ({"org_code": "O", "style": "wecom", "base_url": "http://127.0.0.1:9",
                                                "secret": "x" * 20, "active": "on"},), R),
}


def test_every_guarded_handler_of_these_pages_has_a_case():
    check_cases_cover(STATES, CASES)


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HBB_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        w = build_world()
        with session_scope() as session:
            for key in ("unit", "other"):
                org = session.get(Org, w[key])
                org.major_threshold_fen = 100  # every project is major
                session.add(org)
                session.add(OaConfig(org_id=w[key], style="wecom", base_url="http://127.0.0.1:9",
                                     secret="s" * 20, last_error="他方" if key == "other" else ""))
        for side, user in (("o", "other"), ("u", "op")):
            projects.transition(ctx_for(user), w[f"{side}_project"], "declare")
        with session_scope() as session:
            for side in ("o", "u"):
                run = session.exec(select(ApprovalRun).where(ApprovalRun.object_id == w[f"{side}_project"],
                                                             ApprovalRun.object_type == "project")).one()
                assert run.collective
                w[f"{side}_run"], w["run_year"] = run.id, str(run.started_at.year)
        yield w


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_refused_without_the_permission(world, handler):
    await check_lacking(world, handler, CASES[handler], STATES, lambda w: "/")


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_out_of_scope_changes_and_shows_nothing_of_the_other_unit(world, handler):
    await check_out_of_scope(world, handler, CASES[handler], STATES, PREP)
