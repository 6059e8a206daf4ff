"""Orgs (预算单位) as a tree with a materialized path, and the region codes."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

UNIT_TYPES = ("行政", "高校", "医院", "国企", "乡镇", "其他事业")


class Region(SQLModel, table=True):
    """行政区划 from the NBS list; finance_parent_code puts 辛集/定州 under the province."""

    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=64)
    level: str = Field(max_length=32)
    parent_code: str | None = Field(default=None, max_length=6, index=True)
    finance_parent_code: str | None = Field(default=None, max_length=6, index=True)
    statistical_only: bool = False


class Org(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=128)
    unit_type: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="org.id", index=True)
    path: str = Field(default="/", max_length=512, index=True)  # "/1/4/9/": ids from the root down
    level: int = 1
    region_code: str | None = Field(default=None, max_length=6)
    active: bool = True
    # Thresholds: None inherits from the parent (see services.orgs.effective_thresholds).
    major_threshold_fen: int | None = Field(default=None, sa_type=BigInteger)  # 三重一大, in 分
    alert_over_pct: int | None = None  # over-budget alert, percent (default 5)
    alert_behind_points: int | None = None  # behind-schedule alert, percentage points (default 10)
    alert_unmatched_days: int | None = None  # unmatched-payment alert, days (default HBB_ALERT_UNMATCHED_DAYS)
    # Spending beyond a line's available amount or its 用款计划 (services.execution.limits): refuse / alert
    limit_manual: str | None = Field(default=None, max_length=8)  # 手工支出 (default refuse)
    limit_freeze: str | None = Field(default=None, max_length=8)  # 冻结 (default refuse)
    limit_bank: str | None = Field(default=None, max_length=8)  # 银行付款匹配 (default alert: already paid)
    control_sources: str | None = Field(default=None, max_length=64)  # 控制数 covers these sources (default 财政拨款)
