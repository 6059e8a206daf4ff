"""Budgets per org and fiscal year, their lines, submitted versions, control numbers and org settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, UniqueConstraint

from hbbudget.clock import now

MONTHS = tuple(f"m{i:02d}" for i in range(1, 13))


class Budget(SQLModel, table=True):
    """seq 0 is the main budget (一上 → 二上 → 二下); 调整/调剂 documents take seq 1, 2, …"""

    __table_args__ = (UniqueConstraint("org_id", "fiscal_year", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    fiscal_year: int = Field(index=True)
    seq: int = 0
    round: str = Field(max_length=4)  # 一上 二上 二下 调整 调剂
    status: str = Field(default="草稿", max_length=8)  # 草稿 审核中 退回 已审核 已批复
    step_org_id: int | None = Field(default=None, foreign_key="org.id", index=True)
    based_on_id: int | None = Field(default=None, foreign_key="budget.id")
    superseded_by_id: int | None = Field(default=None, foreign_key="budget.id")
    version_no: int = 0  # versions kept so far (one per submission, one at the final approval)
    last_comment: str = Field(default="", max_length=500)  # last return reason / approval comment; cleared on submit
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class BudgetLine(SQLModel, table=True):
    """project (None = 基本支出) × economic 款 × function 项 × funding source; amounts in fen."""

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    econ_code: str = Field(max_length=5)
    func_code: str = Field(max_length=7)
    source: str = Field(max_length=8)
    amount: int = Field(default=0, sa_type=BigInteger)
    m01: int = Field(default=0, sa_type=BigInteger)
    m02: int = Field(default=0, sa_type=BigInteger)
    m03: int = Field(default=0, sa_type=BigInteger)
    m04: int = Field(default=0, sa_type=BigInteger)
    m05: int = Field(default=0, sa_type=BigInteger)
    m06: int = Field(default=0, sa_type=BigInteger)
    m07: int = Field(default=0, sa_type=BigInteger)
    m08: int = Field(default=0, sa_type=BigInteger)
    m09: int = Field(default=0, sa_type=BigInteger)
    m10: int = Field(default=0, sa_type=BigInteger)
    m11: int = Field(default=0, sa_type=BigInteger)
    m12: int = Field(default=0, sa_type=BigInteger)
    note: str = Field(default="", max_length=200)
    version: int = 1  # optimistic lock: every write bumps it
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_by: str = Field(default="", max_length=64)  # full name, for the conflict message
    updated_at: datetime = Field(default_factory=now)


class BudgetVersion(SQLModel, table=True):
    """A snapshot of every line at each submission (event 上报) and at the final approval of a review chain
    (event 审核完成 for 一上, 批复 when the budget becomes 已批复); see services.review."""

    __table_args__ = (UniqueConstraint("budget_id", "version_no"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)
    version_no: int
    round: str = Field(max_length=4)
    event: str = Field(max_length=16)
    total: int = Field(default=0, sa_type=BigInteger)
    reason: str = Field(default="", max_length=500)
    lines: str = Field(default="[]")  # JSON
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now)


class ControlNumber(SQLModel, table=True):
    """一下: the amount the level above allows an org for a fiscal year."""

    __table_args__ = (UniqueConstraint("org_id", "fiscal_year"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    fiscal_year: int
    amount: int = Field(default=0, sa_type=BigInteger)
    issued_by_org_id: int = Field(foreign_key="org.id")
    issued_by: str = Field(default="", max_length=64)
    issued_at: datetime = Field(default_factory=now)


class BudgetSetting(SQLModel, table=True):
    """Per-org budgeting settings; an org without a row inherits its nearest ancestor's."""

    org_id: int = Field(foreign_key="org.id", primary_key=True)
    require_targets: bool = True
    code_pattern: str = Field(default="{region}{year}P{seq:06}", max_length=64)
    finance_bureau: bool | None = None  # None: decided by the org code (\d{6}000)


class CarryOver(SQLModel, table=True):
    """结转: a unit proposes to carry unspent 指标 of lines of an approved budget (year Y) into year Y + 1 as
    结转资金; the finance bureau of its review chain approves (a 结转 budget of Y + 1 appears) or returns it."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    budget_id: int = Field(foreign_key="budget.id", index=True)  # the approved budget of year Y
    to_year: int  # Y + 1
    reviewer_org_id: int = Field(foreign_key="org.id", index=True)  # the finance bureau that decides
    status: str = Field(default="待审核", max_length=8)  # 待审核 已批准 退回
    total: int = Field(default=0, sa_type=BigInteger)
    reason: str = Field(default="", max_length=500)
    comment: str = Field(default="", max_length=500)  # the reviewer's
    proposed_by: str = Field(default="", max_length=64)
    decided_by: str = Field(default="", max_length=64)
    result_budget_id: int | None = Field(default=None, foreign_key="budget.id")  # the 结转 budget of Y + 1
    created_at: datetime = Field(default_factory=now)
    decided_at: datetime | None = None


class CarryOverLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    carry_id: int = Field(foreign_key="carryover.id", index=True)
    line_id: int = Field(foreign_key="budgetline.id", index=True)  # the line of year Y
    amount: int = Field(default=0, sa_type=BigInteger)  # fen, ≤ the line's unspent 指标 when proposed
