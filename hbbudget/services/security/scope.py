"""Authorization in one module, and the checks of values a client sends.

- who may act where: `require` / `org_for` / `owned` (one org or row), `org_condition` (a WHERE clause on an org id
  column for scoped queries; refuses when the permission is held nowhere), `orgs_filter`, review steps
  (`can_at`, `require_at`, `step_filter`, `allowed`, `require_transition`);
- 三员 kinds and global (root-org) grants: `permission_kind`, `kind_label`, `has_global`, `require_global`;
- client-sent values: `int_id`, `opt_id`, `year`, `page`, `text`.
All rest on `UserContext.can` / `scope_paths`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import Session, select

from hbbudget.models import Org
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security.permissions import DEFAULT_ROLES, PERMISSIONS, UserContext

MAX_LIMIT = 200


def int_id(value: object, label: str = "编号") -> int:
    """A positive integer id as sent by a client (str digits accepted)."""
    if isinstance(value, bool):
        raise ValidationError(f"{label}无效")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value <= 0 or value > 2**62:
        raise ValidationError(f"{label}无效")
    return value


def opt_id(value: object, label: str = "编号") -> int | None:
    """0, "", None → None; otherwise a positive id."""
    if value in (None, "", 0, "0"):
        return None
    return int_id(value, label)


def year(value: object, label: str = "年度") -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        raise ValidationError(f"{label}须为 2000 至 2100 之间的整数")
    return value


def page(offset: object, limit: object) -> tuple[int, int]:
    for v, label in ((offset, "偏移量"), (limit, "每页条数")):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValidationError(f"{label}须为整数")
    if offset < 0 or limit < 1:
        raise ValidationError("偏移量不能为负数，每页条数至少为 1")
    return offset, min(limit, MAX_LIMIT)


def text(value: object, label: str, max_len: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(f"{label}格式无效")
    value = str(value).strip()
    if required and not value:
        raise ValidationError(f"{label}不能为空")
    if len(value) > max_len:
        raise ValidationError(f"{label}不能超过 {max_len} 个字")
    return value


def require(ctx: UserContext, permission: str, org: Org) -> None:
    if not ctx.can(permission, org.path):
        raise PermissionDenied(f"没有权限：不能对“{org.name}”执行“{PERMISSIONS[permission][1]}”")


def org_for(session: Session, ctx: UserContext, org_id: object, permission: str) -> Org:
    org = session.get(Org, int_id(org_id, "单位"))
    if org is None:
        raise NotFound("单位不存在")
    require(ctx, permission, org)
    return org


def ancestor_ids(org: Org) -> list[int]:
    """Ids on the path from the root down to `org`, itself included."""
    return [int(x) for x in org.path.strip("/").split("/") if x]


def orgs_filter(ctx: UserContext, permission: str):
    """WHERE clause on Org: the orgs where `permission` holds for the caller (nothing when none)."""
    return scope_filter(ctx.scope_paths(permission))


def can_at(ctx: UserContext, permission: str, org: Org) -> bool:
    """A review step is acted on by users granted `permission` *at that org itself*: a reviewer higher up
    (whose subtree grant also covers it) may not skip the level below."""
    return any(permission in g.permissions and g.org_path == org.path for g in ctx.grants)


def require_at(ctx: UserContext, permission: str, org: Org) -> None:
    if not can_at(ctx, permission, org):
        raise PermissionDenied(f"没有权限：当前由“{org.name}”审核，您不能执行“{PERMISSIONS[permission][1]}”")


def step_filter(ctx: UserContext, permission: str):
    """WHERE clause on Org: the orgs where the caller may act as a review step."""
    paths = [g.org_path for g in ctx.grants if permission in g.permissions]
    return Org.path.in_(paths) if paths else Org.id == -1


def allowed(ctx: UserContext, permission: str, where: str, org: Org) -> bool:
    """The check of a flow transition: "step" needs a grant at the step org, "own" any grant over it."""
    return can_at(ctx, permission, org) if where == "step" else ctx.can(permission, org.path)


def require_transition(ctx: UserContext, permission: str, where: str, org: Org) -> None:
    if where == "step":
        require_at(ctx, permission, org)
    else:
        require(ctx, permission, org)


def owned(session: Session, ctx: UserContext, model: type, value: object, label: str, permission: str):
    """The `model` row with the client-sent id `value`, and its org (`row.org_id`), when the user has
    `permission` there; NotFound or PermissionDenied otherwise."""
    row = session.get(model, int_id(value, label))
    if row is None:
        raise NotFound(f"{label}不存在")
    org = session.get(Org, row.org_id)
    require(ctx, permission, org)
    return row, org


# 三员 kinds, global grants, scoped queries

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
