"""Automatic scores of a self-evaluation: plain Decimal arithmetic, no database. A score is weight × ratio,
rounded half up to two places; every score comes with the formula that produced it. The total is out of 100: the
targets' points (scaled by target_points when their weights and 预算执行率 do not make 100) plus the 执行率 points."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
TIERS = {"达成": Decimal(1), "基本达成": Decimal("0.8"), "部分达成": Decimal("0.6"), "未达成": Decimal(0)}
GRADES = ("优", "良", "中", "差")


@dataclass(frozen=True)
class Bands:
    """Grade thresholds (points): 优 ≥ excellent, 良 ≥ good, 中 ≥ fair, else 差."""

    excellent: int = 90
    good: int = 80
    fair: int = 60


def number(text: object) -> Decimal | None:
    """A finite Decimal from text such as "95", "1,200", "95%"; None when it is not a number."""
    if isinstance(text, bool) or text is None:
        return None
    raw = str(text).strip().replace(",", "").replace("，", "").rstrip("%％")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def score(direction: str, weight: int, target: str, actual: str, tolerance_pct: int = 5) -> tuple[Decimal, str]:
    """(score, formula) of one target; ValueError with a Chinese message when the actual value does not fit."""
    w = Decimal(weight)
    if direction == "定性":
        if actual not in TIERS:
            raise ValueError(f"定性指标的实际完成情况须为：{'、'.join(TIERS)}")
        return points(w * TIERS[actual]), f"{weight} × {actual} {_fmt(TIERS[actual] * 100)}%"
    a, t = number(actual), number(target)
    if a is None:
        raise ValueError("实际值须为数字")
    if t is None:
        raise ValueError("目标值不是数字，无法自动计分")
    if direction == "≥":
        if t <= 0:
            ratio = Decimal(1) if a >= t else Decimal(0)
            return points(w * ratio), f"{weight} × （实际 {_fmt(a)} {'≥' if ratio else '<'} 目标 {_fmt(t)}）"
        ratio = min(a / t, Decimal(1))
        return points(w * ratio), f"{weight} × min({_fmt(a)} ÷ {_fmt(t)}, 1)"
    if direction == "≤":
        if a <= 0:
            return points(w), f"{weight} × 1（实际值为 {_fmt(a)}，满分）"
        ratio = min(t / a, Decimal(1)) if t > 0 else Decimal(0)
        return points(w * max(ratio, Decimal(0))), f"{weight} × min({_fmt(t)} ÷ {_fmt(a)}, 1)"
    if direction == "=":
        if a == t:
            return points(w), f"{weight} × 1（实际值等于目标值）"
        off = abs(a - t) / abs(t) if t != 0 else Decimal(1)
        if off * 100 <= tolerance_pct:
            return points(w * (1 - off)), f"{weight} × (1 − |{_fmt(a)} − {_fmt(t)}| ÷ {_fmt(abs(t))})（容差 {tolerance_pct}% 内）"
        return Decimal("0.00"), f"0（偏离 {_fmt(points(off * 100))}%，超出容差 {tolerance_pct}%）"
    raise ValueError("未知的指标方向")


def exec_score(weight: int, budget_fen: int, spent_fen: int) -> tuple[Decimal, str]:
    """预算执行率: weight × min(spent ÷ budget, 1), from the ledger (fen, exact)."""
    if budget_fen <= 0:
        return Decimal("0.00"), f"{weight} × 0（无预算）"
    ratio = min(Decimal(max(spent_fen, 0)) / Decimal(budget_fen), Decimal(1))
    return points(Decimal(weight) * ratio), f"{weight} × min({from_cents(spent_fen)} ÷ {from_cents(budget_fen)}, 1)"


def target_points(raw: Decimal, weight_sum: int, exec_weight: int) -> tuple[Decimal, str]:
    """The targets' share of the 100 points, and the note that explains it ("" when nothing is scaled). Targets whose
    weights plus 预算执行率 make 100 count as scored; otherwise (free targets weighing 100 on their own, or a 执行率
    weight changed since declaration) their points are scaled by (100 − 执行率 weight) ÷ (their weight sum), rounded
    once, so a total never passes 100."""
    room = 100 - exec_weight
    if weight_sum <= 0 or weight_sum == room:
        return points(raw), ""
    scaled = points(raw * room / weight_sum)
    return scaled, (f"目标权重合计 {weight_sum} 分，按 {room} 分折算（另 {exec_weight} 分为预算执行率）："
                    f"{points(raw)} × {room} ÷ {weight_sum} = {scaled}")


def grade(total: Decimal, bands: Bands = Bands()) -> str:
    if total >= bands.excellent:
        return "优"
    if total >= bands.good:
        return "良"
    if total >= bands.fair:
        return "中"
    return "差"


def to_cents(value: Decimal) -> int:
    return int(points(value) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)
