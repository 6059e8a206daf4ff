"""Access rules shared by the admin services: 三员 kinds, global (root-org) grants, org-scope filters.

Business services filter by scope with `org_condition` (a WHERE clause on an org id column) or check one
org with `services.scope.require`; both rest on `UserContext.can` / `scope_paths`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import select

from hbbudget.models import Org
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.security.permissions import DEFAULT_ROLES, PERMISSIONS, UserContext

ADMIN_KINDS = {"system": "系统管理员", "security": "安全管理员", "audit": "审计管理员"}

# permission -> admin kind, from the default admin roles; every other permission is business
_KIND_OF = {perm: kind for _, kind, perms in DEFAULT_ROLES.values() if kind for perm in perms}


def permission_kind(permission: str) -> str | None:
    """'system' / 'security' / 'audit' for an admin permission, None for a business one."""
    return _KIND_OF.get(permission)


def kind_label(kind: str | None) -> str:
    return ADMIN_KINDS.get(kind or "", "业务角色")


def is_root_path(path: str) -> bool:
    return path.count("/") == 2  # "/1/"


def has_global(ctx: UserContext, permission: str) -> bool:
    return any(permission in g.permissions and is_root_path(g.org_path) and g.subtree for g in ctx.grants)


def require_global(ctx: UserContext, permission: str) -> None:
    """Global things (roles, policy, the audit log) need the permission granted at a root org."""
    if not has_global(ctx, permission):
        if ctx.has(permission):
            raise PermissionDenied(f"没有权限：“{PERMISSIONS[permission][1]}”须在顶级单位范围内授予")
        raise PermissionDenied(f"没有权限：{PERMISSIONS[permission][1]}")


def org_condition(ctx: UserContext, permission: str, org_id_column) -> ColumnElement[bool]:
    """WHERE clause keeping rows whose org (by id column) lies in the user's scope for `permission`.

    Refuses outright when the user holds the permission nowhere."""
    paths = ctx.scope_paths(permission)
    if not paths:
        raise PermissionDenied(f"没有权限：{PERMISSIONS[permission][1]}")
    return org_id_column.in_(select(Org.id).where(scope_filter(paths)))
