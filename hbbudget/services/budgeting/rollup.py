"""Review views for every level above: subordinate budgets, the consolidated roll-up and its drill-down.

Each org counts with its *current* budget for the year: the 已批复 one not superseded, else its main budget.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, ControlNumber, Org
from hbbudget.services.budgeting import budgets as budgeting
from hbbudget.services.budgeting import lines
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

BY = ("org", "function", "economic")


def current_budget_clause(year: int):
    """WHERE on Budget: the budget in force for its org and `year`."""
    approved = and_(Budget.status == "已批复", Budget.superseded_by_id.is_(None))
    other = aliased(Budget)
    has_approved = exists().where(other.org_id == Budget.org_id, other.fiscal_year == year,
                                  other.status == "已批复", other.superseded_by_id.is_(None))
    return and_(Budget.fiscal_year == year, or_(approved, and_(Budget.seq == 0, ~has_approved)))


def _subtree(ctx: UserContext, org: Org, *, include_self: bool):
    conds = [Org.path.startswith(org.path), scope.orgs_filter(ctx, "budget.view")]
    if not include_self:
        conds.append(Org.id != org.id)
    return conds


def subordinates(ctx: UserContext, org_id: int, year: int, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """Every descendant in the caller's scope with its current budget's status and total, tree order."""
    year = scope.year(year)
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.view")
        conds = _subtree(ctx, org, include_self=False)
        total = session.exec(select(func.count()).select_from(Org).where(*conds)).one()
        kids = session.exec(select(Org).where(*conds).order_by(Org.path).offset(offset).limit(limit)).all()
        ids = [k.id for k in kids]
        budgets = {b.org_id: b for b in session.exec(select(Budget).where(Budget.org_id.in_(ids),
                                                                           current_budget_clause(year))).all()}
        rows = {r["id"]: r for r in budgeting._list_rows(session, list(budgets.values()))}
        controls = dict(session.exec(select(ControlNumber.org_id, ControlNumber.amount).where(
            ControlNumber.org_id.in_(ids), ControlNumber.fiscal_year == year)).all()) if ids else {}
        parents = dict(session.exec(select(Org.id, Org.name).where(
            Org.id.in_({k.parent_id for k in kids if k.parent_id}))).all()) if kids else {}
        out = []
        for k in kids:
            b = budgets.get(k.id)
            r = rows.get(b.id, {}) if b else {}
            control = int(controls.get(k.id, 0))
            out.append({"org_id": k.id, "org_name": k.name, "level": k.level,
                        "parent_name": parents.get(k.parent_id, ""), "budget_id": b.id if b else 0,
                        "round": b.round if b else "", "status": b.status if b else "未编制",
                        "step_org_name": r.get("step_org_name", ""), "total": r.get("total", 0), "control": control,
                        "over_control": bool(control) and r.get("total", 0) > control})
        return out, total


def _budget_ids(ctx: UserContext, org: Org, year: int, child: Org | None = None):
    """A subquery of the current budget ids of the subtree (of `child` when given) within scope."""
    top = child or org
    return select(Budget.id).join(Org, Org.id == Budget.org_id).where(
        current_budget_clause(year), *_subtree(ctx, top, include_self=True))


def consolidated(ctx: UserContext, org_id: int, year: int, by: str = "org") -> dict:
    """Totals of every descendant's current budget (and the org's own) by child org, function 类 or economic 类."""
    year = scope.year(year)
    if by not in BY:
        raise ValidationError("汇总方式须为 org、function 或 economic")
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.view")
        ids = _budget_ids(ctx, org, year)
        units = session.exec(select(func.count(func.distinct(Budget.org_id))).where(Budget.id.in_(ids))).one()
        if by == "org":
            rows = _by_org(session, org, ids)
        else:
            col = BudgetLine.func_code if by == "function" else BudgetLine.econ_code
            key = func.substr(col, 1, 3)
            found = session.exec(select(key, func.sum(BudgetLine.amount), func.count()).where(
                BudgetLine.budget_id.in_(ids)).group_by(key).order_by(key)).all()
            econ_names, func_names = lines.class_names(session, year)
            names = func_names if by == "function" else econ_names
            rows = [{"key": k, "code": k, "name": names.get(k, ""), "total": int(t or 0), "count": n}
                    for k, t, n in found]
        return {"rows": rows, "total": sum(r["total"] for r in rows), "units": units}


def _by_org(session: Session, org: Org, ids) -> list[dict]:
    """One row per direct child (its whole subtree) and one for the org itself; `units` counts the orgs whose
    budgets a row holds, so the rows' units add up to the header's count."""
    found = session.exec(select(Org.path, func.sum(BudgetLine.amount), func.count()).select_from(BudgetLine)
                         .join(Budget, Budget.id == BudgetLine.budget_id).join(Org, Org.id == Budget.org_id)
                         .where(BudgetLine.budget_id.in_(ids)).group_by(Org.path)).all()
    sums: dict[int, list[int]] = {}
    for path, total, n in found:
        rest = path[len(org.path):].strip("/")
        key = int(rest.split("/")[0]) if rest else org.id  # the direct child whose subtree holds it
        acc = sums.setdefault(key, [0, 0, 0])
        acc[0] += int(total or 0)
        acc[1] += n
        acc[2] += 1  # one path = one org
    named = {i: (c, n) for i, c, n in session.exec(select(Org.id, Org.code, Org.name).where(
        Org.id.in_(list(sums)))).all()} if sums else {}
    order = sorted(sums, key=lambda k: (k != org.id, named[k][1]))
    return [{"key": str(k), "code": named[k][0], "name": named[k][1] + ("（本级）" if k == org.id else ""),
             "total": sums[k][0], "count": sums[k][1], "units": sums[k][2]} for k in order]


def consolidated_lines(ctx: UserContext, org_id: int, year: int, *, child_org_id: int = 0, func_class: str = "",
                       econ_class: str = "", offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """Drill-down: the lines behind one cell of the roll-up."""
    year = scope.year(year)
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.view")
        child = None
        if child_org_id:
            child = scope.org_for(session, ctx, child_org_id, "budget.view")
            if not child.path.startswith(org.path):
                raise ValidationError("所选单位不在本单位之下")
        conds = [BudgetLine.budget_id.in_(_budget_ids(ctx, org, year, child))]
        if child is not None and child.id == org.id:  # the org's own budget only
            conds.append(Budget.org_id == org.id)
        for value, col, label in ((func_class, BudgetLine.func_code, "功能分类"), (econ_class, BudgetLine.econ_code,
                                                                                 "经济分类")):
            value = scope.text(value, label, 7)
            if value:
                if not value.isdigit():
                    raise ValidationError(f"{label}须为数字编码")
                conds.append(col.startswith(value))
        q = select(BudgetLine, Org.name).select_from(BudgetLine).join(Budget, Budget.id == BudgetLine.budget_id) \
            .join(Org, Org.id == Budget.org_id).where(*conds)
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        found = session.exec(q.order_by(Org.path, BudgetLine.id).offset(offset).limit(limit)).all()
        rows = lines.rows(session, year, [ln for ln, _ in found])
        return [{**r, "org_name": name} for r, (_, name) in zip(rows, found)], total
