"""Matching bank payments to budget lines: automatic by rules, the rest by hand (split across lines).

Automatic, in order: a project code in the remittance text; else, when the text names no project of the
account org's subtree, the org's 对方户名 → 项目 rule (`counterparty_rules`: active, not 冲突, the project still
in that subtree). Either way the payment is charged only when the project has exactly one line in its org's
current approved budget; otherwise it waits in the 待匹配 queue. A manual match that completes a payment on lines
of one project teaches the counterparty's rule (created as 学习, or marked 冲突 when a learned rule names another
project; 手工 rules are left alone). Manual entries (payments outside the bank feed) go through `record_manual`.

Frozen money (冻结: committed, not yet paid) is an expenditure of kind frozen; a release is a frozen row with a
negative amount and `freeze_id` = the freeze, so the ledger's frozen = open freezes only. A freeze is released
by hand (`release_freeze`, 解冻) or consumed by a manual match that names it (by the matched amount; that row
carries the payment's transaction, so a reversal that removes the payment's rows re-opens the freeze).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import or_, update
from sqlmodel import Session, func, select

from hbbudget import money
from hbbudget.clock import current_fiscal_year, to_local_text, today
from hbbudget.db import session_scope
from hbbudget.models import BankTransaction, Budget, BudgetLine, CounterpartyRule, Expenditure, Org, Project
from hbbudget.services.core import audit, data_version
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import counterparty_rules, limits, line_ledger
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, opt_id, text

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
        day = tx.booking_date or today()
        budget, org = session.get(Budget, line.budget_id), session.get(Org, project.org_id)
        found = limits.problems(session, line, budget, -tx.amount, day, "bank")
        if found and limits.mode(session, org, "bank") == "refuse":
            continue  # beyond the line's limits: a person decides in the 待匹配 queue
        if found:
            limits.warn(session, org, line, "transaction", tx.id, "bank", found, project.id)
        session.add(Expenditure(budget_line_id=line.id, transaction_id=tx.id, org_id=project.org_id,
                                amount=-tx.amount, spent_on=tx.booking_date or today(), kind="bank",
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


def _line_in_scope(session: Session, ctx: UserContext, line_id: object) -> tuple[BudgetLine, Budget, Org]:
    line = session.get(BudgetLine, int_id(line_id, "预算明细"))
    budget = session.get(Budget, line.budget_id) if line else None
    if line is None or budget is None:
        raise NotFound("预算明细不存在")
    org = session.get(Org, budget.org_id)
    if not ctx.can("execution.match", org.path):
        raise PermissionDenied(f"没有权限：不能在{org.name}的预算上记支出")
    if budget.status != "已批复" or budget.superseded_by_id is not None:
        raise ValidationError("只能在现行已批复预算的明细上记支出")
    return line, budget, org


def _positive(amount_text: object, label: str) -> int:
    amount = money.parse_yuan(amount_text, label)
    if amount <= 0:
        raise ValidationError(f"{label}须大于零")
    return amount


def _open_amount(session: Session, freeze_id: int) -> int:
    """What is still frozen of a freeze: its amount less its releases (negative rows pointing at it)."""
    return int(session.exec(select(func.coalesce(func.sum(Expenditure.amount), 0))
                            .where(or_(Expenditure.id == freeze_id, Expenditure.freeze_id == freeze_id))).one())


def _freeze_in_scope(session: Session, ctx: UserContext, freeze_id: object) -> tuple[Expenditure, Org]:
    """A freeze (kind frozen, not itself a release), locked for the release (FOR UPDATE; SQLite ignores it)."""
    freeze = session.exec(select(Expenditure).where(Expenditure.id == int_id(freeze_id, "冻结记录"))
                          .with_for_update()).first()
    if freeze is None:
        raise NotFound("冻结记录不存在")
    org = session.get(Org, freeze.org_id)
    if not ctx.can("execution.match", org.path):  # before the kind: another unit's row is refused, and audited
        raise PermissionDenied(f"没有权限：不能解冻{org.name}的冻结资金")
    if freeze.kind != "frozen" or freeze.freeze_id is not None:
        raise NotFound("冻结记录不存在")
    return freeze, org


def _release_row(freeze: Expenditure, amount: int, who: str, note: str, transaction_id: int | None) -> Expenditure:
    """The release of `amount` of `freeze`: on the freeze's line and day, so it always nets out in the same
    ledger (the release time is its created_at and the audit entry)."""
    return Expenditure(budget_line_id=freeze.budget_line_id, transaction_id=transaction_id, org_id=freeze.org_id,
                       amount=-amount, spent_on=freeze.spent_on, kind="frozen", freeze_id=freeze.id,
                       note=note[:200], matched_by=who[:64])


def match(ctx: UserContext, transaction_id: object, splits: list) -> dict:
    """Charge one payment to one or more budget lines; the parts may not exceed the payment.

    Each split is (line_id, amount text) or (line_id, amount text, freeze_id): with a freeze (money committed
    earlier on the same line, e.g. the contract this payment settles), the freeze is released by the part's amount
    (at most what is still frozen), so the line's available amount is not reduced twice."""
    if not isinstance(splits, list) or not splits or len(splits) > 20:
        raise ValidationError("请填写 1 到 20 个拆分明细")
    tid = int_id(transaction_id, "交易")
    with session_scope() as session:
        # locked: a concurrent match of the same payment waits here and then sees these parts (PostgreSQL)
        tx = session.exec(select(BankTransaction).where(BankTransaction.id == tid).with_for_update()).first()
        if tx is None:
            raise NotFound("交易不存在")
        tx_org = session.get(Org, tx.org_id)
        if not ctx.can("execution.match", tx_org.path):
            raise PermissionDenied(f"没有权限：不能匹配{tx_org.name}的交易")
        if tx.match_status not in ("待匹配", "部分匹配") or tx.amount >= 0:
            raise ValidationError(f"该交易当前状态为“{tx.match_status}”，不能匹配")
        already = session.exec(select(func.coalesce(func.sum(Expenditure.amount), 0))
                               .where(Expenditure.transaction_id == tx.id, Expenditure.kind == "bank")).one()
        parts, releases, still, freed = [], [], {}, []
        for split in splits:
            if not isinstance(split, (list, tuple)) or len(split) not in (2, 3):
                raise ValidationError("拆分明细格式无效")
            line, budget, org = _line_in_scope(session, ctx, split[0])
            if not org.path.startswith(tx_org.path):
                raise ValidationError(f"{tx_org.name}的付款只能记到本单位或下级单位的预算上，不能记到{org.name}")
            if tx.booking_date and tx.booking_date.year != budget.fiscal_year:
                raise ValidationError(f"交易记账日 {tx.booking_date.isoformat()} 不在该预算的年度"
                                      f"（{budget.fiscal_year} 年）内")
            amount = _positive(split[1], "拆分金额")
            parts.append((line, org, amount))
            freed.append(0)
            freeze_id = opt_id(split[2], "冻结记录") if len(split) == 3 else None
            if freeze_id is not None:
                freeze, _ = _freeze_in_scope(session, ctx, freeze_id)
                frozen_line = session.get(BudgetLine, freeze.budget_line_id)
                if freeze.org_id != org.id or line_ledger.key(frozen_line) != line_ledger.key(line) \
                        or session.get(Budget, frozen_line.budget_id).fiscal_year != budget.fiscal_year:
                    raise ValidationError("所选冻结不在该预算明细上")
                if freeze.id not in still:
                    still[freeze.id] = _open_amount(session, freeze.id)
                if still[freeze.id] <= 0:
                    raise ValidationError("所选冻结已全部解冻")
                used = min(amount, still[freeze.id])
                still[freeze.id] -= used
                releases.append((freeze, used))
                freed[-1] = used
        total = sum(a for _, _, a in parts) + already
        if total > -tx.amount:
            raise ValidationError(f"拆分合计 {money.fmt(total)} 超过交易金额 {money.fmt(-tx.amount)}")
        warnings, pending = [], {}
        for (line, org, amount), released in zip(parts, freed):
            budget = session.get(Budget, line.budget_id)
            # a part that settles a freeze uses money already committed on the line: only the rest is new
            found = limits.check(session, line, budget, org, amount - released, tx.booking_date or today(), "bank",
                                 pending.get(line.id, 0))
            pending[line.id] = pending.get(line.id, 0) + amount - released
            if found:
                warnings.append((line, org, found))
        for line, org, amount in parts:
            session.add(Expenditure(budget_line_id=line.id, transaction_id=tx.id, org_id=org.id, amount=amount,
                                    spent_on=tx.booking_date or today(), kind="bank", matched_by=ctx.full_name))
        for freeze, used in releases:
            session.add(_release_row(freeze, used, ctx.full_name, f"付款 #{tx.id} 支付，解冻", tx.id))
        tx.match_status = "已匹配" if total == -tx.amount else "部分匹配"
        session.add(tx)
        for line, org, found in warnings:
            limits.warn(session, org, line, "transaction", tx.id, "bank", found, line.project_id)
        data_version.bump(session)
        audit.record(session, "execution.match", actor=ctx, object_type="bank_transaction", object_id=tx.id,
                     org_id=tx.org_id, after={"lines": [[line.id, a] for line, _, a in parts],
                                              "released": [[f.id, a] for f, a in releases],
                                              "status": tx.match_status})
        rule = counterparty_rules.learn(session, ctx, tx, tx_org) if tx.match_status == "已匹配" else ""
        return {"id": tx.id, "status": tx.match_status, "rule": rule, "released": sum(a for _, a in releases)}


def record_manual(ctx: UserContext, line_id: object, amount_text: str, spent_on: date, note: str,
                  kind: str = "manual") -> int:
    """A payment outside the bank feed (kind manual) or money committed but not yet paid (kind frozen): more than
    zero, dated within the budget's fiscal year (the ledger, the dashboard and the warnings count that year)."""
    if kind not in ("manual", "frozen"):
        raise ValidationError("类型必须为手工支出或冻结")
    if not isinstance(spent_on, date) or isinstance(spent_on, datetime):
        raise ValidationError("日期无效")
    amount = _positive(amount_text, "金额")
    with session_scope() as session:
        line, budget, org = _line_in_scope(session, ctx, line_id)
        if spent_on.year != budget.fiscal_year:
            raise ValidationError(f"日期须在预算年度 {budget.fiscal_year} 年内")
        found = limits.check(session, line, budget, org, amount, spent_on, kind)
        spent = Expenditure(budget_line_id=line.id, org_id=org.id, amount=amount, spent_on=spent_on, kind=kind,
                            note=str(note or "")[:200], matched_by=ctx.full_name)
        session.add(spent)
        session.flush()
        if found:
            limits.warn(session, org, line, "expenditure", spent.id, kind, found, line.project_id)
        data_version.bump(session)
        audit.record(session, f"execution.{kind}", actor=ctx, object_type="expenditure", object_id=spent.id,
                     org_id=org.id, after={"line": line.id, "amount": amount, "note": spent.note})
        return spent.id


def open_freezes(ctx: UserContext, limit: int = 100) -> list[dict]:
    """Freezes with money still frozen, in the orgs where the user may match payments, newest first:
    [{"id", "line_id", "org_name", "line_label", "label", "spent_on", "amount", "open", "open_fen", "note"}]."""
    paths = ctx.scope_paths("execution.match")
    if not paths:
        raise PermissionDenied("没有权限：匹配支出")
    released = (select(Expenditure.freeze_id.label("fid"), func.sum(Expenditure.amount).label("back"))
                .where(Expenditure.freeze_id.is_not(None)).group_by(Expenditure.freeze_id).subquery())
    still = Expenditure.amount + func.coalesce(released.c.back, 0)
    query = (select(Expenditure, still, Org.name, BudgetLine.econ_code, Project.code, Project.name)
             .join(Org, Org.id == Expenditure.org_id).join(BudgetLine, BudgetLine.id == Expenditure.budget_line_id)
             .join(Project, Project.id == BudgetLine.project_id, isouter=True)
             .join(released, released.c.fid == Expenditure.id, isouter=True)
             .where(scope_filter(paths), Expenditure.kind == "frozen", Expenditure.freeze_id.is_(None), still > 0)
             .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()).limit(max(1, min(int(limit), 200))))
    with session_scope() as session:
        rows = session.exec(query).all()
    out = []
    for f, open_fen, org_name, econ, pcode, pname in rows:
        what = f"{pname}（{pcode}）" if pcode else "基本支出"
        out.append({"id": f.id, "line_id": f.budget_line_id, "org_name": org_name, "spent_on": f.spent_on.isoformat(),
                    "line_label": f"{org_name} · {what} · {econ}",
                    "label": f"{org_name} · {what} · {econ} · {f.spent_on.isoformat()} 冻结 {money.fmt(f.amount)}，"
                             f"未解冻 {money.fmt(int(open_fen))}" + (f" · {f.note}" if f.note else ""),
                    "amount": money.fmt(f.amount), "open": money.fmt(int(open_fen)), "open_fen": int(open_fen),
                    "note": f.note})
    return out


def release_freeze(ctx: UserContext, freeze_id: object, note: object = "") -> dict:
    """解冻: release what is still frozen of a freeze (the commitment was cancelled or paid outside the feed)."""
    note = text(note, "说明", 200)
    with session_scope() as session:
        freeze, org = _freeze_in_scope(session, ctx, freeze_id)
        still = _open_amount(session, freeze.id)
        if still <= 0:
            raise ValidationError("该冻结已全部解冻")
        row = _release_row(freeze, still, ctx.full_name, note or "解冻", None)
        session.add(row)
        session.flush()
        data_version.bump(session)
        audit.record(session, "execution.release", actor=ctx, object_type="expenditure", object_id=freeze.id,
                     org_id=org.id, before={"frozen": still}, after={"frozen": 0, "released": still, "note": note})
        return {"id": freeze.id, "released": still}
