"""Budget review up the chain (flows.BUDGET_FLOW): submit, approve, return; control numbers (一下) to children.

Every transition is audited and notifies whoever must act next.
"""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, select

from hbbudget import money, routes
from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, ControlNumber, Org
from hbbudget.services.approvals import runs
from hbbudget.services.budgeting import budgets, flows, projects, rules
from hbbudget.services.core import audit, notifications
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext


def _transition(session: Session, ctx: UserContext, budget_id: int, action: str) -> tuple[Budget, Org, Org | None]:
    """Lock the budget, check the move is in the flow and the caller may make it; returns (budget, org, step org)."""
    budget, org = budgets._load(session, ctx, budget_id, "budget.view", lock=True)
    step = flows.check(flows.BUDGET_FLOW, action, budget.status)
    step_org = session.get(Org, budget.step_org_id) if budget.step_org_id else None
    where = step_org if step.where == "step" and step_org else org
    scope.require_transition(ctx, step.permission, step.where, where)
    return budget, org, step_org


def _record(session: Session, ctx: UserContext, budget: Budget, org: Org, action: str, before: dict,
            detail: str = "") -> None:
    audit.record(session, f"budget.{action}", actor=ctx, object_type="budget", object_id=budget.id, org_id=org.id,
                 detail=detail[:1000], before=before,
                 after={"round": budget.round, "status": budget.status, "step_org_id": budget.step_org_id})


def _state(b: Budget) -> dict:
    return {"round": b.round, "status": b.status, "step_org_id": b.step_org_id}


def _facts(session: Session, budget: Budget) -> dict:
    """What an approval flow's conditions look at: the budget's total."""
    return {"amount": budgets._totals_by_budget(session, [budget.id]).get(budget.id, (0, 0))[0]}


def _title(budget: Budget, org: Org) -> str:
    return f"{org.name} {budget.fiscal_year} 年度预算（{budget.round}）"


def submit(ctx: UserContext, budget_id: int, reason: str = "") -> dict:
    """上报: refused while any error rule fails; failing warnings need a written reason."""
    reason = scope.text(reason, "说明", 500)
    with session_scope() as session:
        budget, org, _ = _transition(session, ctx, budget_id, "submit")
        if not session.exec(select(BudgetLine.id).where(BudgetLine.budget_id == budget.id)).first():
            raise ValidationError("预算没有任何明细，不能上报")
        results = rules.evaluate(session, budget)
        errors = [r for r in results if not r["ok"] and r["severity"] == "error"]
        warnings = [r for r in results if not r["ok"] and r["severity"] == "warning"]
        if errors:
            raise ValidationError(f"预算有 {len(errors)} 项错误，不能上报：" +
                                  "；".join(f"{r['name']}：{r['message']}" for r in errors[:5]))
        if warnings and not reason:
            raise ValidationError(f"预算有 {len(warnings)} 项警告，请填写说明后再上报：" +
                                  "；".join(f"{r['name']}：{r['message']}" for r in warnings[:5]))
        before = _state(budget)
        budgets.save_version(session, ctx, budget, "上报", reason)
        kind = {"调整": "调整", "调剂": "调剂"}.get(budget.round, "预算上报")
        step_org = runs.begin(session, ctx, "budget", budget.id, org, kind, _facts(session, budget))
        # a new submission: the reason of an earlier return no longer applies
        budget.status, budget.step_org_id, budget.last_comment, budget.updated_at = "审核中", step_org.id, "", now()
        session.add(budget)
        session.flush()
        _record(session, ctx, budget, org, "submit", before,
                f"上报 {_title(budget, org)}" + (f"；警告说明：{reason}" if warnings else ""))
        notifications.notify(session, step_org, "budget.review", f"待审核预算：{org.name}",
                             f"{_title(budget, org)} 已上报，待您审核", link=routes.budget_editor(budget.id),
                             object_type="budget", object_id=budget.id, skip_user=ctx.user_id, exact=True,
                             only=runs.stop_users(session, "budget", budget.id))
        return budgets._header(session, ctx, budget, org)


def approve(ctx: UserContext, budget_id: int, comment: str = "") -> dict:
    """审核通过: to the next level, or final (一上 → 已审核; 二上 → 二下 已批复; 调整/调剂 → 已批复)."""
    comment = scope.text(comment, "意见", 500)
    with session_scope() as session:
        budget, org, step_org = _transition(session, ctx, budget_id, "approve")
        if bad := rules.below_committed(session, budget):  # spending goes on while the document is reviewed
            raise ValidationError("调减后低于已执行金额，不能通过：" + "；".join(
                f"{label}：调后 {money.fmt(a)}，已支出及冻结 {money.fmt(c)}" for label, a, c in bad[:5]))
        before = _state(budget)
        nxt = runs.advance(session, ctx, "budget", budget.id, org, budget.step_org_id, "budget.review", comment,
                           _facts(session, budget))
        budget.last_comment = comment  # an approval without a comment clears an older one
        budget.updated_at = now()
        if nxt is not None:
            budget.step_org_id = nxt.id
            notifications.notify(session, nxt, "budget.review", f"待审核预算：{org.name}",
                                 f"{_title(budget, org)} 已经 {step_org.name} 审核通过，待您审核",
                                 link=routes.budget_editor(budget.id), object_type="budget", object_id=budget.id,
                                 skip_user=ctx.user_id, exact=True, only=runs.stop_users(session, "budget", budget.id))
        else:
            _finish(session, ctx, budget, org)
        session.add(budget)
        session.flush()
        _record(session, ctx, budget, org, "approve", before, f"审核通过 {_title(budget, org)}；{comment}")
        return budgets._header(session, ctx, budget, org)


def _finish(session: Session, ctx: UserContext, budget: Budget, org: Org) -> None:
    """The last step approved: the final status and round, and a version of the lines as approved."""
    budget.status, budget.round = flows.BUDGET_FINAL[budget.round]
    budget.step_org_id = None
    budgets.save_version(session, ctx, budget, "批复" if budget.status == "已批复" else "审核完成")
    if budget.status == "已批复":
        used = set(session.exec(select(BudgetLine.project_id).where(BudgetLine.budget_id == budget.id,
                                                                    BudgetLine.project_id.is_not(None))).all())
        moved = projects.include_in_budget(session, used)
        if moved:
            audit.record(session, "project.include", actor=ctx, object_type="budget", object_id=budget.id,
                         org_id=org.id, detail=f"预算批复，{len(moved)} 个项目纳入预算", after={"projects": moved})
        if budget.based_on_id:
            base = session.get(Budget, budget.based_on_id)
            base.superseded_by_id = budget.id
            session.add(base)
        notifications.notify(session, org, "budget.edit", f"预算已批复：{org.name}", f"{_title(budget, org)} 已批复",
                             link=routes.budget_editor(budget.id), object_type="budget", object_id=budget.id)
    else:  # 一上 reviewed: the level above now issues control numbers
        parent = session.get(Org, org.parent_id) if org.parent_id else org
        notifications.notify(session, parent, "budget.review", f"待下达控制数：{org.name}",
                             f"{_title(budget, org)} 已审核，请下达控制数（一下）", link=routes.budget_editor(budget.id),
                             object_type="budget", object_id=budget.id, exact=True)


def return_budget(ctx: UserContext, budget_id: int, comment: str) -> dict:
    comment = scope.text(comment, "退回意见", 500)
    with session_scope() as session:
        budget, org, step_org = _transition(session, ctx, budget_id, "return")
        if not comment:
            raise ValidationError("退回须填写意见")
        before = _state(budget)
        budget.status, budget.step_org_id, budget.last_comment, budget.updated_at = "退回", None, comment, now()
        runs.returned(session, ctx, "budget", budget.id, comment)
        session.add(budget)
        session.flush()
        _record(session, ctx, budget, org, "return", before, f"退回 {_title(budget, org)}：{comment}")
        notifications.notify(session, org, "budget.edit", f"预算被退回：{org.name}",
                             f"{step_org.name if step_org else ''}退回：{comment}", link=routes.budget_editor(budget.id),
                             object_type="budget", object_id=budget.id, skip_user=ctx.user_id)
        return budgets._header(session, ctx, budget, org)


def pending_budgets(ctx: UserContext, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """Budgets waiting at a review step where the caller holds budget.review."""
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        q = select(Budget).join(Org, Org.id == Budget.step_org_id).where(
            Budget.status == "审核中", scope.step_filter(ctx, "budget.review"))
        # a stop that names a role (the unit head's) is listed only to its holders
        found = [b for b in session.exec(q.order_by(Budget.updated_at)).all()
                 if runs.may_sign(session, ctx, "budget", b.id)]
        return budgets._list_rows(session, found[offset:offset + limit]), len(found)


# ---- 一下: control numbers ----

def _children(session: Session, org: Org) -> list[Org]:
    return list(session.exec(select(Org).where(Org.parent_id == org.id, Org.active == True)  # noqa: E712
                             .order_by(Org.code)).all())


def _control_rows(session: Session, org: Org, year: int) -> list[dict]:
    kids = _children(session, org)
    ids = [k.id for k in kids]
    cns = {c.org_id: c.amount for c in session.exec(select(ControlNumber).where(
        ControlNumber.org_id.in_(ids), ControlNumber.fiscal_year == year)).all()} if ids else {}
    mains = {b.org_id: b for b in session.exec(select(Budget).where(
        Budget.org_id.in_(ids), Budget.fiscal_year == year, Budget.seq == 0)).all()} if ids else {}
    out = []
    for k in kids:
        b = mains.get(k.id)
        out.append({"org_id": k.id, "org_name": k.name, "amount": cns.get(k.id, 0), "budget_id": b.id if b else 0,
                    "status": b.status if b else "", "round": b.round if b else "",
                    "total": _submitted(session, k, year)})
    return out


def _submitted(session: Session, kid: Org, year: int) -> int:
    """What the org's subtree has submitted for `year` (its main budgets submitted at least once, so a unit
    without a budget of its own shows its units'), in the funding sources its 控制数 covers."""
    sources = rules.control_sources(session, kid)
    total = session.exec(select(func.coalesce(func.sum(BudgetLine.amount), 0))
                         .join(Budget, Budget.id == BudgetLine.budget_id).join(Org, Org.id == Budget.org_id)
                         .where(Org.path.startswith(kid.path), Budget.fiscal_year == year, Budget.seq == 0,
                                or_(Budget.status != "草稿", Budget.version_no > 0),  # submitted at least once
                                BudgetLine.source.in_(sources))).one()
    return int(total)


def control_numbers(ctx: UserContext, org_id: int, year: int) -> list[dict]:
    year = scope.year(year)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.view")
        return _control_rows(session, org, year)


def control_parents(ctx: UserContext, limit: int = 500) -> list[dict]:
    """The orgs the caller may issue control numbers from (一下): those in the 审核 scope that have units below,
    the caller's own org first, then by code."""
    with session_scope() as session:
        below = select(Org.parent_id).where(Org.active == True)  # noqa: E712
        rows = session.exec(select(Org).where(scope.orgs_filter(ctx, "budget.review"), Org.active == True,  # noqa: E712
                                              Org.id.in_(below)).order_by(Org.code).limit(limit)).all()
        out = [{"id": o.id, "name": o.name, "code": o.code} for o in rows]
    return sorted(out, key=lambda r: r["id"] != ctx.org_id)


def _checked_controls(session: Session, ctx: UserContext, org_id: int, year: int, amounts: dict):
    """The org issuing, its children, their numbers so far and main budgets, and the parsed amounts: refused
    (nothing written) beyond the org's own number, to an org that is not a direct child, or during review."""
    if not isinstance(amounts, dict) or not amounts or len(amounts) > 1000:
        raise ValidationError("请填写要下达的控制数")
    parsed = {scope.int_id(k, "下级单位"): money.parse_yuan(v, "控制数") for k, v in amounts.items()}
    org = scope.org_for(session, ctx, org_id, "budget.review")
    kids = {k.id: k for k in _children(session, org)}
    for kid_id in parsed:
        if kid_id not in kids:
            other = session.get(Org, kid_id)
            if other is not None and not ctx.can("budget.review", other.path):  # another unit: audited
                raise PermissionDenied("没有权限：只能向直属下级单位下达控制数")
            raise ValidationError("只能向直属下级单位下达控制数")
    existing = {c.org_id: c for c in session.exec(select(ControlNumber).where(
        ControlNumber.org_id.in_(list(kids)), ControlNumber.fiscal_year == year)).all()} if kids else {}
    own = session.exec(select(ControlNumber).where(ControlNumber.org_id == org.id,
                                                   ControlNumber.fiscal_year == year)).first()
    after_sum = sum(parsed.get(k, existing[k].amount if k in existing else 0) for k in kids)
    if own is not None and after_sum > own.amount:
        raise ValidationError(f"下达给下级的控制数合计 {money.fmt(after_sum)} 超过本单位控制数 {money.fmt(own.amount)}")
    mains = {b.org_id: b for b in session.exec(select(Budget).where(
        Budget.org_id.in_(list(parsed)), Budget.fiscal_year == year, Budget.seq == 0).with_for_update()).all()}
    for kid_id in parsed:
        b = mains.get(kid_id)
        if b is not None and b.status == "审核中":
            raise ValidationError(f"{kids[kid_id].name} 的预算正在审核中，请审核完成后再下达控制数")
        if b is not None and b.status == "已批复":
            raise ValidationError(f"{kids[kid_id].name} 的预算已批复，控制数不能再变更（请走预算调整）")
    return org, kids, existing, mains, parsed


def preview_control_numbers(ctx: UserContext, org_id: int, year: int, amounts: dict) -> list[dict]:
    """What issuing would change, for the confirmation (nothing written): per child, its number before and after
    and what it has submitted."""
    year = scope.year(year)
    with session_scope() as session:
        org, kids, existing, _, parsed = _checked_controls(session, ctx, org_id, year, amounts)
        return [{"org_id": k, "org_name": kids[k].name, "before": existing[k].amount if k in existing else None,
                 "after": amount, "total": _submitted(session, kids[k], year)}
                for k, amount in parsed.items() if k not in existing or existing[k].amount != amount]


def issue_control_numbers(ctx: UserContext, org_id: int, year: int, amounts: dict) -> list[dict]:
    """Issue (or change) control numbers to direct children; their 一上 budgets move on to 二上 草稿."""
    year = scope.year(year)
    with session_scope() as session:
        org, kids, existing, mains, parsed = _checked_controls(session, ctx, org_id, year, amounts)
        for kid_id, amount in parsed.items():
            kid, b = kids[kid_id], mains.get(kid_id)
            cn = existing.get(kid_id) or ControlNumber(org_id=kid_id, fiscal_year=year, issued_by_org_id=org.id)
            before = cn.amount if cn.id else None
            cn.amount, cn.issued_by_org_id, cn.issued_by, cn.issued_at = amount, org.id, ctx.full_name[:64], now()
            session.add(cn)
            if b is not None and b.round == "一上":
                b_before = _state(b)
                b.round, b.status, b.updated_at = "二上", "草稿", now()
                session.add(b)
                session.flush()
                _record(session, ctx, b, kid, "round", b_before,
                        f"下达控制数，{_title(b, kid)} 由一上转入二上草稿")
            session.flush()
            audit.record(session, "budget.control", actor=ctx, object_type="org", object_id=kid_id, org_id=kid_id,
                         detail=f"下达 {kid.name} {year} 年度控制数 {money.fmt(amount)}",
                         before={"amount": before}, after={"amount": amount})
            notifications.notify(session, kid, "budget.edit", f"控制数已下达：{year} 年度",
                                 f"{org.name} 下达控制数 {money.fmt(amount)}，请在控制数内编制二上预算",
                                 link=routes.budget_editor(b.id) if b else "", object_type="budget",
                                 object_id=b.id if b else 0)
        return _control_rows(session, org, year)
