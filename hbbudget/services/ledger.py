"""The 指标 ledger per budget line: approved, adjusted, spent, frozen, available, and this month's plan.

A line is identified across 调整/调剂 versions by its key (project, economic code, function code, source),
so money charged to a line of an earlier version still counts against the current one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case
from sqlmodel import Session, func, select

from ..models import Budget, BudgetLine, Expenditure

MONTHS = [f"m{i:02d}" for i in range(1, 13)]


def _key(line: BudgetLine) -> tuple:
    return (line.project_id or 0, line.econ_code, line.func_code, line.source)


def line_ledger(session: Session, budget: Budget, today: date) -> list[dict]:
    """One row per line of `budget` (a current approved budget): amounts in fen, flags for overspending."""
    year_budgets = session.exec(select(Budget).where(Budget.org_id == budget.org_id,
                                                     Budget.fiscal_year == budget.fiscal_year,
                                                     Budget.status == "已批复")).all()
    ids = [b.id for b in year_budgets]
    original = next((b for b in sorted(year_budgets, key=lambda b: b.id) if b.round == "二下"), budget)
    approved = {_key(l): l.amount for l in session.exec(select(BudgetLine).where(BudgetLine.budget_id == original.id))}
    key_of = {l.id: _key(l) for l in session.exec(select(BudgetLine).where(BudgetLine.budget_id.in_(ids)))}
    spent: dict[tuple, dict[str, int]] = {}
    month_start = today.replace(day=1)
    in_month = case((Expenditure.spent_on >= month_start, Expenditure.amount), else_=0)
    rows = session.exec(select(Expenditure.budget_line_id, Expenditure.kind, func.sum(Expenditure.amount),
                               func.sum(in_month))
                        .where(Expenditure.budget_line_id.in_(list(key_of)))
                        .group_by(Expenditure.budget_line_id, Expenditure.kind)).all()
    for line_id, kind, amount, month_amount in rows:
        bucket = spent.setdefault(key_of[line_id], {"spent": 0, "frozen": 0, "month": 0})
        if kind == "frozen":
            bucket["frozen"] += int(amount)
        else:
            bucket["spent"] += int(amount)
            bucket["month"] += int(month_amount)
    result = []
    for line in session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id).order_by(BudgetLine.id)):
        key = _key(line)
        s = spent.get(key, {"spent": 0, "frozen": 0, "month": 0})
        plan_to_date = sum(getattr(line, m) for m in MONTHS[:today.month])
        spent_before = s["spent"] - s["month"]
        result.append({
            "line_id": line.id, "approved": approved.get(key, 0), "current": line.amount,
            "adjusted": line.amount - approved.get(key, 0), "spent": s["spent"], "frozen": s["frozen"],
            "available": line.amount - s["spent"] - s["frozen"], "month_plan": getattr(line, MONTHS[today.month - 1]),
            "month_spent": s["month"], "over_available": s["spent"] + s["frozen"] > line.amount,
            "over_plan": spent_before + s["month"] > plan_to_date,
        })
    return result
