"""趋势与穿透: the figures behind the trend charts and their drill-down, org → project → budget line → payments.

A drill path is text a link can carry: "org-3", "org-3.project-5" (0 = 基本支出), "org-3.project-5.line-9".
Every step is checked against the user's report scope (the org) and against the step before it (the project
has lines in the org's subtree, the line belongs to the project there); anything else is PermissionDenied, so a
shared link opens only for a colleague who has the scope. Numbers come from the execution facts (this year and
the year before); money fen, rates basis points."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import BankTransaction, Budget, BudgetLine, Expenditure, FunctionSubject, Org
from hbbudget.services.analysis import forecast
from hbbudget.services.analysis.report import project_names, scoped_org
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.execution.facts import LineFact
from hbbudget.services.security.permissions import UserContext

_PATH = re.compile(r"^org-(\d{1,9})(\.project-(\d{1,9})(\.line-(\d{1,9}))?)?$")
TOP_N = 10
TX_LIMIT = 200


def parse(path: str) -> tuple[int, int | None, int | None]:
    """"org-3.project-5.line-9" → (3, 5, 9); a missing step is None."""
    m = _PATH.match(str(path or ""))
    if not m:
        raise ValidationError("穿透路径无效")
    return int(m[1]), (int(m[3]) if m[3] is not None else None), (int(m[5]) if m[5] is not None else None)


def _months(lines: list[LineFact]) -> list[int]:
    out = [0] * 12
    for f in lines:
        for m in range(12):
            out[m] += f.spent[m]
    return out


def _cum(values: list[int]) -> list[int]:
    out, running = [], 0
    for v in values:
        running += v
        out.append(running)
    return out


def progress_of(year: int, today: date) -> int:
    """序时进度 of the fiscal year today (bp): by the day within the year, 0 before it, 100 % after it."""
    return exec_facts.months_elapsed_bp(today) if today.year == year else (10000 if today.year > year else 0)


def _last_month(year: int, today: date) -> int:
    return 12 if today.year > year else (today.month if today.year == year else 0)


def trend(lines: list[LineFact], last_year: list[LineFact], year: int, today: date) -> dict:
    """Cumulative spending and rate per month (months after today: None), the 序时进度 line, last year's curve
    (as a rate of last year's budget) and the plan to date."""
    budget = sum(f.amount for f in lines)
    cum = _cum(_months(lines))
    plan = _cum([sum(f.plan[m] for f in lines) for m in range(12)])
    last_budget = sum(f.amount for f in last_year)
    last_cum = _cum(_months(last_year))
    shown = _last_month(year, today)
    return {"budget": budget, "spent": cum[shown - 1] if shown else 0,
            "cum_spent": [c if m < shown else None for m, c in enumerate(cum)],
            "cum_rate": [exec_facts.rate_bp(c, budget) if m < shown else None for m, c in enumerate(cum)],
            "cum_plan": plan, "progress": [round((m + 1) * 10000 / 12) for m in range(12)],
            "last_rate": [exec_facts.rate_bp(c, last_budget) for c in last_cum] if last_budget else [None] * 12,
            "last_spent": last_cum}


def _bar(key: str, name: str, lines: list[LineFact], shown: int) -> dict:
    budget = sum(f.amount for f in lines)
    spent = sum(sum(f.spent[:shown]) for f in lines)
    plan = sum(sum(f.plan[:shown]) for f in lines)
    return {"key": key, "name": name, "budget": budget, "spent": spent, "plan": plan,
            "rate": exec_facts.rate_bp(spent, budget)}


class _Ctx:
    """The scoped facts of one drill request."""

    def __init__(self, session, ctx: UserContext, org_id: int, year: int) -> None:
        self.org = scoped_org(ctx, session, org_id)
        self.orgs = {o.id: o for o in session.exec(select(Org).where(Org.path.startswith(self.org.path)))}
        self.this = [f for f in exec_facts.facts(year).lines if f.org_id in self.orgs]
        self.last = [f for f in exec_facts.facts(year - 1).lines if f.org_id in self.orgs]
        self.before = [f for f in exec_facts.facts(year - 2).lines if f.org_id in self.orgs]

    def where(self, keep: Callable[[LineFact], bool]) -> tuple[list[LineFact], list[LineFact]]:
        return [f for f in self.this if keep(f)], [f for f in self.last if keep(f)]

    def predict(self, keep: Callable[[LineFact], bool], year: int, today: date) -> dict | None:
        """The year-end forecast of the lines `keep` selects (None for a year not under way or without budget)."""
        return series_forecast([f for f in self.this if keep(f)], [f for f in self.last if keep(f)],
                               [f for f in self.before if keep(f)], year, today)


def _series(this: list[LineFact], last: list[LineFact], before: list[LineFact], year: int, today: date,
            group: object = None) -> forecast.Series | None:
    """The forecast input of the lines: months so far (the complete ones), the previous years, the plan; None
    for a year not under way or without budget."""
    budget = sum(f.amount for f in this)
    if today.year != year or budget <= 0:
        return None
    return forecast.Series(tuple(tuple(_months(ys)) for ys in (before, last) if ys),
                           tuple(_months(this)[:today.month - 1]), budget,
                           tuple(sum(f.plan[m] for f in this) for m in range(12)), group)


def _as_rates(f: forecast.Forecast, budget: int) -> dict:
    def bp(values: tuple[int, ...]) -> list[int]:
        return [exec_facts.rate_bp(v, budget) for v in values]

    return {"model": f.model, "rate": exec_facts.rate_bp(f.year_end, budget), "year_end": f.year_end,
            "budget": budget, "months": list(f.months), "mid": bp(f.mid), "low": bp(f.low), "high": bp(f.high)}


def series_forecast(this: list[LineFact], last: list[LineFact], before: list[LineFact], year: int,
                    today: date) -> dict | None:
    """Forecast of cumulative execution for the months after the last complete one, in basis points of the
    budget: {"model", "rate" (year end), "year_end", "budget", "months", "mid", "low", "high"}."""
    s = _series(this, last, before, year, today)
    if s is None:
        return None
    return _as_rates(forecast.forecast([list(y) for y in s.history], list(s.observed), s.budget, list(s.plan)),
                     s.budget)


def project_forecasts(this: list[LineFact], last: list[LineFact], before: list[LineFact], year: int,
                      today: date, basic: bool = True) -> dict[tuple[int, int], dict]:
    """The forecast of every (org, project) of the lines (基本支出 as project 0 when `basic`), in one batch:
    the projects of an org form one Holt-Winters group (forecast.forecast_many)."""
    groups: list[dict] = [defaultdict(list), defaultdict(list), defaultdict(list)]
    for group, lines in zip(groups, (this, last, before)):
        for f in lines:
            if basic or f.project_id:
                group[(f.org_id, f.project_id)].append(f)
    keys, batch = [], []
    for key, fs in sorted(groups[0].items()):
        s = _series(fs, groups[1].get(key, []), groups[2].get(key, []), year, today, group=key[0])
        if s is not None:
            keys.append(key)
            batch.append(s)
    return {key: _as_rates(f, s.budget) for key, s, f in zip(keys, batch, forecast.forecast_many(batch))}


def _org_crumbs(session, ctx: UserContext, org: Org) -> list[dict]:
    """The org's ancestors the user may see (from the top of the user's scope) and the org itself."""
    ids = [int(x) for x in org.path.strip("/").split("/")]
    found = {o.id: o for o in session.exec(select(Org).where(Org.id.in_(ids)))}
    return [{"label": found[i].name, "path": f"org-{i}"} for i in ids
            if i in found and ctx.can("report.view", found[i].path)]


def _project_names(session, pids: set[int]) -> dict[int, str]:
    names = {0: "基本支出"}
    if pids - {0}:
        names.update({i: f"{n}（{c}）" for i, (c, n) in project_names(session, pids - {0}).items()})
    return names


def node(ctx: UserContext, path: str, year: int, today: date) -> dict:
    """The figures of one drill step: breadcrumbs, the trend, and the next level's bars (org: sub-units and
    projects; project: its budget lines) or, for a line, its payments."""
    org_id, project_id, line_id = parse(path)
    with session_scope() as session:
        c = _Ctx(session, ctx, org_id, year)
        shown = _last_month(year, today)
        org_path = f"org-{org_id}"
        crumbs = _org_crumbs(session, ctx, c.org)
        if project_id is None:
            this, last = c.this, c.last
            children = [o for o in c.orgs.values() if o.parent_id == org_id]
            under = _under(c, children)
            bars = [_bar(f"org-{o.id}", o.name, under[o.id], shown) for o in children if under[o.id]]
            own = defaultdict(list)
            for f in this:
                if f.org_id == org_id:
                    own[f.project_id].append(f)
            names = _project_names(session, set(own))
            bars += [_bar(f"{org_path}.project-{pid}", names.get(pid, str(pid)), fs, shown) for pid, fs in own.items()]
            return {"level": "org", "crumbs": crumbs, "trend": trend(this, last, year, today),
                    "bars": sorted(bars, key=lambda b: (b["rate"], b["name"])), "transactions": [],
                    "forecast": c.predict(lambda f: True, year, today)}
        this, last = c.where(lambda f: f.project_id == project_id and f.org_id == org_id)
        if not this:
            raise PermissionDenied("没有权限：该项目不在所选单位的预算中")
        pname = _project_names(session, {project_id}).get(project_id, "")
        project_path = f"{org_path}.project-{project_id}"
        crumbs.append({"label": pname, "path": project_path})
        if line_id is None:
            bars = [_bar(f"{project_path}.line-{f.line_id}", _line_name(c, f), [f], shown) for f in this]
            return {"level": "project", "crumbs": crumbs, "trend": trend(this, last, year, today),
                    "bars": sorted(bars, key=lambda b: (b["rate"], b["name"])), "transactions": [],
                    "forecast": c.predict(lambda f: f.project_id == project_id and f.org_id == org_id, year, today)}
        line = next((f for f in this if f.line_id == line_id), None)
        if line is None:
            raise PermissionDenied("没有权限：该预算明细不在所选项目中")
        key = (line.org_id, line.project_id, line.econ_code, line.func_code, line.source)
        this, last = c.where(lambda f: (f.org_id, f.project_id, f.econ_code, f.func_code, f.source) == key)
        crumbs.append({"label": _line_name(c, line), "path": f"{project_path}.line-{line_id}"})
        return {"level": "line", "crumbs": crumbs, "trend": trend(this, last, year, today), "bars": [],
                "transactions": payments(session, line, year),
                "forecast": c.predict(lambda f: (f.org_id, f.project_id, f.econ_code, f.func_code, f.source) == key,
                                      year, today)}


def _line_name(c: _Ctx, f: LineFact) -> str:
    return f"{c.orgs[f.org_id].name} {f.econ_code} {f.func_code} {f.source}"


def payments(session, line: LineFact, year: int) -> list[dict]:
    """Bank payments and manual entries charged to the line (to any version of it), newest first, with the
    counterparty, date and remittance text of the bank transaction."""
    ids = session.exec(select(BudgetLine.id).join(Budget, Budget.id == BudgetLine.budget_id).where(
        Budget.org_id == line.org_id, Budget.fiscal_year == year, Budget.status == "已批复",
        BudgetLine.econ_code == line.econ_code, BudgetLine.func_code == line.func_code,
        BudgetLine.source == line.source,
        (BudgetLine.project_id == line.project_id) if line.project_id else BudgetLine.project_id.is_(None))).all()
    rows = session.exec(
        select(Expenditure, BankTransaction).join(BankTransaction, BankTransaction.id == Expenditure.transaction_id,
                                                  isouter=True)
        .where(Expenditure.budget_line_id.in_(ids), Expenditure.kind != "frozen",
               Expenditure.spent_on >= date(year, 1, 1), Expenditure.spent_on < date(year + 1, 1, 1))
        .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()).limit(TX_LIMIT)).all()
    return [{"id": e.id, "date": e.spent_on.isoformat(), "amount": e.amount,
             "kind": "银行" if e.kind == "bank" else "手工", "counterparty": tx.counterparty if tx else "",
             "remittance": tx.remittance if tx else e.note, "bank_ref": tx.bank_ref if tx else ""}
            for e, tx in rows]


def _under(c: _Ctx, children: list[Org]) -> dict[int, list[LineFact]]:
    """The lines of each child's subtree (one pass: each org's path names the child it is under)."""
    ids = {o.id for o in children}
    child_of = {}
    for o in c.orgs.values():
        child_of[o.id] = next((int(x) for x in o.path.strip("/").split("/") if int(x) in ids), None)
    out: dict[int, list[LineFact]] = {o.id: [] for o in children}
    for f in c.this:
        child = child_of.get(f.org_id)
        if child is not None:
            out[child].append(f)
    return out


def org_overview(ctx: UserContext, org_id: int, year: int, today: date) -> dict:
    """The org-level charts besides the trend: an org × month heatmap of cumulative execution rate (its direct
    sub-units, or the org itself without any), the composition by 功能分类 (类/款/项: budget and rate), the
    top-N laggard projects (furthest below 序时进度) and the top-N lines over their plan to date."""
    with session_scope() as session:
        c = _Ctx(session, ctx, org_id, year)
        shown = _last_month(year, today)
        children = [o for o in c.orgs.values() if o.parent_id == org_id] or [c.org]
        heat = []
        under = _under(c, children)
        for o in sorted(children, key=lambda o: o.code):
            lines = under[o.id]
            budget, cum = sum(f.amount for f in lines), _cum(_months(lines))
            heat.append({"key": f"org-{o.id}", "name": o.name,
                         "rates": [exec_facts.rate_bp(cum[m], budget) if m < shown and budget else None
                                   for m in range(12)]})
        funcs = dict(session.exec(select(FunctionSubject.code, FunctionSubject.name)
                                  .where(FunctionSubject.fiscal_year == year)).all())
        comp: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for f in c.this:
            for cut in (3, 5, 7):
                if len(f.func_code) >= cut:
                    comp[f.func_code[:cut]][0] += f.amount
                    comp[f.func_code[:cut]][1] += sum(f.spent[:shown])
        composition = [{"code": k, "name": f"{k} {funcs.get(k, '')}".strip(), "parent": k[:5] if len(k) == 7 else
                        (k[:3] if len(k) == 5 else ""), "budget": b, "spent": s, "rate": exec_facts.rate_bp(s, b)}
                       for k, (b, s) in sorted(comp.items())]
        progress = progress_of(year, today)
        by_project: dict[tuple[int, int], list[LineFact]] = defaultdict(list)
        for f in c.this:
            if f.project_id:
                by_project[(f.org_id, f.project_id)].append(f)
        names = _project_names(session, {p for _, p in by_project})
        projects = [_bar(f"org-{o}.project-{p}", names.get(p, str(p)), fs, shown) for (o, p), fs in by_project.items()]
        laggards = sorted((b for b in projects if b["budget"] > 0 and b["rate"] < progress),
                          key=lambda b: (b["rate"] - progress, b["name"]))[:TOP_N]
        over = [_bar(f"org-{f.org_id}.project-{f.project_id}.line-{f.line_id}", f"{names.get(f.project_id, '')} "
                     f"{_line_name(c, f)}", [f], shown) for f in c.this if sum(f.spent[:shown]) > sum(f.plan[:shown])]
        over = sorted(over, key=lambda b: (b["plan"] - b["spent"], b["name"]))
        return {"heat": heat, "composition": composition, "laggards": laggards, "over_plan": over[:TOP_N],
                "progress": progress}


LOW_RATE = 9000  # a project forecast to end below 90 % is flagged


def at_risk(ctx: UserContext, org_id: int, year: int, today: date) -> list[dict]:
    """Every project (and 基本支出 per org) of the subtree with its year-end forecast, lowest first; `flag` when
    the forecast rate is below 90 %: the list a leader acts on."""
    with session_scope() as session:
        c = _Ctx(session, ctx, org_id, year)
        found = project_forecasts(c.this, c.last, c.before, year, today)
        names = _project_names(session, {p for _, p in found})
        out = [{"key": f"org-{o}.project-{p}", "name": names.get(p, str(p)), "org_name": c.orgs[o].name,
                "budget": fc["budget"], "year_end": fc["year_end"], "rate": fc["rate"], "model": fc["model"],
                "flag": fc["rate"] < LOW_RATE} for (o, p), fc in found.items()]
        return sorted(out, key=lambda r: (r["rate"], r["name"]))
