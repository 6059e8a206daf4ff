"""Saved report definitions (per user) and report snapshots (month-end and quarter-end, made by the scheduled
job on the 1st; frozen: a late booking or a reversal for a closed period changes the live report, never a
snapshot). A snapshot keeps the rows in fen and basis points, so it is shown in 元 or 万元 alike."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from hbbudget import clock
from hbbudget.db import session_scope
from hbbudget.models import Org, ReportDefinition, ReportSnapshot
from hbbudget.services.analysis.report import PERMISSION, Definition, Report, Row, compute, scoped_org
from hbbudget.services.core import audit
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.security.auditlog import SYSTEM
from hbbudget.services.security.permissions import UserContext

MAX_DEFINITIONS = 50
LIST_LIMIT = 100


# ------------------------------------------------------------------ saved definitions

def _definition_row(d: ReportDefinition) -> dict:
    return {"id": d.id, "name": d.name, **Definition(d.org_id, d.year, d.period, d.rows, d.unit).as_dict()}


def definitions(ctx: UserContext) -> list[dict]:
    """The user's saved definitions, by name (only those whose org is still within the user's report scope)."""
    with session_scope() as session:
        rows = session.exec(select(ReportDefinition, Org.path).join(Org, Org.id == ReportDefinition.org_id)
                            .where(ReportDefinition.user_id == ctx.user_id).order_by(ReportDefinition.name)).all()
        return [_definition_row(d) for d, path in rows if ctx.can(PERMISSION, path)]


def save_definition(ctx: UserContext, name: str, defn: Definition) -> dict:
    name = str(name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError("报告名称须为 1 到 64 个字")
    with session_scope() as session:
        scoped_org(ctx, session, defn.org_id)
        mine = session.exec(select(ReportDefinition).where(ReportDefinition.user_id == ctx.user_id)).all()
        existing = next((d for d in mine if d.name == name), None)
        if existing is None and len(mine) >= MAX_DEFINITIONS:
            raise ValidationError(f"最多保存 {MAX_DEFINITIONS} 个报告")
        row = existing or ReportDefinition(user_id=ctx.user_id, name=name, **defn.as_dict())
        for k, v in defn.as_dict().items():
            setattr(row, k, v)
        session.add(row)
        session.flush()
        audit.record(session, "report.definition_save", actor=ctx, object_type="report_definition",
                     object_id=row.id, org_id=defn.org_id, detail=name, after=defn.as_dict())
        return _definition_row(row)


def _own_definition(session, ctx: UserContext, definition_id: int) -> ReportDefinition:
    row = session.get(ReportDefinition, int(definition_id))
    if row is None or row.user_id != ctx.user_id:
        raise NotFound("报告不存在")
    return row


def load_definition(ctx: UserContext, definition_id: int) -> Definition:
    with session_scope() as session:
        row = _own_definition(session, ctx, definition_id)
        scoped_org(ctx, session, row.org_id)
        return Definition(row.org_id, row.year, row.period, row.rows, row.unit)


def delete_definition(ctx: UserContext, definition_id: int) -> None:
    with session_scope() as session:
        row = _own_definition(session, ctx, definition_id)
        audit.record(session, "report.definition_delete", actor=ctx, object_type="report_definition",
                     object_id=row.id, org_id=row.org_id, detail=row.name)
        session.delete(row)


# ------------------------------------------------------------------ snapshots

def _rows_json(report: Report) -> str:
    return json.dumps([{"label": r.label, "code": r.code, "level": r.level, "kind": r.kind, "key": r.key,
                        "values": r.values} for r in report.rows], ensure_ascii=False)


def due_periods(today: date) -> list[tuple[int, str]]:
    """The periods that ended with the last month: (year, "Mxx") and, at a quarter's end, (year, "Qn")."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return [(year, f"M{month:02d}")] + ([(year, f"Q{month // 3}")] if month % 3 == 0 else [])


def produce(today: date | None = None) -> int:
    """The scheduled job (the 1st of each month): a snapshot of the period(s) just ended for every active org
    whose subtree has an approved budget that year; by 单位 for an org with sub-units, else by 经济分类. A
    snapshot that exists is left as it is (the job can run again; the scheduler's lease keeps it to one process). Returns how many were made."""
    today = today or clock.today()
    made = 0
    for year, period in due_periods(today):
        budget_orgs = {f.org_id for f in exec_facts.facts(year).lines}
        with session_scope() as session:
            orgs = session.exec(select(Org).where(Org.active == True)).all()  # noqa: E712
            paths = {o.id: o.path for o in orgs}
            budget_paths = [paths[i] for i in budget_orgs if i in paths]
            done = set(session.exec(select(ReportSnapshot.org_id).where(ReportSnapshot.year == year,
                                                                        ReportSnapshot.period == period)).all())
            for org in orgs:
                if org.id in done or not any(p.startswith(org.path) for p in budget_paths):
                    continue
                has_children = any(p != org.path and p.startswith(org.path) for p in paths.values())
                defn = Definition(org.id, year, period, "org" if has_children else "econ")
                report = compute(session, org, defn, today)
                session.add(ReportSnapshot(org_id=org.id, year=year, period=period, rows=defn.rows,
                                           title=report.title, org_name=org.name, as_of=today,
                                           data=_rows_json(report)))
                audit.record(session, "report.snapshot", username=SYSTEM, object_type="org", object_id=org.id,
                             org_id=org.id, detail=report.title)
                made += 1
    return made


def snapshots(ctx: UserContext, year: int | None = None) -> list[dict]:
    """The snapshots of orgs within the user's report scope, newest first."""
    paths = ctx.scope_paths(PERMISSION)
    if not paths:
        raise PermissionDenied("没有权限：查看报表")
    with session_scope() as session:
        query = (select(ReportSnapshot).join(Org, Org.id == ReportSnapshot.org_id).where(scope_filter(paths))
                 .order_by(ReportSnapshot.year.desc(), ReportSnapshot.as_of.desc(), ReportSnapshot.period.desc(),
                           Org.path))
        if year:
            query = query.where(ReportSnapshot.year == year)
        return [{"id": s.id, "title": s.title, "org_name": s.org_name, "year": s.year, "period": s.period,
                 "as_of": s.as_of.isoformat()} for s in session.exec(query.limit(LIST_LIMIT)).all()]


def snapshot_report(ctx: UserContext, snapshot_id: int, unit: str = "yuan") -> tuple[Report, date]:
    """A snapshot as a report (its frozen rows), and the day it was made."""
    with session_scope() as session:
        snap = session.get(ReportSnapshot, int(snapshot_id))
        if snap is None:
            raise NotFound("快照不存在")
        scoped_org(ctx, session, snap.org_id)
        rows = [Row(r["label"], r["code"], r["level"], r["kind"], r["values"], r["key"]) for r in json.loads(snap.data)]
        defn = Definition(snap.org_id, snap.year, snap.period, snap.rows, unit)
        return Report(defn, snap.title, snap.org_name, rows), snap.as_of
