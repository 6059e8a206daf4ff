"""Time in one place: aware UTC in the database and services, Asia/Shanghai on screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """Current time, aware UTC (what every table stores)."""
    return datetime.now(UTC)


def to_local_text(value: datetime | None, seconds: bool = False) -> str:
    """A stored UTC time as 北京时间 text, e.g. 2026-11-27 23:40."""
    if value is None:
        return ""
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(fmt)


def current_fiscal_year() -> int:
    return datetime.now(CHINA).year
