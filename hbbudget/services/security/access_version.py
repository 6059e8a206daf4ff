"""The access version: one counter (a `DataVersion` row) bumped in the same transaction as any change to who may do
what: users (except login bookkeeping), role grants, roles, role permissions, orgs and the security policy.

`auth.resolve` caches the resolved `UserContext` per login session and re-reads it only when this number moved,
so the guard costs one indexed read per event while a revoked role still applies at the next event. The bump is
data_version's `before_flush` hook on every ORM session: no service can forget it."""

from __future__ import annotations

from sqlalchemy import inspect

from hbbudget.models import Org, Role, RolePermission, SecurityPolicy, User, UserRole
from hbbudget.services.core import data_version

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


data_version.watch(NAME, _changes_access)
