"""Integrity rules that keep spent money from disappearing (issue 11 §1, §2, §6)."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, Expenditure
from hbbudget.services.budgeting import budgets, review, rules
from hbbudget.services.errors import ValidationError
from tests.budget_world import YEAR, budget_with, library_project, line, world


def _approve_all(w, bid):
    review.approve(w.head, bid)
    review.approve(w.lead, bid)
    return review.approve(w.fin, bid)


def _approved(w, amounts) -> int:
    bid = budget_with(w, amounts)
    review.submit(w.op, bid)
    _approve_all(w, bid)
    review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "100000"})
    review.submit(w.op, bid)
    assert _approve_all(w, bid)["status"] == "已批复"
    return bid


def _spend(w, bid, econ: str, fen: int, kind: str = "manual") -> None:
    with session_scope() as session:
        ln = session.exec(select(BudgetLine).where(BudgetLine.budget_id == bid, BudgetLine.econ_code == econ)).one()
        session.add(Expenditure(budget_line_id=ln.id, org_id=w.org["dept"], amount=fen, spent_on=date(YEAR, 3, 1),
                                kind=kind))


def _rule(results, kind):
    return next(r for r in results if r["kind"] == kind)


def test_a_transfer_cannot_take_a_line_below_spent_and_frozen(db):
    w = world()
    base = _approved(w, {"30201": "100", "30211": "50"})
    _spend(w, base, "30201", 8000)
    _spend(w, base, "30201", 1000, kind="frozen")  # 90 元 committed on a 100 元 line
    t = budgets.create_adjustment(w.op, base, "调剂")
    a, b = budgets.fetch_lines(w.op, t["id"])["rows"]
    with pytest.raises(ValidationError, match="最多可调出 ¥10.00"):
        budgets.transfer(w.op, t["id"], a["id"], b["id"], "50")
    assert budgets.fetch_lines(w.op, t["id"])["rows"][0]["amount"] == 10000  # nothing moved
    out = budgets.transfer(w.op, t["id"], a["id"], b["id"], "10")
    assert _rule(out["rules"], "not_below_committed")["ok"]


def test_an_adjustment_below_spent_fails_the_integrity_rule_and_cannot_be_submitted(db):
    w = world()
    base = _approved(w, {"30201": "100", "30211": "50"})
    _spend(w, base, "30201", 9000)
    adj = budgets.create_adjustment(w.op, base, "调整")
    a = budgets.fetch_lines(w.op, adj["id"])["rows"][0]
    out = budgets.update_line(w.op, a["id"], {"amount": "1"}, a["version"])
    rule = _rule(out["rules"], "not_below_committed")
    assert not rule["ok"] and rule["severity"] == "error" and "¥90.00" in rule["message"]
    with pytest.raises(ValidationError, match="不低于已执行"):
        review.submit(w.op, adj["id"])
    b = budgets.fetch_lines(w.op, adj["id"])["rows"][1]
    budgets.delete_line(w.op, a["id"], a["version"] + 1)  # a removed line holds nothing either
    assert b["econ_code"] == "30211"
    assert not _rule(rules.check_budget(w.op, adj["id"]), "not_below_committed")["ok"]


def test_spending_during_review_blocks_the_approval_of_a_reduction(db):
    w = world()
    base = _approved(w, {"30201": "100", "30211": "50"})
    adj = budgets.create_adjustment(w.op, base, "调整")
    a = budgets.fetch_lines(w.op, adj["id"])["rows"][0]
    budgets.update_line(w.op, a["id"], {"amount": "20"}, a["version"])
    review.submit(w.op, adj["id"])
    review.approve(w.head, adj["id"])
    review.approve(w.lead, adj["id"])
    _spend(w, base, "30201", 5000)  # paid while the 调整 waits at the finance bureau
    with pytest.raises(ValidationError, match="低于已执行"):
        review.approve(w.fin, adj["id"])
    assert budgets.get_budget(w.op, adj["id"])["status"] == "审核中"


def test_two_lines_with_the_same_key_cannot_be_submitted(db):
    w = world()
    bid = budget_with(w, {"30201": "100000"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    out = budgets.copy_line(w.op, row["id"])  # a copy is a starting point: it must be changed before 上报
    rule = _rule(out["rules"], "unique_line")
    assert not rule["ok"] and sorted(rule["line_ids"]) == sorted([row["id"], out["row"]["id"]])
    with pytest.raises(ValidationError, match="明细不重复"):
        review.submit(w.op, bid)
    copy = out["row"]
    out = budgets.update_line(w.op, copy["id"], {"econ_code": "30211"}, copy["version"])
    assert _rule(out["rules"], "unique_line")["ok"]
    assert budgets.add_line(w.op, bid, line("30211", "5"))["rules"][0]["kind"] == "unique_line"


def test_project_lines_may_not_exceed_the_project_total(db):
    w = world()
    p = library_project(w)  # total 100000 元
    bid = budget_with(w, {})
    out = budgets.add_line(w.op, bid, line("30201", "60000", project_id=p["id"]))
    assert _rule(out["rules"], "project_total")["ok"]
    out = budgets.add_line(w.op, bid, line("30211", "40000.01", project_id=p["id"]))
    rule = _rule(out["rules"], "project_total")
    assert not rule["ok"] and p["code"] in rule["message"] and len(rule["line_ids"]) == 2
    with pytest.raises(ValidationError, match="不超项目总额"):
        review.submit(w.op, bid)


def test_other_years_of_a_project_count_against_its_total(db):
    w = world()
    p = library_project(w, start_year=YEAR - 1)
    last = budget_with(w, {}, year=YEAR - 1)
    budgets.add_line(w.op, last, line("30201", "70000", project_id=p["id"]))
    with session_scope() as session:  # the earlier year's budget approved
        b = session.get(Budget, last)
        b.status, b.round = "已批复", "二下"
        session.add(b)
    nxt = budgets.create_budget(w.op, w.org["dept"], YEAR)["id"]
    rule = _rule(budgets.add_line(w.op, nxt, line("30201", "30000.01", project_id=p["id"]))["rules"], "project_total")
    assert not rule["ok"] and "其他年度已安排 ¥70,000.00" in rule["message"]


def _source_line(econ: str, amount: str, source: str) -> dict:
    return {**line(econ, amount), "source": source}


def test_control_numbers_cover_the_configured_funding_sources(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    budgets.add_line(w.op, bid, _source_line("30211", "900", "事业收入"))  # own income: not under the 控制数
    review.submit(w.op, bid)
    _approve_all(w, bid)
    review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "100"})
    control = _rule(rules.check_budget(w.op, bid), "control_number")
    assert control["ok"] and control["message"].startswith("财政拨款合计 ¥100.00")
    with session_scope() as session:  # the university counts 事业收入 under its 控制数 too
        from hbbudget.models import Org
        org = session.get(Org, w.org["unit"])
        org.control_sources = "财政拨款,事业收入"
        session.add(org)
    control = _rule(rules.check_budget(w.op, bid), "control_number")
    assert not control["ok"] and "超出 ¥900.00" in control["message"]


def test_the_control_number_form_shows_what_the_subtree_submitted(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})  # the college's budget; the university has none of its own
    budgets.add_line(w.op, bid, _source_line("30211", "50", "事业收入"))
    [row] = [r for r in review.control_numbers(w.fin, w.org["city"], YEAR) if r["org_id"] == w.org["unit"]]
    assert row["total"] == 0  # a draft nobody submitted
    review.submit(w.op, bid)
    [row] = [r for r in review.control_numbers(w.fin, w.org["city"], YEAR) if r["org_id"] == w.org["unit"]]
    assert row["total"] == 10000  # the college's 财政拨款, shown on the university's row
