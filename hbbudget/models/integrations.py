"""Integrations (issue 16): e-invoices attached to a payment (bank transaction) or a manual expenditure.

`key` (code-number, or the 20-digit 数电票 number alone) is unique across all orgs and years: the same invoice
can never be attached twice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, LargeBinary
from sqlmodel import Field, SQLModel, UniqueConstraint

from hbbudget.clock import now


class Invoice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    org_id: int = Field(foreign_key="org.id", index=True)  # the org of the payment it is attached to
    transaction_id: int | None = Field(default=None, foreign_key="banktransaction.id", index=True)
    expenditure_id: int | None = Field(default=None, foreign_key="expenditure.id", index=True)
    kind: str = Field(default="", max_length=40)
    code: str = Field(default="", max_length=12)
    number: str = Field(max_length=20)
    issued_on: date
    seller_name: str = Field(default="", max_length=140)
    seller_tax_id: str = Field(default="", max_length=32)
    buyer_name: str = Field(default="", max_length=140)
    buyer_tax_id: str = Field(default="", max_length=32)
    amount: int = Field(sa_type=BigInteger)  # fen, 不含税
    tax: int = Field(sa_type=BigInteger)
    total: int = Field(sa_type=BigInteger)  # fen, 价税合计
    source_format: str = Field(default="", max_length=24)  # parser's format, or "manual" (PDF, typed by hand)
    file_name: str = Field(default="", max_length=200)
    content: bytes = Field(default=b"", sa_type=LargeBinary)  # the uploaded file, at most HBB_MAX_UPLOAD_BYTES
    verify_status: str = Field(default="", max_length=8)  # "" not yet, 正常 作废 红冲 不存在 信息不符, 查验失败
    verified_at: datetime | None = None
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now)


class FincloudRun(SQLModel, table=True):
    """One exchange with the finance cloud (财政云): an export of approved budgets (kind 导出)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="导出", max_length=8)
    fiscal_year: int
    batch_id: str = Field(default="", max_length=64, index=True)
    started_at: datetime = Field(default_factory=now, index=True)
    finished_at: datetime | None = None
    result: str = Field(default="运行中", max_length=8)  # 运行中 成功 失败 无变化
    records: int = 0  # rows sent
    accepted: int = 0
    rejected: int = 0
    duplicate_pages: int = 0  # pages the cloud already had (re-sent after a failure): not applied twice
    rejections: str = Field(default="[]")  # JSON [{"agency", "project", "econ", "reason"}]
    error: str = Field(default="", max_length=500)
    trigger: str = Field(default="schedule", max_length=16)  # schedule / manual


class FincloudImport(SQLModel, table=True):
    """批复 指标 fetched from the finance cloud, waiting for a 财政审核 user to confirm (then applied to the budgets
    in force, all or nothing) or reject. A newer fetch with other content voids the pending one."""

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    fetched_at: datetime = Field(default_factory=now)
    status: str = Field(default="待确认", max_length=8, index=True)  # 待确认 已应用 已拒绝 已作废
    digest: str = Field(max_length=64)  # SHA-256 of the indicators: an unchanged fetch adds nothing
    indicators: str = Field(default="[]")  # JSON [Indicator.to_dict()]
    unreadable: str = Field(default="[]")  # JSON [{"ind_id", "reason"}]: records the parser refused
    org_ids: str = Field(default="[]")  # JSON: the known orgs its rows name (who may see and confirm it)
    decided_by: str = Field(default="", max_length=64)
    decided_at: datetime | None = None
    comment: str = Field(default="", max_length=500)


class EvidenceAnchor(SQLModel, table=True):
    """A hash anchored at the external evidence (存证) service: its receipt id, time and signature.

    kind audit_head (ref: AuditCheckpoint id) or budget_version (ref: BudgetVersion id of a 批复)."""

    __table_args__ = (UniqueConstraint("kind", "ref_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    ref_id: int
    sha256: str = Field(max_length=64)
    receipt_id: str = Field(max_length=64)
    anchored_at: str = Field(max_length=40)  # the service's time, as it signed it
    signature: str = Field(max_length=200)  # base64 Ed25519 over the receipt text
    public_key: str = Field(max_length=100)  # base64 key the service named when anchoring
    created_at: datetime = Field(default_factory=now)
