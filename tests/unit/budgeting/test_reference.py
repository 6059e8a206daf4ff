"""The per-process cache of subjects and rules (services/budgeting/reference.py): a committed change applies at the
next read, a rolled-back one never reaches the cache, and a warm edit reads no subject or rule rows."""

import pytest
from sqlalchemy import event
from sqlmodel import select

from hbbudget.db import get_engine, session_scope
from hbbudget.models import EconomicSubject
from hbbudget.services.budgeting import budgets, lines, rules
from tests.budget_world import YEAR, budget_with, world


def _name(code: str) -> str:
    with session_scope() as session:
        return lines.names(session, YEAR, {code}, set())[0][code]


def _rename(session, code: str, name: str) -> None:
    s = session.exec(select(EconomicSubject).where(EconomicSubject.fiscal_year == YEAR,
                                                   EconomicSubject.kind == "dept", EconomicSubject.code == code)).one()
    s.name = name
    session.add(s)


def test_a_committed_subject_change_applies_at_the_next_read(db):
    world()
    before = _name("30201")
    with session_scope() as session:
        _rename(session, "30201", "办公费（新）")
    assert before != "办公费（新）" and _name("30201") == "办公费（新）"
    with session_scope() as session:
        s = session.exec(select(EconomicSubject).where(EconomicSubject.fiscal_year == YEAR,
                                                       EconomicSubject.code == "30201")).one()
        s.active = False
        session.add(s)
    with session_scope() as session:
        assert "已停用" in lines.econ_problem(session, YEAR, "30201")


def test_a_rolled_back_change_is_never_cached(db):
    world()
    before = _name("30201")
    with pytest.raises(RuntimeError), session_scope() as session:
        _rename(session, "30201", "未提交的名称")
        session.flush()
        assert lines.names(session, YEAR, {"30201"}, set())[0]["30201"] == "未提交的名称"  # its own change
        raise RuntimeError("roll back")
    with session_scope() as session:  # the version number the rolled-back change had reached, now committed
        _rename(session, "30201", "已提交的名称")
    assert before != "已提交的名称" and _name("30201") == "已提交的名称"


def test_a_new_rule_applies_at_the_next_edit(db):
    w = world()
    bid = budget_with(w, {"30101": "600", "30201": "400"})
    assert not any(r["kind"] == "share_cap" for r in budgets.fetch_lines(w.op, bid)["rules"])
    rules.create_rule(w.fin, w.org["city"], YEAR, "share_cap", "warning", {"subject": "302", "max_percent": "30"})
    share = [r for r in budgets.fetch_lines(w.op, bid)["rules"] if r["kind"] == "share_cap"]
    assert len(share) == 1 and not share[0]["ok"]


def test_a_warm_edit_reads_no_subject_or_rule_rows(db):
    w = world()
    bid = budget_with(w, {"30101": "600", "30201": "400"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    budgets.update_line(w.op, row["id"], {"amount": "601"}, row["version"])  # warms the caches
    seen: list[str] = []
    listener = lambda conn, cursor, statement, *a: seen.append(statement.lower())  # noqa: E731
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        row = budgets.fetch_lines(w.op, bid)["rows"][0]
        seen.clear()
        out = budgets.update_line(w.op, row["id"], {"amount": "602"}, row["version"])
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    assert out["row"]["econ_name"] and out["rules"]
    tables = ("economicsubject", "functionsubject", "from rule")
    assert seen and not [s for s in seen if any(t in s for t in tables)], seen
    assert any("dataversion" in s for s in seen)  # the one read that keeps the cache honest
