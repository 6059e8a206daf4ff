"""对方户名规则: per-org counterparty → project mappings for automatic matching.

`lookup` gives `matching.auto_match` the usable rules of a batch in one query; `learn` is called by
`matching.match` when a payment becomes fully matched to one project. The list and its edits need
execution.match over the rule's org (the org owning the bank account). Counterparties are compared
normalized: NFKC (full-width → half-width), whitespace collapsed and trimmed.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import BankTransaction, BudgetLine, CounterpartyRule, Expenditure, Org, Project
from hbbudget.services.core import audit
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import PERMISSIONS, UserContext

PERMISSION = "execution.match"
MAX_LEN = 140



def normalize(name: object) -> str:
    """Full-width ASCII and spaces → half-width, whitespace runs → one space, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", str(name or "")).split())


def key(name: object) -> str:
    """The stored form of a bank record's counterparty."""
    return normalize(name)[:MAX_LEN]


def status(rule: CounterpartyRule) -> str:
    return "冲突" if rule.conflict else "启用" if rule.active else "停用"


def _snap(rule: CounterpartyRule) -> dict:
    return {"counterparty": rule.counterparty, "project_id": rule.project_id, "source": rule.source,
            "active": rule.active, "conflict": rule.conflict}


def lookup(session: Session, txs: list[BankTransaction]) -> dict[tuple[int, str], tuple[CounterpartyRule, Project, str]]:
    """Active, conflict-free rules for these payments: (org id, counterparty) → (rule, project, project org path)."""
    names = {key(t.counterparty) for t in txs} - {""}
    if not names:
        return {}
    rows = session.exec(select(CounterpartyRule, Project, Org.path)
                        .join(Project, Project.id == CounterpartyRule.project_id)
                        .join(Org, Org.id == Project.org_id)
                        .where(CounterpartyRule.org_id.in_({t.org_id for t in txs}),
                               CounterpartyRule.counterparty.in_(names),
                               CounterpartyRule.active == True, CounterpartyRule.conflict == False)).all()  # noqa: E712
    return {(r.org_id, r.counterparty): (r, p, path) for r, p, path in rows}


def learn(session: Session, ctx: UserContext, tx: BankTransaction, tx_org: Org) -> str:
    """After a manual match completed `tx` (expenditures flushed): remember or contradict its counterparty's rule.

    Returns "learned", "conflict" or ""."""
    name = key(tx.counterparty)
    projects = session.exec(select(BudgetLine.project_id).distinct()
                            .join(Expenditure, Expenditure.budget_line_id == BudgetLine.id)
                            .where(Expenditure.transaction_id == tx.id)).all()
    if not name or len(projects) != 1 or projects[0] is None:
        return ""
    project = session.get(Project, projects[0])
    if not session.get(Org, project.org_id).path.startswith(tx_org.path):
        return ""  # a project outside the account's org could never be matched automatically
    rule = session.exec(select(CounterpartyRule).where(CounterpartyRule.org_id == tx.org_id,
                                                       CounterpartyRule.counterparty == name)).first()
    if rule is None:
        rule = CounterpartyRule(org_id=tx.org_id, counterparty=name, project_id=project.id, source="学习",
                                created_by=ctx.full_name[:64])
        try:
            with session.begin_nested():  # a concurrent match may have learned it first: keep the match
                session.add(rule)
                session.flush()
        except IntegrityError:
            return ""
        audit.record(session, "execution.rule_learned", actor=ctx, object_type="counterparty_rule", object_id=rule.id,
                     org_id=tx.org_id, after={**_snap(rule), "transaction": tx.id})
        return "learned"
    if rule.project_id == project.id or rule.source != "学习" or rule.conflict:
        return ""
    before = _snap(rule)
    rule.conflict, rule.active, rule.updated_at = True, False, now()
    session.add(rule)
    audit.record(session, "execution.rule_learned", actor=ctx, object_type="counterparty_rule", object_id=rule.id,
                 org_id=tx.org_id, detail=f"对方户名“{name}”被匹配到另一项目，规则标记为冲突并停用",
                 before=before, after={**_snap(rule), "transaction": tx.id, "other_project_id": project.id})
    return "conflict"


def _require_any(ctx: UserContext) -> list[tuple[str, bool]]:
    paths = ctx.scope_paths(PERMISSION)
    if not paths:
        raise PermissionDenied(f"没有权限：{PERMISSIONS[PERMISSION][1]}")
    return paths


def _rule_in_scope(session: Session, ctx: UserContext, rule_id: object) -> tuple[CounterpartyRule, Org]:
    _require_any(ctx)
    return scope.owned(session, ctx, CounterpartyRule, rule_id, "规则", PERMISSION)


def _row(rule: CounterpartyRule, org_name: str, code: str, project_name: str) -> dict:
    return {"id": rule.id, "org_id": rule.org_id, "org_name": org_name, "counterparty": rule.counterparty,
            "project_code": code, "project_name": project_name, "source": rule.source, "status": status(rule),
            "active": rule.active, "hits": rule.hits, "created_by": rule.created_by,
            "updated_at": to_local_text(rule.updated_at)}


def list_rules(ctx: UserContext, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """The rules of the orgs where the user may match payments, most recently changed first."""
    paths = _require_any(ctx)
    offset, limit = scope.page(offset, limit)
    query = (select(CounterpartyRule, Org.name, Project.code, Project.name)
             .join(Org, Org.id == CounterpartyRule.org_id).join(Project, Project.id == CounterpartyRule.project_id)
             .where(scope_filter(paths)))
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(CounterpartyRule.updated_at.desc(), CounterpartyRule.id.desc())
                            .offset(offset).limit(limit)).all()
    return [_row(*r) for r in rows], total


def save_rule(ctx: UserContext, org_id: object, counterparty: object, project_code: object) -> dict:
    """Create or replace the org's rule for the counterparty as 手工 (active, conflict cleared)."""
    _require_any(ctx)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        if not isinstance(counterparty, str):
            raise ValidationError("对方户名格式无效")
        name = normalize(counterparty)
        if not name:
            raise ValidationError("对方户名不能为空")
        if len(name) > MAX_LEN:
            raise ValidationError(f"对方户名不能超过 {MAX_LEN} 个字")
        code = scope.text(project_code, "项目编码", 32, required=True)
        project = session.exec(select(Project).join(Org, Org.id == Project.org_id)
                               .where(scope_filter([(org.path, True)]), Project.code == code)).first()
        if project is None:
            message = f"{org.name}及其下级单位没有项目编码为“{code}”的项目"
            elsewhere = session.exec(select(Org.path).join(Project, Project.org_id == Org.id)
                                     .where(Project.code == code)).all()
            if any(not ctx.can(PERMISSION, path) for path in elsewhere):  # another unit's project: audited,
                raise PermissionDenied(message)  # with the same message (its existence is not revealed)
            raise ValidationError(message)
        rule = session.exec(select(CounterpartyRule).where(CounterpartyRule.org_id == org.id,
                                                           CounterpartyRule.counterparty == name)).first()
        before = _snap(rule) if rule else None
        rule = rule or CounterpartyRule(org_id=org.id, counterparty=name, project_id=project.id)
        rule.project_id, rule.source, rule.active, rule.conflict = project.id, "手工", True, False
        rule.created_by, rule.updated_at = ctx.full_name[:64], now()
        session.add(rule)
        session.flush()
        audit.record(session, "execution.rule_save", actor=ctx, object_type="counterparty_rule", object_id=rule.id,
                     org_id=org.id, before=before, after=_snap(rule))
        return _row(rule, org.name, project.code, project.name)


def set_active(ctx: UserContext, rule_id: object, active: object) -> None:
    """停用 / 启用; enabling a 冲突 rule confirms its project and clears the conflict."""
    _require_any(ctx)
    if not isinstance(active, bool):
        raise ValidationError("状态无效")
    with session_scope() as session:
        rule, org = _rule_in_scope(session, ctx, rule_id)
        before = _snap(rule)
        rule.active, rule.updated_at = active, now()
        rule.conflict = rule.conflict and not active
        session.add(rule)
        audit.record(session, "execution.rule_enable" if active else "execution.rule_disable", actor=ctx,
                     object_type="counterparty_rule", object_id=rule.id, org_id=org.id, before=before,
                     after=_snap(rule))


def delete_rule(ctx: UserContext, rule_id: object) -> None:
    with session_scope() as session:
        rule, org = _rule_in_scope(session, ctx, rule_id)
        audit.record(session, "execution.rule_delete", actor=ctx, object_type="counterparty_rule", object_id=rule.id,
                     org_id=org.id, before=_snap(rule))
        session.delete(rule)
