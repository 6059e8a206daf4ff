"""Default roles as data: created once, then edited by the security admin in the app; defaults a newer release
adds reach the built-in roles once (RoleDefaultOffered)."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlmodel import Session, select

from hbbudget.db import session_scope
from hbbudget.models import Role, RoleDefaultOffered, RolePermission, UserRole
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import DEFAULT_ROLES, PERMISSIONS, UserContext
from hbbudget.services.security.scope import int_id, text


def ensure_default_roles(session: Session) -> int:
    """Create the missing default roles with their default permissions; give existing built-in roles the
    defaults a newer release added (once: a default the security admin removed stays removed). Returns how many
    roles were created."""
    existing = {r.code: r for r in session.exec(select(Role)).all()}
    added = 0
    for code, (name, admin_kind, permissions) in DEFAULT_ROLES.items():
        role = existing.get(code)
        if role is None:
            role = Role(code=code, name=name, builtin=True, admin_kind=admin_kind)
            session.add(role)
            session.flush()
            session.add_all(RolePermission(role_id=role.id, permission=p) for p in sorted(permissions))
            session.add_all(RoleDefaultOffered(role_id=role.id, permission=p) for p in sorted(permissions))
            added += 1
        elif role.builtin:
            _offer_new_defaults(session, role, permissions)
    return added


def _offer_new_defaults(session: Session, role: Role, permissions: set[str]) -> None:
    offered = set(session.exec(select(RoleDefaultOffered.permission)
                               .where(RoleDefaultOffered.role_id == role.id)).all())
    new = sorted(permissions - offered)
    if not new:
        return
    held = set(_granted(session, role.id))
    session.add_all(RolePermission(role_id=role.id, permission=p) for p in new if p not in held)
    session.add_all(RoleDefaultOffered(role_id=role.id, permission=p) for p in new)
    audit.record(session, "role.defaults_added", object_type="role", object_id=role.id,
                 detail=f"新版本为内置角色“{role.name}”增加默认权限", after={"permissions": new})


def by_code(session: Session, code: str) -> Role:
    role = session.exec(select(Role).where(Role.code == code)).one()
    return role


def _granted(session: Session, role_id: int) -> list[str]:
    return sorted(session.exec(select(RolePermission.permission).where(RolePermission.role_id == role_id)).all())


def _role(session: Session, role_id: object) -> Role:
    role = session.get(Role, int_id(role_id, "角色"))
    if role is None:
        raise NotFound("角色不存在")
    return role


def _check_name(session: Session, name: object, description: object, role_id: int | None = None) -> tuple[str, str]:
    name = text(name, "角色名称", 32, required=True)
    description = text(description, "角色说明", 255)
    clash = session.exec(select(Role).where(Role.name == name)).first()
    if clash and clash.id != role_id:
        raise ValidationError(f"角色名称已存在：{name}")
    return name, description


def list_roles(ctx: UserContext) -> list[dict]:
    """Roles for the role list and the grant forms, with how many grants each has."""
    scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        counts = dict(session.exec(select(UserRole.role_id, func.count()).group_by(UserRole.role_id)).all())
        rows = session.exec(select(Role).order_by(Role.id)).all()
    return [{"id": str(r.id), "name": r.name, "description": r.description,
             "kind": "三员角色" if r.admin_kind else ("内置" if r.builtin else "自定义"),
             "holders": str(counts.get(r.id, 0)), "custom": not r.builtin} for r in rows]


def assignable(ctx: UserContext) -> list[dict]:
    """Roles the caller may grant: business roles (system admin) or every role (security admin)."""
    every = scope.has_global(ctx, "admin.roles")
    if not every and not ctx.has("admin.users"):
        scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        rows = session.exec(select(Role).order_by(Role.id)).all()
    return [{"id": str(r.id), "name": r.name} for r in rows if every or not r.admin_kind]


def create_role(ctx: UserContext, name: object, description: object = "") -> int:
    """A custom business role, with no permissions yet."""
    scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        name, description = _check_name(session, name, description)
        role = Role(code=f"custom-{uuid.uuid4().hex[:12]}", name=name, description=description, builtin=False)
        session.add(role)
        session.flush()
        audit.record(session, "role.create", actor=ctx, object_type="role", object_id=role.id,
                     after={"name": name, "description": description})
        return role.id


def rename_role(ctx: UserContext, role_id: object, name: object, description: object = "") -> None:
    scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        role = _role(session, role_id)
        if role.builtin:
            raise ValidationError("内置角色不能改名")
        name, description = _check_name(session, name, description, role.id)
        before = {"name": role.name, "description": role.description}
        role.name, role.description = name, description
        session.add(role)
        audit.record(session, "role.update", actor=ctx, object_type="role", object_id=role.id, before=before,
                     after={"name": name, "description": description})


def delete_role(ctx: UserContext, role_id: object) -> None:
    """Delete a custom role that nobody holds any more."""
    scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        role = _role(session, role_id)
        if role.builtin:
            raise ValidationError("内置角色不能删除")
        held = session.exec(select(func.count()).select_from(UserRole).where(UserRole.role_id == role.id)).one()
        if held:
            raise ValidationError(f"角色“{role.name}”仍分配给 {held} 个授权，请先撤销")
        before = {"name": role.name, "permissions": _granted(session, role.id)}
        for rp in session.exec(select(RolePermission).where(RolePermission.role_id == role.id)).all():
            session.delete(rp)
        session.flush()
        session.delete(role)
        audit.record(session, "role.delete", actor=ctx, object_type="role", object_id=role.id, before=before)


def set_permission(ctx: UserContext, role_id: object, permission: object, granted: object) -> None:
    """Tick or clear one cell of the matrix. Takes effect at each holder's next event."""
    scope.require_global(ctx, "admin.roles")
    if not isinstance(granted, bool) or permission not in PERMISSIONS:
        raise ValidationError("请求参数无效")
    with session_scope() as session:
        role = _role(session, role_id)
        if role.admin_kind:
            raise ValidationError("三员分立：系统、安全、审计管理员角色的权限固定，不能修改")
        if scope.permission_kind(permission):
            raise ValidationError(f"三员分立：“{PERMISSIONS[permission][1]}”属于管理员权限，不能授予业务角色")
        before = _granted(session, role.id)
        row = session.get(RolePermission, (role.id, permission))
        if granted and row is None:
            session.add(RolePermission(role_id=role.id, permission=permission))
        elif not granted and row is not None:
            session.delete(row)
        else:
            return
        session.flush()
        audit.record(session, "role.permission", actor=ctx, object_type="role", object_id=role.id,
                     detail=f"{'授予' if granted else '收回'} {permission}", before=before,
                     after=_granted(session, role.id))


def matrix(ctx: UserContext) -> dict:
    """Roles × permissions, permission rows grouped by module; each cell says if it may be edited."""
    scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        all_roles = session.exec(select(Role).order_by(Role.id)).all()
        granted = {(rp.role_id, rp.permission) for rp in session.exec(select(RolePermission)).all()}
    rows, last_module = [], None
    for code, (module, name, desc) in PERMISSIONS.items():
        rows.append({"module": module if module != last_module else "", "name": name, "code": code,
                     "description": desc,
                     "cells": [{"role_id": str(r.id), "code": code, "on": "1" if (r.id, code) in granted else "",
                                "editable": "" if r.admin_kind or scope.permission_kind(code) else "1"}
                               for r in all_roles]})
        last_module = module
    return {"roles": [r.name for r in all_roles], "rows": rows}
