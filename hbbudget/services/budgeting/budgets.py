"""Budgets and the editor grid: pages of lines, optimistic-lock edits, add/copy/delete, versions and diff,
and 调整/调剂 documents based on an approved budget.

Every edit returns the changed row, the totals and the rule results of the whole budget, computed in the same
transaction, so the editor refreshes its rule panel from the same event.
"""

from __future__ import annotations

import json
from typing import NotRequired, TypedDict

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import (
    Budget,
    BudgetLine,
    BudgetVersion,
    ControlNumber,
    EconomicSubject,
    FunctionSubject,
    Org,
    Project,
)
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import flows, lines, rules_delta
from hbbudget.services.budgeting.lines import LineRow, Subtotals, Totals
from hbbudget.services.core import audit
from hbbudget.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import line_ledger
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

SOURCES = lines.ENTERED_SOURCES  # 结转资金 comes only from a 结转 approval
ADJUST_KINDS = ("调整", "调剂")


class EditResult(TypedDict):
    """What every edit of lines returns: the changed row (None for a delete), and the totals, subtotals and rule
    results of the whole budget from the same transaction."""
    row: LineRow | None
    totals: Totals
    subtotals: Subtotals
    rules: list[dict]  # rules.evaluate's results
    deleted_id: NotRequired[int]  # delete_line
    added_ids: NotRequired[list[int]]  # templates.apply_template


class LinePage(TypedDict):
    """One page of a budget's lines (fetch_lines), with the budget's totals, subtotals and (optionally) rules."""
    rows: list[LineRow]
    count: int
    totals: Totals
    subtotals: Subtotals
    rules: list[dict]


# ---- loading with scope ----

def _load(session: Session, ctx: UserContext, budget_id: object, permission: str, *,
         lock: bool = False) -> tuple[Budget, Org]:
    q = select(Budget).where(Budget.id == scope.int_id(budget_id, "预算"))
    budget = session.exec(q.with_for_update() if lock else q).first()
    if budget is None:
        raise NotFound("预算不存在")
    org = session.get(Org, budget.org_id)
    scope.require(ctx, permission, org)
    return budget, org


def _editable(session: Session, ctx: UserContext, budget_id: int) -> tuple[Budget, Org]:
    budget, org = _load(session, ctx, budget_id, "budget.edit", lock=True)
    if budget.status not in flows.BUDGET_EDITABLE:
        raise ValidationError(f"预算状态为“{budget.status}”，只有草稿或退回的预算可以修改")
    return budget, org


def _line(session: Session, ctx: UserContext, line_id: object) -> tuple[BudgetLine, Budget, Org]:
    line = session.get(BudgetLine, scope.int_id(line_id, "预算行"))
    if line is None:
        raise NotFound("该行不存在（可能已被他人删除）")
    budget, org = _editable(session, ctx, line.budget_id)
    return line, budget, org


# ---- headers ----

def _actions(session: Session, ctx: UserContext, b: Budget, org: Org) -> list[dict]:
    out = []
    for action, t in flows.BUDGET_FLOW.items():
        if b.status not in t.sources:
            continue
        where = session.get(Org, b.step_org_id) if t.where == "step" and b.step_org_id else org
        if scope.allowed(ctx, t.permission, t.where, where):
            out.append({"action": action, "label": t.label})
    if b.status == "已批复" and b.superseded_by_id is None and ctx.can("budget.edit", org.path):
        out += [{"action": "adjust", "label": "发起调整"}, {"action": "transfer", "label": "发起调剂"}]
    return out


def _totals_by_budget(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    q = select(BudgetLine.budget_id, func.coalesce(func.sum(BudgetLine.amount), 0), func.count()) \
        .where(BudgetLine.budget_id.in_(ids)).group_by(BudgetLine.budget_id)
    return {bid: (int(total), n) for bid, total, n in session.exec(q).all()}


def _control(session: Session, b: Budget) -> int:
    cn = session.exec(select(ControlNumber.amount).where(ControlNumber.org_id == b.org_id,
                                                         ControlNumber.fiscal_year == b.fiscal_year)).first()
    return int(cn or 0)


def _list_row(b: Budget, org: Org, step: Org | None, total: int, count: int) -> dict:
    return {"id": b.id, "org_id": b.org_id, "org_name": org.name, "fiscal_year": b.fiscal_year, "round": b.round,
            "status": b.status, "step_org_name": step.name if step else "", "total": total, "line_count": count,
            "version_no": b.version_no, "updated_at": to_local_text(b.updated_at)}


def _list_rows(session: Session, budgets: list[Budget]) -> list[dict]:
    ids = {b.org_id for b in budgets} | {b.step_org_id for b in budgets if b.step_org_id}
    orgs = {o.id: o for o in session.exec(select(Org).where(Org.id.in_(ids))).all()} if ids else {}
    sums = _totals_by_budget(session, [b.id for b in budgets])
    return [_list_row(b, orgs[b.org_id], orgs.get(b.step_org_id), *sums.get(b.id, (0, 0))) for b in budgets]


def _header(session: Session, ctx: UserContext, b: Budget, org: Org) -> dict:
    row = _list_rows(session, [b])[0]
    return {**row, "control": _control(session, b), "based_on_id": b.based_on_id or 0,
            "superseded": b.superseded_by_id is not None, "last_comment": b.last_comment,
            "editable": b.status in flows.BUDGET_EDITABLE and ctx.can("budget.edit", org.path),
            "actions": _actions(session, ctx, b, org)}


def list_budgets(ctx: UserContext, *, year: int | None = None, org_id: int | None = None, offset: int = 0,
                 limit: int = 50) -> tuple[list[dict], int]:
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        conds = [scope.orgs_filter(ctx, "budget.view")]
        if year:
            conds.append(Budget.fiscal_year == scope.year(year))
        if org_id:
            conds.append(Budget.org_id == scope.org_for(session, ctx, org_id, "budget.view").id)
        q = select(Budget).join(Org, Org.id == Budget.org_id).where(*conds)
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        budgets = session.exec(q.order_by(Budget.fiscal_year.desc(), Org.path, Budget.seq)
                               .offset(offset).limit(limit)).all()
        return _list_rows(session, list(budgets)), total


def get_budget(ctx: UserContext, budget_id: int) -> dict:
    with session_scope() as session:
        budget, org = _load(session, ctx, budget_id, "budget.view")
        return _header(session, ctx, budget, org)


def create_budget(ctx: UserContext, org_id: int, year: int) -> dict:
    """The main budget of an org and year: round 一上, or 二上 when control numbers were already issued."""
    year = scope.year(year)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.edit")
        return _header(session, ctx, _new_main_budget(session, ctx, org, year), org)


def _new_main_budget(session: Session, ctx: UserContext, org: Org, year: int) -> Budget:
    if session.exec(select(Budget.id).where(Budget.org_id == org.id, Budget.fiscal_year == year,
                                            Budget.seq == 0)).first():
        raise ValidationError(f"{org.name} {year} 年度预算已存在")
    has_cn = session.exec(select(ControlNumber.id).where(ControlNumber.org_id == org.id,
                                                         ControlNumber.fiscal_year == year)).first()
    budget = Budget(org_id=org.id, fiscal_year=year, seq=0, round="二上" if has_cn else "一上",
                    created_by_id=ctx.user_id)
    session.add(budget)
    session.flush()
    audit.record(session, "budget.create", actor=ctx, object_type="budget", object_id=budget.id, org_id=org.id,
                 detail=f"新建 {year} 年度预算（{budget.round}）")
    return budget


# ---- the grid ----

def _result(session: Session, budget: Budget, row: LineRow | None,
            change: tuple[rules_delta.Part, rules_delta.Part] | None = None) -> EditResult:
    """What every edit returns: the row, totals, subtotals and rule results of the whole budget (after a change
    of one line, updated incrementally: services/budgeting/rules_delta.py)."""
    f, results = rules_delta.after_edit(session, budget, *change) if change else rules_delta.full(session, budget)
    return {"row": row, "totals": lines.totals(f), "subtotals": lines.subtotals(session, budget.fiscal_year, f),
            "rules": results}


def fetch_lines(ctx: UserContext, budget_id: int, *, offset: int = 0, limit: int = 50, econ: str = "",
                func_code: str = "", project_id: int = 0, search: str = "", with_rules: bool = True) -> LinePage:
    """One page of lines (id order) with totals, subtotals by 类 and (optionally) rule results."""
    offset, limit = scope.page(offset, limit)
    conds = []
    for value, col, label in ((econ, BudgetLine.econ_code, "经济分类"), (func_code, BudgetLine.func_code, "功能分类")):
        value = scope.text(value, label, 7)
        if value:
            if not value.isdigit():
                raise ValidationError(f"{label}筛选须为数字编码")
            conds.append(col.startswith(value))
    with session_scope() as session:
        budget, org = _load(session, ctx, budget_id, "budget.view")
        conds.append(BudgetLine.budget_id == budget.id)
        if project_id:
            conds.append(BudgetLine.project_id == scope.int_id(project_id, "项目"))
        text = scope.text(search, "搜索", 64)
        if text:
            pids = select(Project.id).where(or_(Project.code.contains(text, autoescape=True),
                                                Project.name.contains(text, autoescape=True)))
            conds.append(or_(BudgetLine.note.contains(text, autoescape=True), BudgetLine.project_id.in_(pids)))
        count = session.exec(select(func.count()).select_from(BudgetLine).where(*conds)).one()
        page = session.exec(select(BudgetLine).where(*conds).order_by(BudgetLine.id).offset(offset).limit(limit)).all()
        f, results = rules_delta.full(session, budget) if with_rules else (lines.facts(session, budget.id), [])
        return {"rows": lines.rows(session, budget.fiscal_year, list(page)), "count": count,
                "totals": lines.totals(f), "subtotals": lines.subtotals(session, budget.fiscal_year, f),
                "rules": results}


def _version(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("版本号无效，请刷新后重试")
    return value


def _conflict(session: Session, budget: Budget, line_id: int, verb: str = "保存") -> Conflict:
    current = session.exec(select(BudgetLine).where(BudgetLine.id == line_id)
                           .execution_options(populate_existing=True)).first()
    if current is None:
        return Conflict("该行已被他人删除", {})
    row = lines.rows(session, budget.fiscal_year, [current])[0]
    return Conflict(f"该行已被{current.updated_by or '他人'}于{to_local_text(current.updated_at)}修改，"
                    f"已显示最新内容，请核对后重新{verb}", row)


def _audit_line(line: BudgetLine) -> dict:
    return {"project_id": line.project_id, "econ_code": line.econ_code, "func_code": line.func_code,
            "source": line.source, "amount": line.amount, "months": lines.months_of(line), "note": line.note}


def update_line(ctx: UserContext, line_id: int, changes: dict, expected_version: int) -> EditResult:
    """Save typed changes to one line if nobody saved it since `expected_version`; else Conflict."""
    expected = _version(expected_version)
    with session_scope() as session:
        line, budget, org = _line(session, ctx, line_id)
        values = lines.parse_changes(session, budget, changes)
        if line.version != expected:
            raise _conflict(session, budget, line.id)
        before, was = _audit_line(line), rules_delta.part(line)
        if "amount" in values and "m01" not in values and lines.months_of(line) == money.spread(line.amount):
            values["spread"] = True  # an even plan follows the amount; a hand-made plan is left to the user
        lines.apply_spread(values, values.get("amount", line.amount))
        stamp = {"version": expected + 1, "updated_by_id": ctx.user_id, "updated_by": ctx.full_name[:64],
                 "updated_at": now()}
        done = session.execute(update(BudgetLine).where(BudgetLine.id == line.id, BudgetLine.version == expected)
                               .values(**values, **stamp))
        if done.rowcount != 1:  # saved by someone else between our read and write
            raise _conflict(session, budget, line.id)
        session.refresh(line)
        _touch(session, budget)
        out = _result(session, budget, lines.rows(session, budget.fiscal_year, [line])[0],
                      (was, rules_delta.part(line)))
        audit.record(session, "budget.line.update", actor=ctx, object_type="budgetline", object_id=line.id,
                     org_id=org.id, before=before, after=_audit_line(line))
        return out


def _touch(session: Session, budget: Budget) -> None:
    budget.updated_at = now()
    session.add(budget)


def add_line(ctx: UserContext, budget_id: int, data: dict) -> EditResult:
    with session_scope() as session:
        budget, org = _editable(session, ctx, budget_id)
        data = dict(data) if isinstance(data, dict) else data
        if isinstance(data, dict):
            data.setdefault("source", "财政拨款")
            data.setdefault("amount", "0")
            if "months" not in data:
                data.setdefault("spread", "even")
        values = lines.parse_changes(session, budget, data)
        for key, label in (("econ_code", "经济分类科目"), ("func_code", "功能分类科目")):
            if key not in values:
                raise ValidationError(f"请填写{label}")
        lines.apply_spread(values, values["amount"])
        line = BudgetLine(budget_id=budget.id, updated_by_id=ctx.user_id, updated_by=ctx.full_name[:64], **values)
        session.add(line)
        session.flush()
        _touch(session, budget)
        out = _result(session, budget, lines.rows(session, budget.fiscal_year, [line])[0])
        audit.record(session, "budget.line.add", actor=ctx, object_type="budgetline", object_id=line.id,
                     org_id=org.id, after=_audit_line(line))
        return out


def copy_line(ctx: UserContext, line_id: int) -> EditResult:
    with session_scope() as session:
        src, budget, org = _line(session, ctx, line_id)
        fields = {k: getattr(src, k) for k in ("project_id", "econ_code", "func_code", "source", "amount", "note",
                                                *MONTHS)}
        line = BudgetLine(budget_id=budget.id, updated_by_id=ctx.user_id, updated_by=ctx.full_name[:64], **fields)
        session.add(line)
        session.flush()
        _touch(session, budget)
        out = _result(session, budget, lines.rows(session, budget.fiscal_year, [line])[0])
        audit.record(session, "budget.line.add", actor=ctx, object_type="budgetline", object_id=line.id,
                     org_id=org.id, detail=f"复制第 {src.id} 行", after=_audit_line(line))
        return out


def delete_line(ctx: UserContext, line_id: int, expected_version: int) -> EditResult:
    expected = _version(expected_version)
    with session_scope() as session:
        line, budget, org = _line(session, ctx, line_id)
        before = _audit_line(line)
        done = session.execute(delete(BudgetLine).where(BudgetLine.id == line.id, BudgetLine.version == expected))
        if done.rowcount != 1:
            raise _conflict(session, budget, line.id, "删除")
        session.expunge(line)
        _touch(session, budget)
        out = {**_result(session, budget, None), "deleted_id": line.id}
        audit.record(session, "budget.line.delete", actor=ctx, object_type="budgetline", object_id=line.id,
                     org_id=org.id, before=before)
        return out


# ---- pickers ----

def code_options(ctx: UserContext, year: int, kind: str, search: str = "", limit: int = 20) -> list[dict]:
    """Leaf, active codes of a year for the grid's pickers (kind: function | dept)."""
    if not (ctx.has("budget.view") or ctx.has("project.view")):
        raise PermissionDenied("没有权限：查看预算")
    year = scope.year(year)
    _, limit = scope.page(0, limit)
    text = scope.text(search, "搜索", 32)
    if kind == "function":
        model, conds = FunctionSubject, [FunctionSubject.level == 3]
    elif kind == "dept":
        model, conds = EconomicSubject, [EconomicSubject.kind == "dept", EconomicSubject.level == 2]
    else:
        raise ValidationError("科目类型须为 function 或 dept")
    conds += [model.fiscal_year == year, model.active == True]  # noqa: E712
    if text:
        conds.append(or_(model.code.startswith(text, autoescape=True), model.name.contains(text, autoescape=True)))
    with session_scope() as session:
        found = session.exec(select(model.code, model.name).where(*conds).order_by(model.code).limit(limit)).all()
    return [{"code": c, "name": n} for c, n in found]


def project_options(ctx: UserContext, budget_id: int, search: str = "", limit: int = 20) -> list[dict]:
    _, limit = scope.page(0, limit)
    text = scope.text(search, "搜索", 64)
    with session_scope() as session:
        budget, _ = _load(session, ctx, budget_id, "budget.view")
        conds = [Project.org_id == budget.org_id, Project.status.not_in(("已完成", "已终止"))]
        if text:
            conds.append(or_(Project.code.contains(text, autoescape=True),
                             Project.name.contains(text, autoescape=True)))
        found = session.exec(select(Project).where(*conds).order_by(Project.code).limit(limit)).all()
    return [{"id": p.id, "code": p.code, "name": p.name, "status": p.status} for p in found]


# ---- versions and diff ----

def save_version(session: Session, ctx: UserContext, budget: Budget, event: str, reason: str = "") -> BudgetVersion:
    """A version of `budget` in the caller's transaction (public: review and the 财政云 import save one too)."""
    snap = lines.snapshot(session, budget)
    budget.version_no += 1
    version = BudgetVersion(budget_id=budget.id, version_no=budget.version_no, round=budget.round, event=event,
                            total=sum(ln["amount"] for ln in snap), reason=reason[:500],
                            lines=json.dumps(snap, ensure_ascii=False), created_by=ctx.full_name[:64])
    session.add(budget)
    session.add(version)
    session.flush()
    return version


def list_versions(ctx: UserContext, budget_id: int) -> list[dict]:
    with session_scope() as session:
        budget, _ = _load(session, ctx, budget_id, "budget.view")
        found = session.exec(select(BudgetVersion.version_no, BudgetVersion.round, BudgetVersion.event,
                                    BudgetVersion.created_at, BudgetVersion.created_by, BudgetVersion.total,
                                    BudgetVersion.reason)
                             .where(BudgetVersion.budget_id == budget.id).order_by(BudgetVersion.version_no)).all()
    return [{"version_no": v, "round": r, "event": e, "created_at": to_local_text(t), "created_by": by,
             "total": total, "reason": reason} for v, r, e, t, by, total, reason in found]


def _version_lines(session: Session, budget: Budget, version_no: int) -> list[dict]:
    if version_no == 0:
        return lines.snapshot(session, budget)
    v = session.exec(select(BudgetVersion).where(BudgetVersion.budget_id == budget.id,
                                                 BudgetVersion.version_no == version_no)).first()
    if v is None:
        raise NotFound(f"版本 {version_no} 不存在")
    return json.loads(v.lines)


def _keyed(snap: list[dict]) -> dict[tuple, dict]:
    """Lines keyed by (project, econ, func, source, n-th occurrence)."""
    seen: dict[tuple, int] = {}
    out = {}
    for ln in snap:
        base = (ln["project_code"], ln["econ_code"], ln["func_code"], ln["source"])
        seen[base] = seen.get(base, 0) + 1
        out[(*base, seen[base])] = ln
    return out


def compare(old: list[dict], new: list[dict]) -> dict:
    a, b = _keyed(old), _keyed(new)
    changed = []
    for key in a.keys() & b.keys():
        fields = [f for f in ("amount", "months", "note") if a[key][f] != b[key][f]]
        if fields:
            changed.append({"key": "/".join(str(k) for k in key[:4]), "before": a[key], "after": b[key],
                            "fields": fields})
    return {"added": [b[k] for k in sorted(b.keys() - a.keys())],
            "removed": [a[k] for k in sorted(a.keys() - b.keys())],
            "changed": sorted(changed, key=lambda c: c["key"]),
            "from_total": sum(ln["amount"] for ln in old), "to_total": sum(ln["amount"] for ln in new)}


def diff(ctx: UserContext, budget_id: int, from_version: int, to_version: int = 0, other_budget_id: int = 0) -> dict:
    """Lines added, removed and changed from `from_version` (of `other_budget_id` when given) to `to_version`
    of `budget_id` (0 = the current lines)."""
    for v in (from_version, to_version):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValidationError("版本号无效")
    with session_scope() as session:
        budget, _ = _load(session, ctx, budget_id, "budget.view")
        source = _load(session, ctx, other_budget_id, "budget.view")[0] if other_budget_id else budget
        result = compare(_version_lines(session, source, from_version), _version_lines(session, budget, to_version))
        _name_lines(session, budget, [*result["added"], *result["removed"],
                                      *(c[k] for c in result["changed"] for k in ("before", "after"))])
        return result


def _name_lines(session: Session, budget: Budget, snap: list[dict]) -> None:
    """Add the project, 经济分类 and 功能分类 names to version lines (which store codes only), in place."""
    econ, funcs = lines.names(session, budget.fiscal_year, {ln["econ_code"] for ln in snap},
                              {ln["func_code"] for ln in snap})
    codes = {ln["project_code"] for ln in snap if ln["project_code"]}
    projects = dict(session.exec(select(Project.code, Project.name).where(
        Project.org_id == budget.org_id, Project.code.in_(codes))).all()) if codes else {}
    for ln in snap:
        ln["econ_name"], ln["func_name"] = econ.get(ln["econ_code"], ""), funcs.get(ln["func_code"], "")
        ln["project_name"] = projects.get(ln["project_code"], "") if ln["project_code"] else "基本支出"


# ---- 调整 / 调剂 ----

def create_adjustment(ctx: UserContext, budget_id: int, kind: str) -> dict:
    """A 调整 (changes the total) or 调剂 (nets to zero) draft from an approved budget, lines copied."""
    if kind not in ADJUST_KINDS:
        raise ValidationError("调整类型须为调整或调剂")
    with session_scope() as session:
        base, org = _load(session, ctx, budget_id, "budget.edit", lock=True)
        if base.status != "已批复" or base.superseded_by_id is not None:
            raise ValidationError("只有现行的已批复预算可以发起调整或调剂")
        if session.exec(select(Budget.id).where(Budget.based_on_id == base.id, Budget.status != "已批复")).first():
            raise ValidationError("该预算已有未完成的调整或调剂，请先完成")
        seq = session.exec(select(func.max(Budget.seq)).where(Budget.org_id == base.org_id,
                                                              Budget.fiscal_year == base.fiscal_year)).one() or 0
        adj = Budget(org_id=base.org_id, fiscal_year=base.fiscal_year, seq=seq + 1, round=kind, based_on_id=base.id,
                     created_by_id=ctx.user_id)
        session.add(adj)
        session.flush()
        for ln in session.exec(select(BudgetLine).where(BudgetLine.budget_id == base.id).order_by(BudgetLine.id)).all():
            session.add(BudgetLine(budget_id=adj.id, updated_by_id=ctx.user_id, updated_by=ctx.full_name[:64],
                                   **{k: getattr(ln, k) for k in ("project_id", "econ_code", "func_code", "source",
                                                                   "amount", "note", *MONTHS)}))
        audit.record(session, "budget.create", actor=ctx, object_type="budget", object_id=adj.id, org_id=org.id,
                     detail=f"发起{kind}（基于预算 {base.id}）")
        return _header(session, ctx, adj, org)


def transfer(ctx: UserContext, budget_id: int, from_line_id: int, to_line_id: int, amount: str,
             note: str = "") -> EditResult:
    """调剂: move `amount` from one line to another of a 调剂 draft (the total does not change); `note` (the
    reason, ≤ 200 characters) goes into the audit entry.

    The giving line's plan is cut from December backwards; the receiving line's plan gets it evenly."""
    fen = money.parse_yuan(amount, "调剂金额")
    if fen <= 0:
        raise ValidationError("调剂金额须大于零")
    note = scope.text(note, "调剂说明", 200)
    with session_scope() as session:
        budget, org = _editable(session, ctx, budget_id)
        if budget.round != "调剂":
            raise ValidationError("只有调剂单可以在行间调剂资金")
        ids = (scope.int_id(from_line_id, "调出行"), scope.int_id(to_line_id, "调入行"))
        if ids[0] == ids[1]:
            raise ValidationError("调出行和调入行不能相同")
        src, dst = (session.get(BudgetLine, i) for i in ids)
        if src is None or dst is None or src.budget_id != budget.id or dst.budget_id != budget.id:
            raise ValidationError("调出行和调入行须属于本调剂单")
        if src.amount < fen:
            raise ValidationError(f"调出行金额 {money.fmt(src.amount)} 不足 {money.fmt(fen)}")
        used = line_ledger.committed(session, budget.org_id, budget.fiscal_year).get(line_ledger.key(src), 0)
        if src.amount - fen < used:
            raise ValidationError(f"调出行已支出及冻结 {money.fmt(used)}，最多可调出 {money.fmt(max(src.amount - used, 0))}")
        before = {"from": _audit_line(src), "to": _audit_line(dst)}
        rest = fen
        for m in reversed(MONTHS):
            take = min(rest, getattr(src, m))
            setattr(src, m, getattr(src, m) - take)
            rest -= take
        src.amount -= fen
        for m, extra in zip(MONTHS, money.spread(fen)):
            setattr(dst, m, getattr(dst, m) + extra)
        dst.amount += fen
        for ln in (src, dst):
            ln.version += 1
            ln.updated_by_id, ln.updated_by, ln.updated_at = ctx.user_id, ctx.full_name[:64], now()
            session.add(ln)
        session.flush()
        _touch(session, budget)
        audit.record(session, "budget.transfer", actor=ctx, object_type="budget", object_id=budget.id, org_id=org.id,
                     detail=f"行 {src.id} → 行 {dst.id} 调剂 {money.fmt(fen)}" + (f"：{note}" if note else ""),
                     before=before,
                     after={"from": _audit_line(src), "to": _audit_line(dst)})
        return _result(session, budget, lines.rows(session, budget.fiscal_year, [dst])[0])
