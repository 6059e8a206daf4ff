"""The one place for database-specific SQL (issue 17): everything else in hbbudget is portable SQLAlchemy, which
`tests/unit/operations/test_portability.py` checks. Here: engine set-up per dialect, the audit chain's append lock,
whether month sums may run on parallel readers; `backup` holds whole-database copy and restore (SQLite backup API,
pg_dump/pg_restore). A new dialect (达梦 DM, 人大金仓 Kingbase) gets its branches here."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

AUDIT_CHAIN_LOCK = 7270001  # PostgreSQL advisory lock id that serializes appends to the audit chain


def name_of(session: Session) -> str:
    return session.get_bind().dialect.name


def make_engine(url: str) -> Engine:
    """SQLite: WAL, foreign keys, a 30 s busy timeout, the folder made; others: a pool that pings first."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def lock_audit_chain(session: Session) -> None:
    """Serialize appends to the audit chain for the rest of the transaction. PostgreSQL (and Kingbase): an advisory
    transaction lock. SQLite needs none: the entry's INSERT comes before the tail read and takes the write lock."""
    if name_of(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})
