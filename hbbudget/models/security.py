"""等保二级 security state: the policy row, password history, alerts, job leases, audit checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class SecurityPolicy(SQLModel, table=True):
    """One row (id 1) once the security admin saves; until then the HBB_* environment gives the values."""

    id: int | None = Field(default=None, primary_key=True)
    min_length: int
    min_classes: int
    expiry_days: int
    history_count: int
    max_failed_logins: int
    lockout_minutes: int
    idle_timeout_minutes: int
    session_lifetime_hours: int
    inactive_days: int
    updated_at: datetime = Field(default_factory=now)
    updated_by: str = Field(default="", max_length=64)


class PasswordHistory(SQLModel, table=True):
    """Hashes a user used before (for the "last N not reused" rule)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=now)


class SecurityAlert(SQLModel, table=True):
    """A security event for the audit and security admins' 工作台 (e.g. a broken audit chain)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=now, index=True)
    kind: str = Field(max_length=32, index=True)
    message: str = Field(max_length=500)
    acknowledged_at: datetime | None = None
    acknowledged_by: str = Field(default="", max_length=64)


class JobLease(SQLModel, table=True):
    """Which backend process runs the scheduled jobs (taken and renewed atomically)."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime


class AuditCheckpoint(SQLModel, table=True):
    """A remembered chain link: `anchor` (daily head, detects a cut tail) or `purge` (new chain start)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=now)
    kind: str = Field(max_length=16)
    last_id: int = Field(index=True)
    last_hash: str = Field(max_length=64)
