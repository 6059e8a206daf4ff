"""The audit log: append-only, each entry hash-chained to the one before."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=now, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str = Field(default="", max_length=64)
    event_type: str = Field(max_length=64, index=True)
    success: bool = True
    object_type: str = Field(default="", max_length=64)
    object_id: str = Field(default="", max_length=64)
    org_id: int | None = Field(default=None, index=True)
    detail: str = Field(default="", max_length=1000)
    before: str = Field(default="")  # JSON text
    after: str = Field(default="")  # JSON text
    client_addr: str = Field(default="", max_length=64)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
