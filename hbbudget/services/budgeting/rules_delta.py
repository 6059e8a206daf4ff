"""Rules on edit, incrementally (issue 12): after one line is saved, the budget's aggregates (lines.Facts) are
updated by that line's change instead of re-read from every line, and the rules that read only those aggregates
and this budget's lines keep their previous result when the edit cannot have changed it. Rules reading other
data (subjects, control numbers, projects, other years, spending) are always evaluated. The result equals
`rules.evaluate` over the whole budget (tests/unit/budgeting/test_rules_delta.py compares both on random edits).

The aggregates are kept per process, per budget, with a stamp of the budget's lines (count, amount sum, version
sum, largest id): one aggregate read per edit proves nobody else changed the budget since (each line write bumps
its version); any other change falls back to the full evaluation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from hbbudget.models import Budget, BudgetLine
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import lines, rules

KEEP = 64  # budgets kept per process
stats = {"incremental": 0, "full": 0, "reused": 0}


@dataclass(frozen=True)
class Part:
    """What one line contributes to the aggregates."""

    key: tuple  # (project id, econ, func, source)
    amount: int
    plan_ok: bool


@dataclass
class _Snapshot:
    stamp: tuple
    facts: lines.Facts
    results: dict[tuple, dict] = field(default_factory=dict)  # rule_key -> result


_kept: OrderedDict[int, _Snapshot] = OrderedDict()
_lock = threading.Lock()


def part(line: BudgetLine) -> Part:
    return Part((line.project_id, line.econ_code, line.func_code, line.source), line.amount,
                sum(getattr(line, m) for m in MONTHS) == line.amount)


def _stamp(session: Session, budget_id: int) -> tuple:
    return tuple(int(v or 0) for v in session.exec(
        select(func.count(), func.sum(BudgetLine.amount), func.sum(BudgetLine.version), func.max(BudgetLine.id))
        .where(BudgetLine.budget_id == budget_id)).one())


def _keep(budget_id: int, snap: _Snapshot) -> None:
    with _lock:
        _kept[budget_id] = snap
        _kept.move_to_end(budget_id)
        while len(_kept) > KEEP:
            _kept.popitem(last=False)


def full(session: Session, budget: Budget) -> tuple[lines.Facts, list[dict]]:
    """Aggregates and rule results over every line, kept for the next edit."""
    stats["full"] += 1
    stamp = _stamp(session, budget.id)
    f = lines.facts(session, budget.id)
    kept: dict[tuple, dict] = {}
    results = rules.evaluate(session, budget, f, keep=kept)
    _keep(budget.id, _Snapshot(stamp, f.copy(), kept))
    return f, results


def _unchanged(kind: str, params: dict, old: lines.Facts, new: lines.Facts, before: Part, after: Part) -> bool:
    """Whether a rule reading only this budget's lines has the same result after the edit."""
    if kind == "share_cap":
        def sums(f: lines.Facts) -> tuple:
            return f.econ_prefix(params["subject"]), f.total if params["of"] == "total" else f.econ_prefix(params["of"])
        return before.key[1] == after.key[1] and sums(old) == sums(new)
    if kind == "positive_amount":
        return (before.amount <= 0) == (after.amount <= 0)
    if kind == "monthly_plan":
        return before.plan_ok == after.plan_ok
    if kind == "unique_line":
        return before.key == after.key
    return False  # every other kind reads more than this budget's lines: evaluated again


def after_edit(session: Session, budget: Budget, before: Part, after: Part) -> tuple[lines.Facts, list[dict]]:
    """Aggregates and rule results after one line of `budget` changed from `before` to `after` (in the caller's
    transaction, after the write)."""
    with _lock:
        snap = _kept.get(budget.id)
    stamp = _stamp(session, budget.id)
    if snap is None or stamp != (snap.stamp[0], snap.stamp[1] + after.amount - before.amount, snap.stamp[2] + 1,
                                 snap.stamp[3]):
        return full(session, budget)
    stats["incremental"] += 1
    old = snap.facts
    new = old.copy()
    new.add_line(before.key, before.amount, before.plan_ok, -1)
    new.add_line(after.key, after.amount, after.plan_ok)

    def reuse(rule, params: dict) -> dict | None:
        found = snap.results.get(rules.rule_key(rule))
        if found is not None and _unchanged(rule.kind, params, old, new, before, after):
            stats["reused"] += 1
            return found
        return None

    kept: dict[tuple, dict] = {}
    results = rules.evaluate(session, budget, new, reuse=reuse, keep=kept)
    _keep(budget.id, _Snapshot(stamp, new.copy(), kept))
    return new, results


def forget() -> None:
    with _lock:
        _kept.clear()
