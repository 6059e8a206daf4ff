"""领导驾驶舱: the KPI figures over the user's dashboard scope (dashboard.view): budget, spent, execution rate
against 序时进度, 未处理 execution alerts by kind (services/execution/alerts.unhandled_by_kind), the forecast year-end rate and how many projects are forecast
below 90 %. Each figure names the org path its drill-down opens (趋势与穿透). From the shared execution facts
(cached per data version) and one grouped alert count; money fen, rates basis points.

(Projects by 绩效 grade wait for the 绩效 module.)"""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Org
from hbbudget.services.analysis import drill
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.execution import alerts as exec_alerts
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.execution.alerts import KINDS
from hbbudget.services.security.permissions import UserContext

PERMISSION = "dashboard.view"


def _tops(orgs: list[Org]) -> list[Org]:
    """The scope's top orgs (none of them under another)."""
    return [o for o in orgs if not any(p.id != o.id and o.path.startswith(p.path) for p in orgs)]


def figures(ctx: UserContext, today: date, year: int | None = None) -> dict:
    """{"year", "budget", "spent", "rate", "progress", "alerts": {kind label: n}, "alerts_total", "forecast_rate"
    (None without a forecast), "at_risk" (projects forecast below 90 %), "roots": [(org id, name)],
    "by_org": [{"id", "name", "budget", "spent", "rate"}] (the top orgs' direct sub-units, or the tops)}."""
    paths = ctx.scope_paths(PERMISSION)
    if not paths:
        raise PermissionDenied("没有权限：查看驾驶舱")
    year = year or today.year
    with session_scope() as session:
        orgs = list(session.exec(select(Org).where(scope_filter(paths))).all())
        ids = {o.id for o in orgs}
    counts = exec_alerts.unhandled_by_kind(ctx, PERMISSION).items()  # the one source of 未处理预警 (issue 11 item 22)
    this = [f for f in exec_facts.facts(year).lines if f.org_id in ids]
    last = [f for f in exec_facts.facts(year - 1).lines if f.org_id in ids]
    before = [f for f in exec_facts.facts(year - 2).lines if f.org_id in ids]
    progress = drill.progress_of(year, today)
    shown = 12 if today.year > year else (today.month if today.year == year else 0)
    budget = sum(f.amount for f in this)
    spent = sum(sum(f.spent[:shown]) for f in this)
    fc = drill.series_forecast(this, last, before, year, today)
    at_risk = sum(pf["rate"] < drill.LOW_RATE
                  for pf in drill.project_forecasts(this, last, before, year, today, basic=False).values())
    tops = _tops(orgs)
    path_of = {o.id: o.path for o in orgs}
    children = [o for o in orgs if any(o.parent_id == t.id for t in tops)] or tops
    by_org = []
    for o in sorted(children, key=lambda o: o.code):
        fs = [f for f in this if path_of[f.org_id].startswith(o.path)]
        b, s = sum(f.amount for f in fs), sum(sum(f.spent[:shown]) for f in fs)
        by_org.append({"id": o.id, "name": o.name, "budget": b, "spent": s, "rate": exec_facts.rate_bp(s, b)})
    return {"year": year, "budget": budget, "spent": spent, "rate": exec_facts.rate_bp(spent, budget),
            "progress": progress, "alerts": {KINDS.get(k, k): int(n) for k, n in sorted(counts)},
            "alerts_total": sum(int(n) for _, n in counts), "forecast_rate": fc["rate"] if fc else None,
            "at_risk": at_risk, "roots": [(o.id, o.name) for o in tops], "by_org": by_org}
