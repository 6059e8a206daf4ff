"""Execution warnings (预警): the alerts themselves, per-project threshold overrides, and the data version the
execution dashboard caches its aggregates under. (Security alerts are `models.security.SecurityAlert`.)"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class ExecAlert(SQLModel, table=True):
    """One warning about one subject (a budget line, project, org, bank account or transaction) in one period.

    `dedupe_key` = kind:subject_type:subject_id:period is unique, so a condition that persists updates its open
    alert instead of raising another, and a closed alert comes back at most once per period."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    kind: str = Field(max_length=16, index=True)  # over_budget behind over_plan unreconciled unmatched
    subject_type: str = Field(max_length=16)  # line project org account transaction
    subject_id: int
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    period: str = Field(default="", max_length=10)  # "2027-05", "2027-05-14" or "" (once ever)
    dedupe_key: str = Field(max_length=80, unique=True)
    status: str = Field(default="未处理", max_length=8, index=True)  # 未处理 已确认 已关闭
    title: str = Field(max_length=200)
    detail: str = Field(default="", max_length=500)  # what triggered it, in numbers
    measured_bp: int = 0  # the measured value in basis points (percent × 100) or days, for sorting and tests
    link: str = Field(default="", max_length=120)  # an in-app route to the subject
    raised_at: datetime = Field(default_factory=now, index=True)
    updated_at: datetime = Field(default_factory=now)
    acknowledged_by: str = Field(default="", max_length=64)
    acknowledged_at: datetime | None = None
    closed_by: str = Field(default="", max_length=64)
    closed_at: datetime | None = None
    comment: str = Field(default="", max_length=500)


class ProjectAlertSetting(SQLModel, table=True):
    """Per-project thresholds; None falls back to the org's (Org.alert_over_pct / alert_behind_points /
    alert_unmatched_days)."""

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    over_pct: int | None = None
    behind_points: int | None = None
    unmatched_days: int | None = None  # payments attributed to the project (code in the text, partly matched)
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=now)


class DataVersion(SQLModel, table=True):
    """A counter bumped in the same transaction as writes that change what a cache was computed from."""

    name: str = Field(primary_key=True, max_length=32)
    version: int = 0
