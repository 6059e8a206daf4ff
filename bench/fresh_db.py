"""A bench module's measurements on a freshly migrated database: HBB_BENCH_DATABASE_URL when set (e.g. a
PostgreSQL server), else a temporary SQLite file; row names say which."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable


def run_on_fresh_database(measure: Callable[[], list[dict]]) -> list[dict]:
    saved = os.environ.get("HBB_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("HBB_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        os.environ["HBB_DATABASE_URL"] = url
        try:
            from hbbudget.cli import _migrate

            _migrate()
            rows = measure()
        finally:
            if saved is None:
                os.environ.pop("HBB_DATABASE_URL", None)
            else:
                os.environ["HBB_DATABASE_URL"] = saved
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    return [{**r, "name": f"[{db}] {r['name']}"} for r in rows]
