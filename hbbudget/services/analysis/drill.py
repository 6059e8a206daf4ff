"""趋势与穿透: the figures behind the trend charts and their drill-down, org → project → budget line → payments
→ the payment's attached e-invoices.

A drill path is text a link can carry: "org-3", "org-3.project-5" (0 = 基本支出), "org-3.project-5.line-9",
"org-3.project-5.line-9.pay-12" (an expenditure of the line: the payment and its invoices), and
"org-3.func-20502" (a 功能分类 tile of the org: the projects with lines of that class). A month (1–12, a point
of the trend) shows the next level as of that month's end and, at a line, that month's payments.
Every step is checked against the user's report scope (the org) and against the step before it (the project
has lines in the org's subtree, the line belongs to the project there, the payment to the line); anything else
is PermissionDenied, so a shared link opens only for a colleague who has the scope. Numbers come from the execution facts (this year and
the year before); money fen, rates basis points."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.models import BankTransaction, Budget, BudgetLine, Expenditure, FunctionSubject, Invoice, Org
from hbbudget.services.analysis import forecast
from hbbudget.services.analysis.report import project_names, scoped_org
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.execution.facts import LineFact
from hbbudget.services.security.permissions import UserContext

_PATH = re.compile(r"^org-(\d{1,9})(?:\.func-(\d{3}|\d{5}|\d{7})|\.project-(\d{1,9})(?:\.line-(\d{1,9})"
                   r"(?:\.pay-(\d{1,9}))?)?)?$")
TOP_N = 10
TX_LIMIT = 200


def steps(path: str) -> dict:
    """"org-3.project-5.line-9.pay-12" → {"org": 3, "func": None, "project": 5, "line": 9, "pay": 12}."""
    m = _PATH.match(str(path or ""))
    if not m:
        raise ValidationError("穿透路径无效")
    return {"org": int(m[1]), "func": m[2], "project": int(m[3]) if m[3] is not None else None,
            "line": int(m[4]) if m[4] is not None else None, "pay": int(m[5]) if m[5] is not None else None}


def parse(path: str) -> tuple[int, int | None, int | None]:
    """"org-3.project-5.line-9" → (3, 5, 9); a missing step is None."""
    s = steps(path)
    return s["org"], s["project"], s["line"]


def month_arg(month: object) -> int | None:
    """A trend point's month: None, or 1–12."""
    if month in (None, ""):
        return None
    try:
        m = int(str(month))
    except ValueError:
        raise ValidationError("月份无效") from None
    if not 1 <= m <= 12:
        raise ValidationError("月份无效")
    return m


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


def node(ctx: UserContext, path: str, year: int, today: date, month: object = None) -> dict:
    """The figures of one drill step: breadcrumbs, the trend, and the next level's bars (org: sub-units and
    projects; 功能分类: its projects; project: its budget lines) or, for a line, its payments, for a payment its
    invoices. With a month: bars as of that month's end, a line's payments of that month."""
    st = steps(path)
    org_id, project_id, line_id = st["org"], st["project"], st["line"]
    month = month_arg(month)
    with session_scope() as session:
        c = _Ctx(session, ctx, org_id, year)
        shown = _last_month(year, today) if month is None else min(month, _last_month(year, today))
        org_path = f"org-{org_id}"
        crumbs = _org_crumbs(session, ctx, c.org)
        out = {"month": month, "transactions": [], "invoices": [], "bars": []}
        if st["func"] is not None:
            return {**out, **_func_node(session, c, st["func"], crumbs, year, today, shown)}
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
            return {**out, "level": "org", "crumbs": crumbs, "trend": trend(this, last, year, today),
                    "bars": sorted(bars, key=lambda b: (b["rate"], b["name"])),
                    "forecast": c.predict(lambda f: True, year, today)}
        this, last = c.where(lambda f: f.project_id == project_id and f.org_id == org_id)
        if not this:
            raise PermissionDenied("没有权限：该项目不在所选单位的预算中")
        pname = _project_names(session, {project_id}).get(project_id, "")
        project_path = f"{org_path}.project-{project_id}"
        crumbs.append({"label": pname, "path": project_path})
        if line_id is None:
            bars = [_bar(f"{project_path}.line-{f.line_id}", _line_name(c, f), [f], shown) for f in this]
            return {**out, "level": "project", "crumbs": crumbs, "trend": trend(this, last, year, today),
                    "bars": sorted(bars, key=lambda b: (b["rate"], b["name"])),
                    "forecast": c.predict(lambda f: f.project_id == project_id and f.org_id == org_id, year, today)}
        line = next((f for f in this if f.line_id == line_id), None)
        if line is None:
            raise PermissionDenied("没有权限：该预算明细不在所选项目中")
        key = (line.org_id, line.project_id, line.econ_code, line.func_code, line.source)
        this, last = c.where(lambda f: (f.org_id, f.project_id, f.econ_code, f.func_code, f.source) == key)
        line_path = f"{project_path}.line-{line_id}"
        crumbs.append({"label": _line_name(c, line), "path": line_path})
        fc = c.predict(lambda f: (f.org_id, f.project_id, f.econ_code, f.func_code, f.source) == key, year, today)
        if st["pay"] is None:
            return {**out, "level": "line", "crumbs": crumbs, "trend": trend(this, last, year, today),
                    "transactions": payments(session, line, year, month, line_path), "forecast": fc}
        paid = payments(session, line, year, None, line_path, only=st["pay"])
        if not paid:
            raise PermissionDenied("没有权限：该支出不在所选预算明细中")
        crumbs.append({"label": f"{paid[0]['date']} 支出", "path": paid[0]["key"]})
        return {**out, "level": "payment", "crumbs": crumbs, "trend": trend(this, last, year, today),
                "transactions": paid, "invoices": invoices_of(session, paid[0]), "forecast": fc}


def _func_node(session, c: _Ctx, code: str, crumbs: list[dict], year: int, today: date, shown: int) -> dict:
    """A 功能分类 tile of the org: the subtree's lines of that class (类/款/项 by prefix), bars by project (基本支出
    per org)."""
    this, last = c.where(lambda f: f.func_code.startswith(code))
    if not this:
        raise PermissionDenied("没有权限：该功能分类不在所选单位的预算中")
    name = session.exec(select(FunctionSubject.name).where(FunctionSubject.fiscal_year == year,
                                                           FunctionSubject.code == code)).first() or ""
    crumbs.append({"label": f"{code} {name}".strip(), "path": f"org-{c.org.id}.func-{code}"})
    groups: dict[tuple[int, int], list[LineFact]] = defaultdict(list)
    for f in this:
        groups[(f.org_id, f.project_id)].append(f)
    names = _project_names(session, {p for _, p in groups})
    bars = [_bar(f"org-{o}.project-{p}", names.get(p, str(p)) if p else f"基本支出（{c.orgs[o].name}）", fs, shown)
            for (o, p), fs in groups.items()]
    return {"level": "func", "crumbs": crumbs, "trend": trend(this, last, year, today),
            "bars": sorted(bars, key=lambda b: (b["rate"], b["name"])),
            "forecast": c.predict(lambda f: f.func_code.startswith(code), year, today)}


def _line_name(c: _Ctx, f: LineFact) -> str:
    return f"{c.orgs[f.org_id].name} {f.econ_code} {f.func_code} {f.source}"


def payments(session, line: LineFact, year: int, month: int | None = None, line_path: str = "",
             only: int | None = None) -> list[dict]:
    """Bank payments and manual entries charged to the line (to any version of it), newest first, with the
    counterparty, date and remittance text of the bank transaction, how many e-invoices are attached and the
    drill path of the payment; of one month, or only the expenditure `only` (when it is the line's)."""
    ids = session.exec(select(BudgetLine.id).join(Budget, Budget.id == BudgetLine.budget_id).where(
        Budget.org_id == line.org_id, Budget.fiscal_year == year, Budget.status == "已批复",
        BudgetLine.econ_code == line.econ_code, BudgetLine.func_code == line.func_code,
        BudgetLine.source == line.source,
        (BudgetLine.project_id == line.project_id) if line.project_id else BudgetLine.project_id.is_(None))).all()
    first, end = (date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)) if month else \
        (date(year, 1, 1), date(year + 1, 1, 1))
    query = (select(Expenditure, BankTransaction)
             .join(BankTransaction, BankTransaction.id == Expenditure.transaction_id, isouter=True)
             .where(Expenditure.budget_line_id.in_(ids), Expenditure.kind != "frozen",
                    Expenditure.spent_on >= first, Expenditure.spent_on < end))
    if only is not None:
        query = query.where(Expenditure.id == only)
    rows = session.exec(query.order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()).limit(TX_LIMIT)).all()
    counts = _invoice_counts(session, rows)
    return [{"id": e.id, "key": f"{line_path}.pay-{e.id}", "date": e.spent_on.isoformat(), "amount": e.amount,
             "kind": "银行" if e.kind == "bank" else "手工", "counterparty": tx.counterparty if tx else "",
             "remittance": tx.remittance if tx else e.note, "bank_ref": tx.bank_ref if tx else "",
             "transaction_id": e.transaction_id,
             "invoices": counts.get(("tx", e.transaction_id), 0) if e.transaction_id else counts.get(("e", e.id), 0)}
            for e, tx in rows]


def _invoice_counts(session, rows: list) -> dict[tuple[str, int], int]:
    """E-invoices attached per bank transaction ("tx", id) and per manual expenditure ("e", id)."""
    tx_ids = {e.transaction_id for e, _ in rows if e.transaction_id}
    e_ids = {e.id for e, _ in rows if not e.transaction_id}
    out: dict[tuple[str, int], int] = {}
    if tx_ids:
        for tid, n in session.exec(select(Invoice.transaction_id, func.count()).where(
                Invoice.transaction_id.in_(tx_ids)).group_by(Invoice.transaction_id)):
            out[("tx", tid)] = int(n)
    if e_ids:
        for eid, n in session.exec(select(Invoice.expenditure_id, func.count()).where(
                Invoice.expenditure_id.in_(e_ids)).group_by(Invoice.expenditure_id)):
            out[("e", eid)] = int(n)
    return out


def invoices_of(session, payment: dict) -> list[dict]:
    """The e-invoices attached to the payment (its bank transaction, or the manual expenditure itself)."""
    column, value = (Invoice.transaction_id, payment["transaction_id"]) if payment["transaction_id"] else \
        (Invoice.expenditure_id, payment["id"])
    return [{"id": i.id, "kind": i.kind, "code": i.code, "number": i.number, "date": i.issued_on.isoformat(),
             "seller": i.seller_name, "amount": i.amount, "tax": i.tax, "total": i.total,
             "status": i.verify_status or "未查验"}
            for i in session.exec(select(Invoice).where(column == value).order_by(Invoice.id))]


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
        composition = [{"code": k, "key": f"org-{org_id}.func-{k}", "name": f"{k} {funcs.get(k, '')}".strip(), "parent": k[:5] if len(k) == 7 else
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
