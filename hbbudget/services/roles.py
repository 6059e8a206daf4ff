"""Default roles as data: created once, then edited by the security admin in the app."""

from __future__ import annotations

from sqlmodel import Session, select

from ..models import Role, RolePermission
from .permissions import DEFAULT_ROLES


def ensure_default_roles(session: Session) -> int:
    """Create the missing default roles with their default permissions; returns how many were added."""
    existing = {r.code for r in session.exec(select(Role)).all()}
    added = 0
    for code, (name, admin_kind, permissions) in DEFAULT_ROLES.items():
        if code in existing:
            continue
        role = Role(code=code, name=name, builtin=True, admin_kind=admin_kind)
        session.add(role)
        session.flush()
        session.add_all(RolePermission(role_id=role.id, permission=p) for p in sorted(permissions))
        added += 1
    return added


def by_code(session: Session, code: str) -> Role:
    role = session.exec(select(Role).where(Role.code == code)).one()
    return role


def matrix() -> dict:
    """Roles × permissions for the matrix view: permission rows grouped by module."""
    from ..db import session_scope
    from .permissions import PERMISSIONS

    with session_scope() as session:
        all_roles = session.exec(select(Role).order_by(Role.id)).all()
        granted = {(rp.role_id, rp.permission) for rp in session.exec(select(RolePermission)).all()}
    return {
        "roles": [r.name for r in all_roles],
        "rows": [{"module": module, "name": name, "code": code, "description": desc,
                  "cells": ["✓" if (r.id, code) in granted else "" for r in all_roles]}
                 for code, (module, name, desc) in PERMISSIONS.items()],
    }
