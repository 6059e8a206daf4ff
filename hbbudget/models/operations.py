"""运维 (issue 17): the monthly 系统巡检 record the 系统管理员 signs off."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class HealthRecord(SQLModel, table=True):
    """One signed 巡检 per month: the checks as they stood (JSON), the overall colour, who signed and a note."""

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True, index=True)  # 2026-12 (北京时间)
    overall: str = Field(max_length=8)  # 绿 黄 红
    checks: str = Field(default="[]")  # JSON: [{name, level, value, detail}]
    db_size: int = 0  # bytes, for the growth shown next month
    note: str = Field(default="", max_length=500)
    signed_by: str = Field(max_length=64)
    signed_at: datetime = Field(default_factory=now)


class FaqEntry(SQLModel, table=True):
    """知识库: one question and its answer; `seed_key` names the entries shipped with the system (loaded once)."""

    id: int | None = Field(default=None, primary_key=True)
    seed_key: str | None = Field(default=None, max_length=32, unique=True)
    category: str = Field(max_length=16, index=True)
    question: str = Field(max_length=200)
    answer: str = Field(max_length=4000)
    helpful: int = 0
    not_helpful: int = 0
    active: bool = True
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=now)


class FaqVote(SQLModel, table=True):
    """这条有帮助吗: one answer per user and entry (it may be changed)."""

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="faqentry.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    helpful: bool


class FeedbackTicket(SQLModel, table=True):
    """用户反馈: answered within 48 hours (`due_at`); the reply reaches the user's bell; closed with a resolution
    that may become a FAQ entry (`faq_id`)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    category: str = Field(max_length=8)
    page: str = Field(default="", max_length=200)
    text: str = Field(max_length=2000)
    screenshot: str = Field(default="", max_length=64)  # random name under var/private/feedback
    status: str = Field(default="待处理", max_length=8, index=True)  # 待处理 已回复 已关闭
    created_at: datetime = Field(default_factory=now)
    due_at: datetime
    reply: str = Field(default="", max_length=2000)
    replied_by: str = Field(default="", max_length=64)
    replied_at: datetime | None = None
    resolution: str = Field(default="", max_length=2000)
    closed_at: datetime | None = None
    faq_id: int | None = Field(default=None, foreign_key="faqentry.id")
    overdue_alerted: bool = False
