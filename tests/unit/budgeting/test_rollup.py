"""The consolidated roll-up: every descendant's current budget by child org, function 类 and economic 类,
with drill-down to the lines, within the caller's scope."""

import pytest

from hbbudget.db import session_scope
from hbbudget.models import Org
from hbbudget.services.budgeting import budgets, review, rollup
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, add_user, budget_with, line, world


def _code(org_id: int) -> str:
    with session_scope() as session:
        return session.get(Org, org_id).code


def _setup(w):
    d = budget_with(w, {"30101": "1000", "30201": "200"})
    u = budget_with(w, {"30201": "50"}, user=add_user("uop", "operator", w.org["unit"], subtree=False), org_key="unit")
    o = budget_with(w, {"30101": "300"}, user=w.other, org_key="other")
    budgets.add_line(w.other, o, line("31002", "100", func="2100201"))
    return d, u, o


def test_roll_up_by_org_function_and_economic_class(db):
    w = world()
    _setup(w)
    by_org = rollup.consolidated(w.fin, w.org["city"], YEAR, "org")
    assert [(r["name"], r["total"], r["count"]) for r in by_org["rows"]] == [
        ("另一单位", 40000, 2), ("示范大学", 125000, 3)]
    assert (by_org["total"], by_org["units"]) == (165000, 3)
    # issue 11 item 18: each row has its org's code and the number of units it holds; they add up to the header
    assert [r["code"] for r in by_org["rows"]] == [_code(w.org["other"]), _code(w.org["unit"])]
    assert [r["units"] for r in by_org["rows"]] == [1, 2] and sum(r["units"] for r in by_org["rows"]) == 3
    assert [(r["key"], r["total"]) for r in rollup.consolidated(w.fin, w.org["city"], YEAR, "function")["rows"]] == \
        [("205", 155000), ("210", 10000)]
    econ = rollup.consolidated(w.fin, w.org["city"], YEAR, "economic")["rows"]
    assert [(r["key"], r["name"], r["total"]) for r in econ] == [
        ("301", "工资福利支出", 130000), ("302", "商品和服务支出", 25000), ("310", "资本性支出", 10000)]
    unit = rollup.consolidated(w.head, w.org["unit"], YEAR, "org")["rows"]
    assert [(r["name"], r["total"]) for r in unit] == [("示范大学（本级）", 5000), ("信息学院", 120000)]


def test_drill_down_to_lines(db):
    w = world()
    _setup(w)
    rows, total = rollup.consolidated_lines(w.fin, w.org["city"], YEAR, econ_class="302")
    assert total == 2 and {(r["org_name"], r["amount"]) for r in rows} == {("信息学院", 20000), ("示范大学", 5000)}
    rows, total = rollup.consolidated_lines(w.fin, w.org["city"], YEAR, child_org_id=w.org["other"], func_class="210")
    assert (total, rows[0]["econ_code"]) == (1, "31002")
    rows, total = rollup.consolidated_lines(w.head, w.org["unit"], YEAR, child_org_id=w.org["unit"])
    assert (total, rows[0]["org_name"]) == (1, "示范大学")
    with pytest.raises(ValidationError, match="不在本单位之下"):
        rollup.consolidated_lines(w.fin, w.org["unit"], YEAR, child_org_id=w.org["other"])


def test_subordinates_show_status_totals_and_control_numbers(db):
    w = world()
    d, _, o = _setup(w)
    review.submit(w.op, d)
    review.issue_control_numbers(w.fin, w.org["city"], YEAR, {w.org["other"]: "200"})
    rows, total = rollup.subordinates(w.fin, w.org["city"], YEAR)
    assert total == 3
    got = {r["org_name"]: (r["status"], r["round"], r["total"], r["control"], r["over_control"]) for r in rows}
    assert got == {"示范大学": ("草稿", "一上", 5000, 0, False), "信息学院": ("审核中", "一上", 120000, 0, False),
                   "另一单位": ("草稿", "二上", 40000, 20000, True)}


def test_roll_up_respects_scope(db):
    w = world()
    _setup(w)
    with pytest.raises(PermissionDenied):
        rollup.consolidated(w.head, w.org["city"], YEAR)
    with pytest.raises(PermissionDenied):
        rollup.consolidated_lines(w.op, w.org["unit"], YEAR)
    # the operator sees only the own org: no subordinates
    assert rollup.subordinates(w.op, w.org["dept"], YEAR) == ([], 0)
    assert rollup.consolidated(w.op, w.org["dept"], YEAR)["total"] == 120000
