"""perfevaluation: stored totals out of 100 — evaluations whose targets' weights plus the 预算执行率 weight do not
make 100 (free targets weighing 100 on their own) get their total and grade again, the targets' points scaled by
(100 − 执行率 weight) ÷ (their weight sum) as services.performance.scoring.target_points does. Only stored values
are used (each target's final score, the 执行率 score); the grade bands are the org's, inherited up the tree.

Revision ID: 0016_freetargets_rescale
Revises: 0016_money_carryover
Create Date: 2026-12-06 09:50:00
"""
from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0016_freetargets_rescale'
down_revision: Union[str, None] = '0016_money_carryover'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CENT = Decimal("0.01")


def _grade(total: Decimal, bands: tuple[int, int, int]) -> str:
    excellent, good, fair = bands
    return "优" if total >= excellent else "良" if total >= good else "中" if total >= fair else "差"


def upgrade() -> None:
    bind = op.get_bind()
    sums = {eid: (int(raw or 0), int(weights or 0)) for eid, raw, weights in bind.execute(sa.text(
        "SELECT s.evaluation_id, SUM(COALESCE(s.override_score, s.auto_score)), SUM(t.weight) FROM perfscore s "
        "JOIN projecttarget t ON t.id = s.target_id GROUP BY s.evaluation_id"))}
    bands = {org_id: (e, g, f) for org_id, e, g, f in bind.execute(sa.text(
        "SELECT org_id, band_excellent, band_good, band_fair FROM perfsetting"))}
    paths = dict(bind.execute(sa.text("SELECT id, path FROM org")).all())
    updates = []
    for eid, org_id, exec_weight, exec_cents, total_cents, grade in bind.execute(sa.text(
            "SELECT id, org_id, exec_weight, exec_score, total_score, grade FROM perfevaluation")).all():
        raw, weight_sum = sums.get(eid, (0, 0))
        room = 100 - exec_weight
        if weight_sum <= 0 or weight_sum == room:
            continue
        targets = (Decimal(raw) / 100 * room / weight_sum).quantize(CENT, rounding=ROUND_HALF_UP)
        total = targets + Decimal(exec_cents) / 100
        ids = [int(x) for x in (paths.get(org_id) or "").strip("/").split("/") if x]
        own = next((bands[i] for i in reversed(ids) if i in bands), (90, 80, 60))
        new = {"b_id": eid, "b_total": int(total * 100), "b_grade": _grade(total, own)}
        if (new["b_total"], new["b_grade"]) != (total_cents, grade):
            updates.append(new)
    if updates:
        bind.execute(sa.text("UPDATE perfevaluation SET total_score = :b_total, grade = :b_grade WHERE id = :b_id"),
                     updates)


def downgrade() -> None:
    pass  # the totals over 100 were wrong; nothing to restore
