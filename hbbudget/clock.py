"""Time in one place: aware UTC in the database and services, Asia/Shanghai on screen and for dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")  # Asia/Shanghai: no daylight saving since 1991


def now() -> datetime:
    """Current time, aware UTC (what every table stores)."""
    return datetime.now(UTC)


def now_china() -> datetime:
    """Current time in China, aware."""
    return datetime.now(CHINA)


def today() -> date:
    """Today in China (the server may run in UTC: a payment booked after 16:00 UTC is tomorrow's)."""
    return datetime.now(CHINA).date()


def china_date(moment: datetime) -> date:
    """The China calendar date of a time; a time without offset is taken as China time already."""
    return (moment.astimezone(CHINA) if moment.utcoffset() is not None else moment).date()


def start_of_day(day: date) -> datetime:
    """00:00 北京时间 of a China calendar date, aware."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)


def to_local_text(value: datetime | None, seconds: bool = False) -> str:
    """A stored UTC time as 北京时间 text, e.g. 2026-11-27 23:40."""
    if value is None:
        return ""
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(fmt)


def current_fiscal_year() -> int:
    return today().year
