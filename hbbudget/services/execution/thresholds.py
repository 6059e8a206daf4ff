"""Warning thresholds: per org (Org.alert_over_pct / alert_behind_points / alert_unmatched_days, inherited down
the tree, edited on the 单位管理 page) and per project (ProjectAlertSetting, edited in the 预警中心); defaults 5 %,
10 points and HBB_ALERT_UNMATCHED_DAYS (7) days. A project's unmatched-days limit applies to the payments
attributed to it (its code in the remittance text, or partly matched to its lines)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import Org, Project, ProjectAlertSetting
from hbbudget.services.core import audit
from hbbudget.services.core.orgs import DEFAULT_BEHIND_POINTS, DEFAULT_OVER_PCT, scope_filter
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

EDIT_PERMISSION = "budget.review"  # 处长, 单位负责人, 财政审核 at the project's org


@dataclass
class Thresholds:
    """Effective thresholds for every org and project, resolved in memory from two queries."""

    org_over: dict[int, int]
    org_behind: dict[int, int]
    project_over: dict[int, int]
    project_behind: dict[int, int]
    org_unmatched: dict[int, int] = field(default_factory=dict)
    project_unmatched: dict[int, int] = field(default_factory=dict)
    default_unmatched: int = 7

    def over_pct(self, org_id: int, project_id: int = 0) -> int:
        return self.project_over.get(project_id, self.org_over.get(org_id, DEFAULT_OVER_PCT))

    def behind_points(self, org_id: int, project_id: int = 0) -> int:
        return self.project_behind.get(project_id, self.org_behind.get(org_id, DEFAULT_BEHIND_POINTS))

    def unmatched_days(self, org_id: int, project_id: int = 0) -> int:
        return self.project_unmatched.get(project_id, self.org_unmatched.get(org_id, self.default_unmatched))

    def shortest_unmatched(self) -> int:
        """The smallest unmatched-days limit in force anywhere (a payment younger than this is never late)."""
        return min([self.default_unmatched, *self.org_unmatched.values(), *self.project_unmatched.values()])


def load(session: Session) -> Thresholds:
    orgs = {o.id: o for o in session.exec(select(Org)).all()}

    def inherited(org: Org, attr: str, default: int) -> int:
        for oid in reversed([int(x) for x in org.path.strip("/").split("/") if x]):
            value = getattr(orgs[oid], attr) if oid in orgs else None
            if value is not None:
                return value
        return default

    over = {o.id: inherited(o, "alert_over_pct", DEFAULT_OVER_PCT) for o in orgs.values()}
    behind = {o.id: inherited(o, "alert_behind_points", DEFAULT_BEHIND_POINTS) for o in orgs.values()}
    default_days = get_settings().alert_unmatched_days
    days = {o.id: inherited(o, "alert_unmatched_days", default_days) for o in orgs.values()}
    settings = session.exec(select(ProjectAlertSetting)).all()
    return Thresholds(over, behind, {s.project_id: s.over_pct for s in settings if s.over_pct is not None},
                      {s.project_id: s.behind_points for s in settings if s.behind_points is not None},
                      days, {s.project_id: s.unmatched_days for s in settings if s.unmatched_days is not None},
                      default_days)


def _int_or_none(value: object, label: str, high: int, low: int = 0) -> int | None:
    text = str(value if value is not None else "").strip().rstrip("%％")
    if not text:
        return None
    if not text.isdigit() or len(text) > 3 or not low <= int(text) <= high:
        raise ValidationError(f"{label}须为 {low} 到 {high} 的整数，留空则沿用单位设置")
    return int(text)


def project_thresholds(ctx: UserContext, project_id: object) -> dict:
    """{project_id, code, name, over_pct, behind_points, unmatched_days ('' = inherited), effective_over,
    effective_behind, effective_unmatched}."""
    with session_scope() as session:
        project, org = scope.owned(session, ctx, Project, project_id, "项目", "execution.view")
        own = session.get(ProjectAlertSetting, project.id)
        effective = load(session)
    return {"project_id": project.id, "code": project.code, "name": project.name,
            "over_pct": "" if own is None or own.over_pct is None else str(own.over_pct),
            "behind_points": "" if own is None or own.behind_points is None else str(own.behind_points),
            "unmatched_days": "" if own is None or own.unmatched_days is None else str(own.unmatched_days),
            "effective_over": effective.over_pct(org.id, project.id),
            "effective_behind": effective.behind_points(org.id, project.id),
            "effective_unmatched": effective.unmatched_days(org.id, project.id)}


def set_project_thresholds(ctx: UserContext, project_id: object, over_pct: object, behind_points: object,
                           unmatched_days: object = "") -> dict:
    """Blank text = inherit from the org. Percent 0–100, points 0–100, days 1–365."""
    over = _int_or_none(over_pct, "超支预警比例", 100)
    behind = _int_or_none(behind_points, "进度落后预警点数", 100)
    days = _int_or_none(unmatched_days, "未匹配预警天数", 365, low=1)
    with session_scope() as session:
        project, org = scope.owned(session, ctx, Project, project_id, "项目", EDIT_PERMISSION)
        row = session.get(ProjectAlertSetting, project.id)
        before = None if row is None else {"over_pct": row.over_pct, "behind_points": row.behind_points,
                                           "unmatched_days": row.unmatched_days}
        if row is None:
            row = ProjectAlertSetting(project_id=project.id)
        row.over_pct, row.behind_points, row.unmatched_days = over, behind, days
        row.updated_by, row.updated_at = ctx.full_name, now()
        session.add(row)
        audit.record(session, "exec_alert.threshold", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id, before=before,
                     after={"over_pct": over, "behind_points": behind, "unmatched_days": days})
    return project_thresholds(ctx, project.id)


def project_options(ctx: UserContext, limit: int = 200) -> list[dict]:
    """Projects whose thresholds the user may set (budget.review scope), newest codes first: [{"id", "label"}]."""
    paths = ctx.scope_paths(EDIT_PERMISSION)
    if not paths:
        return []
    with session_scope() as session:
        rows = session.exec(select(Project, Org.name).join(Org, Org.id == Project.org_id).where(scope_filter(paths))
                            .where(Project.status.in_(("已入库", "纳入预算", "执行中")))
                            .order_by(Project.code.desc()).limit(max(1, min(int(limit), 200)))).all()
    return [{"id": p.id, "label": f"{p.name}（{p.code}）· {org_name}"} for p, org_name in rows]
