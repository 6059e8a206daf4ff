"""The org tree editor (系统管理员, admin.orgs): add, rename, move, deactivate, thresholds."""

from __future__ import annotations

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.db import session_scope
from hbbudget.models import Org, Region
from hbbudget.models.org import UNIT_TYPES
from hbbudget.services.core import audit, orgs
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import PERMISSIONS, UserContext
from hbbudget.services.security.scope import int_id, text

FIELDS = ("code", "name", "unit_type", "region_code", "major_threshold_fen", "alert_over_pct",
          "alert_behind_points", "alert_unmatched_days", "parent_id", "active")


def _snapshot(org: Org) -> dict:
    return {f: getattr(org, f) for f in FIELDS}


def _org(session: Session, ctx: UserContext, org_id: object) -> Org:
    org = session.get(Org, int_id(org_id, "单位"))
    if org is None:
        raise NotFound("单位不存在")
    scope.require(ctx, "admin.orgs", org)
    return org


def yuan_to_fen(value: object) -> int | None:
    """'' → None (inherit); '1,000.5' 元 → 100050 分 (money.parse_yuan)."""
    if value is None or not str(value).strip():
        return None
    return money.parse_yuan(value, "三重一大金额")


def _percent(value: object, label: str, high: int) -> int | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise ValidationError(f"{label}须为 1–{high} 之间的整数，留空表示沿用上级")
    return int(raw)


LIMITS = {"limit_manual": "手工支出超限", "limit_freeze": "冻结超限", "limit_bank": "银行付款超限"}
LIMIT_MODES = {"refuse": "拒绝", "alert": "允许并预警"}
SOURCES = ("财政拨款", "事业收入", "经营收入", "其他", "结转资金")  # as services.budgeting.lines.SOURCES


def _limit(value: object, label: str) -> str | None:
    """'' or 'inherit' → None (沿用上级); 'refuse' / 'alert'."""
    raw = str(value or "").strip()
    if raw in ("", "inherit"):
        return None
    if raw not in LIMIT_MODES:
        raise ValidationError(f"{label}须为：拒绝、允许并预警或沿用上级")
    return raw


def _sources(value: object) -> str | None:
    """控制数 covers these funding sources: '' → None (沿用上级); '财政拨款、事业收入' → '财政拨款,事业收入'."""
    raw = str(value or "").strip()
    if not raw:
        return None
    names = [n.strip() for n in raw.replace("，", ",").replace("、", ",").split(",") if n.strip()]
    bad = [n[:10] for n in names if n not in SOURCES]
    if bad:
        raise ValidationError(f"控制数资金来源须为：{'、'.join(SOURCES)}（“{bad[0]}”无效）")
    return ",".join(s for s in SOURCES if s in names)


def _fields(session: Session, data: dict) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("请求无效")
    unit_type = str(data.get("unit_type") or "")
    if unit_type not in UNIT_TYPES:
        raise ValidationError("请选择单位类型")
    region = text(data.get("region_code"), "行政区划代码", 6) or None
    if region and session.get(Region, region) is None:
        raise ValidationError(f"行政区划代码不存在：{region}")
    return {"name": text(data.get("name"), "单位名称", 128, required=True), "unit_type": unit_type,
            "region_code": region, "major_threshold_fen": yuan_to_fen(data.get("major_threshold")),
            "alert_over_pct": _percent(data.get("alert_over_pct"), "超预算预警比例", 100),
            "alert_behind_points": _percent(data.get("alert_behind_points"), "进度滞后预警点数", 100),
            "alert_unmatched_days": _percent(data.get("alert_unmatched_days"), "未匹配预警天数", 365),
            **{key: _limit(data.get(key), label) for key, label in LIMITS.items()},
            "control_sources": _sources(data.get("control_sources"))}


def _tree_row(session: Session, o: Org) -> dict:
    eff = orgs.effective_thresholds(session, o)
    major = eff["major_threshold_fen"]
    return {
        "id": str(o.id), "name": o.name, "label": "　" * (o.level - 1) + o.name, "code": o.code,
        "unit_type": o.unit_type, "region_code": o.region_code or "", "active": "启用" if o.active else "停用",
        "major_threshold": "" if o.major_threshold_fen is None else money.yuan_text(o.major_threshold_fen),
        "alert_over_pct": "" if o.alert_over_pct is None else str(o.alert_over_pct),
        "alert_behind_points": "" if o.alert_behind_points is None else str(o.alert_behind_points),
        "alert_unmatched_days": "" if o.alert_unmatched_days is None else str(o.alert_unmatched_days),
        **{key: getattr(o, key) or "inherit" for key in LIMITS},
        "control_sources": (o.control_sources or "").replace(",", "、"),
        "thresholds": (f"三重一大 {'未设' if major is None else money.fmt(major)}；"
                       f"超支 {eff['alert_over_pct']}%；滞后 {eff['alert_behind_points']} 点；"
                       f"未匹配 {eff['alert_unmatched_days']} 天；超限：手工{LIMIT_MODES[eff['limit_manual']]}、"
                       f"冻结{LIMIT_MODES[eff['limit_freeze']]}、银行付款{LIMIT_MODES[eff['limit_bank']]}；"
                       f"控制数口径 {eff['control_sources'].replace(',', '、')}"),
    }


def tree(ctx: UserContext) -> list[dict]:
    """Orgs in the caller's admin.orgs scope, in tree order, with their own and effective thresholds."""
    paths = ctx.scope_paths("admin.orgs")
    if not paths:
        raise PermissionDenied("没有权限：单位管理")
    with session_scope() as session:
        rows = session.exec(select(Org).where(orgs.scope_filter(paths))).all()
        rows.sort(key=lambda o: [int(x) for x in o.path.strip("/").split("/")])
        return [_tree_row(session, o) for o in rows]


def row(ctx: UserContext, org_id: object) -> dict:
    """One org of the caller's scope as a tree row (refused outside it)."""
    with session_scope() as session:
        return _tree_row(session, _org(session, ctx, org_id))


def create_org(ctx: UserContext, data: dict) -> int:
    """A new unit under a parent in the caller's scope."""
    with session_scope() as session:
        parent = _org(session, ctx, (data or {}).get("parent_id") if isinstance(data, dict) else None)
        values = _fields(session, data)
        code = text(data.get("code"), "单位编码", 32, required=True)
        if not parent.active:
            raise ValidationError(f"上级单位“{parent.name}”已停用")
        org = orgs.create(session, code, values.pop("name"), values.pop("unit_type"), parent,
                          values.pop("region_code"))
        for name, value in values.items():
            setattr(org, name, value)
        session.add(org)
        audit.record(session, "org.create", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                     after=_snapshot(org))
        return org.id


def update_org(ctx: UserContext, org_id: object, data: dict) -> None:
    """Rename, retype, and set region and thresholds (blank thresholds inherit from the parent)."""
    with session_scope() as session:
        org = _org(session, ctx, org_id)
        values = _fields(session, data)
        before = _snapshot(org)
        for name, value in values.items():
            setattr(org, name, value)
        session.add(org)
        if before != _snapshot(org):
            audit.record(session, "org.update", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                         before=before, after=_snapshot(org))


def move_org(ctx: UserContext, org_id: object, parent_id: object) -> None:
    """Put a unit (with its subtree) under another parent; both must lie in scope."""
    with session_scope() as session:
        org = _org(session, ctx, org_id)
        parent = _org(session, ctx, parent_id)
        if org.parent_id is None:
            raise ValidationError("顶级单位不能移动")
        if parent.path.startswith(org.path):
            raise ValidationError("不能移动到自身或其下级单位之下")
        if not parent.active:
            raise ValidationError(f"上级单位“{parent.name}”已停用")
        if parent.id == org.parent_id:
            return
        before = _snapshot(org)
        old_path, new_path = org.path, f"{parent.path}{org.id}/"
        shift = parent.level + 1 - org.level
        for o in session.exec(select(Org).where(Org.path.startswith(old_path))).all():
            o.path = new_path + o.path[len(old_path):]
            o.level += shift
            session.add(o)
        org.parent_id = parent.id
        session.add(org)
        audit.record(session, "org.move", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                     before=before, after=_snapshot(org), detail=f"移至“{parent.name}”之下")


def set_active(ctx: UserContext, org_id: object, active: bool) -> None:
    if not isinstance(active, bool):
        raise ValidationError("请求无效")
    with session_scope() as session:
        org = _org(session, ctx, org_id)
        if org.active == active:
            return
        if not active:
            if org.parent_id is None:
                raise ValidationError("顶级单位不能停用")
            children = session.exec(select(Org).where(Org.parent_id == org.id, Org.active == True)).first()  # noqa: E712
            if children:
                raise ValidationError("请先停用其下级单位")
        elif org.parent_id is not None and not session.get(Org, org.parent_id).active:
            raise ValidationError("上级单位已停用，请先启用上级单位")
        before = _snapshot(org)
        org.active = active
        session.add(org)
        audit.record(session, "org.enable" if active else "org.disable", actor=ctx, object_type="org",
                     object_id=org.id, org_id=org.id, before=before, after=_snapshot(org))


def options(ctx: UserContext, permission: str) -> list[dict]:
    """Active orgs in the caller's scope for `permission`, for select boxes (id, indented name)."""
    if permission == "admin.roles" and scope.has_global(ctx, "admin.roles"):
        paths = [("/", True)]
    else:
        paths = ctx.scope_paths(permission)
    if not paths:
        raise PermissionDenied(f"没有权限：{PERMISSIONS[permission][1]}")
    with session_scope() as session:
        rows = session.exec(select(Org).where(orgs.scope_filter(paths), Org.active == True)).all()  # noqa: E712
    rows.sort(key=lambda o: [int(x) for x in o.path.strip("/").split("/")])
    return [{"id": str(o.id), "name": "　" * (o.level - 1) + o.name} for o in rows]
