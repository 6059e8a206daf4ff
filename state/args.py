"""Checks for what a client sends to a handler: any handler can be called with crafted arguments."""

from __future__ import annotations

from collections.abc import Iterable

from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.security import scope

UNITS = ("yuan", "wan")


def as_id(value: object, label: str = "编号") -> int:
    """A positive id (int, or digit text as rows in state carry it)."""
    return scope.int_id(value, label)


def as_opt_id(value: object, label: str = "编号") -> int:
    """0 / "" → 0, otherwise a positive id."""
    return scope.opt_id(value, label) or 0


def offered_id(value: object, offered: Iterable[int], label: str, message: str) -> int:
    """An id the page offered (a row, an option): a malformed id is a ValidationError, a well-formed one the page
    never offered is NotOffered (a crafted request or a stale page; the guard records it)."""
    oid = as_id(value, label)
    if oid not in offered:
        raise NotOffered(message)
    return oid


def as_year(value: object) -> int:
    return scope.year(value)


def as_text(value: object, label: str, max_len: int, *, required: bool = False) -> str:
    return scope.text(value, label, max_len, required=required)


def as_choice(value: object, options: Iterable[str], label: str) -> str:
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise ValidationError(f"{label}无效")
    return value


def as_flag(value: object, label: str) -> bool:
    """A true/false switch: only a real bool is accepted."""
    if not isinstance(value, bool):
        raise ValidationError(f"{label}无效")
    return value


def as_unit(value: object) -> str:
    return as_choice(value, UNITS, "金额单位")


def form(data: object) -> dict:
    if not isinstance(data, dict) or len(data) > 100:
        raise ValidationError("请求无效")
    return data


def field(data: dict, key: str, label: str, max_len: int, *, required: bool = False) -> str:
    return scope.text(data.get(key), label, max_len, required=required)
