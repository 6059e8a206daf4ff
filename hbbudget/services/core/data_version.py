"""Data version counters: bumped inside the transaction that changes the data, read by caches as their key.

`EXECUTION` changes whenever expenditures change (ingest with auto-match, manual matching, manual entries,
reversals), so the dashboard recomputes its aggregates once per change, however many pages watch."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hbbudget.db import session_scope
from hbbudget.models import DataVersion

EXECUTION = "execution"


def bump(session: Session, name: str = EXECUTION) -> None:
    """+1 in the caller's transaction (the row is created on first use)."""
    done = session.execute(update(DataVersion).where(DataVersion.name == name)
                           .values(version=DataVersion.version + 1)).rowcount
    if done:
        return
    try:
        with session.begin_nested():
            session.add(DataVersion(name=name, version=1))
    except IntegrityError:  # created meanwhile by another transaction
        session.execute(update(DataVersion).where(DataVersion.name == name).values(version=DataVersion.version + 1))


def current(name: str = EXECUTION) -> int:
    with session_scope() as session:
        row = session.get(DataVersion, name)
        return row.version if row else 0
