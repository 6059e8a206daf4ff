"""Whole-database copy out and back in (SQLite online backup API; PostgreSQL pg_dump/pg_restore custom format),
reading it as of one snapshot, and telling whether a database is empty: the database-specific half of
services/operations/backup and health, which stay portable."""

from __future__ import annotations

import glob
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from hbbudget.services.errors import ValidationError

SUFFIX = {"sqlite": ".sqlite", "postgresql": ".dump"}


def dialect_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in SUFFIX:
        raise ValidationError(f"暂不支持备份该数据库类型：{name}（支持 SQLite 与 PostgreSQL）")
    return name


def sqlite_path(url: str) -> Path:
    path = make_url(url).database or ""
    if not path or path == ":memory:":
        raise ValidationError("内存数据库无法备份")
    return Path(path)


def pg_bin(tool: str) -> str:
    """pg_dump / pg_restore: HBB_PG_BIN, else Debian's newest /usr/lib/postgresql/*/bin, else PATH."""
    folder = os.environ.get("HBB_PG_BIN", "")
    if not folder:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
        return found[-1] if found else tool
    return str(Path(folder) / tool)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it (never on the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{Path(cmd[0]).name} 失败（退出码 {done.returncode}）：{' '.join(tail)}")


def copy_out(engine: Engine, target: Path, read: Callable[[Connection], dict]) -> dict:
    """Write the whole database to `target`; return `read(conn)` computed on exactly the data written."""
    name = engine.dialect.name
    if name == "sqlite":
        source = sqlite3.connect(str(sqlite_path(str(engine.url))))
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)  # the online backup API: a consistent copy while the app keeps writing
        finally:
            dest.close()
            source.close()
        copy = create_engine(f"sqlite:///{target}")
        try:
            with copy.connect() as conn:
                return read(conn)
        finally:
            copy.dispose()
    # PostgreSQL: export a snapshot, read it, and have pg_dump dump the same snapshot
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            result = read(conn)
            url, env = _libpq(str(engine.url))
            _run([pg_bin("pg_dump"), "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                  f"--file={target}", f"--dbname={url}"], env)
    return result


def copy_in(engine: Engine, source: Path) -> None:
    """Load a backup made by `copy_out` into the (empty) database of `engine`, all or nothing."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = sqlite_path(str(engine.url))
        path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dest = sqlite3.connect(str(path))
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
        return
    engine.dispose()
    url, env = _libpq(str(engine.url))
    _run([pg_bin("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", f"--dbname={url}", str(source)], env)


def is_empty(engine: Engine) -> bool:
    """True when no table holds a row (a missing SQLite file, a new schema or migrated empty tables)."""
    if engine.dialect.name == "sqlite" and not sqlite_path(str(engine.url)).exists():
        return True
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table == "alembic_version":
                continue
            if conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first():
                return False
    return True



def database_size(engine: Engine) -> int:
    """Bytes the database takes on disk (SQLite: the file and its WAL; PostgreSQL: pg_database_size)."""
    if engine.dialect.name == "sqlite":
        path = sqlite_path(str(engine.url))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
