"""结转 (issue 11 item 7): unspent 指标 of 延续 projects carried into next year as 结转资金, proposed by the unit,
approved or returned by the finance bureau; amounts from the ledger, refused beyond them."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget import clock
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Budget, BudgetLine, Expenditure, Project
from hbbudget.services.budgeting import budgets, carryover
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import line_ledger
from tests.budget_world import world
from tests.factories import approved_budget


def _project(org_id: int, code: str, kind: str) -> int:
    year = clock.today().year - 1
    with session_scope() as session:
        p = Project(code=code, name=f"{kind}项目", org_id=org_id, category="3", kind=kind, start_year=year,
                    end_year=year + 2, status="执行中")
        session.add(p)
        session.flush()
        return p.id


def _spend(line_id: int, org_id: int, fen: int, kind: str = "manual") -> None:
    with session_scope() as session:
        session.add(Expenditure(budget_line_id=line_id, org_id=org_id, amount=fen, kind=kind,
                                spent_on=date(clock.today().year - 1, 6, 1)))


@pytest.fixture
def setup(db):
    """Last year's approved budget of the college: a 延续 line of 100 元 (60 spent, 10 frozen), a 新增 line."""
    w = world()
    dept = w.org["dept"]
    cont, new = _project(dept, "P-CONT", "延续"), _project(dept, "P-NEW", "新增")
    bid, (line, other) = approved_budget(dept, [(cont, "30201", 10_000), (new, "30211", 5_000)],
                                         clock.today().year - 1)
    _spend(line, dept, 6_000)
    _spend(line, dept, 1_000, kind="frozen")
    return w, bid, line, other


def test_only_unspent_money_of_continuing_projects_can_be_proposed(setup):
    w, bid, line, other = setup
    rows = carryover.carriable(w.op, bid)
    assert [(r["line_id"], r["amount"], r["committed"], r["unspent"]) for r in rows] == [(line, 10_000, 7_000, 3_000)]
    with pytest.raises(ValidationError, match="超过未执行指标"):
        carryover.propose(w.op, bid, {line: "30.01"})
    with pytest.raises(ValidationError, match="延续项目"):
        carryover.propose(w.op, bid, {other: "10"})
    with pytest.raises(ValidationError, match="大于零"):
        carryover.propose(w.op, bid, {line: "0"})
    with session_scope() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.event_type.like("budget.carryover%"))).all() == []
    c = carryover.propose(w.op, bid, {line: "20"}, "设备尾款")
    assert (c["status"], c["total"], c["to_year"]) == ("待审核", 2_000, clock.today().year)
    # what is proposed is taken from the unspent amount: a second proposal can have only the rest
    assert carryover.carriable(w.op, bid)[0]["unspent"] == 1_000
    with pytest.raises(ValidationError, match="超过未执行指标"):
        carryover.propose(w.op, bid, {line: "10.01"})


def test_the_finance_reviewer_approves_into_next_years_budget_as_carried_funds(setup):
    w, bid, line, _ = setup
    c = carryover.propose(w.op, bid, {line: "30"})
    with pytest.raises(PermissionDenied):
        carryover.approve(w.head, c["id"])  # the university is not the finance bureau
    with pytest.raises(PermissionDenied):
        carryover.approve(w.op, c["id"])
    done = carryover.approve(w.fin, c["id"], "同意结转")
    assert done["status"] == "已批准" and done["result_budget_id"]
    with session_scope() as session:
        target = session.get(Budget, done["result_budget_id"])
        lines = session.exec(select(BudgetLine).where(BudgetLine.budget_id == target.id)).all()
        assert (target.fiscal_year, target.round, target.status) == (clock.today().year, "结转", "已批复")
        assert [(ln.source, ln.amount, ln.econ_code, sum(getattr(ln, f"m{i:02d}") for i in range(1, 13)))
                for ln in lines] == [("结转资金", 3_000, "30201", 3_000)]
        # next year's ledger has the carried money to spend
        ledger = line_ledger._line_ledger(session, target, clock.today())
        assert [(r["current"], r["available"]) for r in ledger] == [(3_000, 3_000)]
        events = session.exec(select(AuditEntry.event_type).where(AuditEntry.object_type == "carryover")
                              .order_by(AuditEntry.id)).all()
    assert events == ["budget.carryover.propose", "budget.carryover.approve"]
    assert carryover.carriable(w.op, bid)[0]["unspent"] == 0
    with pytest.raises(ValidationError, match="已已批准|已批准"):
        carryover.approve(w.fin, c["id"])


def test_spending_while_waiting_blocks_the_approval_and_a_return_frees_the_amount(setup):
    w, bid, line, _ = setup
    c = carryover.propose(w.op, bid, {line: "30"})
    _spend(line, w.org["dept"], 500)  # a late payment of last year
    with pytest.raises(ValidationError, match="未执行指标已不足"):
        carryover.approve(w.fin, c["id"])
    with pytest.raises(ValidationError, match="须填写意见"):
        carryover.return_carry(w.fin, c["id"], " ")
    back = carryover.return_carry(w.fin, c["id"], "金额有误，请重新申请")
    assert back["status"] == "退回"
    assert carryover.carriable(w.op, bid)[0]["unspent"] == 2_500
    with pytest.raises(ValidationError, match="已退回"):
        carryover.approve(w.fin, c["id"])


def test_carried_funds_cannot_be_typed_into_a_budget(setup):
    w, *_ = setup
    b = budgets.create_budget(w.op, w.org["dept"], clock.today().year + 1)
    with pytest.raises(ValidationError, match="结转资金由结转审批生成"):
        budgets.add_line(w.op, b["id"], {"econ_code": "30201", "func_code": "2050205", "amount": "1",
                                         "source": "结转资金"})


def test_another_unit_cannot_propose_or_see(setup):
    w, bid, line, _ = setup
    with pytest.raises(PermissionDenied):
        carryover.propose(w.other, bid, {line: "1"})
    with pytest.raises(PermissionDenied):
        carryover.carriable(w.other, bid)
    c = carryover.propose(w.op, bid, {line: "1"})
    with pytest.raises(PermissionDenied):
        carryover.get_carry(w.other, c["id"])
    assert carryover.list_carries(w.other) == ([], 0)
    assert carryover.list_carries(w.fin)[1] == 1 and carryover.list_carries(w.op)[1] == 1
