"""Portability (issue 17): every migration renders as SQL offline (Alembic `upgrade --sql`) for PostgreSQL (the
dialect Kingbase speaks) and for 达梦 DM when its dialect package imports here (skipped with the reason when not);
and database-specific SQL stays in the few modules listed here."""

import io
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import registry
from sqlmodel import SQLModel

import hbbudget.models  # noqa: F401
from hbbudget.settings import ROOT

# the only place allowed database-specific SQL: the dialect package (engine set-up, the audit chain's lock, the
# monthly sums triggers, whole-database backup and restore)
DIALECT_PACKAGE = "hbbudget/dialect/"
SPECIFIC = re.compile(r"PRAGMA|sqlite_master|sqlite_sequence|\bpg_[a-z_]+\(|dialect\.name|on_conflict_do|"
                      r"\bON CONFLICT\b|INSERT OR (REPLACE|IGNORE)|\bILIKE\b|\bRETURNING\b|"
                      r"dialects\.(postgresql|sqlite)|pg_dump|pg_restore|(?<![.\w])strftime\(|date_trunc|julianday|"
                      r"group_concat|string_agg|func\.(strftime|now|datetime|to_char|extract)\b")


DATA_MIGRATION = "0007"  # reads the roles table: it cannot render offline (a known limit, see the xfail below)


def _render(url: str, monkeypatch, revisions: str) -> str:
    monkeypatch.setenv("HBB_DATABASE_URL", url)
    out = io.StringIO()
    cfg = Config(str(ROOT / "alembic.ini"), output_buffer=out)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, revisions, sql=True)
    return out.getvalue()


def _dm_reason() -> str:
    try:
        registry.load("dm")
    except Exception as err:  # not installed, or installed but not importable with this SQLAlchemy
        return f"达梦 dialect (pip install -e '.[dm]') does not load here: {type(err).__name__}: {err}"
    return ""


URLS = ["postgresql+psycopg://u@127.0.0.1:5432/db", "dm://SYSDBA@127.0.0.1:5236"]


def _skip_unloadable(url: str) -> None:
    if url.startswith("dm"):
        reason = _dm_reason()
        if reason:
            pytest.skip(reason)


@pytest.mark.parametrize("url", URLS)
def test_every_migration_but_the_data_migration_renders_offline(url, monkeypatch):
    _skip_unloadable(url)
    before = f"{int(DATA_MIGRATION) - 1:04d}"
    sql = _render(url, monkeypatch, f"base:{before}") + _render(url, monkeypatch, f"{DATA_MIGRATION}:heads")
    created = set(re.findall(r"CREATE TABLE \"?(\w+)\"?", sql))
    assert {t.name for t in SQLModel.metadata.sorted_tables} - {"roledefaultoffered"} <= created  # 0007's table
    assert "INSERT INTO alembic_version" in sql


@pytest.mark.xfail(strict=True, reason="migration 0007 reads the role table to seed RoleDefaultOffered, which an "
                                       "offline (--sql) run cannot do; a DBA applying SQL scripts needs it rewritten")
def test_the_data_migration_renders_offline(monkeypatch):
    before = f"{int(DATA_MIGRATION) - 1:04d}"
    _render(URLS[0], monkeypatch, f"{before}:{DATA_MIGRATION}")


def _specific_modules() -> set[str]:
    folders = [ROOT / "hbbudget", ROOT / "state", ROOT / "components"]
    return {str(p.relative_to(ROOT)) for folder in folders for p in folder.rglob("*.py")
            if SPECIFIC.search(p.read_text(encoding="utf-8"))}


def test_database_specific_sql_stays_in_the_dialect_package():
    found = _specific_modules()
    assert {f for f in found if not f.startswith(DIALECT_PACKAGE)} == set()
    # the pattern does find what it looks for
    assert {"hbbudget/dialect/__init__.py", "hbbudget/dialect/backup.py"} <= found


@pytest.mark.parametrize("construct", ["session.execute(text('PRAGMA foreign_keys=ON'))",
                                       "insert(T).values(a=1).on_conflict_do_nothing()",
                                       "text(\"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING\")",
                                       "func.strftime('%Y', T.day)", "text(\"SELECT strftime('%m', d)\")",
                                       "func.date_trunc('month', T.day)", "q.where(T.name.op('ILIKE')(x))",
                                       "from sqlalchemy.dialects.postgresql import insert"])
def test_the_pattern_catches_each_construct(construct):
    assert SPECIFIC.search(construct)


def test_the_pattern_leaves_portable_code_alone():
    assert not SPECIFIC.search("day.strftime('%Y-%m-%d'); q.where(T.name.ilike(x)); func.substr(c, 1, 3)")


def test_the_extras_name_the_vendor_packages():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dm = ["dmPython>=2.5", "dmSQLAlchemy>=2.0"]' in text and 'kingbase = ["ksycopg2>=2.9"]' in text
    assert Path(ROOT / "docs" / "deployment.md").read_text(encoding="utf-8").count("达梦") >= 1
