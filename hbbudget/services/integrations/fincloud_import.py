"""批复 指标 from the finance cloud: fetched on a schedule, reconciled with the budgets in force, confirmed (or
rejected) by a 财政审核 user (budget.review over every unit the import names), applied all or nothing.

Reconciliation, per key (单位, 项目, 经济分类款, 功能分类项, 资金来源), against the budget in force of each unit's
approved main budget of the year: 一致 (same amount), 不一致 (both amounts), 本系统缺少 (the cloud has it, we do not),
财政云缺少 (we have it, the cloud does not), 无法应用 (an unknown unit, no approved budget, an unknown project).
Confirming recomputes the report: it must still be the one the user saw (its digest), and have no 无法应用 row.
Applying sets 不一致 lines to the cloud's amount (several lines of one key share it in proportion; each line's
monthly plan is rescaled), adds 本系统缺少 lines (an even monthly plan), leaves 财政云缺少 lines alone, and saves a
budget version (event 财政云指标) of each budget it changed."""

from __future__ import annotations

import hashlib
import json

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.integrations.fincloud import indicators as fc_indicators
from hbbudget.integrations.fincloud.records import FincloudError
from hbbudget.models import Budget, BudgetLine, FincloudImport, FincloudRun, Org, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import budgets as budgeting
from hbbudget.services.core import audit, data_version
from hbbudget.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, text
from hbbudget.settings import get_settings

PERMISSION = "budget.review"
EVENT = "财政云指标"


def fetch(year: int, *, trigger: str = "schedule", who: str = "系统") -> dict:
    """Poll the cloud; a changed set of 指标 becomes a new 待确认 import (voiding an older pending one)."""
    settings = get_settings()
    with session_scope() as session:
        run = FincloudRun(kind="导入", fiscal_year=year, trigger=trigger)
        session.add(run)
        session.flush()
        run_id = run.id
    error, found, bad = "", [], []
    try:
        found, bad = fc_indicators.fetch(settings.fincloud_url, year, timeout=settings.fincloud_timeout_seconds)
    except FincloudError as exc:
        error = str(exc)
    rows = sorted((i.to_dict() for i in found), key=lambda r: r["ind_id"])
    digest = hashlib.sha256(json.dumps([rows, bad], ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    with session_scope() as session:
        run = session.get(FincloudRun, run_id)
        run.finished_at, run.error = now(), error[:500]
        run.records, run.accepted, run.rejected = len(found) + len(bad), len(found), len(bad)
        run.rejections = json.dumps([{"agency": "", "project": r["ind_id"], "econ": "", "reason": r["reason"]}
                                     for r in bad[:500]], ensure_ascii=False)
        run.result, import_id = "失败" if error else "成功", None
        if not error:
            latest = session.exec(select(FincloudImport).where(FincloudImport.fiscal_year == year,
                                                               FincloudImport.status.in_(("待确认", "已应用")))
                                  .order_by(FincloudImport.id.desc())).first()
            if latest is not None and latest.digest == digest:
                run.result = "无变化"
            else:
                for old in session.exec(select(FincloudImport).where(FincloudImport.fiscal_year == year,
                                                                     FincloudImport.status == "待确认")).all():
                    old.status, old.comment = "已作废", "财政云指标已更新"
                    session.add(old)
                codes = {r["agency"] for r in rows}
                org_ids = sorted(session.exec(select(Org.id).where(Org.code.in_(codes))).all()) if codes else []
                imp = FincloudImport(fiscal_year=year, digest=digest, indicators=json.dumps(rows, ensure_ascii=False),
                                     unreadable=json.dumps(bad, ensure_ascii=False), org_ids=json.dumps(org_ids))
                session.add(imp)
                session.flush()
                import_id = imp.id
        run.batch_id = f"指标导入 {import_id}" if import_id else ""
        session.add(run)
        audit.record(session, "fincloud.fetch", username=who, object_type="fincloud_run", object_id=run_id,
                     success=not error, detail=f"{year} 年财政云指标：{run.result}",
                     after={"indicators": len(found), "unreadable": len(bad), "import": import_id, "error": error})
        return {"run": run_id, "result": run.result, "import_id": import_id, "error": error}


# ---------------------------------------------------------------- reconciliation

def _ours(session: Session, org: Org, year: int) -> tuple[Budget | None, dict[tuple, list[BudgetLine]]]:
    main = session.exec(select(Budget).where(Budget.org_id == org.id, Budget.fiscal_year == year, Budget.seq == 0,
                                             Budget.status == "已批复")).first()
    if main is None:
        return None, {}
    budget, seen = main, {main.id}
    while budget.superseded_by_id and budget.superseded_by_id not in seen:
        nxt = session.get(Budget, budget.superseded_by_id)
        if nxt is None or nxt.status != "已批复":
            break
        seen.add(nxt.id)
        budget = nxt
    lines = session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id).order_by(BudgetLine.id)).all()
    pids = {ln.project_id for ln in lines if ln.project_id}
    codes = dict(session.exec(select(Project.id, Project.code).where(Project.id.in_(pids))).all()) if pids else {}
    keyed: dict[tuple, list[BudgetLine]] = {}
    for ln in lines:
        keyed.setdefault((org.code, codes.get(ln.project_id, "") if ln.project_id else "", ln.econ_code,
                          ln.func_code, ln.source), []).append(ln)
    return budget, keyed


def reconcile(session: Session, imp: FincloudImport) -> list[dict]:
    cloud: dict[tuple, int] = {}
    for r in json.loads(imp.indicators):
        key = (r["agency"], r["project"], r["econ"], r["func"], r["source"])
        cloud[key] = cloud.get(key, 0) + int(r["amount"])
    agencies = sorted({k[0] for k in cloud})
    orgs = {o.code: o for o in session.exec(select(Org).where(Org.code.in_(agencies))).all()} if agencies else {}
    rows = []
    for code in agencies:
        org = orgs.get(code)
        budget, ours = _ours(session, org, imp.fiscal_year) if org else (None, {})
        keys = sorted({*(k for k in cloud if k[0] == code), *ours})
        for key in keys:
            mine = sum(ln.amount for ln in ours.get(key, [])) if key in ours else None
            theirs = cloud.get(key)
            reason = ""
            if org is None:
                status, reason = "无法应用", f"本系统没有单位编码 {code}"
            elif theirs is None:
                status = "财政云缺少"
            elif mine is None and budget is None:
                status, reason = "无法应用", "该单位没有已批复的预算"
            elif mine is None and key[1] and session.exec(select(Project.id).where(
                    Project.code == key[1], Project.org_id == org.id)).first() is None:
                status, reason = "无法应用", f"本单位没有项目 {key[1]}"
            elif mine is None:
                status = "本系统缺少"
            else:
                status = "一致" if mine == theirs else "不一致"
            rows.append({"org_id": org.id if org else 0, "org_name": org.name if org else code, "agency": code,
                         "project": key[1], "econ": key[2], "func": key[3], "source": key[4], "ours": mine,
                         "cloud": theirs, "status": status, "reason": reason})
    return rows


def _digest(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _visible(ctx: UserContext, session: Session, imp: FincloudImport) -> tuple[list[Org], bool]:
    """(orgs the import names, whether the user may review every one of them)."""
    orgs = [session.get(Org, oid) for oid in json.loads(imp.org_ids)]
    orgs = [o for o in orgs if o is not None]
    return orgs, bool(orgs) and all(ctx.can(PERMISSION, o.path) for o in orgs)


def pending(ctx: UserContext) -> list[dict]:
    """Imports waiting for confirmation that name at least one unit the user reviews."""
    if not ctx.scope_paths(PERMISSION):
        raise PermissionDenied("没有权限：预算审核")
    with session_scope() as session:
        out = []
        for imp in session.exec(select(FincloudImport).where(FincloudImport.status == "待确认")
                                .order_by(FincloudImport.id.desc())).all():
            orgs, whole = _visible(ctx, session, imp)
            if any(ctx.can(PERMISSION, o.path) for o in orgs):
                out.append({"id": imp.id, "year": imp.fiscal_year, "fetched_at": to_local_text(imp.fetched_at),
                            "units": len(orgs), "whole": whole})
        return out


def _load(session: Session, ctx: UserContext, import_id: object, *, lock: bool = False) -> FincloudImport:
    iid = int_id(import_id, "指标导入")
    query = select(FincloudImport).where(FincloudImport.id == iid)
    imp = session.exec(query.with_for_update() if lock else query).first()
    if imp is None:
        raise NotFound("指标导入不存在")
    orgs, _ = _visible(ctx, session, imp)
    if not any(ctx.can(PERMISSION, o.path) for o in orgs):
        raise PermissionDenied("没有权限：该批财政云指标不涉及您审核的单位")
    return imp


def report(ctx: UserContext, import_id: object) -> dict:
    """The reconciliation rows of the units the user reviews, the counts of every status, and the digest of the
    whole report (passed back to confirm)."""
    with session_scope() as session:
        imp = _load(session, ctx, import_id)
        rows = reconcile(session, imp)
        _, whole = _visible(ctx, session, imp)
        paths = {o.id: o.path for o in session.exec(select(Org).where(Org.id.in_([r["org_id"] for r in rows]))).all()}
        shown = [{**r, "ours": "" if r["ours"] is None else money.fmt(r["ours"]),
                  "cloud": "" if r["cloud"] is None else money.fmt(r["cloud"])}
                 for r in rows if r["org_id"] in paths and ctx.can(PERMISSION, paths[r["org_id"]])]
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return {"id": imp.id, "year": imp.fiscal_year, "status": imp.status, "rows": shown, "counts": counts,
                "hidden": len(rows) - len(shown), "whole": whole, "digest": _digest(rows),
                "unreadable": json.loads(imp.unreadable)}


def confirm(ctx: UserContext, import_id: object, digest: object) -> dict:
    with session_scope() as session:
        imp = _load(session, ctx, import_id, lock=True)
        orgs, whole = _visible(ctx, session, imp)
        if not whole:
            raise PermissionDenied("没有权限：这批指标涉及您不审核的单位，须由上级财政审核人员确认")
        if imp.status != "待确认":
            raise ValidationError(f"这批指标的状态为“{imp.status}”，不能再确认")
        rows = reconcile(session, imp)
        if _digest(rows) != str(digest):
            raise Conflict("预算或指标已变化，核对结果已更新，请重新核对后再确认")
        blocked = [r for r in rows if r["status"] == "无法应用"]
        if blocked:
            raise ValidationError(f"有 {len(blocked)} 条指标无法应用（如 {blocked[0]['org_name']}："
                                  f"{blocked[0]['reason']}），未做任何修改")
        touched = _apply(session, ctx, imp, rows)
        for budget in touched.values():
            budgeting.save_version(session, ctx, budget, EVENT, f"财政云指标导入 {imp.id}")
        data_version.bump(session)
        imp.status, imp.decided_by, imp.decided_at = "已应用", ctx.full_name[:64], now()
        session.add(imp)
        changed = sum(r["status"] in ("不一致", "本系统缺少") for r in rows)
        audit.record(session, "fincloud.confirm", actor=ctx, object_type="fincloud_import", object_id=imp.id,
                     detail=f"确认应用 {imp.fiscal_year} 年财政云指标：修改或新增 {changed} 条，涉及 {len(touched)} 个预算",
                     after={"changed": changed, "budgets": sorted(touched)})
        return {"id": imp.id, "changed": changed, "budgets": len(touched)}


def _apply(session: Session, ctx: UserContext, imp: FincloudImport, rows: list[dict]) -> dict[int, Budget]:
    touched: dict[int, Budget] = {}
    for r in rows:
        if r["status"] not in ("不一致", "本系统缺少"):
            continue
        org = session.get(Org, r["org_id"])
        budget, ours = _ours(session, org, imp.fiscal_year)
        key = (r["agency"], r["project"], r["econ"], r["func"], r["source"])
        if r["status"] == "不一致":
            lines = ours[key]
            for ln, amount in zip(lines, money.allocate(r["cloud"], [max(ln.amount, 0) for ln in lines]
                                  if any(ln.amount > 0 for ln in lines) else [1] * len(lines))):
                old = [getattr(ln, m) for m in MONTHS]
                months = money.allocate(amount, old) if sum(old) > 0 else money.spread(amount)
                for m, v in zip(MONTHS, months):
                    setattr(ln, m, v)
                ln.amount, ln.version, ln.updated_by, ln.updated_at = amount, ln.version + 1, ctx.full_name[:64], now()
                session.add(ln)
        else:
            pid = session.exec(select(Project.id).where(Project.code == r["project"], Project.org_id == org.id)
                               ).first() if r["project"] else None
            session.add(BudgetLine(budget_id=budget.id, project_id=pid, econ_code=r["econ"], func_code=r["func"],
                                   source=r["source"], amount=r["cloud"], note="财政云指标",
                                   updated_by=ctx.full_name[:64], **dict(zip(MONTHS, money.spread(r["cloud"])))))
        touched[budget.id] = budget
    session.flush()
    return touched


def reject(ctx: UserContext, import_id: object, reason: object) -> dict:
    comment = text(reason, "拒绝原因", 500, required=True)
    with session_scope() as session:
        imp = _load(session, ctx, import_id, lock=True)
        _, whole = _visible(ctx, session, imp)
        if not whole:
            raise PermissionDenied("没有权限：这批指标涉及您不审核的单位，须由上级财政审核人员处理")
        if imp.status != "待确认":
            raise ValidationError(f"这批指标的状态为“{imp.status}”，不能再拒绝")
        imp.status, imp.decided_by, imp.decided_at, imp.comment = "已拒绝", ctx.full_name[:64], now(), comment
        session.add(imp)
        audit.record(session, "fincloud.reject", actor=ctx, object_type="fincloud_import", object_id=imp.id,
                     detail=f"拒绝 {imp.fiscal_year} 年财政云指标：{comment}")
        return {"id": imp.id, "status": imp.status}


def fetch_current_year() -> dict:
    from hbbudget import clock

    return fetch(get_settings().fiscal_year or clock.today().year)
