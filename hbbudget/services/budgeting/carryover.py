"""结转: at year end the unspent 指标 of a 延续 project's lines (line − spent − open freezes, from the ledger)
is carried into next year as 结转资金, proposed by the unit and approved (or returned) by the finance bureau of
its review chain. On approval a 结转 budget of the next year (round 结转, 已批复) receives the lines with the
funding source 结转资金. Not to be confused with 按上年预算生成 (templates.carry_forward_*), a copy of last
year's budget as a draft.
"""

from __future__ import annotations

from typing import TypedDict

from sqlmodel import Session, func, select

from hbbudget import clock, money
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, CarryOver, CarryOverLine, Org, Project
from hbbudget.services.budgeting import budgets, flows
from hbbudget.services.budgeting.lines import CARRY_SOURCE, MONTHS
from hbbudget.services.core import audit, notifications
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import line_ledger
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

ROUND = "结转"
OPEN = ("待审核", "已批准")  # proposals whose amounts are taken from a line's unspent 指标


class CarryLine(TypedDict):
    """A line that may be carried: amounts in fen."""
    line_id: int
    project: str  # code and name
    econ_code: str
    func_code: str
    source: str
    amount: int
    committed: int  # spent + open freezes
    proposed: int  # already in open proposals
    unspent: int  # amount − committed − proposed (≥ 0)


def _year_over(year: int) -> bool:
    """结转 happens at year end: the year is over, or its December has begun."""
    today = clock.today()
    return year < today.year or (year == today.year and today.month == 12)


def _carriable(session: Session, budget: Budget) -> list[CarryLine]:
    """The lines of `budget` (a current approved budget) of 延续 projects, with what is still unspent."""
    used = line_ledger.committed(session, budget.org_id, budget.fiscal_year)
    rows = session.exec(select(BudgetLine, Project).join(Project, Project.id == BudgetLine.project_id)
                        .where(BudgetLine.budget_id == budget.id, Project.kind == "延续")
                        .order_by(BudgetLine.id)).all()
    ids = [ln.id for ln, _ in rows]
    proposed = dict(session.exec(
        select(CarryOverLine.line_id, func.sum(CarryOverLine.amount)).join(CarryOver, CarryOver.id == CarryOverLine.carry_id)
        .where(CarryOverLine.line_id.in_(ids), CarryOver.status.in_(OPEN)).group_by(CarryOverLine.line_id)).all()) \
        if ids else {}
    out = []
    for ln, p in rows:
        committed, taken = used.get(line_ledger.key(ln), 0), int(proposed.get(ln.id, 0))
        out.append(CarryLine(line_id=ln.id, project=f"{p.code} {p.name}", econ_code=ln.econ_code,
                             func_code=ln.func_code, source=ln.source, amount=ln.amount, committed=committed,
                             proposed=taken, unspent=max(ln.amount - committed - taken, 0)))
    return out


def _current_budget(session: Session, ctx: UserContext, budget_id: object, permission: str) -> tuple[Budget, Org]:
    budget, org = budgets._load(session, ctx, budget_id, permission)
    if budget.status != "已批复" or budget.superseded_by_id is not None or budget.round == ROUND:
        raise ValidationError("只有现行的已批复预算可以结转")
    return budget, org


def carriable(ctx: UserContext, budget_id: int) -> list[CarryLine]:
    """What the unit may propose from an approved budget: 延续 projects' lines with their unspent 指标."""
    with session_scope() as session:
        budget, _ = _current_budget(session, ctx, budget_id, "budget.view")
        return _carriable(session, budget)


def propose(ctx: UserContext, budget_id: int, amounts: dict, reason: str = "") -> dict:
    """The unit proposes lines and amounts (元 text by line id), each ≤ the line's unspent 指标."""
    reason = scope.text(reason, "结转说明", 500)
    if not isinstance(amounts, dict) or not amounts or len(amounts) > 500:
        raise ValidationError("请选择要结转的预算行并填写金额")
    parsed = {scope.int_id(k, "预算行"): money.parse_yuan(v, "结转金额") for k, v in amounts.items()}
    with session_scope() as session:
        budget, org = _current_budget(session, ctx, budget_id, "budget.edit")
        session.exec(select(Budget.id).where(Budget.id == budget.id).with_for_update()).first()  # one at a time
        if not _year_over(budget.fiscal_year):
            raise ValidationError(f"{budget.fiscal_year} 年度尚未到年末，不能结转")
        lines = {c["line_id"]: c for c in _carriable(session, budget)}
        for line_id, fen in parsed.items():
            if line_id not in lines:
                raise ValidationError("只能结转本预算中延续项目的预算行")
            if fen <= 0:
                raise ValidationError("结转金额须大于零")
            c = lines[line_id]
            if fen > c["unspent"]:
                raise ValidationError(f"{c['project']} {c['econ_code']}：结转 {money.fmt(fen)} 超过未执行指标 "
                                      f"{money.fmt(c['unspent'])}（预算 {money.fmt(c['amount'])}，已支出及冻结 "
                                      f"{money.fmt(c['committed'])}，已申请结转 {money.fmt(c['proposed'])}）")
        finance = flows.review_chain(session, org)[-1]
        carry = CarryOver(org_id=org.id, budget_id=budget.id, to_year=budget.fiscal_year + 1,
                          reviewer_org_id=finance.id, total=sum(parsed.values()), reason=reason,
                          proposed_by=ctx.full_name[:64])
        session.add(carry)
        session.flush()
        session.add_all(CarryOverLine(carry_id=carry.id, line_id=i, amount=f) for i, f in parsed.items())
        audit.record(session, "budget.carryover.propose", actor=ctx, object_type="carryover", object_id=carry.id,
                     org_id=org.id, detail=f"申请结转 {org.name} {budget.fiscal_year} 年度未执行指标 "
                                           f"{money.fmt(carry.total)} 至 {carry.to_year} 年度（{len(parsed)} 行）",
                     after={"budget_id": budget.id, "lines": {str(i): f for i, f in parsed.items()}})
        notifications.notify(session, finance, "budget.review", f"待审核结转：{org.name}",
                             f"{org.name} 申请结转 {money.fmt(carry.total)} 至 {carry.to_year} 年度",
                             object_type="carryover", object_id=carry.id, exact=True)
        return _view(session, carry)


def _view(session: Session, carry: CarryOver) -> dict:
    org = session.get(Org, carry.org_id)
    rows = session.exec(select(CarryOverLine, BudgetLine, Project)
                        .join(BudgetLine, BudgetLine.id == CarryOverLine.line_id)
                        .join(Project, Project.id == BudgetLine.project_id)
                        .where(CarryOverLine.carry_id == carry.id).order_by(CarryOverLine.id)).all()
    budget = session.get(Budget, carry.budget_id)
    return {"id": carry.id, "org_id": org.id, "org_name": org.name, "budget_id": carry.budget_id,
            "from_year": budget.fiscal_year, "to_year": carry.to_year, "status": carry.status, "total": carry.total,
            "reason": carry.reason, "comment": carry.comment, "proposed_by": carry.proposed_by,
            "decided_by": carry.decided_by, "result_budget_id": carry.result_budget_id or 0,
            "created_at": to_local_text(carry.created_at),
            "lines": [{"line_id": ln.id, "project": f"{p.code} {p.name}", "econ_code": ln.econ_code,
                       "func_code": ln.func_code, "amount": cl.amount} for cl, ln, p in rows]}


def _pending(session: Session, ctx: UserContext, carry_id: object) -> tuple[CarryOver, Org]:
    carry = session.exec(select(CarryOver).where(CarryOver.id == scope.int_id(carry_id, "结转申请"))
                         .with_for_update()).first()
    if carry is None:
        raise NotFound("结转申请不存在")
    finance = session.get(Org, carry.reviewer_org_id)
    scope.require_at(ctx, "budget.review", finance)  # the finance bureau itself decides
    if carry.status != "待审核":
        raise ValidationError(f"该结转申请已{carry.status}")
    return carry, session.get(Org, carry.org_id)


def approve(ctx: UserContext, carry_id: int, comment: str = "") -> dict:
    """The finance reviewer approves: a 结转 budget of the next year (已批复) gets the lines as 结转资金. The
    amounts are checked against the ledger again (spending went on while the proposal waited)."""
    comment = scope.text(comment, "审核意见", 500)
    with session_scope() as session:
        carry, org = _pending(session, ctx, carry_id)
        base = session.get(Budget, carry.budget_id)
        carry.status = "审核中"  # leave this proposal out of the open amounts while it is checked again
        session.add(carry)
        session.flush()
        lines = {c["line_id"]: c for c in _carriable(session, base)}
        parts = session.exec(select(CarryOverLine).where(CarryOverLine.carry_id == carry.id)
                             .order_by(CarryOverLine.id)).all()
        for part in parts:
            c = lines.get(part.line_id)
            if c is None or part.amount > c["unspent"]:
                raise ValidationError(f"{c['project'] if c else '预算行'}：未执行指标已不足 {money.fmt(part.amount)}"
                                      f"（现为 {money.fmt(c['unspent'] if c else 0)}），请退回由单位重新申请")
        seq = session.exec(select(func.max(Budget.seq)).where(Budget.org_id == org.id,
                                                              Budget.fiscal_year == carry.to_year)).one()
        target = Budget(org_id=org.id, fiscal_year=carry.to_year, seq=0 if seq is None else seq + 1, round=ROUND,
                        status="已批复", created_by_id=ctx.user_id, last_comment=comment)
        session.add(target)
        session.flush()
        for part in parts:
            src = session.get(BudgetLine, part.line_id)
            session.add(BudgetLine(budget_id=target.id, project_id=src.project_id, econ_code=src.econ_code,
                                   func_code=src.func_code, source=CARRY_SOURCE, amount=part.amount,
                                   note=f"{base.fiscal_year} 年度结转", updated_by_id=ctx.user_id,
                                   updated_by=ctx.full_name[:64], **dict(zip(MONTHS, money.spread(part.amount)))))
        session.flush()
        budgets.save_version(session, ctx, target, "批复", f"结转申请 {carry.id}")
        carry.status, carry.comment, carry.decided_by, carry.decided_at = "已批准", comment, ctx.full_name[:64], now()
        carry.result_budget_id = target.id
        session.add(carry)
        audit.record(session, "budget.carryover.approve", actor=ctx, object_type="carryover", object_id=carry.id,
                     org_id=org.id, detail=f"批准 {org.name} 结转 {money.fmt(carry.total)} 至 {carry.to_year} 年度"
                                           f"（结转预算 {target.id}）；{comment}",
                     after={"budget_id": target.id, "total": carry.total})
        notifications.notify(session, org, "budget.edit", f"结转已批准：{org.name}",
                             f"{money.fmt(carry.total)} 已作为结转资金列入 {carry.to_year} 年度预算",
                             object_type="carryover", object_id=carry.id)
        return _view(session, carry)


def return_carry(ctx: UserContext, carry_id: int, comment: str) -> dict:
    comment = scope.text(comment, "退回意见", 500)
    if not comment:
        raise ValidationError("退回须填写意见")
    with session_scope() as session:
        carry, org = _pending(session, ctx, carry_id)
        carry.status, carry.comment, carry.decided_by, carry.decided_at = "退回", comment, ctx.full_name[:64], now()
        session.add(carry)
        audit.record(session, "budget.carryover.return", actor=ctx, object_type="carryover", object_id=carry.id,
                     org_id=org.id, detail=f"退回 {org.name} 结转申请：{comment}")
        notifications.notify(session, org, "budget.edit", f"结转被退回：{org.name}", comment,
                             object_type="carryover", object_id=carry.id)
        return _view(session, carry)


def list_carries(ctx: UserContext, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """Proposals of the units in the caller's budget.view scope, and those waiting at the caller's finance
    bureau (budget.review granted there), newest first."""
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        reviewer_paths = [g.org_path for g in ctx.grants if "budget.review" in g.permissions]
        at_mine = select(Org.id).where(Org.path.in_(reviewer_paths)) if reviewer_paths else None
        cond = scope.org_condition(ctx, "budget.view", CarryOver.org_id)
        if at_mine is not None:
            cond = cond | CarryOver.reviewer_org_id.in_(at_mine)
        q = select(CarryOver).where(cond)
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        found = session.exec(q.order_by(CarryOver.id.desc()).offset(offset).limit(limit)).all()
        return [_view(session, c) for c in found], int(total)


def get_carry(ctx: UserContext, carry_id: int) -> dict:
    with session_scope() as session:
        carry = session.get(CarryOver, scope.int_id(carry_id, "结转申请"))
        if carry is None:
            raise NotFound("结转申请不存在")
        org, finance = session.get(Org, carry.org_id), session.get(Org, carry.reviewer_org_id)
        if not (ctx.can("budget.view", org.path) or scope.can_at(ctx, "budget.review", finance)):
            raise PermissionDenied(f"没有权限：不能查看“{org.name}”的结转申请")
        return _view(session, carry)


def source_budgets(ctx: UserContext) -> list[dict]:
    """The budgets the caller may carry from: current approved budgets (not a 结转 budget) of orgs where it holds
    budget.edit, of years at their end; newest first, at most 50."""
    with session_scope() as session:
        q = (select(Budget, Org).join(Org, Org.id == Budget.org_id)
             .where(scope.org_condition(ctx, "budget.edit", Budget.org_id), Budget.status == "已批复",
                    Budget.superseded_by_id.is_(None), Budget.round != ROUND)
             .order_by(Budget.fiscal_year.desc(), Org.code, Budget.seq).limit(50))
        return [{"id": b.id, "label": f"{o.name} {b.fiscal_year} 年度预算（{b.round}）"}
                for b, o in session.exec(q).all() if _year_over(b.fiscal_year)]
