"""执行监控: the dashboard's numbers over the user's org scope (dashboard.view), from the shared cached facts.

Rates are basis points (int): 1234 = 12.34 %. Money is fen. The page turns them into Plotly figures."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from datetime import date

from sqlmodel import select

from hbbudget import clock
from hbbudget.db import session_scope
from hbbudget.models import Org, Project
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.execution import thresholds
from hbbudget.services.security.permissions import UserContext

PERMISSION = "dashboard.view"
TOP_PROJECTS = 15
MEMO_SIZE = 256
_memo: OrderedDict[tuple, dict] = OrderedDict()  # (user, data version, day) → overview: one per bump per user
_memo_lock = threading.Lock()


def level(rate: int, progress: int, budget: int, spent: int, over_pct: int, behind_points: int) -> str:
    """Alert colour of a bar: alert (beyond a threshold), warn (behind 序时进度 or over budget), ok."""
    if budget <= 0:
        return "ok"
    if spent * 100 > budget * (100 + over_pct) or progress - rate > behind_points * 100:
        return "alert"
    if progress - rate > 0 or spent > budget:
        return "warn"
    return "ok"


def scope_key(ctx: UserContext) -> tuple:
    """What the overview of `ctx` depends on besides the data: the scopes it is computed over (a cache of
    overviews is keyed by this, so a narrowed grant is never shown wider data)."""
    return tuple(sorted(ctx.scope_paths(PERMISSION))), tuple(sorted(ctx.scope_paths("execution.view")))


def overview(ctx: UserContext, today: date | None = None, year: int | None = None) -> dict:
    """Everything the page draws, for the orgs in the user's dashboard scope:

    {"year", "progress" (bp), "budget", "spent", "rate" (bp),
     "months": [{"month", "plan", "spent", "cum_spent", "cum_rate" (bp, -1 = future), "cum_progress" (bp)}] × 12,
     "by_org": [{"id", "name", "budget", "spent", "rate", "level"}] sorted by rate, descending,
     "by_project": [{"id", "name", "org_name", "budget", "spent", "rate", "level"}] (largest budgets, by rate)}"""
    paths = ctx.scope_paths(PERMISSION)
    if not paths:
        raise PermissionDenied("没有权限：查看驾驶舱")
    today = today or clock.today()
    year = year or today.year
    facts = exec_facts.facts(year)
    with session_scope() as session:
        orgs = {o.id: o.name for o in session.exec(select(Org).where(scope_filter(paths))).all()}
        lines = [f for f in facts.lines if f.org_id in orgs]
        pids = {f.project_id for f in lines if f.project_id}
        projects = {p.id: f"{p.name}（{p.code}）" for p in session.exec(select(Project).where(Project.id.in_(pids)))} \
            if pids else {}
        th = thresholds.load(session)
    progress = exec_facts.months_elapsed_bp(today) if today.year == year else (10000 if today.year > year else 0)
    budget, spent = sum(f.amount for f in lines), sum(sum(f.spent) for f in lines)
    plan_m, spent_m = [0] * 12, [0] * 12
    org_tot: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    proj_tot: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for f in lines:
        s = sum(f.spent)
        for m in range(12):
            plan_m[m] += f.plan[m]
            spent_m[m] += f.spent[m]
        org_tot[f.org_id][0] += f.amount
        org_tot[f.org_id][1] += s
        if f.project_id:
            proj_tot[(f.org_id, f.project_id)][0] += f.amount
            proj_tot[(f.org_id, f.project_id)][1] += s
    last_month = today.month if today.year == year else (12 if today.year > year else 0)
    months, running = [], 0
    for m in range(12):
        running += spent_m[m]
        months.append({"month": m + 1, "plan": plan_m[m], "spent": spent_m[m], "cum_spent": running,
                       "cum_rate": exec_facts.rate_bp(running, budget) if m < last_month else -1,
                       "cum_progress": round((m + 1) * 10000 / 12)})

    def bar(b: int, s: int, over: int, behind: int) -> dict:
        rate = exec_facts.rate_bp(s, b)
        return {"budget": b, "spent": s, "rate": rate, "level": level(rate, progress, b, s, over, behind)}

    by_org = [{"id": oid, "name": orgs[oid], **bar(b, s, th.over_pct(oid), th.behind_points(oid))}
              for oid, (b, s) in org_tot.items()]
    biggest = sorted(proj_tot.items(), key=lambda kv: -kv[1][0])[:TOP_PROJECTS]
    by_project = [{"id": pid, "name": projects.get(pid, ""), "org_name": orgs[oid],
                   **bar(b, s, th.over_pct(oid, pid), th.behind_points(oid, pid))} for (oid, pid), (b, s) in biggest]
    return {"year": year, "progress": progress, "budget": budget, "spent": spent,
            "rate": exec_facts.rate_bp(spent, budget),
            "months": months, "by_org": sorted(by_org, key=lambda r: (-r["rate"], r["name"])),
            "by_project": sorted(by_project, key=lambda r: (-r["rate"], r["name"]))}


def overview_cached(ctx: UserContext, version: int) -> dict:
    """`overview` for the live page, computed once per user, effective scope, data version and China day (the last
    MEMO_SIZE kept): a narrowed grant never shows the wider figures of before."""
    key = (ctx.user_id, scope_key(ctx), version, clock.today())
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    data = overview(ctx)
    with _memo_lock:
        _memo[key] = data
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return data
