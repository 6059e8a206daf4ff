"""In-app notifications: one row per user who must act (or should know)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class Notification(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    title: str = Field(max_length=100)
    body: str = Field(default="", max_length=500)
    link: str = Field(default="", max_length=200)
    object_type: str = Field(default="", max_length=32)
    object_id: int = 0
    created_at: datetime = Field(default_factory=now)
    read_at: datetime | None = None
