"""绩效评价: the indicator library (by fiscal year), per-org weights and grade bands, self-evaluations and scores."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from hbbudget.clock import now


class PerfIndicator(SQLModel, table=True):
    """One 三级 indicator of a fiscal year's library; org_id None = the province's common library (read-only
    below the root), else an org's own indicator, visible in that org's subtree."""

    __table_args__ = (UniqueConstraint("fiscal_year", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    code: str = Field(max_length=16)
    org_id: int | None = Field(default=None, foreign_key="org.id", index=True)
    level1: str = Field(max_length=8)  # 产出 / 效益 / 满意度 / 成本
    level2: str = Field(max_length=16)  # 数量, 质量, 时效, 经济成本 …
    name: str = Field(max_length=64)
    unit: str = Field(default="", max_length=16)
    direction: str = Field(max_length=4)  # ≥ ≤ = 定性
    default_target: str = Field(default="", max_length=32)
    industries: str = Field(default="", max_length=128)  # "教育、卫生健康"
    categories: str = Field(default="", max_length=64)  # project categories it suits: "3、22"
    guidance: str = Field(default="", max_length=500)  # how to measure, evidence expected
    source: str = Field(default="", max_length=32)
    retired: bool = False
    updated_at: datetime = Field(default_factory=now)


class PerfSetting(SQLModel, table=True):
    """Per-org weights of the 一级 dimensions, the required dimensions and the grade bands (inherited down the
    tree: the nearest org with a row wins, else the defaults of services.performance.targets.Weights)."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", unique=True)
    weight_output: int = 50
    weight_benefit: int = 30
    weight_satisfaction: int = 10
    weight_exec: int = 10  # 预算执行率
    required: str = Field(default="产出、效益、满意度", max_length=32)
    band_excellent: int = 90  # 优 ≥
    band_good: int = 80  # 良 ≥
    band_fair: int = 60  # 中 ≥
    eq_tolerance_pct: int = 5  # "=" indicators: full score within this % of the target, 0 beyond
    lag_points: int = 10  # 双监控: red when the execution rate lags 序时进度 by more than this many points


class PerfEvaluation(SQLModel, table=True):
    """A project's self-evaluation for a fiscal year (自评); scores in hundredths of a point."""

    __table_args__ = (UniqueConstraint("project_id", "fiscal_year"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    fiscal_year: int = Field(index=True)
    status: str = Field(default="填报中", max_length=8)  # 填报中 / 已提交 / 已复核 / 退回
    budget_fen: int = Field(default=0, sa_type=BigInteger)  # from the ledger at the last scoring
    spent_fen: int = Field(default=0, sa_type=BigInteger)
    exec_weight: int = 10
    exec_score: int = 0  # hundredths
    total_score: int = 0  # hundredths
    grade: str = Field(default="", max_length=2)
    problems: str = Field(default="", max_length=1000)  # 存在问题及整改措施
    comment: str = Field(default="", max_length=500)  # the reviewer's last comment
    updated_at: datetime = Field(default_factory=now)


class PerfScore(SQLModel, table=True):
    """One target's actual value and score within an evaluation."""

    __table_args__ = (UniqueConstraint("evaluation_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="perfevaluation.id", index=True)
    target_id: int = Field(foreign_key="projecttarget.id", index=True)
    actual: str = Field(default="", max_length=64)  # a number, or a 定性 tier
    evidence: str = Field(default="", max_length=200)
    auto_score: int = 0  # hundredths
    override_score: int | None = None  # hundredths, with a reason
    override_reason: str = Field(default="", max_length=500)


class PerfCheckpoint(SQLModel, table=True):
    """双监控 checkpoints of an org for a fiscal year (inherited down the tree: the nearest org with rows for that
    year wins, else one checkpoint 1–7 月 due 8 月 15 日). seq 1 or 2; the report covers months 1 … through_month."""

    __table_args__ = (UniqueConstraint("org_id", "fiscal_year", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    fiscal_year: int = Field(index=True)
    seq: int = 1
    through_month: int = 7
    due_date: date


class PerfMonitor(SQLModel, table=True):
    """A project's 绩效运行监控 report at one checkpoint: the execution figures from the ledger as of the
    checkpoint (stored when submitted), the flag, and one PerfMonitorItem per target."""

    __table_args__ = (UniqueConstraint("project_id", "fiscal_year", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    fiscal_year: int = Field(index=True)
    seq: int = 1
    through_month: int = 7
    status: str = Field(default="填报中", max_length=8)  # 填报中 / 已提交
    budget_fen: int = Field(default=0, sa_type=BigInteger)
    spent_fen: int = Field(default=0, sa_type=BigInteger)  # months 1 … through_month
    flag: str = Field(default="", max_length=8)  # 正常 / 轻微偏差 / 严重偏差 at the last save
    problems: str = Field(default="", max_length=500)  # 偏差原因及纠偏措施 for the execution
    reported_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=now)


class PerfMonitorItem(SQLModel, table=True):
    """One target at a checkpoint: the value reached so far, the year's completion estimate, how likely the
    target is met (确定能 / 有可能 / 完全不可能) and the reason when behind."""

    __table_args__ = (UniqueConstraint("monitor_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    monitor_id: int = Field(foreign_key="perfmonitor.id", index=True)
    target_id: int = Field(foreign_key="projecttarget.id", index=True)
    reached: str = Field(default="", max_length=64)
    estimate: str = Field(default="", max_length=64)
    likely: str = Field(default="", max_length=8)
    reason: str = Field(default="", max_length=300)
