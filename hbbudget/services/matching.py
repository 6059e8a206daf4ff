"""Matching bank payments to budget lines: automatic by rules, the rest by hand (split across lines).

Automatic, in order: a project code in the remittance text; else, when the text names no project of the
account org's subtree, the org's 对方户名 → 项目 rule (`counterparty_rules`: active, not 冲突, the project still
in that subtree). Either way the payment is charged only when the project has exactly one line in its org's
current approved budget; otherwise it waits in the 待匹配 queue. A manual match that completes a payment on lines
of one project teaches the counterparty's rule (created as 学习, or marked 冲突 when a learned rule names another
project; 手工 rules are left alone). Manual entries (payments outside the bank feed) go through `record_manual`.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import update
from sqlmodel import Session, func, select

from .. import money
from ..clock import current_fiscal_year, to_local_text
from ..db import session_scope
from ..models import BankTransaction, Budget, BudgetLine, CounterpartyRule, Expenditure, Org, Project
from . import audit, counterparty_rules, data_version
from .errors import NotFound, PermissionDenied, ValidationError
from .orgs import scope_filter
from .permissions import UserContext

TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,31}")


def current_budget_ids(session: Session, org_ids: list[int], year: int) -> list[int]:
    """The approved, not superseded budgets of these orgs for the year."""
    if not org_ids:
        return []
    return list(session.exec(select(Budget.id).where(Budget.org_id.in_(org_ids), Budget.fiscal_year == year,
                                                     Budget.status == "已批复", Budget.superseded_by_id.is_(None))))


def _only_line(session: Session, project: Project, year: int) -> BudgetLine | None:
    budgets = current_budget_ids(session, [project.org_id], year)
    if not budgets:
        return None
    lines = session.exec(select(BudgetLine).where(BudgetLine.budget_id.in_(budgets),
                                                  BudgetLine.project_id == project.id)).all()
    return lines[0] if len(lines) == 1 else None


def auto_match(session: Session, transaction_ids: list[int] | tuple[int, ...]) -> int:
    """Charge what the rules can place; returns how many payments were matched (caller's transaction)."""
    matched = 0
    txs = [session.get(BankTransaction, i) for i in transaction_ids]
    txs = [t for t in txs if t and t.match_status == "待匹配" and t.status == "BOOK" and t.amount < 0]
    if not txs:
        return 0
    org_paths = {o.id: o.path for o in session.exec(select(Org).where(Org.id.in_({t.org_id for t in txs})))}
    rules = counterparty_rules.lookup(session, txs)
    hits: dict[int, int] = {}
    only: dict[tuple[int, int], BudgetLine | None] = {}
    for tx in txs:
        scope = scope_filter([(org_paths[tx.org_id], True)])
        tokens = set(TOKEN.findall(tx.remittance))
        project, rule = None, None
        if tokens:
            project = session.exec(select(Project).join(Org, Org.id == Project.org_id)
                                   .where(scope, Project.code.in_(tokens))).first()
        if project is not None:
            how = f"自动:项目编码 {project.code}"
        else:  # no project named: the counterparty's rule, if its project is still in the subtree
            rule, project, path = rules.get((tx.org_id, counterparty_rules.key(tx.counterparty)), (None, None, ""))
            if rule is None or not path.startswith(org_paths[tx.org_id]):
                continue
            how = f"自动:对方户名 {rule.counterparty}"[:64]
        year = tx.booking_date.year if tx.booking_date else current_fiscal_year()
        if (project.id, year) not in only:
            only[(project.id, year)] = _only_line(session, project, year)
        line = only[(project.id, year)]
        if line is None:
            continue
        session.add(Expenditure(budget_line_id=line.id, transaction_id=tx.id, org_id=project.org_id,
                                amount=-tx.amount, spent_on=tx.booking_date or date.today(), kind="bank",
                                matched_by=how))
        tx.match_status = "已匹配"
        session.add(tx)
        matched += 1
        if rule is not None:
            hits[rule.id] = hits.get(rule.id, 0) + 1
    for rule_id, n in hits.items():
        session.execute(update(CounterpartyRule).where(CounterpartyRule.id == rule_id)
                        .values(hits=CounterpartyRule.hits + n))
    return matched


def unmatched(ctx: UserContext, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """The 待匹配 queue of the orgs where the user may match payments."""
    paths = ctx.scope_paths("execution.match")
    if not paths:
        raise PermissionDenied("没有权限：匹配支出")
    limit, offset = max(1, min(int(limit), 200)), max(0, int(offset))
    query = (select(BankTransaction, Org.name).join(Org, Org.id == BankTransaction.org_id)
             .where(scope_filter(paths), BankTransaction.match_status.in_(("待匹配", "部分匹配"))))
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(BankTransaction.booking_date, BankTransaction.id)
                            .offset(offset).limit(limit)).all()
    return [{"id": t.id, "org_name": name, "booking_date": t.booking_date.isoformat() if t.booking_date else "",
             "amount": money.fmt(-t.amount), "counterparty": t.counterparty, "remittance": t.remittance,
             "status": t.match_status, "created_at": to_local_text(t.created_at)} for t, name in rows], total


def _line_in_scope(session: Session, ctx: UserContext, line_id: int) -> tuple[BudgetLine, Budget, Org]:
    line = session.get(BudgetLine, line_id)
    budget = session.get(Budget, line.budget_id) if line else None
    if line is None or budget is None:
        raise NotFound("预算明细不存在")
    org = session.get(Org, budget.org_id)
    if not ctx.can("execution.match", org.path):
        raise PermissionDenied(f"没有权限：不能在{org.name}的预算上记支出")
    if budget.status != "已批复" or budget.superseded_by_id is not None:
        raise ValidationError("只能在现行已批复预算的明细上记支出")
    return line, budget, org


def match(ctx: UserContext, transaction_id: int, splits: list[tuple[int, str]]) -> dict:
    """Charge one payment to one or more budget lines; the parts may not exceed the payment."""
    if not isinstance(splits, list) or not splits or len(splits) > 20:
        raise ValidationError("请填写 1 到 20 个拆分明细")
    with session_scope() as session:
        tx = session.get(BankTransaction, int(transaction_id))
        if tx is None:
            raise NotFound("交易不存在")
        tx_org = session.get(Org, tx.org_id)
        if not ctx.can("execution.match", tx_org.path):
            raise PermissionDenied(f"没有权限：不能匹配{tx_org.name}的交易")
        if tx.match_status not in ("待匹配", "部分匹配") or tx.amount >= 0:
            raise ValidationError(f"该交易当前状态为“{tx.match_status}”，不能匹配")
        already = session.exec(select(func.coalesce(func.sum(Expenditure.amount), 0))
                               .where(Expenditure.transaction_id == tx.id)).one()
        parts = []
        for line_id, amount_text in splits:
            line, _, org = _line_in_scope(session, ctx, int(line_id))
            parts.append((line, org, money.parse_yuan(amount_text)))
        total = sum(a for _, _, a in parts) + already
        if total > -tx.amount:
            raise ValidationError(f"拆分合计 {money.fmt(total)} 超过交易金额 {money.fmt(-tx.amount)}")
        for line, org, amount in parts:
            session.add(Expenditure(budget_line_id=line.id, transaction_id=tx.id, org_id=org.id, amount=amount,
                                    spent_on=tx.booking_date or date.today(), kind="bank", matched_by=ctx.full_name))
        tx.match_status = "已匹配" if total == -tx.amount else "部分匹配"
        session.add(tx)
        data_version.bump(session)
        audit.record(session, "execution.match", actor=ctx, object_type="bank_transaction", object_id=tx.id,
                     org_id=tx.org_id, after={"lines": [[line.id, a] for line, _, a in parts],
                                              "status": tx.match_status})
        rule = counterparty_rules.learn(session, ctx, tx, tx_org) if tx.match_status == "已匹配" else ""
        return {"id": tx.id, "status": tx.match_status, "rule": rule}


def record_manual(ctx: UserContext, line_id: int, amount_text: str, spent_on: date, note: str,
                  kind: str = "manual") -> int:
    """A payment outside the bank feed (kind manual) or money committed but not yet paid (kind frozen)."""
    if kind not in ("manual", "frozen"):
        raise ValidationError("类型必须为手工支出或冻结")
    if not isinstance(spent_on, date):
        raise ValidationError("日期无效")
    with session_scope() as session:
        line, _, org = _line_in_scope(session, ctx, int(line_id))
        amount = money.parse_yuan(amount_text)
        spent = Expenditure(budget_line_id=line.id, org_id=org.id, amount=amount, spent_on=spent_on, kind=kind,
                            note=str(note or "")[:200], matched_by=ctx.full_name)
        session.add(spent)
        session.flush()
        data_version.bump(session)
        audit.record(session, f"execution.{kind}", actor=ctx, object_type="expenditure", object_id=spent.id,
                     org_id=org.id, after={"line": line.id, "amount": amount, "note": spent.note})
        return spent.id
