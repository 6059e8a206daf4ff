"""Money in one place: integer 分 (fen) everywhere, parsed from text with Decimal, formatted for people.

Never float: amounts typed by a user are text; Excel numbers come in as their shortest repr.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hbbudget.services.errors import ValidationError

MAX_YUAN = Decimal("999999999999.99")  # under 1 万亿 元 per amount
MAX_FEN = int(MAX_YUAN * 100)
_STRIP = str.maketrans("", "", " ,，¥￥\u00a0")
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _decimal(value: object, label: str) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(f"{label}须为数字")
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):  # only from a spreadsheet cell: its shortest text form
        amount = Decimal(repr(value))
    else:
        text = str(value if value is not None else "").translate(_STRIP)
        if text.endswith("元"):
            text = text[:-1]
        if not text:
            raise ValidationError(f"{label}不能为空")
        if len(text) > 32:
            raise ValidationError(f"{label}过长")
        if not _PLAIN.fullmatch(text):  # no exponents ("1e2"), no "NaN"/"Infinity", no stray signs
            raise ValidationError(f"{label}“{text[:20]}”不是有效的数字")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"{label}“{text[:20]}”不是有效的数字") from None
    if not amount.is_finite():
        raise ValidationError(f"{label}不是有效的数字")
    return amount


def parse_yuan(value: object, label: str = "金额") -> int:
    """元 text (or int/Decimal) → fen. Refuses negative, > 2 decimals, non-numeric and absurdly large."""
    amount = _decimal(value, label)
    if amount < 0:
        raise ValidationError(f"{label}不能为负数")
    if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise ValidationError(f"{label}最多保留两位小数（到分）")
    if amount > MAX_YUAN:
        raise ValidationError(f"{label}过大：不能超过 {fmt(MAX_FEN)}")
    return int(amount * 100)


def parse_percent(value: object, label: str = "比例", *, low: Decimal = Decimal(0),
                  high: Decimal = Decimal(1000)) -> Decimal:
    """Percent text ("30", "2.5", "30%") → Decimal, within [low, high], at most 2 decimals."""
    if isinstance(value, str):
        value = value.strip().rstrip("%％")
    pct = _decimal(value, label)
    if pct != pct.quantize(Decimal("0.01")):
        raise ValidationError(f"{label}最多保留两位小数")
    if not low <= pct <= high:
        raise ValidationError(f"{label}须在 {low}% 至 {high}% 之间")
    return pct.quantize(Decimal("0.01"))


def yuan_text(fen: int) -> str:
    """Plain 元 text for an edit box: 123456789 → "1234567.89"."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def fmt(fen: int, unit: str = "yuan") -> str:
    """¥1,234,567.89 (unit "yuan") or 123.46 万元 (unit "wan")."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    if unit == "wan":
        wan = (Decimal(abs(fen)) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{sign if wan else ''}{wan:,.2f} 万元"  # -1 分 is 0.00 万元, not "-0.00"
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def percent(bp: int, places: int = 2) -> str:
    """A rate in basis points as percent text, rounded half up: 1234 → "12.34%", (1235, 1) → "12.4%"."""
    value = (Decimal(int(bp)) / 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{value}%"


def scale(fen: int, percent: Decimal) -> int:
    """fen × (1 + percent/100), rounded half up to the fen."""
    return int((Decimal(fen) * (Decimal(100) + percent) / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` fen by integer weights; parts sum exactly to `total` (largest remainder)."""
    wsum = sum(weights)
    if wsum <= 0:
        return [0] * len(weights)
    parts = [total * w // wsum for w in weights]
    rests = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % wsum), i))
    for i in rests[: total - sum(parts)]:
        parts[i] += 1
    return parts


def spread(fen: int, months: int = 12) -> list[int]:
    """An even monthly plan: the remainder goes to the first months."""
    base, rest = divmod(int(fen), months)
    return [base + (1 if i < rest else 0) for i in range(months)]
