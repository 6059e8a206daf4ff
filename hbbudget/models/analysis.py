"""数据分析: report definitions saved by users, and report snapshots (figures frozen as of the day they were made)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, UniqueConstraint

from hbbudget.clock import now


class ReportDefinition(SQLModel, table=True):
    """A user's named report: the org, the row dimension, the unit, and the year and period it was saved with."""

    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=64)
    org_id: int = Field(foreign_key="org.id", index=True)
    year: int
    period: str = Field(max_length=3)  # M01..M12, Q1..Q4
    rows: str = Field(max_length=8)  # org / func / econ / project / source
    unit: str = Field(default="yuan", max_length=4)
    created_at: datetime = Field(default_factory=now)


class ReportSnapshot(SQLModel, table=True):
    """A month-end or quarter-end report as it stood on `as_of`: never changed once written (a late booking or a
    reversal for that period shows in the live report, not here)."""

    __table_args__ = (UniqueConstraint("org_id", "year", "period", "rows"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    year: int = Field(index=True)
    period: str = Field(max_length=3)
    rows: str = Field(max_length=8)
    title: str = Field(max_length=200)
    org_name: str = Field(max_length=128)
    as_of: date
    data: str = Field(default="[]")  # JSON: the report's rows, money in fen, rates in basis points
    created_by: str = Field(default="", max_length=64)  # "" = the scheduled job
    created_at: datetime = Field(default_factory=now)


class ExpenditureMonth(SQLModel, table=True):
    """Spending (kind bank/manual; frozen money is not spending) per budget line and calendar month: the
    precomputed aggregate behind the execution facts. Kept by database triggers on `expenditure` (insert,
    update, delete; migration 0016_analysis_month_sums) in the same transaction as the booking, so a late booking
    or a reversal for a closed month moves its own month at once. Never written by the application."""

    # the key leads with the year (the facts read one year); on SQLite the rows live in the key's b-tree
    __table_args__ = {"sqlite_with_rowid": False}

    spent_year: int = Field(primary_key=True)
    budget_line_id: int = Field(primary_key=True)
    spent_month: int = Field(primary_key=True)  # 1..12
    amount: int = Field(default=0, sa_type=BigInteger)  # fen
