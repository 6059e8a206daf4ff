"""The budgeting pages' states (issue 3): crafted calls are refused (no permission, out of scope, ids not on
the page, bad arguments) with an audit entry where a permission was missing, and nothing changes; the
editor's saves update the row, the totals and the rules in the same event; conflicts show who saved."""

from __future__ import annotations

import io

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BudgetLine
from hbbudget.pages.budget_editor import BudgetEditorState
from hbbudget.pages.budget_editor_state import MAX_IMPORT_BYTES
from hbbudget.pages.budgets import BudgetsState
from hbbudget.pages.notifications import NotificationsState
from hbbudget.pages.projects import ProjectDetailState, ProjectsState
from hbbudget.pages.review import ReviewState
from hbbudget.pages.rules import RulesState
from hbbudget.pages.templates import TemplatesState
from hbbudget.services import auth, budgeting, projects, setup
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
    make_user("sys", "sys_admin", tree["city"])
    op = _ctx("op")
    project = projects.create_project(op, tree["dept"], {
        "name": "实验室建设", "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR,
        "total": "500000", "func_code": "2050205", "owner": "OP"})
    header = budgeting.create_budget(op, tree["dept"], YEAR)
    line = budgeting.add_line(op, header["id"], {"econ_code": "30201", "func_code": "2050205", "source": "财政拨款",
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


async def test_pages_refuse_users_without_the_permission(world):
    root = await _root_with("sys")
    for cls in (BudgetsState, ProjectsState, ReviewState, RulesState, TemplatesState):
        state = await root.get_state(cls)
        result = await state.load()
        assert "没有权限" in str(result), cls.__name__
        assert not getattr(state, "rows", []) and not getattr(state, "pending", [])
    _, editor = await _editor("sys", world["budget"])
    assert "没有权限：查看预算" in str(await editor.load()) and editor.rows == []
    assert {d.object_id for d in _denied("sys")} >= {"BudgetsState.load", "ProjectsState.load", "ReviewState.load",
                                                      "RulesState.load", "TemplatesState.load",
                                                      "BudgetEditorState.load"}


async def test_editor_out_of_scope_is_refused_and_audited(world):
    _, editor = await _editor("other", world["budget"])
    result = await editor.load()
    assert "没有权限" in str(result)
    assert editor.rows == [] and editor.bid in (0, world["budget"]) and not editor.editable
    denied = _denied("other")
    assert len(denied) == 1 and denied[0].object_id == "BudgetEditorState.load"
    # a crafted save without having loaded the page: the line is not on this client's page
    result = await editor.save_amount(str(world["line"]), "1")
    assert "不在当前页" in str(result) or "没有权限" in str(result)
    assert _amount(world["line"]) == 100000


async def test_viewer_without_edit_permission_cannot_save(world):
    _, editor = await _editor("head", world["budget"])
    await editor.load()
    assert editor.rows and not editor.editable
    result = await editor.save_amount(str(world["line"]), "5")
    assert "没有权限：编制预算" in str(result)
    assert _amount(world["line"]) == 100000
    assert [d.object_id for d in _denied("head")] == ["BudgetEditorState.save_amount"]


async def test_crafted_arguments_are_refused_in_chinese(world):
    _, editor = await _editor("op", world["budget"])
    await editor.load()
    rows = list(editor.rows)
    for call in (editor.save_amount("999999", "5"), editor.save_amount("1; drop table budget", "5"),
                 editor.save_amount(True, "5"), editor.save_amount(str(world["line"]), "-5"),
                 editor.save_amount(str(world["line"]), "1" * 40), editor.save_amount(str(world["line"]), "abc"),
                 editor.save_source(str(world["line"]), "外汇"), editor.save_code(str(world["line"]), "gov", "301"),
                 editor.save_note(str(world["line"]), "长" * 201), editor.choose_unit("usd"),
                 editor.open_action("approve"), editor.filter_class("econ", "30' or 1=1")):
        result = await call
        assert result is not None and "error" in str(result).lower(), result
    assert editor.rows == rows and editor.unit == "yuan"
    assert _amount(world["line"]) == 100000
    result = await editor.save_amount(line_id=str(world["line"]), value="5", extra="x")
    assert "请求参数无效" in str(result)


async def test_save_updates_row_totals_and_rules_in_one_event(world):
    _, editor = await _editor("op", world["budget"])
    await editor.load()
    assert editor.editable and editor.total_text == "¥1,000.00"
    assert editor.rules and editor.rule_summary
    assert await editor.save_amount(str(world["line"]), "1,234.5") is None
    assert editor.rows[0]["amount"] == "¥1,234.50" and editor.total_text == "¥1,234.50"
    assert editor.econ_subtotals[0]["code"] == "302" and editor.econ_subtotals[0]["total"] == "¥1,234.50"
    assert _amount(world["line"]) == 123450
    await editor.choose_unit("wan")
    assert editor.rows[0]["amount"] == "0.12 万元"
    # a zero amount is a rule error, shown in the panel and on the row
    await editor.save_amount(str(world["line"]), "0")
    assert editor.has_errors and editor.rows[0]["flag"] == "error"
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
    assert mine.rows[0]["amount_yuan"] == "2000.00" and "warning" in str(result).lower()
    # retry after seeing the current values goes through
    assert await mine.save_note(str(world["line"]), "我的备注") is None
    assert mine.rows[0]["note"] == "我的备注" and mine.conflict == ""


async def test_import_refuses_a_file_over_10_mb_before_reading_it(world):
    _, editor = await _editor("op", world["budget"])
    await editor.load()

    class Big:
        name = "budget.xlsx"
        size = MAX_IMPORT_BYTES + 1
        file = io.BytesIO(b"")

        def __init__(self):
            self.file.read = None  # reading would fail: the size check must come first

    result = await editor.preview_import([Big()])
    assert "10 MB" in str(result)


async def test_submit_return_resubmit_approve_through_the_pages(world):
    _, editor = await _editor("op", world["budget"])
    await editor.load()
    assert [a["action"] for a in editor.actions] == ["submit"]
    await editor.open_action("submit")
    assert editor.action == "submit"
    await editor.do_action({"comment": ""})
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
    await editor.open_action("submit")
    await editor.do_action({"comment": "已补充"})
    await review.load()
    await review.open_dialog("budget", "approve", str(world["budget"]))
    await review.confirm_dialog({"comment": ""})
    await editor.load()
    assert editor.header["status"] != "审核中" or editor.header["step_org_name"] != ""
    await editor.load_versions()
    assert len(editor.versions) >= 2
    await editor.compare_versions({"from_version": editor.versions[0]["version_no"], "to_version": "0"})
    assert editor.diff_summary.startswith("第 ")


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
    from hbbudget.services import templates

    make_user("fin", "finance_reviewer", world["city"])
    t = templates.create_template(_ctx("fin"), world["city"], "日常运转", "", [
        {"econ_code": "30201", "share": "60"}, {"econ_code": "30211", "share": "40"}])
    _, editor = await _editor("op", world["budget"])
    await editor.load()
    result = await editor.apply_template({"template_id": str(t["id"]), "func_code": "2050205", "amount": "1000"})
    assert "模板" in str(result) and editor.count == 1  # not opened: the id is not among the choices shown
    await editor.open_template()
    assert [c["id"] for c in editor.template_choices] == [str(t["id"])]
    await editor.apply_template({"template_id": str(t["id"]), "project_id": "0", "func_code": "2050205",
                                 "source": "财政拨款", "amount": "1000"})
    assert editor.count == 3 and editor.total_text == "¥2,000.00" and not editor.template_open
    assert sorted(r["amount"] for r in editor.rows[1:]) == ["¥400.00", "¥600.00"]


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
    from hbbudget.pages.budgets import PAGE_SIZE

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
