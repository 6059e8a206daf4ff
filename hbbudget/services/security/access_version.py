"""The access version: one counter (a `DataVersion` row) bumped in the same transaction as any change to who may do
what: users (except login bookkeeping), role grants, roles, role permissions, orgs and the security policy.

`auth.resolve` caches the resolved `UserContext` per login session and re-reads it only when this number moved,
so the guard costs one indexed read per event while a revoked role still applies at the next event. The bump is
a SQLAlchemy `before_flush` hook on every ORM session: no service can forget it."""

from __future__ import annotations

from sqlalchemy import event, insert, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hbbudget.models import DataVersion, Org, Role, RolePermission, SecurityPolicy, User, UserRole

NAME = "access"
WATCHED = (User, UserRole, Role, RolePermission, Org, SecurityPolicy)
USER_BOOKKEEPING = {"failed_logins", "locked_until", "last_login_at"}  # a login writes these: no access change


def _changes_access(obj: object, deleted: bool) -> bool:
    if not isinstance(obj, WATCHED):
        return False
    if deleted or not isinstance(obj, User):
        return True
    state = inspect(obj)
    if state.pending:
        return True
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in USER_BOOKKEEPING)


def bump(connection) -> None:
    """+1 on the caller's connection (inside its transaction); the row is created on first use."""
    table = DataVersion.__table__
    if connection.execute(update(table).where(table.c.name == NAME).values(version=table.c.version + 1)).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(insert(table).values(name=NAME, version=1))
    except IntegrityError:  # created meanwhile by another transaction
        connection.execute(update(table).where(table.c.name == NAME).values(version=table.c.version + 1))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    if session.info.get("access_bumped"):
        return
    if any(_changes_access(o, False) for o in (*session.new, *session.dirty)) or \
            any(_changes_access(o, True) for o in session.deleted):
        session.info["access_bumped"] = True
        bump(session.connection())


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session) -> None:
    session.info.pop("access_bumped", None)
