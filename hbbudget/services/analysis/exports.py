"""What the 报告 page asks for: the orgs a user may report on, a report run, and its xlsx / print-view files
(each export leaves a report.export audit entry: who took which unit's figures out)."""

from __future__ import annotations

from datetime import date

from hbbudget.db import session_scope
from hbbudget.services.analysis import render, saved
from hbbudget.services.analysis.report import PERMISSION, Definition, Report, run, scoped_org
from hbbudget.services.core import audit
from hbbudget.services.core.orgs import tree
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.security.permissions import UserContext

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = {"xlsx": ("xlsx", XLSX), "print": ("html", "text/html")}


def report_orgs(ctx: UserContext) -> list[dict]:
    """The orgs within the user's report scope, in tree order."""
    if not ctx.has(PERMISSION):
        raise PermissionDenied("没有权限：查看报表")
    with session_scope() as session:
        return tree(session, ctx.scope_paths(PERMISSION))


def export(ctx: UserContext, defn: Definition, kind: str, today: date) -> tuple[bytes, str, str]:
    """(file bytes, file name, mime type) of the report as xlsx or as the print view."""
    report: Report = run(ctx, defn, today)
    data = render.xlsx(report) if kind == "xlsx" else render.print_html(report).encode()
    ext, mime = KINDS[kind]
    with session_scope() as session:
        scoped_org(ctx, session, defn.org_id)
        audit.record(session, "report.export", actor=ctx, object_type="org", object_id=defn.org_id,
                     org_id=defn.org_id, detail=f"{report.title}（{ext}）", after=defn.as_dict())
    return data, f"{report.title}.{ext}", mime


def export_snapshot(ctx: UserContext, snapshot_id: int, unit: str, kind: str) -> tuple[bytes, str, str]:
    """A snapshot's frozen figures as xlsx or print view (a report.export entry, as for a live report)."""
    report, as_of = saved.snapshot_report(ctx, snapshot_id, unit)
    report.title = f"{report.title}（截至{as_of.isoformat()}）"
    data = render.xlsx(report) if kind == "xlsx" else render.print_html(report).encode()
    ext, mime = KINDS[kind]
    with session_scope() as session:
        audit.record(session, "report.export", actor=ctx, object_type="org", object_id=report.definition.org_id,
                     org_id=report.definition.org_id, detail=f"{report.title}（{ext}）",
                     after={"snapshot": int(snapshot_id)})
    return data, f"{report.title}.{ext}", mime
