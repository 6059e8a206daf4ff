"""Shared fixtures: one migrated database per test session (SQLite, or PostgreSQL when
HBB_TEST_DATABASE_URL is set), emptied before each test that asks for `db`."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("HBB_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    os.environ["HBB_DATABASE_URL"] = url
    from hbbudget.cli import _migrate
    from hbbudget.db import get_engine

    if url.startswith("postgresql"):
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    _migrate()
    return url


@pytest.fixture
def db(database_url: str) -> str:
    """An empty, migrated database; yields its URL."""
    from sqlmodel import SQLModel

    import hbbudget.models  # noqa: F401
    from hbbudget.db import get_engine

    engine = get_engine()
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
    from hbbudget.services import caches

    caches.forget()  # per-process caches of the previous test's rows (ids and versions restart with the tables)
    return database_url


def _has_sqlite_sequence(conn) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def shared_dir() -> str:
    """../shared beside the project (samples and data are read in place)."""
    return SHARED
