"""Reference data read on every budget edit, cached per process: the subjects of a fiscal year and the rules of an
org chain (issue 12: they were re-read with several queries per edit).

Keyed by the `reference` data version, which data_version's `before_flush` hook bumps in the same transaction as
any added, changed or deleted subject or rule, so a change applies at the next read in every worker. The version
is read once per transaction; a transaction that changed reference data itself reads it directly and caches
nothing (its rows may still be rolled back)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlmodel import Session, select

from hbbudget.models import EconomicSubject, FunctionSubject, Rule
from hbbudget.services.core import data_version

NAME = "reference"
WATCHED = (EconomicSubject, FunctionSubject, Rule)
data_version.watch(NAME, lambda obj, deleted: isinstance(obj, WATCHED))


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    level: int
    active: bool


@dataclass(frozen=True)
class Subjects:
    econ: dict[str, Subject]  # 部门预算支出经济分类 of the year (shared by every caller: read only)
    func: dict[str, Subject]  # 功能分类 of the year


@dataclass(frozen=True)
class RuleSpec:
    """A stored rule as the evaluation reads it (id 0: a built-in)."""

    id: int
    kind: str
    name: str
    severity: str
    params: str  # JSON


_cache: dict[tuple, object] = {}
_lock = threading.Lock()


def _cached(session: Session, key: tuple, load):
    version = data_version.in_transaction(session, NAME)
    if version is None:
        return load()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = load()
    with _lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = (version, value)
    return value


def subjects(session: Session, year: int) -> Subjects:
    def load() -> Subjects:
        econ = session.exec(select(EconomicSubject).where(EconomicSubject.fiscal_year == year,
                                                          EconomicSubject.kind == "dept")).all()
        func = session.exec(select(FunctionSubject).where(FunctionSubject.fiscal_year == year)).all()
        return Subjects({r.code: Subject(r.code, r.name, r.level, r.active) for r in econ},
                        {r.code: Subject(r.code, r.name, r.level, r.active) for r in func})
    return _cached(session, ("subjects", year), load)


def rules(session: Session, org_ids: list[int], year: int) -> tuple[RuleSpec, ...]:
    """Active stored rules of the orgs `org_ids` for `year`, in id order (shared: a tuple)."""
    def load() -> tuple[RuleSpec, ...]:
        found = session.exec(select(Rule).where(Rule.org_id.in_(org_ids), Rule.fiscal_year == year,
                                                Rule.active == True).order_by(Rule.id)).all()  # noqa: E712
        return tuple(RuleSpec(r.id, r.kind, r.name, r.severity, r.params) for r in found)
    return _cached(session, ("rules", tuple(org_ids), year), load)


def forget() -> None:
    with _lock:
        _cache.clear()
