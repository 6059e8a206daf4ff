"""Execution: bank accounts, booked transactions (unique per account + bank reference), sync runs,
and expenditures matched to budget lines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from hbbudget.clock import now


class BankAccount(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    number: str = Field(max_length=34, unique=True, index=True)
    name: str = Field(max_length=128)
    bank_name: str = Field(default="", max_length=64)
    currency: str = Field(default="CNY", max_length=3)
    api_format: str = Field(default="json", max_length=8)  # json / camt
    cursor: str = Field(default="", max_length=256)  # JSON API continuation cursor
    last_booking_date: date | None = None  # camt: fetch from here on the next poll
    active: bool = True


class BankTransaction(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("account_id", "bank_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="bankaccount.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    bank_ref: str = Field(max_length=80)
    booking_date: date | None = Field(default=None, index=True)
    amount: int = Field(sa_type=BigInteger)  # fen, signed: payments out are negative
    currency: str = Field(default="CNY", max_length=3)
    status: str = Field(default="BOOK", max_length=8)
    reversal: bool = False
    reverses_id: int | None = Field(default=None, foreign_key="banktransaction.id")
    cancelled: bool = False  # reversed (the original) or a reversal that cancelled one
    counterparty: str = Field(default="", max_length=140)
    counterparty_account: str = Field(default="", max_length=64)
    remittance: str = Field(default="", max_length=500)
    match_status: str = Field(default="待匹配", max_length=8, index=True)  # 待匹配 已匹配 部分匹配 无需匹配 已冲销 待处理 (a cross-year reversal with no line to credit)
    created_at: datetime = Field(default_factory=now)


class SyncRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="bankaccount.id", index=True)
    started_at: datetime = Field(default_factory=now, index=True)
    finished_at: datetime | None = None
    result: str = Field(default="运行中", max_length=8)  # 运行中 成功 失败
    new_rows: int = 0
    duplicates: int = 0
    promoted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # pending rows booked in this run
    reconciles: bool | None = None
    error: str = Field(default="", max_length=500)
    trigger: str = Field(default="schedule", max_length=16)  # schedule / manual / file


class Expenditure(SQLModel, table=True):
    """Money spent on a budget line: part or all of a bank transaction, or a manual entry."""

    # Covering index for the dashboard's month-by-month sums (services.exec_dashboard): range on the day,
    # then line, kind and amount straight from the index.
    __table_args__ = (Index("ix_expenditure_day_line", "spent_on", "budget_line_id", "kind", "amount"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_line_id: int = Field(foreign_key="budgetline.id", index=True)
    transaction_id: int | None = Field(default=None, foreign_key="banktransaction.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    amount: int = Field(sa_type=BigInteger)  # fen, positive = spent
    spent_on: date = Field(index=True)
    kind: str = Field(default="bank", max_length=8)  # bank / manual / frozen
    # A release (解冻) is a kind "frozen" row with a negative amount pointing at the freeze it releases (by hand,
    # or consumed by a matched payment: then it carries the payment's transaction_id, so a reversal that deletes
    # the payment's rows re-opens the freeze). Frozen on a line = the sum of its frozen rows = open freezes only.
    freeze_id: int | None = Field(default=None, foreign_key="expenditure.id", index=True)
    note: str = Field(default="", max_length=200)
    matched_by: str = Field(default="", max_length=64)  # "自动:项目编码" or a user's name
    created_at: datetime = Field(default_factory=now)


class CounterpartyRule(SQLModel, table=True):
    """对方户名 → 项目: payments from this counterparty out of an account of the org go to the project.

    `counterparty` is stored normalized (services.counterparty_rules.normalize). Learned rules (学习) come from
    manual matches; a later match of the same counterparty to another project marks them `conflict` (and
    inactive). 手工 rules are entered by a user and never changed by learning."""

    __table_args__ = (UniqueConstraint("org_id", "counterparty"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)  # the org owning the bank account
    counterparty: str = Field(max_length=140)
    project_id: int = Field(foreign_key="project.id")
    source: str = Field(default="学习", max_length=4)  # 学习 / 手工
    active: bool = True
    conflict: bool = False
    hits: int = 0  # automatic matches made
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
