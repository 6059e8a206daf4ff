"""审批流模板 (approval flow templates as data), the runs of matters through them, and 三重一大 collective decisions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class ApprovalTemplate(SQLModel, table=True):
    """One version of an org's flow for one matter kind; the newest active version applies, inherited down the tree.
    `steps` is JSON (see services/approvals/templates.py for its shape)."""

    __table_args__ = (UniqueConstraint("org_id", "kind", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    kind: str = Field(max_length=16)  # 项目申报 / 预算上报 / 调整 / 调剂 / 大额支出 / 绩效自评
    version: int = 1
    active: bool = True
    steps: str = Field(default="[]", sa_type=Text)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now)


class ApprovalRun(SQLModel, table=True):
    """A matter's pass through a template version: the stops it was expanded into (JSON) and where it stands."""

    id: int | None = Field(default=None, primary_key=True)
    object_type: str = Field(max_length=16, index=True)  # project / budget
    object_id: int = Field(index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    kind: str = Field(max_length=16)
    template_id: int | None = Field(default=None, foreign_key="approvaltemplate.id")  # None: the default flow
    template_version: int = 0  # 0: the default (org-tree) flow
    amount: int = Field(default=0, sa_type=BigInteger)  # fen, what the conditions saw
    stops: str = Field(default="[]", sa_type=Text)
    position: int = 0
    collective: bool = Field(default=False, index=True)  # a 三重一大 集体决策 stop applies (the inspection list)
    status: str = Field(default="进行中", max_length=8, index=True)  # 进行中 / 通过 / 退回
    started_at: datetime = Field(default_factory=now)
    finished_at: datetime | None = None


class ApprovalAct(SQLModel, table=True):
    """Who acted at which stop, when, with what comment (the matter's progress)."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="approvalrun.id", index=True)
    stop: int
    org_id: int | None = Field(default=None, foreign_key="org.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    user_name: str = Field(default="", max_length=64)
    action: str = Field(max_length=8)  # 通过 / 同意 / 退回 / 跳过 / 集体决策
    comment: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=now)


class CollectiveDecision(SQLModel, table=True):
    """三重一大: the meeting that decided a major matter, with its minutes (a private file)."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="approvalrun.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    meeting_kind: str = Field(max_length=16)
    meeting_date: date
    minutes_no: str = Field(max_length=64)
    decision: str = Field(max_length=8)  # 同意 / 不同意 / 修改后同意
    attendees: int
    minutes_filename: str = Field(max_length=200)
    minutes_stored_name: str = Field(max_length=64, unique=True)
    minutes_sha256: str = Field(max_length=64)
    recorded_by: str = Field(default="", max_length=64)
    recorded_at: datetime = Field(default_factory=now)


class OaConfig(SQLModel, table=True):
    """A unit's OA system: which adapter, where, and the secret its callbacks are signed with."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", unique=True)
    style: str = Field(max_length=16)  # dingtalk / wecom
    base_url: str = Field(max_length=200)
    secret: str = Field(max_length=128)
    active: bool = True
    last_poll_at: datetime | None = None
    last_error: str = Field(default="", max_length=500)
    failures: int = 0  # consecutive failed polls


class OaInstance(SQLModel, table=True):
    """An OA approval instance carrying one stop of a run; `applied` is the outcome already acted on."""

    __table_args__ = (UniqueConstraint("org_id", "external_id"), UniqueConstraint("run_id", "stop"))
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    run_id: int = Field(foreign_key="approvalrun.id", index=True)
    stop: int
    external_id: str = Field(max_length=64)
    outcome: str = Field(default="running", max_length=16)  # running / agree / refuse / terminated / revoked
    applied: str = Field(default="", max_length=16)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class OaCallbackSeen(SQLModel, table=True):
    """Nonces of accepted callbacks (a replay is refused)."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id")
    nonce: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=now, index=True)
    __table_args__ = (UniqueConstraint("org_id", "nonce"),)
