"""Users, roles (data), permissions (code constants), scoped role grants and login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from hbbudget.clock import now


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=64)
    org_id: int = Field(foreign_key="org.id", index=True)
    password_hash: str = Field(max_length=255)
    active: bool = True
    must_change_password: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)


class Role(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=255)
    builtin: bool = False
    admin_kind: str | None = Field(default=None, max_length=16)  # system / security / audit (三员)


class RolePermission(SQLModel, table=True):
    role_id: int = Field(foreign_key="role.id", primary_key=True)
    permission: str = Field(max_length=64, primary_key=True)


class RoleDefaultOffered(SQLModel, table=True):
    """A default permission the code has already given this built-in role. A default added in a later release
    is granted once (roles.ensure_default_roles); one the security admin removed is not given back."""

    role_id: int = Field(foreign_key="role.id", primary_key=True)
    permission: str = Field(max_length=64, primary_key=True)


class UserRole(SQLModel, table=True):
    """A role granted in an org scope: that org alone, or its whole subtree."""

    __table_args__ = (UniqueConstraint("user_id", "role_id", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role_id: int = Field(foreign_key="role.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    subtree: bool = True


class LoginSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 of the bearer token
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=now)
    last_seen_at: datetime = Field(default_factory=now)
    expires_at: datetime
    revoked_at: datetime | None = None
    client_addr: str = Field(default="", max_length=64)
