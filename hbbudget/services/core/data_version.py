"""Data version counters: bumped inside the transaction that changes the data, read by caches as their key.

`EXECUTION` changes whenever expenditures change (ingest with auto-match, manual matching, manual entries,
reversals), so the dashboard recomputes its aggregates once per change, however many pages watch.

`watch(name, changes)` bumps `name` from a SQLAlchemy `before_flush` hook on every ORM session whenever the flush
adds, changes or deletes an object for which `changes(obj, deleted)` is true: no service can forget the bump
(services/security/access_version.py, services/budgeting/reference.py)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from hbbudget.db import session_scope
from hbbudget.models import DataVersion

EXECUTION = "execution"
_table = DataVersion.__table__
_watched: dict[str, Callable[[object, bool], bool]] = {}


def bump(session: Session, name: str = EXECUTION) -> None:
    """+1 in the caller's transaction (the row is created on first use)."""
    bump_on(session.connection(), name)


def bump_on(connection, name: str) -> None:
    """+1 on the caller's connection (inside its transaction)."""
    if connection.execute(update(_table).where(_table.c.name == name).values(version=_table.c.version + 1)).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(insert(_table).values(name=name, version=1))
    except IntegrityError:  # created meanwhile by another transaction
        connection.execute(update(_table).where(_table.c.name == name).values(version=_table.c.version + 1))


def current(name: str = EXECUTION) -> int:
    with session_scope() as session:
        return read(session, name)[0]


def read(session: Session, *names: str) -> tuple[int, ...]:
    """The versions of `names` in one query (0 for a name never bumped)."""
    found = dict(session.execute(select(_table.c.name, _table.c.version).where(_table.c.name.in_(names))).all())
    return tuple(int(found.get(n, 0)) for n in names)


def in_transaction(session: Session, name: str) -> int | None:
    """`name`'s version, read once per transaction (a cache's key); None when this transaction bumped it (what it
    reads may still be rolled back: not to be cached)."""
    if name in session.info.get("versions_bumped", ()):
        return None
    seen = session.info.setdefault("versions_read", {})
    if name not in seen:
        version = read(session, name)[0]  # may autoflush this transaction's own change first
        if name in session.info.get("versions_bumped", ()):
            return None
        seen[name] = version
    return seen[name]


def watch(name: str, changes: Callable[[object, bool], bool]) -> None:
    _watched[name] = changes


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, flush_context, instances) -> None:
    bumped = session.info.setdefault("versions_bumped", set())
    for name, changes in _watched.items():
        if name in bumped:
            continue
        if any(changes(o, False) for o in (*session.new, *session.dirty)) or \
                any(changes(o, True) for o in session.deleted):
            bumped.add(name)
            bump_on(session.connection(), name)


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _reset(session: OrmSession) -> None:
    session.info.pop("versions_bumped", None)
    session.info.pop("versions_read", None)
