"""The 指标 ledger per budget line: approved, adjusted, spent, frozen, available, and this month's plan.

Counted within the budget's fiscal year (as services.exec_facts). Flags: over_available (spent + frozen beyond
the line), over_plan (spent up to the end of this month beyond the plan to date), over_month_plan (this month's
spending beyond this month's plan). Frozen = open freezes (releases are negative frozen rows).

A line is identified across 调整/调剂 versions by its key (project, economic code, function code, source),
so money charged to a line of an earlier version still counts against the current one.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from sqlalchemy import and_, case
from sqlmodel import Session, func, select

from hbbudget.models import Budget, BudgetLine, Expenditure

MONTHS = [f"m{i:02d}" for i in range(1, 13)]


def key(line: BudgetLine) -> tuple:
    return (line.project_id or 0, line.econ_code, line.func_code, line.source)


def committed(session: Session, org_id: int, year: int) -> dict[tuple, int]:
    """Spent + still frozen per line key in the org's approved budgets of `year` (money a 调整/调剂 may not take
    away: services.budgeting.rules, not_below_committed)."""
    key_of = {row.id: key(row) for row in session.exec(
        select(BudgetLine).join(Budget, Budget.id == BudgetLine.budget_id)
        .where(Budget.org_id == org_id, Budget.fiscal_year == year, Budget.status == "已批复"))}
    if not key_of:
        return {}
    out: dict[tuple, int] = {}
    for line_id, amount in session.exec(
            select(Expenditure.budget_line_id, func.sum(Expenditure.amount))
            .where(Expenditure.budget_line_id.in_(list(key_of)), Expenditure.spent_on >= date(year, 1, 1),
                   Expenditure.spent_on < date(year + 1, 1, 1))
            .group_by(Expenditure.budget_line_id)).all():
        out[key_of[line_id]] = out.get(key_of[line_id], 0) + int(amount or 0)
    return out


class LedgerLine(TypedDict):
    """One line's 指标 ledger: amounts in fen and the overspending flags."""
    line_id: int
    approved: int  # in the 二下 budget of the year (0: added by an adjustment)
    current: int
    adjusted: int  # current - approved
    spent: int
    frozen: int
    available: int  # current - spent - frozen
    month_plan: int
    month_spent: int
    over_available: bool
    over_plan: bool
    over_month_plan: bool


def _line_ledger(session: Session, budget: Budget, today: date) -> list[LedgerLine]:
    """One row per line of `budget` (a current approved budget): amounts in fen, flags for overspending."""
    year_budgets = session.exec(select(Budget).where(Budget.org_id == budget.org_id,
                                                     Budget.fiscal_year == budget.fiscal_year,
                                                     Budget.status == "已批复")).all()
    ids = [b.id for b in year_budgets]
    original = next((b for b in sorted(year_budgets, key=lambda b: b.id) if b.round == "二下"), budget)
    approved = {key(row): row.amount for row in session.exec(select(BudgetLine).where(BudgetLine.budget_id == original.id))}
    key_of = {row.id: key(row) for row in session.exec(select(BudgetLine).where(BudgetLine.budget_id.in_(ids)))}
    spent: dict[tuple, dict[str, int]] = {}
    # the fiscal year only, as the dashboard and the warnings count it (services.exec_facts)
    year_start, year_end = date(budget.fiscal_year, 1, 1), date(budget.fiscal_year + 1, 1, 1)
    month_start = today.replace(day=1)
    month_end = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    in_month = case((and_(Expenditure.spent_on >= month_start, Expenditure.spent_on < month_end),
                     Expenditure.amount), else_=0)
    to_date = case((Expenditure.spent_on < month_end, Expenditure.amount), else_=0)
    rows = session.exec(select(Expenditure.budget_line_id, Expenditure.kind, func.sum(Expenditure.amount),
                               func.sum(in_month), func.sum(to_date))
                        .where(Expenditure.budget_line_id.in_(list(key_of)), Expenditure.spent_on >= year_start,
                               Expenditure.spent_on < year_end)
                        .group_by(Expenditure.budget_line_id, Expenditure.kind)).all()
    for line_id, kind, amount, month_amount, to_date_amount in rows:
        bucket = spent.setdefault(key_of[line_id], {"spent": 0, "frozen": 0, "month": 0, "to_date": 0})
        if kind == "frozen":  # freezes less their releases: what is still frozen
            bucket["frozen"] += int(amount)
        else:
            bucket["spent"] += int(amount)
            bucket["month"] += int(month_amount)
            bucket["to_date"] += int(to_date_amount)
    result = []
    for line in session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id).order_by(BudgetLine.id)):
        k = key(line)
        s = spent.get(k, {"spent": 0, "frozen": 0, "month": 0, "to_date": 0})
        plan_to_date = sum(getattr(line, m) for m in MONTHS[:today.month])
        month_plan = getattr(line, MONTHS[today.month - 1])
        result.append(LedgerLine(
            line_id=line.id, approved=approved.get(k, 0), current=line.amount,
            adjusted=line.amount - approved.get(k, 0), spent=s["spent"], frozen=s["frozen"],
            available=line.amount - s["spent"] - s["frozen"], month_plan=month_plan,
            month_spent=s["month"], over_available=s["spent"] + s["frozen"] > line.amount,
            over_plan=s["to_date"] > plan_to_date, over_month_plan=s["month"] > month_plan,
        ))
    return result
