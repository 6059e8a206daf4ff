"""The editor grid: pages with subtotals, edits with rule results, add/copy/delete, conflicts, bad input."""

from datetime import datetime

import pytest
from sqlmodel import select

from hbbudget.clock import to_local_text
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BudgetLine, EconomicSubject
from hbbudget.pages import display
from hbbudget.services.budgeting import budgets, projects
from hbbudget.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.budget_world import YEAR, add_user, budget_with, library_project, line, world


def _lines() -> list[tuple]:
    with session_scope() as session:
        return [(ln.id, ln.econ_code, ln.func_code, ln.amount, ln.version, ln.project_id, ln.note)
                for ln in session.exec(select(BudgetLine).order_by(BudgetLine.id)).all()]


def test_page_totals_and_subtotals_by_class(db):
    w = world()
    bid = budget_with(w, {"30101": "5000", "30201": "1000.50", "30211": "200", "31002": "800"})
    page = budgets.fetch_lines(w.op, bid, offset=1, limit=2)
    assert page["count"] == 4 and [r["econ_code"] for r in page["rows"]] == ["30201", "30211"]
    assert page["totals"]["total"] == 700050 and page["totals"]["by_source"]["财政拨款"] == 700050
    assert page["subtotals"]["economic"] == [
        {"code": "301", "name": "工资福利支出", "total": 500000},
        {"code": "302", "name": "商品和服务支出", "total": 120050},
        {"code": "310", "name": "资本性支出", "total": 80000}]
    assert page["subtotals"]["function"] == [{"code": "205", "name": "教育支出", "total": 700050}]
    assert budgets.fetch_lines(w.op, bid, econ="302")["count"] == 2
    row = page["rows"][0]  # raw values: fen and a time; the page's display module makes the text
    assert row["amount"] == 100050 and sum(row["months"]) == row["amount"] and row["plan_ok"]
    assert isinstance(row["updated_at"], datetime) and "amount_yuan" not in row
    shown = display.grid_line(row, "yuan")
    assert shown["amount_yuan"] == "1000.50" and shown["amount"] == "¥1,000.50"
    assert shown["updated"] == f"{row['updated_by']} {to_local_text(row['updated_at'])}"


def test_update_returns_row_totals_and_rules_in_one_call(db):
    w = world()
    p = library_project(w)
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    out = budgets.update_line(w.op, row["id"], {"amount": "¥1,234.56", "note": "办公用品", "project_id": p["id"]},
                                row["version"])
    assert out["row"]["amount"] == 123456 and out["row"]["version"] == row["version"] + 1
    assert out["row"]["project_code"] == p["code"] and out["row"]["updated_by"] == "OP"
    assert out["totals"]["total"] == 123456
    assert out["row"]["plan_ok"] and all(r["ok"] for r in out["rules"])  # the even plan followed the amount


def test_two_editors_the_later_save_gets_a_conflict_with_current_values(db):
    w = world()
    second = add_user("op2", "accountant", w.org["dept"], subtree=False)
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    budgets.update_line(w.op, row["id"], {"amount": "150"}, row["version"])
    with pytest.raises(Conflict) as err:
        budgets.update_line(second, row["id"], {"amount": "999"}, row["version"])
    assert err.value.message.startswith("该行已被OP于") and "修改" in err.value.message
    assert err.value.current["amount"] == 15000 and err.value.current["version"] == row["version"] + 1
    assert _lines()[0][3] == 15000  # nothing silently overwritten
    with pytest.raises(Conflict):
        budgets.delete_line(second, row["id"], row["version"])
    out = budgets.update_line(second, row["id"], {"amount": "999"}, err.value.current["version"])
    assert out["row"]["amount"] == 99900 and out["row"]["updated_by"] == "OP2"


@pytest.mark.parametrize("changes,why", [
    ({"amount": "abc"}, "不是有效的数字"), ({"amount": "-1"}, "负数"), ({"amount": "1.234"}, "两位小数"),
    ({"amount": "NaN"}, "不是有效的数字"), ({"amount": "9" * 15}, "过大"),
    ({"econ_code": "30250"}, "不存在"), ({"econ_code": "302"}, "5 位"), ({"econ_code": "30298"}, "不存在"),
    ({"func_code": "2050299"}, "不存在"), ({"func_code": "20502"}, "7 位"), ({"source": "自筹"}, "资金来源"),
    ({"months": ["1"] * 11}, "12 个月"), ({"months": ["x"] * 12}, "1月用款计划"), ({"note": "长" * 201}, "200"),
    ({"amount_fen": 5}, "未知的字段"), ({}, "没有要保存"), ({"project_id": 99999}, "项目不存在"),
])
def test_bad_input_is_refused_and_nothing_changes(db, changes, why):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    before = _lines()
    with pytest.raises(ValidationError, match=why):
        budgets.update_line(w.op, row["id"], changes, row["version"])
    assert _lines() == before


def test_non_leaf_and_retired_codes_are_refused(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    for changes in ({"econ_code": "302"}, {"func_code": "20502"}, {"func_code": "205"}):  # 类/款 codes: not leaves
        with pytest.raises(ValidationError, match="位数字编码"):
            budgets.update_line(w.op, row["id"], changes, row["version"])
    with session_scope() as session:  # 30211 retired in this year's table
        s = session.exec(select(EconomicSubject).where(EconomicSubject.fiscal_year == YEAR,
                                                       EconomicSubject.code == "30211")).one()
        s.active = False
        session.add(s)
    with pytest.raises(ValidationError, match="已停用"):
        budgets.update_line(w.op, row["id"], {"econ_code": "30211"}, row["version"])


def test_another_orgs_project_and_another_orgs_budget_are_refused(db):
    w = world()
    theirs = library_project(w, "他单位项目", org_key="other")
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    with pytest.raises(ValidationError, match="不属于本单位"):
        budgets.update_line(w.op, row["id"], {"project_id": theirs["id"]}, row["version"])
    before, audit_before = _lines(), _count_audit()
    for call in (lambda: budgets.update_line(w.other, row["id"], {"amount": "1"}, row["version"]),
                 lambda: budgets.fetch_lines(w.other, bid), lambda: budgets.add_line(w.other, bid, line()),
                 lambda: budgets.delete_line(w.other, row["id"], row["version"])):
        with pytest.raises(PermissionDenied):
            call()
    assert _lines() == before and _count_audit() == audit_before


def _count_audit() -> int:
    with session_scope() as session:
        return len(session.exec(select(AuditEntry.id)).all())


def test_add_copy_delete_and_audit(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    src = budgets.fetch_lines(w.op, bid)["rows"][0]
    copy = budgets.copy_line(w.op, src["id"])
    assert copy["row"]["id"] != src["id"] and copy["row"]["amount"] == src["amount"]
    assert copy["totals"]["total"] == 2 * src["amount"]
    gone = budgets.delete_line(w.op, src["id"], src["version"])
    assert gone["deleted_id"] == src["id"] and gone["totals"]["count"] == 1
    with pytest.raises(NotFound):
        budgets.update_line(w.op, src["id"], {"amount": "1"}, src["version"])
    with pytest.raises(ValidationError, match="经济分类"):
        budgets.add_line(w.op, bid, {"func_code": "2050205"})
    with session_scope() as session:
        events = session.exec(select(AuditEntry.event_type)
                              .where(AuditEntry.event_type.startswith("budget.line"))).all()
    assert events == ["budget.line.add", "budget.line.add", "budget.line.delete"]


def test_pickers_offer_leaf_active_codes_and_own_projects(db):
    w = world()
    projects.create_project(w.op, w.org["dept"], {"name": "草稿项目", "category": "3", "start_year": YEAR,
                                                  "end_year": YEAR, "total": "1", "func_code": "2050205"})
    library_project(w, "他单位项目", org_key="other")
    bid = budget_with(w, {"30201": "100"})
    econ = budgets.code_options(w.op, YEAR, "dept", "302", limit=200)
    assert econ and all(len(o["code"]) == 5 and o["code"].startswith("302") for o in econ)
    assert [o["code"] for o in budgets.code_options(w.op, YEAR, "function", "高等")] == ["2050205"]
    assert [p["name"] for p in budgets.project_options(w.op, bid)] == ["草稿项目"]


def test_editing_stops_once_submitted(db):
    w = world()
    from hbbudget.services.budgeting import review
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    review.submit(w.op, bid)
    with pytest.raises(ValidationError, match="只有草稿或退回"):
        budgets.update_line(w.op, row["id"], {"amount": "1"}, row["version"])
    assert budgets.get_budget(w.op, bid)["editable"] is False



def test_an_even_plan_follows_a_new_amount_but_a_hand_made_plan_stays(db):
    """Changing only the amount re-spreads an even 用款计划; a plan the user shaped is kept, and the rule
    panel then says it no longer balances."""
    from hbbudget import money

    w = world()
    bid = budget_with(w, {"30201": "1200"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    assert row["months"] == money.spread(120_000)
    after = budgets.update_line(w.op, row["id"], {"amount": "2400"}, row["version"])["row"]
    assert after["months"] == money.spread(240_000) and after["plan_ok"]
    shaped = budgets.update_line(w.op, row["id"], {"months": ["2400"] + ["0"] * 11}, after["version"])["row"]
    final = budgets.update_line(w.op, row["id"], {"amount": "3000"}, shaped["version"])
    assert final["row"]["months"][0] == 240_000 and not final["row"]["plan_ok"]
    plan = next(r for r in final["rules"] if r["kind"] == "monthly_plan")
    assert not plan["ok"] and plan["line_ids"] == [row["id"]]
