"""The org tree: creation with a materialized path, lookups and subtree filters."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, select

from hbbudget.models import Org
from hbbudget.models.org import UNIT_TYPES
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.settings import get_settings


def create(session: Session, code: str, name: str, unit_type: str, parent: Org | None = None,
           region_code: str | None = None) -> Org:
    """Add an org under `parent` (flushes to get its id and path)."""
    if unit_type not in UNIT_TYPES:
        raise ValidationError(f"未知的单位类型：{unit_type}")
    if session.exec(select(Org).where(Org.code == code)).first():
        raise ValidationError(f"单位编码已存在：{code}")
    org = Org(code=code, name=name, unit_type=unit_type, parent_id=parent.id if parent else None,
              level=(parent.level + 1) if parent else 1, region_code=region_code)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    session.add(org)
    session.flush()
    return org


def get(session: Session, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound("单位不存在")
    return org


def by_code(session: Session, code: str) -> Org | None:
    return session.exec(select(Org).where(Org.code == code)).first()


def scope_filter(paths: list[tuple[str, bool]]):
    """A WHERE clause on Org for the given (path, subtree) scopes; matches nothing when empty."""
    clauses = [Org.path.startswith(p) if subtree else Org.path == p for p, subtree in paths]
    return or_(*clauses) if clauses else Org.id == -1


def tree(session: Session, paths: list[tuple[str, bool]]) -> list[dict]:
    """Orgs within the given scopes, in tree order, as display rows."""
    rows = session.exec(select(Org).where(scope_filter(paths)).order_by(Org.path)).all()
    ordered = sorted(rows, key=lambda o: [int(x) for x in o.path.strip("/").split("/")])
    return [{"id": o.id, "code": o.code, "name": o.name, "unit_type": o.unit_type, "level": o.level,
             "region_code": o.region_code or "", "active": o.active} for o in ordered]


DEFAULT_OVER_PCT = 5  # over-budget alert, percent
DEFAULT_BEHIND_POINTS = 10  # behind-schedule alert, percentage points


def effective_thresholds(session: Session, org: Org) -> dict:
    """Thresholds in force for `org`: its own, else the nearest ancestor's, else the defaults."""
    ids = [int(x) for x in org.path.strip("/").split("/") if x]
    chain = {o.id: o for o in session.exec(select(Org).where(Org.id.in_(ids))).all()}
    nearest = [chain[i] for i in reversed(ids) if i in chain]

    def first(attr: str, default: int | None) -> int | None:
        return next((getattr(o, attr) for o in nearest if getattr(o, attr) is not None), default)

    return {"major_threshold_fen": first("major_threshold_fen", None),
            "alert_over_pct": first("alert_over_pct", DEFAULT_OVER_PCT),
            "alert_behind_points": first("alert_behind_points", DEFAULT_BEHIND_POINTS),
            "alert_unmatched_days": first("alert_unmatched_days", get_settings().alert_unmatched_days),
            "limit_manual": first("limit_manual", "refuse"), "limit_freeze": first("limit_freeze", "refuse"),
            "limit_bank": first("limit_bank", "alert"), "control_sources": first("control_sources", "财政拨款")}
