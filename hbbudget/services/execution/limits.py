"""Spending limits: a manual expenditure, a freeze or a bank payment matched to a line must fit the line's
available amount (amount − spent − frozen, by key over the year's versions) and, for payments, the line's
用款计划 up to the month of the payment (plan unused in earlier months may be used later in the year).

What happens beyond a limit is set per org (Org.limit_manual / limit_freeze / limit_bank, inherited down the
tree; services.core.orgs.effective_thresholds): "refuse" (default for manual expenditures and freezes) or
"alert" (default for bank payments, which have already happened): the charge is made and an over_limit
warning is raised in the 预警中心 for a person to act on."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, func, select

from hbbudget import money, routes
from hbbudget.clock import now
from hbbudget.models import Budget, BudgetLine, ExecAlert, Expenditure, Org
from hbbudget.models.budget import MONTHS
from hbbudget.services.core import orgs
from hbbudget.services.errors import ValidationError
from hbbudget.services.execution import line_ledger

MODES = {"refuse": "超出则拒绝", "alert": "允许并预警"}
KIND_LABEL = {"manual": "手工支出", "frozen": "冻结", "bank": "银行付款"}
_SETTING = {"manual": "limit_manual", "frozen": "limit_freeze", "bank": "limit_bank"}


def problems(session: Session, line: BudgetLine, budget: Budget, amount: int, day: date, kind: str,
             pending: int = 0) -> list[str]:
    """Why charging `amount` (plus `pending` already being charged to the same line in this request) to `line`
    on `day` goes beyond its limits; [] when it fits."""
    key = line_ledger.key(line)
    lines = {row.id for row in session.exec(select(BudgetLine).join(Budget, Budget.id == BudgetLine.budget_id).where(
        Budget.org_id == budget.org_id, Budget.fiscal_year == budget.fiscal_year, Budget.status == "已批复"))
        if line_ledger.key(row) == key}
    used = line_ledger.committed(session, budget.org_id, budget.fiscal_year).get(key, 0) + pending
    out = []
    available = line.amount - used
    if amount > available:
        out.append(f"可用指标 {money.fmt(available)}，本次 {money.fmt(amount)}，超出 {money.fmt(amount - available)}")
    if kind != "frozen":  # a freeze commits money; the plan is about payments
        month_end = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        paid = int(session.exec(select(func.coalesce(func.sum(Expenditure.amount), 0)).where(
            Expenditure.budget_line_id.in_(lines), Expenditure.kind != "frozen",
            Expenditure.spent_on >= date(budget.fiscal_year, 1, 1), Expenditure.spent_on < month_end)).one()) + pending
        plan = sum(getattr(line, m) for m in MONTHS[:day.month])
        if paid + amount > plan:
            out.append(f"截至 {day.month} 月用款计划 {money.fmt(plan)}，已支付 {money.fmt(paid)}，本次 {money.fmt(amount)}，"
                       f"超出 {money.fmt(paid + amount - plan)}")
    return out


def mode(session: Session, org: Org, kind: str) -> str:
    return orgs.effective_thresholds(session, org)[_SETTING[kind]]


def check(session: Session, line: BudgetLine, budget: Budget, org: Org, amount: int, day: date, kind: str,
          pending: int = 0) -> list[str]:
    """Refuse (ValidationError) when beyond a limit and the org refuses; else the problems to raise as a
    warning with `warn` after the charge ([] when it fits)."""
    found = problems(session, line, budget, amount, day, kind, pending)
    if found and mode(session, org, kind) == "refuse":
        raise ValidationError(f"{KIND_LABEL[kind]}超出预算明细的限额，不能登记：" + "；".join(found))
    return found


def warn(session: Session, org: Org, line: BudgetLine, subject_type: str, subject_id: int, kind: str,
         found: list[str], project_id: int | None) -> None:
    """An over_limit warning for a charge made beyond a limit (allowed by the org's setting)."""
    stamp = now()
    session.add(ExecAlert(org_id=org.id, kind="over_limit", subject_type=subject_type, subject_id=subject_id,
                          project_id=project_id, period=stamp.strftime("%Y-%m-%d"),
                          dedupe_key=f"over_limit:{subject_type}:{subject_id}:{line.id}"[:80],
                          title=f"{org.name}：{KIND_LABEL[kind]}超出预算明细限额（明细 {line.id}）"[:200],
                          detail="；".join(found)[:500], link=routes.ledger(line.budget_id)[:120],
                          raised_at=stamp, updated_at=stamp))
