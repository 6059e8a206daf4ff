"""Money: parsed from text with Decimal, integer fen, formatted in one place."""

from decimal import Decimal

import pytest

from hbbudget import money
from hbbudget.services.errors import ValidationError


@pytest.mark.parametrize("text,fen", [("1234.56", 123456), ("¥1,234.5", 123450), ("0", 0), (" 12 ", 1200),
                                      ("1，000", 100000), ("100元", 10000), (Decimal("0.01"), 1), (7, 700),
                                      (1234.56, 123456)])
def test_parse_yuan_accepts(text, fen):
    assert money.parse_yuan(text) == fen


@pytest.mark.parametrize("text,why", [("abc", "不是有效的数字"), ("-1", "不能为负数"), ("1.001", "两位小数"),
                                      ("NaN", "不是有效的数字"), ("inf", "不是有效的数字"), ("", "不能为空"),
                                      ("10000000000000", "过大"), ("1" * 40, "过长"), (True, "须为数字"),
                                      ("1e2", "不是有效的数字"), ("1E+2", "不是有效的数字"), ("--1", "不是有效的数字"),
                                      ("0x10", "不是有效的数字")])
def test_parse_yuan_refuses(text, why):
    with pytest.raises(ValidationError, match=why):
        money.parse_yuan(text)


def test_format_yuan_and_wan():
    assert money.fmt(123456789) == "¥1,234,567.89"
    assert money.fmt(-5) == "-¥0.05"
    assert money.fmt(123456789, "wan") == "123.46 万元"
    assert money.fmt(-1, "wan") == "0.00 万元" and money.fmt(-5000, "wan") == "-0.01 万元"
    assert money.yuan_text(100005) == "1000.05"


def test_percent_refuses_exponents():
    with pytest.raises(ValidationError, match="不是有效的数字"):
        money.parse_percent("1e1")


def test_allocate_and_spread_sum_exactly():
    assert money.spread(100) == [9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8]
    parts = money.allocate(100001, [6000, 3000, 1000])
    assert sum(parts) == 100001 and parts == [60001, 30000, 10000]
    assert money.scale(10000, Decimal("5")) == 10500
    assert money.parse_percent("30%") == Decimal("30.00")
    with pytest.raises(ValidationError):
        money.parse_percent("30.001")


def test_percent_from_basis_points():
    assert money.percent(1234) == "12.34%"
    assert money.percent(-5) == "-0.05%"
    assert money.percent(0) == "0.00%"
    assert money.percent(1235, 1) == "12.4%"  # half up, not the float's 12.3
    assert money.percent(100_000, 1) == "1000.0%"
