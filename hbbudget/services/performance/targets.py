"""目标申报 checks: the 一级 weights of an org (inherited down the tree) and a project's targets against them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from hbbudget.models import Org, PerfSetting
from hbbudget.services.performance.scoring import Bands
from hbbudget.services.security.scope import ancestor_ids


@dataclass(frozen=True)
class Weights:
    output: int = 50
    benefit: int = 30
    satisfaction: int = 10
    exec: int = 10  # 预算执行率
    required: tuple[str, ...] = ("产出", "效益", "满意度")
    bands: Bands = Bands()
    eq_tolerance_pct: int = 5
    lag_points: int = 10  # 双监控: execution behind 序时进度 by more than this is a red flag
    org_id: int | None = None  # the org whose row it is (None: the defaults)


def effective(session: Session, org: Org) -> Weights:
    """The nearest org up the tree with a PerfSetting row, else the defaults (产出 50 / 效益 30 / 满意度 10 / 执行率 10)."""
    ids = ancestor_ids(org)
    rows = {s.org_id: s for s in session.exec(select(PerfSetting).where(PerfSetting.org_id.in_(ids)))}
    for org_id in reversed(ids):
        s = rows.get(org_id)
        if s is not None:
            return Weights(s.weight_output, s.weight_benefit, s.weight_satisfaction, s.weight_exec,
                           tuple(p for p in s.required.split("、") if p),
                           Bands(s.band_excellent, s.band_good, s.band_fair), s.eq_tolerance_pct, s.lag_points, s.org_id)
    return Weights()


def problems(targets: list[dict], weights: Weights) -> list[str]:
    """Every reason the targets cannot be submitted, one Chinese sentence each (empty: fine). A target is a dict
    with level1 ("" for a free target not yet placed) and weight."""
    out = []
    if not targets:
        return ["尚未填报绩效目标"]
    total = sum(int(t.get("weight") or 0) for t in targets) + weights.exec
    if total != 100:
        out.append(f"绩效目标权重合计 {total - weights.exec} 分，加预算执行率 {weights.exec} 分共 {total} 分，须为 100 分")
    have = {t.get("level1") for t in targets}
    for dim in weights.required:
        if dim not in have:
            out.append(f"缺少“{dim}”类一级指标：至少填报一个{dim}指标")
    unplaced = [t.get("indicator", "") for t in targets if not t.get("level1")]
    if unplaced:
        out.append(f"自定义指标“{'、'.join(unplaced[:3])}”须选择一级指标")
    return out
