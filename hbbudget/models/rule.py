"""校验规则: kind + JSON parameters, per org (applies to its subtree) and fiscal year."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class Rule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    fiscal_year: int = Field(index=True)
    kind: str = Field(max_length=32)
    name: str = Field(default="", max_length=64)
    severity: str = Field(max_length=8)  # error / warning
    params: str = Field(default="{}", max_length=1000)  # JSON, validated against the kind's schema
    active: bool = True
    created_at: datetime = Field(default_factory=now)
