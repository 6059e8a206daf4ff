"""Per-org 绩效 settings (绩效设置): the 一级 weights, required dimensions, grade bands, the "=" tolerance and the
双监控 lag points (`PerfSetting`), and the 双监控 checkpoints of a year (`PerfCheckpoint`). Both are inherited down
the tree: the nearest org up with a row (for checkpoints: with rows for that year) wins, else the defaults.
Edited by performance.review at the org."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete
from sqlmodel import Session, select

from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import Org, PerfCheckpoint, PerfSetting
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.performance import targets
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import ancestor_ids

PERMISSION = "performance.review"
DIMENSIONS = ("产出", "效益", "满意度", "成本")


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    through_month: int
    due: date

    @property
    def label(self) -> str:
        return f"第{self.seq}次监控（1–{self.through_month} 月，{self.due.month} 月 {self.due.day} 日前填报）"


def default_checkpoints(year: int) -> list[Checkpoint]:
    return [Checkpoint(1, 7, date(year, 8, 15))]


def checkpoints_of(session: Session, org: Org, year: int) -> tuple[list[Checkpoint], int | None]:
    """The checkpoints for `org` in `year` and the org they come from (None: the default 1–7 月, due 8 月 15 日)."""
    ids = ancestor_ids(org)
    rows = session.exec(select(PerfCheckpoint).where(PerfCheckpoint.org_id.in_(ids),
                                                     PerfCheckpoint.fiscal_year == year)).all()
    for org_id in reversed(ids):
        mine = sorted((r for r in rows if r.org_id == org_id), key=lambda r: r.seq)
        if mine:
            return [Checkpoint(r.seq, r.through_month, r.due_date) for r in mine], org_id
    return default_checkpoints(year), None


def _int(value: object, label: str, low: int, high: int) -> int:
    text = scope.text(value, label, 8, required=True)
    try:
        n = int(text)
    except ValueError:
        raise ValidationError(f"{label}须为整数") from None
    if not low <= n <= high:
        raise ValidationError(f"{label}须在 {low} 至 {high} 之间")
    return n


def orgs(ctx: UserContext) -> list[dict]:
    """Active orgs where the caller may set 绩效设置, in tree order (at most 200)."""
    with session_scope() as session:
        rows = session.exec(select(Org).where(scope.orgs_filter(ctx, PERMISSION), Org.active == True)  # noqa: E712
                            .order_by(Org.path).limit(200)).all()
        return [{"id": o.id, "name": "　" * (o.level - 1) + o.name} for o in rows]


def show(ctx: UserContext, org_id: object, year: object) -> dict:
    """The org's effective settings and checkpoints of `year`, with where each comes from."""
    year = scope.year(year)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        w = targets.effective(session, org)
        cps, cp_org = checkpoints_of(session, org, year)
        names = dict(session.exec(select(Org.id, Org.name).where(Org.id.in_([i for i in (w.org_id, cp_org) if i])))
                     .all())

        def source(org_of: int | None) -> str:
            if org_of is None:
                return "系统默认"
            return "本单位设置" if org_of == org.id else f"继承自“{names.get(org_of, '')}”"

        return {"org_id": org.id, "org_name": org.name, "year": year,
                "weights": {"output": w.output, "benefit": w.benefit, "satisfaction": w.satisfaction, "exec": w.exec},
                "required": list(w.required), "bands": {"excellent": w.bands.excellent, "good": w.bands.good,
                                                        "fair": w.bands.fair},
                "tolerance": w.eq_tolerance_pct, "lag_points": w.lag_points, "setting_source": source(w.org_id),
                "checkpoints": [{"seq": c.seq, "through_month": c.through_month, "due": c.due.isoformat(),
                                 "label": c.label} for c in cps],
                "checkpoint_source": source(cp_org)}


def save_setting(ctx: UserContext, org_id: object, values: dict, year: object = None) -> dict:
    """The org's own weights (产出 + 效益 + 满意度 + 预算执行率 = 100), required dimensions, grade bands (优 > 良 > 中),
    tolerance and lag points; its subtree inherits them."""
    if not isinstance(values, dict):
        raise ValidationError("设置格式无效")
    w = {k: _int(values.get(k), label, 0, 100) for k, label in (
        ("output", "产出权重"), ("benefit", "效益权重"), ("satisfaction", "满意度权重"), ("exec", "预算执行率权重"))}
    if sum(w.values()) != 100:
        raise ValidationError(f"一级指标权重合计为 {sum(w.values())} 分，须为 100 分")
    bands = [_int(values.get(k), label, 1, 100) for k, label in (
        ("excellent", "“优”分数线"), ("good", "“良”分数线"), ("fair", "“中”分数线"))]
    if not bands[0] > bands[1] > bands[2]:
        raise ValidationError("等级分数线须为 优 > 良 > 中")
    tolerance = _int(values.get("tolerance"), "等于型指标容差", 0, 50)
    lag = _int(values.get("lag_points"), "执行进度偏差阈值", 1, 100)
    required = values.get("required")
    if not isinstance(required, list | tuple) or any(d not in DIMENSIONS for d in required):
        raise ValidationError("必填一级指标无效")
    required = [d for d in DIMENSIONS if d in required]
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        row = session.exec(select(PerfSetting).where(PerfSetting.org_id == org.id)).first()
        before = None if row is None else row.model_dump(exclude={"id"})
        row = row or PerfSetting(org_id=org.id)
        row.weight_output, row.weight_benefit = w["output"], w["benefit"]
        row.weight_satisfaction, row.weight_exec = w["satisfaction"], w["exec"]
        row.required = "、".join(required)
        row.band_excellent, row.band_good, row.band_fair = bands
        row.eq_tolerance_pct, row.lag_points = tolerance, lag
        session.add(row)
        session.flush()
        audit.record(session, "perf_setting.save", actor=ctx, object_type="perf_setting", object_id=row.id,
                     org_id=org.id, detail=f"{org.name} 绩效设置", before=before,
                     after=row.model_dump(exclude={"id"}))
    return show(ctx, org_id, year or current_fiscal_year())


def save_checkpoints(ctx: UserContext, org_id: object, year: object, rows: list) -> dict:
    """The org's checkpoints of `year` (one or two: through month 1–12, due date in the year or the next, the
    second after the first); an empty list returns the org to what it inherits."""
    year = scope.year(year)
    if not isinstance(rows, list) or len(rows) > 2:
        raise ValidationError("监控节点最多两个")
    parsed = []
    for n, r in enumerate(rows, 1):
        if not isinstance(r, dict):
            raise ValidationError("监控节点格式无效")
        month = _int(r.get("through_month"), f"第{n}次监控截止月份", 1, 12)
        text = scope.text(r.get("due"), f"第{n}次监控填报截止日", 10, required=True)
        try:
            due = date.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"第{n}次监控填报截止日须为 YYYY-MM-DD 格式的日期") from None
        if due.year not in (year, year + 1) or (due.year == year and due.month <= month):
            raise ValidationError(f"第{n}次监控填报截止日须在 {month} 月之后、次年年底之前")
        parsed.append(Checkpoint(n, month, due))
    if len(parsed) == 2 and parsed[1].through_month <= parsed[0].through_month:
        raise ValidationError("第2次监控的截止月份须晚于第1次")
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        before, _ = checkpoints_of(session, org, year)
        session.exec(delete(PerfCheckpoint).where(PerfCheckpoint.org_id == org.id,
                                                  PerfCheckpoint.fiscal_year == year))
        session.add_all([PerfCheckpoint(org_id=org.id, fiscal_year=year, seq=c.seq, through_month=c.through_month,
                                        due_date=c.due) for c in parsed])
        session.flush()
        audit.record(session, "perf_checkpoint.save", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                     detail=f"{org.name} {year} 年度双监控节点",
                     before=[c.label for c in before], after=[c.label for c in parsed] or "继承上级")
    return show(ctx, org_id, year)
