"""The budgeting pages' states (issue 3): crafted calls are refused (no permission, out of scope, ids not on
the page, bad arguments) with an audit entry where a permission was missing, and nothing changes; the
editor's saves update the row, the totals and the rules in the same event; conflicts show who saved."""

from __future__ import annotations

import io
import re

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BudgetLine
from hbbudget.pages.budgeting.budgets import BudgetsState
from hbbudget.pages.budgeting.editor_actions import EditorActionState, EditorTransferState
from hbbudget.pages.budgeting.editor_excel import MAX_IMPORT_BYTES, EditorImportState
from hbbudget.pages.budgeting.editor_pickers import EditorProjectState
from hbbudget.pages.budgeting.editor_state import BudgetEditorState, page_rows
from hbbudget.pages.budgeting.editor_template import EditorTemplateState
from hbbudget.pages.budgeting.editor_versions import EditorVersionsState
from hbbudget.pages.budgeting.projects_state import ProjectDetailState, ProjectsState
from hbbudget.pages.budgeting.review_state import ReviewState
from hbbudget.pages.budgeting.rules import RulesState
from hbbudget.pages.budgeting.templates import TemplatesState
from hbbudget.pages.shell.notifications import NotificationsState
from hbbudget.services.budgeting import budgets, projects
from hbbudget.services.core import setup
from hbbudget.services.security import auth
from state.notifications import BellState
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user

YEAR = 2027


def _ctx(username: str):
    return auth.login(username, PASSWORD)[1]


@pytest.fixture
def world(db):
    setup.init_reference_data()
    tree = make_tree()
    make_user("op", "operator", tree["dept"], subtree=False)
    make_user("op2", "operator", tree["dept"], subtree=False)
    make_user("other", "operator", tree["other"], subtree=False)
    make_user("head", "division_head", tree["unit"])
    make_user("lead", "unit_leader", tree["unit"])  # the unit head signs before a budget leaves the unit
    make_user("sys", "sys_admin", tree["city"])
    make_user("sec", "sec_admin", tree["prov"])
    make_user("aud", "audit_admin", tree["prov"])
    op = _ctx("op")
    project = projects.create_project(op, tree["dept"], {
        "name": "实验室建设", "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR,
        "total": "500000", "func_code": "2050205", "owner": "OP"})
    header = budgets.create_budget(op, tree["dept"], YEAR)
    line = budgets.add_line(op, header["id"], {"econ_code": "30201", "func_code": "2050205", "source": "财政拨款",
                                                 "amount": "1000", "note": "办公用品"})["row"]
    return {**tree, "budget": header["id"], "line": line["id"], "project": project["id"]}


async def _root_with(username: str | None):
    root = rx.State()
    session = await root.get_state(SessionState)
    if username:
        session.sid, _ = auth.login(username, PASSWORD)
    return root


def _at(state, path: str) -> None:
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})


async def _editor(username: str, budget_id: int):
    root = await _root_with(username)
    editor = await root.get_state(BudgetEditorState)
    _at(editor, f"/budgets/{budget_id}")
    return root, editor


def _denied(username: str) -> list[AuditEntry]:
    with session_scope() as session:
        return session.exec(select(AuditEntry).where(AuditEntry.event_type == "permission.denied",
                                                     AuditEntry.username == username)).all()


def _amount(line_id: int) -> int:
    with session_scope() as session:
        return session.get(BudgetLine, line_id).amount


@pytest.mark.parametrize("username", ["sys", "sec", "aud"])  # none of the three admins sees business data
async def test_pages_refuse_users_without_the_permission(world, username):
    root = await _root_with(username)
    for cls in (BudgetsState, ProjectsState, ReviewState, RulesState, TemplatesState):
        state = await root.get_state(cls)
        result = await state.load()
        assert "没有权限" in str(result), (cls.__name__, username)
        assert not getattr(state, "rows", []) and not getattr(state, "pending", [])
    _, editor = await _editor(username, world["budget"])
    assert "没有权限：查看预算" in str(await editor.load()) and page_rows(editor) == []
    assert {d.object_id for d in _denied(username)} >= {"BudgetsState.load", "ProjectsState.load",
                                                         "ReviewState.load", "RulesState.load",
                                                         "TemplatesState.load", "BudgetEditorState.load"}


async def test_editor_out_of_scope_is_refused_and_audited(world):
    _, editor = await _editor("other", world["budget"])
    result = await editor.load()
    assert "没有权限" in str(result)
    assert page_rows(editor) == [] and editor.bid in (0, world["budget"]) and not editor.editable
    denied = _denied("other")
    assert len(denied) == 1 and denied[0].object_id == "BudgetEditorState.load"
    # a crafted save without having loaded the page: the line is not on this client's page
    result = await editor.save_amount(str(world["line"]), "1")
    assert "不在当前页" in str(result) or "没有权限" in str(result)
    assert _amount(world["line"]) == 100000


async def test_a_refused_budget_leaves_nothing_of_the_previous_one_on_the_page(world):
    """Clear first, then check, then fill: the previous budget's flag, actions, lines and rules do not stay."""
    other = _ctx("other")
    own = budgets.create_budget(other, world["other"], YEAR)["id"]
    budgets.add_line(other, own, {"econ_code": "30201", "func_code": "2050205", "amount": "0"})  # a rule fails
    _, editor = await _editor("other", own)
    await editor.load()
    assert editor.bid == own and editor.editable and editor.actions and page_rows(editor) and editor.rules
    _at(editor, f"/budgets/{world['budget']}")
    assert "没有权限" in str(await editor.load())
    assert editor.bid == 0 and not editor.editable and editor.actions == [] and page_rows(editor) == []
    assert editor.rules == [] and editor.flags == {} and editor.count == 0 and editor.header == {}
    assert not editor.has_errors and editor.total_text == "¥0.00"


async def test_viewer_without_edit_permission_cannot_save(world):
    _, editor = await _editor("head", world["budget"])
    await editor.load()
    assert page_rows(editor) and not editor.editable
    result = await editor.save_amount(str(world["line"]), "5")
    assert "没有权限：编制预算" in str(result)
    assert _amount(world["line"]) == 100000
    assert [d.object_id for d in _denied("head")] == ["BudgetEditorState.save_amount"]


async def test_crafted_arguments_are_refused_in_chinese(world):
    root, editor = await _editor("op", world["budget"])
    await editor.load()
    action = await root.get_state(EditorActionState)
    rows = page_rows(editor)
    for call in (editor.save_amount("999999", "5"), editor.save_amount("1; drop table budget", "5"),
                 editor.save_amount(True, "5"), editor.save_amount(str(world["line"]), "-5"),
                 editor.save_amount(str(world["line"]), "1" * 40), editor.save_amount(str(world["line"]), "abc"),
                 editor.save_source(str(world["line"]), "外汇"), editor.save_code(str(world["line"]), "gov", "301"),
                 editor.save_note(str(world["line"]), "长" * 201), editor.choose_unit("usd"),
                 action.open_action("approve"), editor.filter_class("econ", "30' or 1=1")):
        result = await call
        assert result is not None and "error" in str(result).lower(), result
    assert page_rows(editor) == rows and editor.unit == "yuan"
    assert _amount(world["line"]) == 100000
    result = await editor.save_amount(line_id=str(world["line"]), value="5", extra="x")
    assert "请求参数无效" in str(result)


async def test_save_updates_row_totals_and_rules_in_one_event(world):
    _, editor = await _editor("op", world["budget"])
    await editor.load()
    assert editor.editable and editor.total_text == "¥1,000.00"
    assert editor.rules and editor.rule_summary
    assert await editor.save_amount(str(world["line"]), "1,234.5") is None
    assert page_rows(editor)[0]["amount"] == "¥1,234.50" and editor.total_text == "¥1,234.50"
    assert editor.econ_subtotals[0]["code"] == "302" and editor.econ_subtotals[0]["total"] == "¥1,234.50"
    assert _amount(world["line"]) == 123450
    await editor.choose_unit("wan")
    assert page_rows(editor)[0]["amount"] == "0.12 万元"
    # a zero amount is a rule error, shown in the panel and on the row
    await editor.save_amount(str(world["line"]), "0")
    assert editor.has_errors and editor.flags == {str(world["line"]): "error"}
    assert any(r["ok"] == "" and r["severity"] == "error" for r in editor.rules)


async def test_conflict_names_who_saved_and_shows_current_values(world):
    _, mine = await _editor("op", world["budget"])
    _, theirs = await _editor("op2", world["budget"])
    await mine.load()
    await theirs.load()
    await theirs.save_amount(str(world["line"]), "2000")
    result = await mine.save_note(str(world["line"]), "我的备注")
    assert "OP2" in mine.conflict and "修改" in mine.conflict
    assert "¥2,000.00" in mine.conflict_values
    assert page_rows(mine)[0]["amount_yuan"] == "2000.00" and "warning" in str(result).lower()
    # retry after seeing the current values goes through
    assert await mine.save_note(str(world["line"]), "我的备注") is None
    assert page_rows(mine)[0]["note"] == "我的备注" and mine.conflict == ""


async def test_import_refuses_a_file_over_10_mb_before_reading_it(world):
    root, editor = await _editor("op", world["budget"])
    await editor.load()

    class Big:
        name = "budget.xlsx"
        size = MAX_IMPORT_BYTES + 1
        file = io.BytesIO(b"")

        def __init__(self):
            self.file.read = None  # reading would fail: the size check must come first

    result = await (await root.get_state(EditorImportState)).preview_import([Big()])
    assert "10 MB" in str(result)


async def test_submit_return_resubmit_approve_through_the_pages(world):
    root, editor = await _editor("op", world["budget"])
    await editor.load()
    action = await root.get_state(EditorActionState)
    assert [a["action"] for a in editor.actions] == ["submit"]
    await action.open_action("submit")
    assert action.action == "submit"
    await action.do_action({"comment": ""})
    assert editor.header["status"] == "审核中" and not editor.editable

    head = await _root_with("head")
    bell = await head.get_state(BellState)
    await bell.refresh()
    assert (await head.get_state(SessionState)).unread >= 1
    review = await head.get_state(ReviewState)
    await review.load()
    assert [r["id"] for r in review.pending] == [str(world["budget"])]
    await review.open_dialog("budget", "return", str(world["budget"]))
    result = await review.confirm_dialog({"comment": ""})
    assert "退回原因" in str(result) or "不能为空" in str(result)
    await review.confirm_dialog({"comment": "请补充说明"})
    assert review.pending == [] and review.dialog_kind == ""
    # a crafted approval of a budget that is not waiting for this reviewer
    result = await review.open_dialog("budget", "approve", str(world["budget"]))
    assert "不在待审核列表" in str(result)

    await editor.load()
    assert editor.header["status"] == "退回" and "请补充说明" in editor.header["last_comment"]
    notes = await (await _root_with("op")).get_state(NotificationsState)
    await notes.load()
    assert notes.total >= 1
    await action.open_action("submit")
    await action.do_action({"comment": "已补充"})
    await review.load()
    await review.open_dialog("budget", "approve", str(world["budget"]))
    await review.confirm_dialog({"comment": ""})
    await editor.load()
    assert editor.header["status"] != "审核中" or editor.header["step_org_name"] != ""
    versions = await root.get_state(EditorVersionsState)
    await versions.load_versions()
    assert len(versions.versions) >= 2
    await versions.compare_versions({"from_version": versions.versions[0]["version_no"], "to_version": "0"})
    assert versions.diff_summary.startswith("第 ") and "¥" in versions.diff_summary
    # the display unit of the grid also applies to the difference shown
    await editor.choose_unit("wan")
    assert "万元" in versions.diff_summary and "¥" not in versions.diff_summary
    # loading the page again empties the versions tab and closes the dialogs
    await editor.load()
    assert versions.versions == [] and versions.diff_summary == "" and action.action == ""


async def test_project_detail_handlers_check_scope(world):
    root = await _root_with("other")
    detail = await root.get_state(ProjectDetailState)
    _at(detail, f"/projects/{world['project']}")
    result = await detail.load()
    assert "没有权限" in str(result) and detail.project == {}
    assert _denied("other")[-1].object_id == "ProjectDetailState.load"
    result = await detail.download("1")
    assert "附件不存在" in str(result)


async def test_template_lines_are_added_and_crafted_template_ids_refused(world):
    from hbbudget.services.budgeting import templates

    make_user("fin", "finance_reviewer", world["city"])
    t = templates.create_template(_ctx("fin"), world["city"], "日常运转", "", [
        {"econ_code": "30201", "share": "60"}, {"econ_code": "30211", "share": "40"}])
    root, editor = await _editor("op", world["budget"])
    await editor.load()
    dialog = await root.get_state(EditorTemplateState)
    result = await dialog.apply_template({"template_id": str(t["id"]), "func_code": "2050205", "amount": "1000"})
    assert "模板" in str(result) and editor.count == 1  # not opened: the id is not among the choices shown
    await dialog.open_template()
    assert [c["id"] for c in dialog.template_choices] == [str(t["id"])]
    await dialog.apply_template({"template_id": str(t["id"]), "project_id": "0", "func_code": "2050205",
                                 "source": "财政拨款", "amount": "1000"})
    assert editor.count == 3 and editor.total_text == "¥2,000.00" and not dialog.template_open
    assert sorted(r["amount"] for r in page_rows(editor)[1:]) == ["¥400.00", "¥600.00"]


async def test_blank_template_download_for_the_own_unit(world):
    root = await _root_with("op")
    page = await root.get_state(BudgetsState)
    spec = await page.download_blank()
    text = str(spec)
    assert "预算模板.xlsx" in text and "data:" in text  # an rx.download with the workbook inline
    root = await _root_with("sys")  # 三员: the system admin has no budget.view
    refused = await (await root.get_state(BudgetsState)).download_blank()
    assert "没有权限" in str(refused) and len(_denied("sys")) == 1


async def test_shared_paging_handlers_move_the_offset_and_reload(world):
    from hbbudget.pages.budgeting.budgets import PAGE_SIZE

    root = await _root_with("op")
    page = await root.get_state(BudgetsState)
    await page.load()
    assert page.total == 1 and len(page.rows) == 1
    await page.next_page()  # nothing beyond the first page
    assert page.offset == 0
    page.total = PAGE_SIZE + 1  # as if more budgets existed: the handler moves on and reloads
    await page.next_page()
    assert page.offset == PAGE_SIZE and page.total == 1 and page.rows == []
    await page.prev_page()
    assert page.offset == 0 and len(page.rows) == 1
    refused = await (await (await _root_with("sys")).get_state(BudgetsState)).next_page()
    assert "没有权限" in str(refused)


# ---- the grid's websocket updates, project picker, 调剂, 发起调整, conflicts on delete, input keys ----

def _add_lines(budget_id: int, n: int, project_id: int | None = None) -> list[int]:
    """n lines written directly (setup, not what is tested), an even plan each."""
    from hbbudget import money
    from hbbudget.models import Budget, EconomicSubject
    from hbbudget.models.budget import MONTHS

    with session_scope() as session:  # one line per key (the unique_line rule): a distinct economic code each
        budget = session.get(Budget, budget_id)
        used = set(session.exec(select(BudgetLine.econ_code).where(BudgetLine.budget_id == budget_id,
                                                                   BudgetLine.project_id == project_id)).all())
        codes = [c for c in session.exec(select(EconomicSubject.code).where(
            EconomicSubject.fiscal_year == budget.fiscal_year, EconomicSubject.kind == "dept",
            EconomicSubject.level == 2, EconomicSubject.active == True)  # noqa: E712
            .order_by(EconomicSubject.code)).all() if c not in used]
        lines = [BudgetLine(budget_id=budget_id, econ_code=codes[i], func_code="2050205", source="财政拨款",
                            amount=10000 * (i + 1), project_id=project_id, updated_by="OP",
                            **dict(zip(MONTHS, money.spread(10000 * (i + 1))))) for i in range(n)]
        session.add_all(lines)
        session.flush()
        return [ln.id for ln in lines]


async def _delta(root) -> dict:
    """What Reflex would send after the event: the editor's part of the delta, var names without the suffix."""
    delta = await root._get_resolved_delta()
    root._clean()
    name = BudgetEditorState.get_full_name()
    return {k.removesuffix("_rx_state_"): v for k, v in delta.get(name, {}).items()}


async def test_a_save_sends_only_the_chunk_of_its_row_and_what_changed(world):
    from reflex.state import StateUpdate
    from reflex_base.utils import format

    from hbbudget.pages.budgeting.editor_state import ROW_CHUNK, ROW_VARS

    ids = [world["line"], *_add_lines(world["budget"], 34)]
    root, editor = await _editor("op", world["budget"])
    await editor.load()
    await _delta(root)
    assert [len(getattr(editor, n)) for n in ROW_VARS] == [ROW_CHUNK, ROW_CHUNK, ROW_CHUNK, 5, 0]
    target = ids[2 * ROW_CHUNK + 3]  # the 24th line: in the third chunk
    assert await editor.save_amount(str(target), "77") is None
    update = await root._get_resolved_delta()
    size = len(format.json_dumps(StateUpdate(delta=update)).encode())
    root._clean()
    sent = {k.removesuffix("_rx_state_") for k in update[BudgetEditorState.get_full_name()]}
    assert sent & set(ROW_VARS) == {"rows_2"}  # not the page: one chunk of rows
    assert {"total_text", "econ_subtotals"} <= sent and not sent & {"flags", "rules", "conflict", "header"}
    assert editor.rows_2[3] == {**editor.rows_2[3], "id": str(target), "amount": "¥77.00", "amount_yuan": "77.00"}
    assert size < 10 * 1024
    # the 用款计划 of the row followed the amount (even plan), and the other rows are untouched
    assert _amount(target) == 7700 and page_rows(editor)[0]["amount"] == "¥1,000.00"
    # a zero amount fails a rule: the rule panel and the flags of the page's lines come in the same update
    await editor.save_amount(str(ids[0]), "0")
    sent = await _delta(root)
    assert sent["flags"] == {str(ids[0]): "error"} and any(r["ok"] == "" for r in sent["rules"])
    assert set(sent) & set(ROW_VARS) == {"rows_0"}
    # nothing shown on the grid that it does not use
    assert set(editor.rows_2[3]) == {"id", "key", "project", "econ_code", "econ_name", "func_code", "func_name",
                                     "source", "amount", "amount_yuan", "note", "plan_ok", "updated"}


async def test_own_save_keeps_the_row_key_and_a_conflict_changes_it(world):
    """Inputs are keyed on the row key (id + version last loaded from the server) + their value: a conflict
    (another version of the row) remounts them all, dropping unsaved text; our own save leaves the other cells."""
    _, mine = await _editor("op", world["budget"])
    _, theirs = await _editor("op2", world["budget"])
    await mine.load()
    await theirs.load()
    key = page_rows(mine)[0]["key"]
    assert key == f"{world['line']}-1"
    assert await mine.save_amount(str(world["line"]), "1500") is None
    assert page_rows(mine)[0]["key"] == key and page_rows(mine)[0]["amount_yuan"] == "1500.00"
    await theirs.load()
    await theirs.save_note(str(world["line"]), "他人的备注")
    await mine.save_note(str(world["line"]), "我的备注")  # refused: the note stored is theirs
    assert "OP2" in mine.conflict
    row = page_rows(mine)[0]
    assert row["key"] == f"{world['line']}-3" and row["note"] == "他人的备注"


def test_grid_inputs_are_keyed_on_the_row_key_and_value():
    from reflex.compiler import compiler

    from hbbudget.pages.budgeting import editor as budget_editor

    code = compiler._compile_page(budget_editor._grid(), "/budgets/[budget_id]")
    assert code.count('?.["key"]') == 5  # each of the 5 chunks passes the row key to the memoized row
    cells = "".join(str(memo._definition.component.render()) for memo in  # the row's cells (rx.memo)
                    (budget_editor.econ_cell, budget_editor.func_cell, budget_editor.amount_input,
                     budget_editor.note_cell))
    keys = sorted(re.findall(r'key:\(\(rowKeyRxMemo\+":"\)\+(\w+)RxMemo\)', cells))
    assert keys == ["amountYuan", "code", "code", "note"]
    assert 'rowIdRxMemo+":"' not in cells


async def test_delete_conflict_shows_who_saved_and_the_current_values(world):
    _, mine = await _editor("op", world["budget"])
    _, theirs = await _editor("op2", world["budget"])
    await mine.load()
    await theirs.load()
    await theirs.save_amount(str(world["line"]), "2000")
    await mine.ask_delete(str(world["line"]))
    result = await mine.confirm_delete()
    assert "warning" in str(result).lower()
    assert mine.conflict.startswith("该行已被OP2于") and "修改" in mine.conflict and "重新删除" in mine.conflict
    assert "¥2,000.00" in mine.conflict_values and "办公用品" in mine.conflict_values
    assert _amount(world["line"]) == 200000 and page_rows(mine)[0]["amount"] == "¥2,000.00"
    # deleting again, having seen the current values, goes through
    await mine.ask_delete(str(world["line"]))
    await mine.confirm_delete()
    with session_scope() as session:
        assert session.get(BudgetLine, world["line"]) is None
    assert page_rows(mine) == [] and mine.conflict == ""


async def test_every_project_of_the_unit_can_be_chosen_beyond_the_first_hundred(world):
    from hbbudget.models import Project

    with session_scope() as session:
        extra = [Project(code=f"D{YEAR}X{i:04d}", name=f"批量项目{i:03d}", org_id=world["dept"], category="3",
                         start_year=YEAR, end_year=YEAR, status="已入库", func_code="2050205") for i in range(120)]
        session.add_all(extra)
        session.flush()
        late = {p.code: p.id for p in extra}[f"D{YEAR}X0115"]
        theirs = Project(code=f"O{YEAR}X0001", name="他单位项目", org_id=world["other"], category="3",
                         start_year=YEAR, end_year=YEAR, status="已入库")
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    line_on_late = _add_lines(world["budget"], 1, project_id=late)[0]
    root, editor = await _editor("op", world["budget"])
    await editor.load()
    picker = await root.get_state(EditorProjectState)
    # the line on the 116th project shows it (the old select of 100 showed nothing)
    assert next(r for r in page_rows(editor) if r["id"] == str(line_on_late))["project"] == \
        f"批量项目115（D{YEAR}X0115）"
    await picker.open_project_picker(str(world["line"]))
    assert picker.project_open and len(picker.project_options) == 31  # 基本支出 + the first 30
    assert str(late) not in {o["id"] for o in picker.project_options}
    # not offered: refused, even a project of the unit (and one of another unit all the more)
    for pid in (late, theirs_id):
        assert "请从列表中选择项目" in str(await picker.pick_project(str(pid)))
    await picker.search_projects({"q": "X0115"})
    assert [o["id"] for o in picker.project_options] == ["0", str(late)]
    assert await picker.pick_project(str(late)) is None
    with session_scope() as session:
        assert session.get(BudgetLine, world["line"]).project_id == late
    assert page_rows(editor)[0]["project"] == f"批量项目115（D{YEAR}X0115）" and not picker.project_open
    # the new-line form: pick, add; the line is on that project and the form is back to 基本支出
    await picker.open_project_picker("new")
    await picker.search_projects({"q": "批量项目119"})
    await picker.pick_project(picker.project_options[1]["id"])
    assert editor.new_project_label.startswith("批量项目119")
    await editor.add_line({"econ_code": "30201", "func_code": "2050205", "amount": "5", "project_id": str(theirs_id)})
    with session_scope() as session:
        added = session.exec(select(BudgetLine).order_by(BudgetLine.id.desc())).first()
        assert session.get(Project, added.project_id).code == f"D{YEAR}X0119"  # the form's crafted id is ignored
    assert editor.new_project_label == "基本支出（不挂项目）"
    # crafted targets: a line not on the page, a target that is neither
    assert "不在当前页" in str(await picker.open_project_picker("999999"))
    assert "无效" in str(await picker.open_project_picker("x; drop"))


async def test_project_picker_is_refused_without_edit_permission(world):
    root, editor = await _editor("head", world["budget"])
    await editor.load()
    picker = await root.get_state(EditorProjectState)
    assert "没有权限：编制预算" in str(await picker.open_project_picker(str(world["line"])))
    assert not picker.project_open and _denied("head")[-1].object_id == "EditorProjectState.open_project_picker"


def _approved(world, n: int = 2, **fields) -> tuple[int, list[int]]:
    from tests.factories import approved_budget

    return approved_budget(world["dept"], [(None, "30201", 100000 * (i + 1)) for i in range(n)], YEAR, **fields)


async def test_adjust_buttons_follow_the_headers_allowed_actions(world):
    current, _ = _approved(world, seq=1)
    old, _ = _approved(world, seq=2, superseded_by_id=current)
    _, editor = await _editor("op", current)
    await editor.load()
    assert editor.can_adjust and not editor.editable
    root, editor = await _editor("op", old)
    await editor.load()
    assert editor.header["status"] == "已批复" and not editor.can_adjust  # superseded: no 发起调整/调剂
    assert "现行" in str(await (await root.get_state(EditorActionState)).start_adjustment("调整"))
    _, viewer = await _editor("head", current)  # may view, may not edit
    await viewer.load()
    assert viewer.header["status"] == "已批复" and not viewer.can_adjust
    _, draft = await _editor("op", world["budget"])
    await draft.load()
    assert not draft.can_adjust and not draft.can_transfer


async def test_transfer_between_lines_of_a_transfer_draft(world):
    base, _ = _approved(world, seq=1)
    draft = budgets.create_adjustment(_ctx("op"), base, "调剂")["id"]
    root, editor = await _editor("op", draft)
    await editor.load()
    transfer = await root.get_state(EditorTransferState)
    assert editor.can_transfer and editor.editable and not editor.can_adjust
    a, b = (int(r["id"]) for r in page_rows(editor))
    await transfer.open_transfer()
    assert transfer.transfer_open and [c["id"] for c in transfer.transfer_choices] == [str(a), str(b)]
    for form, why in (({"from_line": str(a), "to_line": str(a), "amount": "1"}, "不能相同"),
                      ({"from_line": str(a), "to_line": str(b), "amount": "1000.01"}, "不足"),
                      ({"from_line": str(a), "to_line": str(b), "amount": "-5"}, "负数"),
                      ({"from_line": str(a), "to_line": str(world["line"]), "amount": "1"}, "不在当前页"),
                      ({"from_line": str(a), "amount": "1"}, "请选择调出行和调入行"),
                      ({"from_line": str(a), "to_line": str(b), "amount": "1", "note": "长" * 201}, "200")):
        result = await transfer.do_transfer(form)
        assert why in str(result), (form, result)
    assert [_amount(a), _amount(b)] == [100000, 200000]
    assert await transfer.do_transfer({"from_line": str(a), "to_line": str(b), "amount": "300.50",
                                     "note": "设备费调入"}) is not None  # a success toast
    assert [_amount(a), _amount(b)] == [69950, 230050] and not transfer.transfer_open
    assert editor.total_text == "¥3,000.00"  # nets to zero
    assert [r["amount"] for r in page_rows(editor)] == ["¥699.50", "¥2,300.50"]
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "budget.transfer")).one()
        assert "设备费调入" in entry.detail and entry.username == "op"
        assert sum(getattr(session.get(BudgetLine, a), f"m{i:02d}") for i in range(1, 13)) == 69950
    # not on a 调剂 draft: no dialog, and a crafted call is refused
    root, main = await _editor("op", world["budget"])
    await main.load()
    transfer = await root.get_state(EditorTransferState)
    assert "只有可编辑的调剂单" in str(await transfer.open_transfer())
    assert "只有可编辑的调剂单" in str(await transfer.do_transfer({"from_line": str(world["line"]),
                                                               "to_line": str(world["line"]), "amount": "1"}))
    # without budget.edit: refused and audited
    root, viewer = await _editor("head", draft)
    await viewer.load()
    assert "没有权限：编制预算" in str(await (await root.get_state(EditorTransferState)).do_transfer({"from_line": str(a), "to_line": str(b),
                                                                "amount": "1"}))
    assert [_amount(a), _amount(b)] == [69950, 230050]


async def test_version_diff_defaults_to_the_latest_version_and_shows_names(world):
    """Issue 11 item 16: the "from" picker starts at the latest saved version (comparing without choosing works),
    the lines show codes with names, the changed fields are Chinese, and the submit comment is in the list."""
    from hbbudget.services.budgeting import review

    op = _ctx("op")
    review.submit(op, world["budget"], "首次上报，请审核")
    review.return_budget(_ctx("head"), world["budget"], "请补充")
    with session_scope() as session:
        version = session.get(BudgetLine, world["line"]).version
    budgets.update_line(op, world["line"], {"amount": "1500"}, version)
    root, editor = await _editor("op", world["budget"])
    await editor.load()
    versions = await root.get_state(EditorVersionsState)
    await versions.load_versions()
    assert versions.versions[-1]["reason"] == "首次上报，请审核"
    assert versions.from_default == versions.versions[-1]["version_no"]
    result = await versions.compare_versions({"to_version": "0"})  # the picker left at its default
    assert "无效" not in str(result)
    assert versions.diff_summary.startswith(f"第 {versions.from_default} 版")
    changed = [d for d in versions.diff_rows if d["change"] == "修改"]
    assert len(changed) == 1 and changed[0]["fields"] == "金额、分月计划"
    assert changed[0]["econ_code"].startswith("30201 ") and len(changed[0]["econ_code"]) > len("30201 ")
    assert changed[0]["func_code"].startswith("2050205 ") and len(changed[0]["func_code"]) > len("2050205 ")


async def test_passed_rules_carry_no_severity_badge(world):
    """Issue 11 item 17: a passed rule's badge says 通过, not its severity (a red 错误 beside a pass)."""
    _, editor = await _editor("op", world["budget"])
    await editor.load()
    passed = [r for r in editor.rules if r["ok"] == "1"]
    assert passed, editor.rules
    assert {r["severity_label"] for r in passed} == {"通过"}
    budgets.add_line(_ctx("op"), world["budget"], {"econ_code": "30201", "func_code": "2050205", "amount": "0"})
    await editor.load()
    failed = [r for r in editor.rules if r["ok"] != "1"]
    assert failed and {r["severity_label"] for r in failed} <= {"错误", "警告"}


async def test_another_users_save_is_announced_and_refresh_shows_it(world):
    """Issue 11 item 20: a save bumps the budget's shared feed (own tab stays up to date); 刷新 brings another
    user's saved line, the total and the rules from the server. (The push to other tabs: tests/e2e.)"""
    from hbbudget.pages.budgeting.editor_state import BudgetFeed

    root, editor = await _editor("op", world["budget"])
    await editor.load()
    feed = await root.get_state(BudgetFeed)
    await editor.save_amount(str(world["line"]), "1200")
    assert feed.version == editor.seen == 1  # this tab's own save: no notice here
    with session_scope() as session:
        version = session.get(BudgetLine, world["line"]).version
    budgets.update_line(_ctx("op2"), world["line"], {"amount": "2500"}, version)  # another user's tab
    feed.version += 1  # what the feed's push does in this tab
    assert feed.version != editor.seen
    await editor.refresh()
    assert editor.seen == feed.version and page_rows(editor)[0]["amount_yuan"] == "2500.00"
    assert editor.total_text == "¥2,500.00"


async def test_control_numbers_are_confirmed_before_they_are_issued(world):
    """Issue 11 item 5: 下达 shows the changes first; only 确认下达 writes; the org picker offers the caller's
    审核 scope only."""
    from hbbudget.models import ControlNumber

    make_user("fin", "finance_reviewer", world["city"])
    root = await _root_with("fin")
    page = await root.get_state(ReviewState)
    await page.load()
    await page.choose_tab("controls")
    assert page.control_org == str(world["city"]) and str(world["unit"]) in [o["id"] for o in page.control_orgs]
    result = await page.choose_control_org(str(world["other"] + 999))
    assert "不在可选范围" in str(result) and page.control_org == str(world["city"])
    await page.choose_control_org(str(world["unit"]))
    assert [c["org_id"] for c in page.controls] == [str(world["dept"])]
    await page.issue_controls({f"c{world['dept']}": "1200"})
    assert [(c["before"], c["after"]) for c in page.confirm_rows] == [("未下达", "¥1,200.00")]
    with session_scope() as session:
        assert session.exec(select(ControlNumber)).all() == []  # nothing issued yet
    await page.cancel_controls()
    assert page.confirm_rows == []
    assert "没有待确认" in str(await page.confirm_controls())
    await page.issue_controls({f"c{world['dept']}": "1200"})
    assert "已下达" in str(await page.confirm_controls())
    with session_scope() as session:
        assert [(c.org_id, c.amount) for c in session.exec(select(ControlNumber)).all()] == [(world["dept"], 120000)]
    assert page.confirm_rows == [] and page.controls[0]["amount"] == "¥1,200.00"
