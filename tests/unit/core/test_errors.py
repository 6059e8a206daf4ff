"""Errors reach the user as Chinese text without stack traces or SQL."""

from contextlib import contextmanager

import pytest
import reflex as rx
from sqlalchemy import text

import hbbudget.hbbudget  # noqa: F401
from hbbudget.db import get_engine
from hbbudget.pages.security.audit import AuditState
from hbbudget.services.security import auth
from state.errors import GENERIC, backend_error
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user

LEAKS = ("auditentry", "securitypolicy", "SELECT", "Traceback", "sqlalchemy", "OperationalError", "ProgrammingError")


@contextmanager
def _table_gone(table: str):
    """A real SQL failure: the table is renamed away for the duration."""
    with get_engine().begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_gone"))
    try:
        yield
    finally:
        with get_engine().begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_gone RENAME TO {table}"))


@pytest.mark.parametrize("table", ["auditentry", "securitypolicy"])  # inside the handler / in the session check
async def test_a_database_error_shows_a_generic_message(db, table):
    tree = make_tree()
    make_user("aud", "audit_admin", tree["prov"])
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("aud", PASSWORD)
    state = await root.get_state(AuditState)
    with _table_gone(table):
        result = str(await state.load())
    assert GENERIC in result and not [leak for leak in LEAKS if leak in result]
    assert state.rows == []


def test_the_app_wide_handler_hides_the_exception():
    spec = str(backend_error(RuntimeError("SELECT password_hash FROM user")))
    assert GENERIC in spec and "password_hash" not in spec and "RuntimeError" not in spec
