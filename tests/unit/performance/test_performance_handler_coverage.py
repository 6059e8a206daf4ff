"""Every permission-guarded handler of the 绩效评价 pages (指标库), called (1) by users without its permission:
refused, a `permission.denied` entry, no change; (2) by a holder whose scope excludes the other unit, with the other
unit's ids after loading the page: refused with an entry, or (lists) no row of the other unit. Machinery and
world: tests/unit/business_coverage.py; here the world gets an indicator of each unit."""

import pytest
from openpyxl import Workbook

from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import PerfIndicator, Project, ProjectTarget
from hbbudget.pages.performance.evaluation import EvaluationState
from hbbudget.pages.performance.library import IndicatorLibraryState
from hbbudget.pages.performance.monitor import PerfMonitorState
from hbbudget.pages.performance.settings import PerfSettingsState
from hbbudget.pages.performance.sheet import EvaluationSheetState
from hbbudget.pages.performance.target_picker import TargetPickerState
from hbbudget.services.performance import evaluation, library
from tests.budget_world import YEAR as PROJECT_YEAR
from tests.budget_world import add_user
from tests.unit.business_coverage import (
    Case,
    Upload,
    build_world,
    check_cases_cover,
    check_lacking,
    check_out_of_scope,
)

STATES = (IndicatorLibraryState, TargetPickerState, EvaluationState, EvaluationSheetState, PerfMonitorState,
          PerfSettingsState)
PREP = {"IndicatorLibraryState": lambda w: [(None, "load", ())], "EvaluationState": lambda w: [(None, "load", ())],
        "PerfMonitorState": lambda w: [(None, "load", ())], "PerfSettingsState": lambda w: [(None, "load", ())],
        "TargetPickerState": lambda w: [(routes.project_detail(w["u_project"]), "open_picker", ())]}
H, R, NC, L, OWN = "harmless", "rejected", "no_context", "list", "own_org"
YEAR = current_fiscal_year()


def _file(code: str) -> Upload:
    """A library edition naming the other unit's indicator by its code."""
    import io

    book = Workbook()
    book.active.append(list(library.COLUMNS))
    book.active.append([code, "产出", "数量", "越权改名", "个", "≥", "1", "教育", "3", "", "本库编写"])
    out = io.BytesIO()
    book.save(out)
    return Upload("lib.xlsx", out.getvalue())


def _form(w: dict) -> dict:
    return {"level1": "产出", "level2": "数量", "name": "越权指标", "direction": "≥", "industries": "教育",
            "org_id": str(w["other"]), "owner": str(w["other"])}


CASES = {
    # the operator of the college (sees the common library, its own and its parents' indicators)
    "IndicatorLibraryState.load": Case(expect=L, shows="本方指标"),
    "IndicatorLibraryState.search": Case(lambda w: ({"q": "指标", "industry": "全部", "level1": "全部",
                                                     "year": str(YEAR)},), L, "本方指标"),
    "IndicatorLibraryState.next_page": Case(expect=L, shows="本方指标"),
    "IndicatorLibraryState.prev_page": Case(expect=L, shows="本方指标"),
    # the finance reviewer of the university (maintains the university's indicators only)
    "IndicatorLibraryState.choose_owner": Case(lambda w: (str(w["other"]),), R),
    "IndicatorLibraryState.set_retired": Case(lambda w: (str(w["o_indicator"]), True), R),
    "IndicatorLibraryState.submit_indicator": Case(lambda w: (_form(w),), OWN),
    "IndicatorLibraryState.export": Case(expect=L),
    "IndicatorLibraryState.import_file": Case(lambda w: ([_file(w["o_code"])],), OWN),
    # 从指标库选择 on the project page (the operator of the college, on its own project)
    "TargetPickerState.open_picker": Case(expect=R, prep=lambda w: [(routes.project_detail(w["o_project"]), "", ())]),
    "TargetPickerState.close_picker": Case(expect=H),
    "TargetPickerState.search_picker": Case(lambda w: ({"q": "指标", "industry": "全部", "level1": "全部"},), L,
                                            "本方指标"),
    "TargetPickerState.pick": Case(lambda w: (str(w["o_indicator_p"]),), R),
    # 绩效自评 (the operator of the college; 复核: the finance reviewer of the university)
    "EvaluationState.load": Case(expect=L, shows="本方评价项目"),
    "EvaluationState.choose_year": Case(lambda w: (str(YEAR),), L, "本方评价项目"),
    "EvaluationState.next_page": Case(expect=L, shows="本方评价项目"),
    "EvaluationState.prev_page": Case(expect=L, shows="本方评价项目"),
    "EvaluationState.open_project": Case(lambda w: (str(w["o_eproject"]),), R),
    "EvaluationState.start": Case(expect=NC),  # no project chosen
    # its own evaluation open, the form naming the other unit's target: only its own targets are read
    "EvaluationState.save_actuals": Case(lambda w: ({f"a{w['o_etarget']}": "1", f"a{w['u_etarget']}": "9"},), OWN,
                                         more=lambda w: [(None, "open_project", (str(w["u_eproject"]),))]),
    "EvaluationState.override": Case(lambda w: ({"target_id": str(w["o_etarget"]), "points": "1", "reason": "越权"},),
                                     R, more=lambda w: [(None, "open_project", (str(w["u_eproject"]),))]),
    "EvaluationState.submit": Case(expect=NC),  # no evaluation open
    "EvaluationState.review": Case(lambda w: ({"action": "confirm", "comment": ""},), NC),
    # the printable sheet of the other unit's evaluation, by its address
    "EvaluationSheetState.load": Case(prep=lambda w: [(routes.evaluation_sheet(w["o_evaluation"]), "", ())]),
    "EvaluationSheetState.export_xlsx": Case(prep=lambda w: [(routes.evaluation_sheet(w["o_evaluation"]), "", ())]),
    # 绩效监控 (the operator of the college; 退回: the finance reviewer of the university)
    "PerfMonitorState.load": Case(expect=L, shows="本方评价项目"),
    "PerfMonitorState.choose_year": Case(lambda w: (str(YEAR),), L, "本方评价项目"),
    "PerfMonitorState.choose_seq": Case(lambda w: ("1",), L, "本方评价项目"),
    "PerfMonitorState.choose_flag": Case(lambda w: ("全部",), L, "本方评价项目"),
    "PerfMonitorState.next_page": Case(expect=L, shows="本方评价项目"),
    "PerfMonitorState.prev_page": Case(expect=L, shows="本方评价项目"),
    "PerfMonitorState.open_project": Case(lambda w: (str(w["o_eproject"]),), R),
    # its own project open, the form naming the other unit's target: only its own targets are read
    "PerfMonitorState.save_report": Case(lambda w: ({f"r{w['o_etarget']}": "1", f"r{w['u_etarget']}": "9"},), OWN,
                                         more=lambda w: [(None, "open_project", (str(w["u_eproject"]),))]),
    "PerfMonitorState.submit_report": Case(expect=NC),  # no project open
    "PerfMonitorState.return_report": Case(lambda w: ({"comment": "越权退回"},), NC),
    # 绩效设置 (the finance reviewer of the university: its subtree only)
    "PerfSettingsState.load": Case(expect=L, shows="示范大学"),
    "PerfSettingsState.choose_org": Case(lambda w: (str(w["other"]),), R),
    "PerfSettingsState.choose_year": Case(lambda w: (str(YEAR),), L, "示范大学"),
    "PerfSettingsState.save_setting": Case(lambda w: ({"output": "60", "benefit": "20", "satisfaction": "10",
                                                       "exec": "10", "excellent": "90", "good": "80", "fair": "60",
                                                       "tolerance": "5", "lag_points": "5", "req_output": "on",
                                                       "org_id": str(w["other"])},), OWN),
    "PerfSettingsState.save_checkpoints": Case(lambda w: ({"m1": "6", "d1": f"{YEAR}-07-15",
                                                           "org_id": str(w["other"])},), OWN),
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
        w = build_world()
        with session_scope() as session:
            for year, tag in ((YEAR, ""), (PROJECT_YEAR, "_p")):  # the library page's year, the projects' year
                if year == YEAR and tag:
                    continue
                rows = {side: PerfIndicator(fiscal_year=year, code=f"D{w[key]}-001", org_id=w[key], level1="产出",
                                            level2="数量", name=f"{mark}指标", direction="≥", industries="教育")
                        for side, key, mark in (("o", "other", "他方"), ("u", "unit", "本方"))}
                session.add_all([*rows.values(), PerfIndicator(fiscal_year=year, code="TY001", level1="满意度",
                                                               level2="服务对象满意度", name="受益群众满意度",
                                                               direction="≥", industries="通用")])
                session.flush()
                w.update({"o_indicator" + tag: rows["o"].id, "o_code" + tag: rows["o"].code})
            w.setdefault("o_indicator_p", w["o_indicator"])
            for side, key, mark in (("o", "other", "他方"), ("u", "dept", "本方")):  # a running project with a target
                p = Project(code=f"E-{side}", name=f"{mark}评价项目", org_id=w[key], category="3", start_year=YEAR,
                            end_year=YEAR, status="执行中")
                session.add(p)
                session.flush()
                t = ProjectTarget(project_id=p.id, indicator=f"{mark}评价指标", direction="≥", target_value="10",
                                  weight=90, level1="产出", level2="数量")
                session.add(t)
                session.flush()
                w.update({f"{side}_eproject": p.id, f"{side}_etarget": t.id})
        for side, key in (("o", "other"), ("u", "dept")):
            maker = add_user(f"perf_{side}", "operator", w[key], subtree=False)
            w[f"{side}_evaluation"] = evaluation.open_evaluation(maker, w[f"{side}_eproject"], YEAR)["id"]
        yield w


@pytest.mark.parametrize("handler", _params())
async def test_refused_without_the_permission(world, handler):
    await check_lacking(world, handler, CASES[handler], STATES, lambda w: "/")


@pytest.mark.parametrize("handler", _params())
async def test_out_of_scope_changes_and_shows_nothing_of_the_other_unit(world, handler):
    await check_out_of_scope(world, handler, CASES[handler], STATES, PREP)
