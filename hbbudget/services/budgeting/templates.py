"""智能模板: a new budget carried forward from last year's approved one, and category templates
(economic subjects with default shares) applied to a project amount."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.db import session_scope
from hbbudget.models import BudgetLine, CategoryTemplate, CategoryTemplateItem, EconomicSubject, Org, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import budgets, lines, rules
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

BASIC_CATEGORIES = ("1", "21")  # 人员类, 公用经费: basic expenditure, always carried forward
MAX_ITEMS = 50


# ---- carry forward ----

def _growth(growth: object) -> dict[str, Decimal]:
    if growth in (None, ""):
        return {}
    if not isinstance(growth, dict) or len(growth) > 30:
        raise ValidationError("增长比例格式无效")
    out = {}
    for code, pct in growth.items():
        code = scope.text(code, "经济分类", 8, required=True)
        if not (code.isdigit() and len(code) == 3 and code[0] == "3"):
            raise ValidationError(f"增长比例须按经济分类的类（3 位编码）填写，“{code}”无效")
        if pct in (None, ""):
            continue
        out[code] = money.parse_percent(pct, f"{code} 增长比例", low=Decimal(-100), high=Decimal(1000))
    return out


def _plan(months: list[int], amount: int) -> list[int]:
    return money.allocate(amount, months) if sum(months) > 0 else money.spread(amount)


def _carry(session: Session, org: Org, year: int, growth: dict[str, Decimal]) -> dict:
    source = rules.approved_budget(session, org.id, year - 1)
    if source is None:
        raise ValidationError(f"{org.name} {year - 1} 年度没有已批复的预算，无法按上年预算生成")
    old = session.exec(select(BudgetLine).where(BudgetLine.budget_id == source.id).order_by(BudgetLine.id)).all()
    pids = {ln.project_id for ln in old if ln.project_id}
    projs = {p.id: p for p in session.exec(select(Project).where(Project.id.in_(pids))).all()} if pids else {}
    kept, skipped = [], {}
    for ln in old:
        p = projs.get(ln.project_id) if ln.project_id else None
        why = ""
        if p is not None and p.category not in BASIC_CATEGORIES:
            if p.status in ("已完成", "已终止"):
                why = f"项目{p.status}"
            elif p.end_year < year:
                why = f"项目已于 {p.end_year} 年结束"
        if why:
            skipped[p.id] = {"project_code": p.code, "project_name": p.name, "reason": why}
            continue
        amount = money.scale(ln.amount, growth[ln.econ_code[:3]]) if ln.econ_code[:3] in growth else ln.amount
        kept.append((ln, amount, _plan(lines.months_of(ln), amount)))
    bad_e, bad_f = lines.bad_codes(session, year, {ln.econ_code for ln, _, _ in kept},
                                   {ln.func_code for ln, _, _ in kept})
    econ, funcs = lines.names(session, year, {ln.econ_code for ln, _, _ in kept}, {ln.func_code for ln, _, _ in kept})
    rows = []
    for ln, amount, plan in kept:
        p = projs.get(ln.project_id) if ln.project_id else None
        problem = "；".join(x for x in (bad_e.get(ln.econ_code, ""), bad_f.get(ln.func_code, "")) if x)
        rows.append({"project_id": ln.project_id or 0, "project_code": p.code if p else "",
                     "project_name": p.name if p else "基本支出", "econ_code": ln.econ_code,
                     "econ_name": econ.get(ln.econ_code, ""), "func_code": ln.func_code,
                     "func_name": funcs.get(ln.func_code, ""), "source": ln.source, "amount_before": ln.amount,
                     "amount": amount, "months": plan, "note": ln.note, "problem": problem})
    return {"source_budget_id": source.id, "rows": rows, "skipped": list(skipped.values()),
            "total_before": sum(ln.amount for ln in old), "total_after": sum(r["amount"] for r in rows)}


def carry_forward_preview(ctx: UserContext, org_id: int, year: int, growth: dict | None = None) -> dict:
    year, pct = scope.year(year), _growth(growth)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.edit")
        return _carry(session, org, year, pct)


def carry_forward_create(ctx: UserContext, org_id: int, year: int, growth: dict | None = None) -> dict:
    year, pct = scope.year(year), _growth(growth)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.edit")
        plan = _carry(session, org, year, pct)
        budget = budgets._new_main_budget(session, ctx, org, year)
        for r in plan["rows"]:
            session.add(BudgetLine(budget_id=budget.id, project_id=r["project_id"] or None, econ_code=r["econ_code"],
                                   func_code=r["func_code"], source=r["source"], amount=r["amount"], note=r["note"],
                                   updated_by_id=ctx.user_id, updated_by=ctx.full_name[:64],
                                   **dict(zip(MONTHS, r["months"]))))
        session.flush()
        audit.record(session, "budget.carry_forward", actor=ctx, object_type="budget", object_id=budget.id,
                     org_id=org.id, detail=f"按 {year - 1} 年度批复预算生成",
                     after={"source": plan["source_budget_id"], "lines": len(plan["rows"]),
                            "growth": {k: str(v) for k, v in pct.items()}, "total": plan["total_after"]})
        return budgets._header(session, ctx, budget, org)


# ---- category templates ----

def _items(session: Session, items: object) -> list[tuple[str, int]]:
    """[(econ code, share in basis points)]; shares sum to exactly 100%."""
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise ValidationError(f"模板须有 1 至 {MAX_ITEMS} 个经济分类科目")
    out: dict[str, int] = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise ValidationError(f"第{n}项格式无效")
        code = scope.text(item.get("econ_code"), f"第{n}项经济分类", 5, required=True)
        if not (code.isdigit() and len(code) == 5):
            raise ValidationError(f"第{n}项经济分类“{code}”须为 5 位款级编码")
        if session.exec(select(EconomicSubject.id).where(EconomicSubject.kind == "dept", EconomicSubject.code == code,
                                                         EconomicSubject.level == 2)).first() is None:
            raise ValidationError(f"第{n}项经济分类 {code} 不存在")
        if code in out:
            raise ValidationError(f"经济分类 {code} 重复")
        share = money.parse_percent(item.get("share"), f"第{n}项比例", high=Decimal(100))
        if share <= 0:
            raise ValidationError(f"第{n}项比例须大于 0")
        out[code] = int(share * 100)
    if sum(out.values()) != 10000:
        raise ValidationError(f"各科目比例合计须为 100%，当前为 {Decimal(sum(out.values())) / 100}%")
    return list(out.items())


def _visible(session: Session, ctx: UserContext) -> list[CategoryTemplate]:
    """Templates set at or above an org where the caller works, or within the caller's template scope."""
    me = session.get(Org, ctx.org_id)
    paths = [p for perm in ("budget.edit", "budget.templates") for p, _ in ctx.scope_paths(perm)]
    paths += [me.path] if me else []
    found = session.exec(select(CategoryTemplate, Org).join(Org, Org.id == CategoryTemplate.org_id)
                         .where(CategoryTemplate.active == True).order_by(CategoryTemplate.id)).all()  # noqa: E712
    return [t for t, o in found if any(p.startswith(o.path) for p in paths) or ctx.can("budget.templates", o.path)]


def _template_dict(session: Session, t: CategoryTemplate) -> dict:
    org = session.get(Org, t.org_id)
    items = session.exec(select(CategoryTemplateItem).where(CategoryTemplateItem.template_id == t.id)
                         .order_by(CategoryTemplateItem.id)).all()
    names = dict(session.exec(select(EconomicSubject.code, EconomicSubject.name).where(
        EconomicSubject.kind == "dept", EconomicSubject.code.in_([i.econ_code for i in items]))).all())
    return {"id": t.id, "name": t.name, "description": t.description, "org_id": t.org_id, "org_name": org.name,
            "items": [{"econ_code": i.econ_code, "econ_name": names.get(i.econ_code, ""),
                       "share": f"{Decimal(i.share_bp) / 100:.2f}"} for i in items]}


def list_templates(ctx: UserContext) -> list[dict]:
    with session_scope() as session:
        return [_template_dict(session, t) for t in _visible(session, ctx)]


def create_template(ctx: UserContext, org_id: int, name: str, description: str, items: list[dict]) -> dict:
    name = scope.text(name, "模板名称", 64, required=True)
    description = scope.text(description, "模板说明", 500)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.templates")
        clean = _items(session, items)
        t = CategoryTemplate(org_id=org.id, name=name, description=description)
        session.add(t)
        session.flush()
        session.add_all(CategoryTemplateItem(template_id=t.id, econ_code=c, share_bp=bp) for c, bp in clean)
        session.flush()
        audit.record(session, "template.create", actor=ctx, object_type="template", object_id=t.id, org_id=org.id,
                     detail=f"新建编制模板 {name}", after={"items": clean})
        return _template_dict(session, t)


def _own_template(session: Session, ctx: UserContext, template_id: object) -> CategoryTemplate:
    t = session.get(CategoryTemplate, scope.int_id(template_id, "模板"))
    if t is None:
        raise NotFound("模板不存在")
    scope.require(ctx, "budget.templates", session.get(Org, t.org_id))  # another unit's: refused, and audited
    if not t.active:
        raise NotFound("模板不存在")
    return t


def update_template(ctx: UserContext, template_id: int, *, name: str | None = None, description: str | None = None,
                    items: list[dict] | None = None) -> dict:
    with session_scope() as session:
        t = _own_template(session, ctx, template_id)
        before = _template_dict(session, t)
        if name is not None:
            t.name = scope.text(name, "模板名称", 64, required=True)
        if description is not None:
            t.description = scope.text(description, "模板说明", 500)
        if items is not None:
            clean = _items(session, items)
            for old in session.exec(select(CategoryTemplateItem).where(CategoryTemplateItem.template_id == t.id)).all():
                session.delete(old)
            session.flush()
            session.add_all(CategoryTemplateItem(template_id=t.id, econ_code=c, share_bp=bp) for c, bp in clean)
        session.add(t)
        session.flush()
        after = _template_dict(session, t)
        audit.record(session, "template.update", actor=ctx, object_type="template", object_id=t.id, org_id=t.org_id,
                     before=before, after=after)
        return after


def delete_template(ctx: UserContext, template_id: int) -> None:
    """Templates are retired (kept for the audit trail), not erased."""
    with session_scope() as session:
        t = _own_template(session, ctx, template_id)
        t.active = False
        session.add(t)
        audit.record(session, "template.delete", actor=ctx, object_type="template", object_id=t.id, org_id=t.org_id,
                     before={"name": t.name})


def _split(session: Session, t: CategoryTemplate, fen: int, year: int) -> list[dict]:
    items = session.exec(select(CategoryTemplateItem).where(CategoryTemplateItem.template_id == t.id)
                         .order_by(CategoryTemplateItem.id)).all()
    parts = money.allocate(fen, [i.share_bp for i in items])
    econ, _ = lines.names(session, year, {i.econ_code for i in items}, set())
    return [{"econ_code": i.econ_code, "econ_name": econ.get(i.econ_code, ""),
             "share": f"{Decimal(i.share_bp) / 100:.2f}",
             "amount": part} for i, part in zip(items, parts)]


def _visible_template(session: Session, ctx: UserContext, template_id: object) -> CategoryTemplate:
    tid = scope.int_id(template_id, "模板")
    for t in _visible(session, ctx):
        if t.id == tid:
            return t
    t = session.get(CategoryTemplate, tid)
    if t is None or not t.active:
        raise NotFound("模板不存在")
    raise PermissionDenied("没有权限：不能使用其他单位的编制模板")  # exists, outside the caller's units


def template_preview(ctx: UserContext, template_id: int, amount: str, year: int) -> list[dict]:
    fen, year = money.parse_yuan(amount, "项目金额"), scope.year(year)
    with session_scope() as session:
        return _split(session, _visible_template(session, ctx, template_id), fen, year)


def apply_template(ctx: UserContext, budget_id: int, template_id: int, *, project_id: int, func_code: str,
                   source: str, amount: str) -> budgets.EditResult:
    """Add one line per template item to a budget; the parts sum exactly to `amount`."""
    fen = money.parse_yuan(amount, "项目金额")
    if fen <= 0:
        raise ValidationError("项目金额须大于零")
    with session_scope() as session:
        budget, org = budgets._editable(session, ctx, budget_id)
        t = _visible_template(session, ctx, template_id)
        if not org.path.startswith(session.get(Org, t.org_id).path):
            raise ValidationError("该模板不适用于本单位")
        base = lines.parse_changes(session, budget,
                                   {"project_id": project_id, "func_code": func_code, "source": source})
        parts = _split(session, t, fen, budget.fiscal_year)
        added = []
        for part in parts:
            if why := lines.econ_problem(session, budget.fiscal_year, part["econ_code"]):
                raise ValidationError(f"模板科目不可用：{why}")
            ln = BudgetLine(budget_id=budget.id, econ_code=part["econ_code"], amount=part["amount"],
                            updated_by_id=ctx.user_id, updated_by=ctx.full_name[:64], **base,
                            **dict(zip(MONTHS, money.spread(part["amount"]))))
            session.add(ln)
            added.append(ln)
        session.flush()
        budgets._touch(session, budget)
        audit.record(session, "budget.template", actor=ctx, object_type="budget", object_id=budget.id, org_id=org.id,
                     detail=f"套用模板 {t.name}，金额 {money.fmt(fen)}", after={"lines": [ln.id for ln in added]})
        out = budgets._result(session, budget, lines.rows(session, budget.fiscal_year, added[:1])[0])
        return {**out, "added_ids": [ln.id for ln in added]}
