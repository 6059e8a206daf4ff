"""Execution facts for a fiscal year: every current approved budget line with its amount, monthly plan and
monthly spending. One query over the monthly aggregate of the expenditures (ExpenditureMonth, kept by database
triggers), cached per data version: the dashboards of every watcher and the alert evaluation share it, so one ingest causes one
aggregate query. Callers filter by the user's org scope (this module has no user: it is not a user API).

Spending = expenditures of kind bank/manual (frozen money is committed, not spent). Money charged to a line of
an earlier version of the budget (before a 调整/调剂) counts against the current line with the same key
(project, economic code, function code, source), as in services.ledger."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, ExpenditureMonth
from hbbudget.models.budget import MONTHS
from hbbudget.services.core import data_version

TTL_SECONDS = 60  # budgets change without a data version bump (批复, 调整): recompute at least this often


@dataclass(frozen=True)
class LineFact:
    line_id: int
    budget_id: int
    org_id: int
    project_id: int  # 0 = 基本支出
    econ_code: str
    amount: int
    plan: tuple[int, ...]  # 12 months, fen
    spent: tuple[int, ...]  # 12 months, fen
    func_code: str = ""
    source: str = ""


@dataclass(frozen=True)
class Facts:
    year: int
    version: int
    lines: tuple[LineFact, ...] = field(default_factory=tuple)


_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="exec-facts")
_cache: dict[int, tuple[float, Facts]] = {}
stats = {"computed": 0}  # how many times the aggregate query ran (tests and the bench read it)


def facts(year: int) -> Facts:
    """The cached facts for `year`; computed once per data version (concurrent callers wait for the first)."""
    version = data_version.current()
    with _lock:
        hit = _cache.get(year)
        if hit and hit[1].version == version and time.monotonic() - hit[0] < TTL_SECONDS:
            return hit[1]
        result = compute(year, version)
        _cache[year] = (time.monotonic(), result)
        return result


def forget() -> None:
    """Drop the cache (tests that rewrite data without a version bump)."""
    with _lock:
        _cache.clear()


def _run_sums(session, year: int) -> list:
    """(line, 12 monthly sums) of the year from the monthly aggregate (models.ExpenditureMonth, kept by triggers
    on expenditure in the booking's own transaction): one row per line with spending instead of a scan of the
    year's expenditures."""
    m = ExpenditureMonth
    return session.execute(select(m.budget_line_id, *[func.sum(case((m.spent_month == k, m.amount), else_=0))
                                                      for k in range(1, 13)])
                           .where(m.spent_year == year).group_by(m.budget_line_id)).all()


def _sums(year: int) -> list:
    with session_scope() as session:
        return _run_sums(session, year)


def compute(year: int, version: int = 0) -> Facts:
    stats["computed"] += 1
    month_cols = [getattr(BudgetLine, m) for m in MONTHS]
    sums_of = _pool.submit(_sums, year)  # on its own connection, while this one reads the lines
    with session_scope() as session:
        rows = session.exec(
            select(BudgetLine.id, BudgetLine.budget_id, Budget.org_id, BudgetLine.project_id, BudgetLine.econ_code,
                   BudgetLine.func_code, BudgetLine.source, BudgetLine.amount, Budget.superseded_by_id, *month_cols)
            .join(Budget, Budget.id == BudgetLine.budget_id)
            .where(Budget.fiscal_year == year, Budget.status == "已批复")).all()
    sums = sums_of.result()
    key_of: dict[int, tuple] = {}
    current = []
    for r in rows:
        key = (r[2], r[3] or 0, r[4], r[5], r[6])
        key_of[r[0]] = key
        if r[8] is None:
            current.append(r)
    spent: dict[tuple, list[int]] = {}
    for line_id, *months in sums:
        key = key_of.get(line_id)
        if key is not None:
            total = spent.setdefault(key, [0] * 12)
            for k, amount in enumerate(months):
                total[k] += int(amount or 0)
    empty = (0,) * 12
    lines = tuple(
        LineFact(line_id=r[0], budget_id=r[1], org_id=r[2], project_id=r[3] or 0, econ_code=r[4], amount=int(r[7]),
                 func_code=r[5], source=r[6], plan=tuple(int(v or 0) for v in r[9:21]),
                 spent=tuple(spent.pop((r[2], r[3] or 0, r[4], r[5], r[6]), empty)))
        for r in sorted(current, key=lambda r: r[0]))
    return Facts(year=year, version=version, lines=lines)


def months_elapsed_bp(today: date) -> int:
    """序时进度 in basis points: months elapsed ÷ 12, counting the current month by its days (31 Mar → 2500)."""
    import calendar

    days = calendar.monthrange(today.year, today.month)[1]
    return round((today.month - 1 + today.day / days) * 10000 / 12)


def rate_bp(spent: int, budget: int) -> int:
    """Execution rate in basis points (spent ÷ budget); 0 without a budget."""
    return round(spent * 10000 / budget) if budget > 0 else 0
