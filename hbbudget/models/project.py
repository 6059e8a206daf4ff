"""项目库: projects, their performance targets and private attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class Project(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=128)
    org_id: int = Field(foreign_key="org.id", index=True)
    category: str = Field(max_length=4)  # 1 人员类, 21 公用经费, 22 其他运转类, 3 特定目标类
    parent_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    kind: str = Field(default="新增", max_length=4)  # 新增 / 延续
    start_year: int
    end_year: int
    total: int = Field(default=0, sa_type=BigInteger)  # fen
    func_code: str = Field(default="", max_length=7)
    owner: str = Field(default="", max_length=64)
    description: str = Field(default="", max_length=2000)
    status: str = Field(default="草稿", max_length=8, index=True)
    step_org_id: int | None = Field(default=None, foreign_key="org.id", index=True)  # who reviews next
    last_comment: str = Field(default="", max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class ProjectTarget(SQLModel, table=True):
    """绩效目标: picked from the indicator library (indicator_id, levels copied) or written freely (自定义)."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    indicator: str = Field(max_length=128)
    unit: str = Field(default="", max_length=16)
    direction: str = Field(max_length=4)  # ≥ ≤ = 定性
    target_value: str = Field(max_length=64)
    weight: int = 0  # points of 100
    indicator_id: int | None = None
    level1: str = Field(default="", max_length=16)
    level2: str = Field(default="", max_length=32)
    standard: str = Field(default="", max_length=200)  # 评价标准


class ProjectAttachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    filename: str = Field(max_length=200)
    stored_name: str = Field(max_length=64, unique=True)  # random name under var/private/attachments
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")
    uploaded_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now)
