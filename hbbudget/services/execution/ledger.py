"""执行台账 and the line picker of the 待匹配 page, over the user's org scope.

The ledger per line is line_ledger._line_ledger (approved, adjusted, spent, frozen, available, this month's
用款计划, flags); this module checks permission and scope, names the lines and pages the rows."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from sqlalchemy import func
from sqlmodel import select

from hbbudget import clock
from hbbudget.db import session_scope
from hbbudget.models import BankTransaction, Budget, BudgetLine, Expenditure, Org, Project
from hbbudget.services.budgeting import lines
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import facts, line_ledger
from hbbudget.services.execution.line_ledger import LedgerLine
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, text


class LedgerRow(LedgerLine):
    """A ledger line named: its project (code and name empty: 基本支出), economic code and source."""
    project_code: str
    project_name: str
    econ_code: str
    econ_name: str
    source: str


class BudgetLedger(TypedDict):
    budget: dict  # id, org_name, fiscal_year, round
    rows: list[LedgerRow]
    totals: dict[str, int]  # the amounts of the rows summed (fen)


class LineChoice(TypedDict):
    """A line payments may be charged to, with what the picker shows of it (amounts in fen)."""
    id: int
    org_name: str
    project_code: str  # "" : 基本支出
    project_name: str
    econ_code: str
    econ_name: str
    amount: int
    spent: int
    available: int  # amount less what is spent and still frozen on the line's key


def _current(query):
    return query.where(Budget.status == "已批复", Budget.superseded_by_id.is_(None))


def budgets(ctx: UserContext, year: int | None = None) -> list[dict]:
    """Current approved budgets in the user's execution.view scope: id, org_name, fiscal_year, round, total."""
    year = year or clock.today().year
    where = scope.org_condition(ctx, "execution.view", Budget.org_id)
    with session_scope() as session:
        rows = session.exec(_current(select(Budget, Org.name, func.coalesce(func.sum(BudgetLine.amount), 0))
                                     .join(Org, Org.id == Budget.org_id)
                                     .join(BudgetLine, BudgetLine.budget_id == Budget.id, isouter=True)
                                     .where(where, Budget.fiscal_year == year))
                            .group_by(Budget.id, Org.name, Org.path).order_by(Org.path, Budget.seq)).all()
    return [{"id": b.id, "org_name": name, "fiscal_year": b.fiscal_year, "round": b.round, "total": int(total)}
            for b, name, total in rows]


def _ledger_budget(session, ctx: UserContext, budget_id: object) -> tuple[Budget, Org]:
    """A current approved budget the user may see the ledger of (the row first, then its scope, then its state)."""
    budget = session.get(Budget, int_id(budget_id, "预算"))
    org = session.get(Org, budget.org_id) if budget else None
    if budget is None:
        raise NotFound("预算不存在")
    if not ctx.can("execution.view", org.path):
        raise PermissionDenied(f"没有权限：不能查看“{org.name}”的执行台账")
    if budget.status != "已批复" or budget.superseded_by_id is not None:
        raise ValidationError("只有现行已批复预算有执行台账")
    return budget, org


ENTRY_KINDS = {"bank": "银行付款", "manual": "手工支出", "frozen": "冻结"}


class LineEntry(TypedDict):
    """What was charged to a ledger line: a matched payment, a manual entry, a freeze or its release (fen)."""
    id: int
    spent_on: date
    kind: str  # 银行付款 / 手工支出 / 冻结 / 解冻
    amount: int
    counterparty: str  # the payment's 对方户名 ("" for a manual entry)
    remittance: str  # the payment's 用途 / 附言
    note: str
    matched_by: str


def line_entries(ctx: UserContext, budget_id: object, line_id: object, offset: int = 0,
                 limit: int = 50) -> tuple[list[LineEntry], int]:
    """The entries behind one line of the ledger, newest first: everything charged within the fiscal year to a
    line of the same key (project, economic code, function code, source) in the org's approved budgets of the
    year, as the ledger counts it (line_ledger)."""
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        budget, _ = _ledger_budget(session, ctx, budget_id)
        line = session.get(BudgetLine, int_id(line_id, "预算明细"))
        if line is None or line.budget_id != budget.id:
            raise NotFound("预算明细不存在")
        same_key = [row.id for row in session.exec(
            select(BudgetLine).join(Budget, Budget.id == BudgetLine.budget_id)
            .where(Budget.org_id == budget.org_id, Budget.fiscal_year == budget.fiscal_year,
                   Budget.status == "已批复")) if line_ledger.key(row) == line_ledger.key(line)]
        where = (Expenditure.budget_line_id.in_(same_key), Expenditure.spent_on >= date(budget.fiscal_year, 1, 1),
                 Expenditure.spent_on < date(budget.fiscal_year + 1, 1, 1))
        total = session.exec(select(func.count()).select_from(Expenditure).where(*where)).one()
        found = session.exec(select(Expenditure, BankTransaction.counterparty, BankTransaction.remittance)
                             .join(BankTransaction, BankTransaction.id == Expenditure.transaction_id, isouter=True)
                             .where(*where).order_by(Expenditure.spent_on.desc(), Expenditure.id.desc())
                             .offset(offset).limit(limit)).all()
    return [LineEntry(id=e.id, spent_on=e.spent_on,
                      kind="解冻" if e.kind == "frozen" and e.amount < 0 else ENTRY_KINDS.get(e.kind, e.kind),
                      amount=e.amount, counterparty=counterparty or "", remittance=remittance or "", note=e.note,
                      matched_by=e.matched_by) for e, counterparty, remittance in found], total


def budget_ledger(ctx: UserContext, budget_id: object, today: date | None = None) -> BudgetLedger:
    """The 指标 ledger of a current approved budget: a named row per line, and the totals."""
    today = today or clock.today()
    with session_scope() as session:
        budget, org = _ledger_budget(session, ctx, budget_id)
        rows = line_ledger._line_ledger(session, budget, today if today.year == budget.fiscal_year
                                  else date(budget.fiscal_year, 12, 31))
        by_id = {line.id: line for line in session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id))}
        pids = {line.project_id for line in by_id.values() if line.project_id}
        projects = {p.id: p for p in session.exec(select(Project).where(Project.id.in_(pids)))} if pids else {}
        econ, _ = lines.names(session, budget.fiscal_year, {line.econ_code for line in by_id.values()}, set())
    out = []
    for r in rows:
        line = by_id[r["line_id"]]
        p = projects.get(line.project_id or 0)
        out.append(LedgerRow(**r, project_code=p.code if p else "", project_name=p.name if p else "",
                             econ_code=line.econ_code, econ_name=econ.get(line.econ_code, ""), source=line.source))
    keys = ("approved", "current", "adjusted", "spent", "frozen", "available", "month_plan", "month_spent")
    return {"budget": {"id": budget.id, "org_name": org.name, "fiscal_year": budget.fiscal_year, "round": budget.round},
            "rows": out, "totals": {k: sum(r[k] for r in out) for k in keys}}


def line_choices(ctx: UserContext, search: object = "", limit: int = 200, year: object = None) -> list[LineChoice]:
    """Lines of the current approved budgets of a fiscal year (default this year) where the user may charge
    payments (execution.match), with the line's budget and spending so far."""
    search = text(search, "关键字", 40)
    year = clock.today().year if year is None else scope.year(year)
    where = scope.org_condition(ctx, "execution.match", Budget.org_id)
    with session_scope() as session:
        query = _current(select(BudgetLine, Org.name, Project.code, Project.name)
                         .join(Budget, Budget.id == BudgetLine.budget_id).join(Org, Org.id == Budget.org_id)
                         .join(Project, Project.id == BudgetLine.project_id, isouter=True)
                         .where(where, Budget.fiscal_year == year))
        if search:
            query = query.where(Project.name.contains(search) | Project.code.contains(search)
                                | BudgetLine.econ_code.startswith(search) | Org.name.contains(search))
        rows = session.exec(query.order_by(Org.path, BudgetLine.id).limit(max(1, min(int(limit), 200)))).all()
        econ, _ = lines.names(session, year, {r[0].econ_code for r in rows}, set())
        used = {}  # budget id → {line key: spent + frozen}: what is left of each line (可用)
        for budget_id in {line.budget_id for line, *_ in rows}:
            b = session.get(Budget, budget_id)
            used[b.id] = line_ledger.committed(session, b.org_id, b.fiscal_year)
    spent = {f.line_id: sum(f.spent) for f in facts.facts(year).lines}
    return [LineChoice(id=line.id, org_name=org_name, project_code=pcode or "", project_name=pname or "",
                       econ_code=line.econ_code, econ_name=econ.get(line.econ_code, ""), amount=line.amount,
                       spent=spent.get(line.id, 0),
                       available=line.amount - used[line.budget_id].get(line_ledger.key(line), 0))
            for line, org_name, pcode, pname in rows]
