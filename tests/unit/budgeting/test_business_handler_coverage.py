"""Every permission-guarded handler of the budgeting pages (预算编制, 预算编辑, 项目库, 预算审核, 校验规则, 编制模板,
基础数据), called (1) by users without its permission (the system, security and audit admins and a business user
lacking it): refused, a `permission.denied` entry, no change in the database nor the page state; (2) by a holder of
the permission whose scope excludes the other unit, with the other unit's ids, after loading the page as a client
could: refused with an entry (`permission.denied`, or `request.rejected` when the id is not on the page), or
(lists) no row of the other unit; only calls naming no id, lacking the page context (no_context), need no entry.
A new handler on these pages must be added to CASES (the first test insists); the execution pages are in
test_execution_handler_coverage.py. Machinery and world: business_coverage.py."""

import pytest

from hbbudget import routes
from hbbudget.pages.budgeting.budgets import BudgetsState
from hbbudget.pages.budgeting.carryover import CarryOverState
from hbbudget.pages.budgeting.editor_actions import EditorActionState, EditorTransferState
from hbbudget.pages.budgeting.editor_excel import EditorImportState
from hbbudget.pages.budgeting.editor_pickers import EditorCodeState, EditorProjectState
from hbbudget.pages.budgeting.editor_plan import EditorPlanState
from hbbudget.pages.budgeting.editor_state import BudgetEditorState
from hbbudget.pages.budgeting.editor_template import EditorTemplateState
from hbbudget.pages.budgeting.editor_versions import EditorVersionsState
from hbbudget.pages.budgeting.projects_state import ProjectDetailState, ProjectsState
from hbbudget.pages.budgeting.review_state import ReviewState
from hbbudget.pages.budgeting.rules import RulesState
from hbbudget.pages.budgeting.templates import TemplatesState
from hbbudget.pages.core.subjects import SubjectsState
from tests.budget_world import YEAR
from tests.unit.analysis.test_analysis_handler_coverage import STATES as ANALYSIS_STATES
from tests.unit.approvals.test_approvals_handler_coverage import STATES as APPROVAL_STATES
from tests.unit.business_coverage import (
    Case,
    Upload,
    all_guarded_states,
    build_world,
    check_cases_cover,
    check_lacking,
    check_out_of_scope,
)
from tests.unit.execution.test_execution_handler_coverage import STATES as EXECUTION_STATES
from tests.unit.integrations.test_integrations_handler_coverage import STATES as INTEGRATION_STATES
from tests.unit.operations.test_operations_handler_coverage import STATES as OPERATIONS_STATES
from tests.unit.performance.test_performance_handler_coverage import STATES as PERFORMANCE_STATES
from tests.unit.security import test_handler_coverage

EDITOR_DIALOGS = (EditorProjectState, EditorCodeState, EditorPlanState, EditorImportState, EditorActionState,
                  EditorTemplateState, EditorTransferState, EditorVersionsState)
STATES = (BudgetEditorState, *EDITOR_DIALOGS, BudgetsState, ProjectsState, ProjectDetailState, ReviewState, RulesState,
          TemplatesState, SubjectsState, CarryOverState)
PATHS = {"BudgetEditorState": lambda w: routes.budget_editor(w["o_budget"]),
         "ProjectDetailState": lambda w: routes.project_detail(w["o_project"])}


def _editor_prep(w: dict) -> list:
    return [(routes.budget_editor(w["u_budget"]), "BudgetEditorState.load", ()),
            (routes.budget_editor(w["o_budget"]), "BudgetEditorState.load", ()),
            (None, lambda root: _held(root, w["o_budget"]), ())]


# the out-of-scope holder's preparation: the editor is loaded on its own budget, then on O's (refused: the page
# is cleared, bid = 0), then the grid is given what it would hold had O's budget been loaded, editable, before the
# grant was narrowed (the most a client could hold: O's id, the edit flag, the 上报 action; the editor's dialog states
# reach that grid); the project page on O's project
PREP = {"BudgetEditorState": _editor_prep, **{s.__name__: _editor_prep for s in EDITOR_DIALOGS},
        "ProjectDetailState": lambda w: [(routes.project_detail(w["o_project"]), "load", ())],
        **{s: lambda w: [(None, "load", ())] for s in ("BudgetsState", "ProjectsState", "ReviewState", "RulesState",
                                                       "TemplatesState", "SubjectsState", "CarryOverState")}}
async def _held(root, budget_id: int) -> None:
    grid = await root.get_state(BudgetEditorState)
    grid.bid, grid.editable = budget_id, True
    grid.actions = [{"action": "submit", "label": "上报"}]


LINE = {"econ_code": "30201", "func_code": "2050205", "source": "财政拨款", "amount": "1", "note": "越权"}
PROJECT = {"name": "越权项目", "category": "3", "kind": "新增", "start_year": str(YEAR), "end_year": str(YEAR),
           "total": "1000", "func_code": "2050205"}
MONTHS = {f"m{i:02d}": "0" for i in range(1, 13)}
H, R, NC, L, OWN = "harmless", "rejected", "no_context", "list", "own_org"

CASES = {
    # 预算编辑 (op of D; the page holds O's budget id, as loaded before a narrowed grant)
    "BudgetEditorState.load": Case(prep=lambda w: [(routes.budget_editor(w["u_budget"]), "load", ()),
                                                   (routes.budget_editor(w["o_budget"]), "", ())]),
    "BudgetEditorState.next_page": Case(expect=H),
    "BudgetEditorState.refresh": Case(expect=H),  # the refused page has no budget: nothing to refresh
    "BudgetEditorState.prev_page": Case(expect=H),
    "BudgetEditorState.apply_filter": Case(lambda w: ({"econ": "302", "func": "", "search": ""},)),
    "BudgetEditorState.filter_class": Case(lambda w: ("econ", "302")),
    "BudgetEditorState.clear_filter": Case(),
    "BudgetEditorState.choose_unit": Case(lambda w: ("wan",), H),
    "BudgetEditorState.recheck": Case(),
    "BudgetEditorState.save_amount": Case(lambda w: (str(w["o_line"]), "9"), R),
    "BudgetEditorState.save_note": Case(lambda w: (str(w["o_line"]), "越权"), R),
    "BudgetEditorState.save_source": Case(lambda w: (str(w["o_line"]), "其他资金"), R),
    "BudgetEditorState.save_code": Case(lambda w: (str(w["o_line"]), "econ", "30202"), R),
    # the project picker searches the page's budget (O's: refused); on its own budget O's project is not offered
    "EditorProjectState.open_project_picker": Case(lambda w: ("new",)),
    "EditorProjectState.search_projects": Case(lambda w: ({"q": "项目"},), NC),  # no picker open
    "EditorProjectState.close_project_picker": Case(expect=H),
    "EditorProjectState.pick_project": Case(lambda w: (str(w["o_project"]),), R, prep=lambda w: [
        (routes.budget_editor(w["u_budget"]), "BudgetEditorState.load", ()),
        (None, "open_project_picker", (str(w["u_line"]),))]),
    "BudgetEditorState.dismiss_conflict": Case(expect=H),
    "EditorPlanState.open_plan": Case(lambda w: (str(w["o_line"]),), R),
    "EditorPlanState.close_plan": Case(expect=H),
    "EditorPlanState.save_plan": Case(lambda w: (MONTHS,), NC),  # no plan open
    "EditorPlanState.spread_plan": Case(expect=NC),
    "EditorCodeState.open_picker": Case(lambda w: ("econ", str(w["o_line"])), R),
    "EditorCodeState.search_picker": Case(lambda w: ({"q": "302"},), H),
    "EditorCodeState.close_picker": Case(expect=H),
    "EditorCodeState.pick_code": Case(lambda w: ("30202",), H),
    "BudgetEditorState.add_line": Case(lambda w: (LINE,)),
    "BudgetEditorState.copy_line": Case(lambda w: (str(w["o_line"]),), R),
    "BudgetEditorState.ask_delete": Case(lambda w: (str(w["o_line"]),), R),
    "BudgetEditorState.cancel_delete": Case(expect=H),
    "BudgetEditorState.confirm_delete": Case(expect=NC),  # nothing asked
    "EditorImportState.export_excel": Case(),
    "EditorImportState.open_import": Case(expect=H),
    "EditorImportState.close_import": Case(expect=H),
    "EditorImportState.preview_import": Case(lambda w: ([Upload("budget.xlsx", w["xlsx"])],)),
    "EditorImportState.commit_import": Case(lambda w: ([Upload("budget.xlsx", w["xlsx"])],), NC),  # no preview
    "EditorActionState.open_action": Case(lambda w: ("submit",), H),
    "EditorActionState.close_action": Case(expect=H),
    "EditorActionState.do_action": Case(lambda w: ({"comment": "越权上报"},), more=lambda w: [(None, "open_action",
                                                                                             ("submit",))]),
    "EditorTemplateState.open_template": Case(expect=H),
    "EditorTemplateState.close_template": Case(expect=H),
    # a template the page offered, applied to O's budget
    "EditorTemplateState.apply_template": Case(lambda w: ({"template_id": str(w["u_template"]), "func_code": "2050205",
                                                         "amount": "100"},),
                                             more=lambda w: [(None, "open_template", ())]),
    "EditorActionState.start_adjustment": Case(lambda w: ("调整",)),
    "EditorTransferState.open_transfer": Case(expect=NC),  # not a 调剂
    "EditorTransferState.close_transfer": Case(expect=H),
    "EditorTransferState.do_transfer": Case(lambda w: ({"from_line": str(w["u_line"]), "to_line": str(w["o_line"]),
                                                      "amount": "1"},), R),
    "EditorVersionsState.load_versions": Case(),
    "EditorVersionsState.compare_versions": Case(lambda w: ({"from_version": "1", "to_version": "0"},), R),
    # 预算编制 list (op of D); creating acts on the caller's own unit whatever the form says
    "BudgetsState.load": Case(expect=L, shows="信息学院"),
    "BudgetsState.choose_year": Case(lambda w: (str(YEAR),), L, "信息学院"),
    "BudgetsState.choose_unit": Case(lambda w: ("wan",), H),
    "BudgetsState.next_page": Case(expect=L, shows="信息学院"),
    "BudgetsState.prev_page": Case(expect=L, shows="信息学院"),
    "BudgetsState.open_create": Case(expect=H),
    "BudgetsState.close_create": Case(expect=H),
    "BudgetsState.create_blank": Case(lambda w: ({"year": str(YEAR + 1), "org_id": str(w["other"])},), OWN),
    "BudgetsState.download_blank": Case(expect=OWN),
    "BudgetsState.preview_carry": Case(lambda w: ({"year": str(YEAR + 1), "org_id": str(w["other"])},), OWN),
    "BudgetsState.create_carry": Case(expect=OWN, more=lambda w: [(None, "preview_carry", ({"year": str(YEAR + 1)},))]),
    # 项目库 (op of D)
    "ProjectsState.load": Case(expect=L, shows="本方项目"),
    "ProjectsState.search": Case(lambda w: ({"q": "项目", "status": "all"},), L, "本方项目"),
    "ProjectsState.choose_unit": Case(lambda w: ("wan",), H),
    "ProjectsState.next_page": Case(expect=L, shows="本方项目"),
    "ProjectsState.prev_page": Case(expect=L, shows="本方项目"),
    "ProjectsState.open_create": Case(expect=H),
    "ProjectsState.close_create": Case(expect=H),
    # the 上级项目 finder searches the caller's own unit only
    "ProjectsState.search_parents": Case(lambda w: ({"parent_q": "项目"},), L, "本方项目"),
    "ProjectsState.create": Case(lambda w: ({**PROJECT, "org_id": str(w["other"])},), OWN),
    # one project's page, loaded on O's project (refused: nothing of it reaches the page, so the handlers acting on
    # the page's project or its open dialog have no context: NC)
    "ProjectDetailState.load": Case(prep=lambda w: [(routes.project_detail(w["o_project"]), "", ())]),
    "ProjectDetailState.save": Case(lambda w: (PROJECT,), NC),
    "ProjectDetailState.search_parents": Case(lambda w: ({"parent_q": "项目"},), NC),
    "ProjectDetailState.add_target": Case(expect=H),
    "ProjectDetailState.remove_target": Case(lambda w: ("ab12",), H),
    "ProjectDetailState.save_targets": Case(lambda w: ({},), NC),
    "ProjectDetailState.upload": Case(lambda w: ([Upload("越权.txt", b"x")],), NC),
    "ProjectDetailState.download": Case(lambda w: (str(w["o_attachment"]),), R),
    "ProjectDetailState.remove_attachment": Case(lambda w: (str(w["o_attachment"]),), R),
    "ProjectDetailState.open_action": Case(lambda w: ("declare",), NC),
    "ProjectDetailState.close_action": Case(expect=H),
    "ProjectDetailState.do_action": Case(lambda w: ({"comment": "越权"},), NC),
    "ProjectDetailState.ask_delete": Case(expect=H),
    "ProjectDetailState.cancel_delete": Case(expect=H),
    "ProjectDetailState.confirm_delete": Case(expect=NC),
    # 预算审核 (head of U)
    # 结转 (op of D: its unit's budgets to carry from; head of U reviews at U, not the finance bureau)
    "CarryOverState.load": Case(expect=L),
    "CarryOverState.choose_budget": Case(lambda w: (str(w["o_approved"]),), R),
    "CarryOverState.propose": Case(lambda w: ({"a1": "1", "reason": "越权"},), NC),  # no budget chosen
    "CarryOverState.open_review": Case(lambda w: (str(w["o_budget"]),), R),
    "CarryOverState.close_review": Case(expect=H),
    "CarryOverState.approve_carry": Case(lambda w: ({"comment": "越权"},), NC),  # no proposal open
    "CarryOverState.return_carry": Case(lambda w: ({"comment": "越权"},), NC),
    "ReviewState.load": Case(expect=L),
    "ReviewState.choose_tab": Case(lambda w: ("subs",), L, "信息学院"),
    "ReviewState.choose_year": Case(lambda w: (str(YEAR),), L),
    "ReviewState.choose_unit": Case(lambda w: ("wan",), H),
    "ReviewState.open_dialog": Case(lambda w: ("budget", "approve", str(w["o_budget"])), R),
    "ReviewState.close_dialog": Case(expect=H),
    "ReviewState.confirm_dialog": Case(lambda w: ({"comment": "越权"},), NC),  # no dialog open
    "ReviewState.subs_next": Case(expect=L, more=lambda w: [(None, "choose_tab", ("subs",))], shows="信息学院"),
    "ReviewState.subs_prev": Case(expect=L, more=lambda w: [(None, "choose_tab", ("subs",))], shows="信息学院"),
    "ReviewState.choose_by": Case(lambda w: ("org",), L, more=lambda w: [(None, "choose_tab", ("cons",))]),
    "ReviewState.drill": Case(lambda w: (str(w["other"]),), R, more=lambda w: [(None, "choose_tab", ("cons",))]),
    "ReviewState.drill_next": Case(expect=H),
    "ReviewState.drill_prev": Case(expect=H),
    "ReviewState.issue_controls": Case(lambda w: ({f"c{w['other']}": "100"},), R,
                                       more=lambda w: [(None, "choose_tab", ("controls",))]),
    "ReviewState.choose_control_org": Case(lambda w: (str(w["other"]),), R,
                                           more=lambda w: [(None, "choose_tab", ("controls",))]),
    "ReviewState.confirm_controls": Case(expect=NC, more=lambda w: [(None, "choose_tab", ("controls",))]),
    "ReviewState.cancel_controls": Case(expect=H),
    # 校验规则 (a finance reviewer over U)
    "RulesState.load": Case(expect=L, shows="本方规则"),
    "RulesState.choose_year": Case(lambda w: (str(YEAR),), L, "本方规则"),
    "RulesState.choose_kind": Case(lambda w: ("share_cap",), H),
    "RulesState.create": Case(lambda w: ({"name": "越权规则", "severity": "warning", "share_cap__subject": "303",
                                          "share_cap__max_percent": "10", "org_id": str(w["other"])},), OWN),
    "RulesState.choose_org": Case(lambda w: (str(w["other"]),), R),
    "RulesState.open_edit": Case(lambda w: (str(w["o_rule"]),), R),
    "RulesState.close_edit": Case(expect=H),
    "RulesState.save_edit": Case(lambda w: ({"severity": "error", "name": "越权", "edit__subject": "303",
                                             "edit__max_percent": "1"},), NC),  # no rule open
    "RulesState.toggle": Case(lambda w: (str(w["o_rule"]), False), R),
    "RulesState.remove": Case(lambda w: (str(w["o_rule"]),), R),
    "RulesState.save_settings": Case(lambda w: ({"code_pattern": "{org}{year}{seq}", "org_id": str(w["other"])},),
                                     OWN),
    # 编制模板 (a finance reviewer over U)
    "TemplatesState.load": Case(expect=L, shows="本方模板"),
    "TemplatesState.edit": Case(lambda w: (str(w["o_template"]),), R),
    "TemplatesState.cancel_edit": Case(expect=H),
    "TemplatesState.save": Case(lambda w: ({"name": "越权模板", "items": "30201 100", "org_id": str(w["other"])},),
                                OWN),
    "TemplatesState.remove": Case(lambda w: (str(w["o_template"]),), R),
    "TemplatesState.preview": Case(lambda w: ({"template_id": str(w["o_template"]), "amount": "100"},), R),
    # 基础数据: classification codes are shared by every unit (nothing of O to leak)
    "SubjectsState.load": Case(expect=L),
    "SubjectsState.choose_kind": Case(lambda w: ("dept",), L),
    "SubjectsState.choose_year": Case(lambda w: (str(YEAR),), L),
    "SubjectsState.search": Case(lambda w: ({"q": "办公"},), L),
    "SubjectsState.next_page": Case(expect=L),
    "SubjectsState.prev_page": Case(expect=L),
}


def _params() -> list:
    return [pytest.param(h, marks=pytest.mark.xfail(strict=True, reason=c.bug)) if c.bug else h
            for h, c in sorted(CASES.items())]


def test_every_guarded_handler_of_these_pages_has_a_case():
    check_cases_cover(STATES, CASES)


def test_every_state_with_guarded_handlers_is_covered_somewhere():
    covered = {*STATES, *EXECUTION_STATES, *INTEGRATION_STATES, *APPROVAL_STATES, *PERFORMANCE_STATES,
               *ANALYSIS_STATES, *OPERATIONS_STATES, *test_handler_coverage.STATES}
    assert not sorted(c.__name__ for c in all_guarded_states() - covered)


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
