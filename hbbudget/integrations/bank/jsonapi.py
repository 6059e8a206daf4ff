"""The JSON transaction-detail API (银企直联 style), one page at a time.

A page (UTF-8 JSON object; every key below is required unless marked optional):

    {
      "account": "1304 0101 0400 1234 567",       # the account the page is about
      "currency": "CNY",                           # ISO 4217, three capital letters
      "records": [
        {
          "serial_no": "20260301101500000123",     # the bank's unique serial, unique within the account
          "account": "…",                          # equal to the page's account
          "booking_time": "2026-03-01T10:15:00+08:00",  # ISO 8601 with a UTC offset; the booking date is its
                                                   # date in China time (UTC+8)
          "amount": "1234.56",                     # a string, positive or zero, at most the currency's
                                                   # minor-unit digits (2 for CNY, 0 for JPY); no exponent
          "direction": "D",                        # D debit (money out, booked negative) / C credit (money in)
          "counterparty_name": "…",                # optional, string or null
          "counterparty_account": "…",             # optional, string or null
          "purpose": "摘要/用途",                   # optional, string or null
          "reversal": false,                       # optional boolean: this record reverses an earlier one and
                                                   # already carries the opposite direction
          "reversed_serial_no": null               # optional, string or null: the serial it reverses
        }
      ],
      "next_cursor": "opaque" | null               # null on the last page
    }

Every record is a booked transaction (status BOOK); a page carries no balances, so `reconciles` is None.
A serial repeated in one page is skipped when the record is the same (counted in `Statement.duplicates`) and
refuses the page when it is not.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal

from hbbudget.clock import china_date
from hbbudget.integrations.bank.records import MAX_BYTES, BankFormatError, Entry, Statement, exponent

_CURRENCY = re.compile(r"[A-Z]{3}")
_AMOUNT = re.compile(r"(0|[1-9]\d{0,17})(\.(\d+))?")
_OPTIONAL_TEXT = ("counterparty_name", "counterparty_account", "purpose", "reversed_serial_no")


class _Invalid(Exception):
    pass


def parse_page(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[Statement, str | None]:
    """One page → (Statement, next_cursor); anything off raises BankFormatError naming the record."""
    if len(data) > max_bytes:
        raise BankFormatError(f"文件过大：{len(data)} 字节，上限 {max_bytes} 字节")
    try:
        page = json.loads(data.decode("utf-8-sig"), parse_float=Decimal, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError, _Invalid) as exc:
        raise BankFormatError(f"不是有效的交易明细 JSON：{_json_reason(exc)}") from None
    try:
        account, currency, records, cursor = _header(page)
    except _Invalid as exc:
        raise BankFormatError(f"交易明细 JSON 格式错误：{exc}") from None
    entries, seen, repeated = [], {}, 0
    for i, record in enumerate(records):
        try:
            entry = _record(record, account, currency)
            first = seen.get(entry.ref)
            if first is not None:
                if entries[first] != entry:
                    raise _Invalid(f"流水号 {entry.ref!r} 重复且内容与第 {first + 1} 条不一致")
                repeated += 1  # the same record served twice: kept once
                continue
        except _Invalid as exc:
            raise BankFormatError(f"交易明细第 {i + 1} 条（records[{i}]）：{exc}") from None
        seen[entry.ref] = len(entries)
        entries.append(entry)
    statement = Statement(account=account, currency=currency, entries=entries, message_type="json",
                          duplicates=repeated)
    return statement, cursor


def _no_constant(name: str) -> None:
    raise _Invalid(f"不允许 {name}")


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "不是 UTF-8 编码"
    if isinstance(exc, json.JSONDecodeError):
        return f"第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}"
    if isinstance(exc, RecursionError):
        return "嵌套过深"
    return str(exc)


def _header(page: object) -> tuple[str, str, list, str | None]:
    if not isinstance(page, dict):
        raise _Invalid("顶层必须是对象")
    account = _required_text(page, "account")
    currency = _required_text(page, "currency")
    if not _CURRENCY.fullmatch(currency):
        raise _Invalid(f"币种无效：{currency!r}")
    records = page.get("records")
    if not isinstance(records, list):
        raise _Invalid("缺少 records 数组")
    if "next_cursor" not in page:
        raise _Invalid("缺少 next_cursor（最后一页为 null）")
    cursor = page["next_cursor"]
    if cursor is not None and not (isinstance(cursor, str) and cursor):
        raise _Invalid("next_cursor 必须是非空字符串或 null")
    return account, currency, records, cursor


def _record(record: object, account: str, currency: str) -> Entry:
    if not isinstance(record, dict):
        raise _Invalid("记录必须是对象")
    serial = _required_text(record, "serial_no")
    if _required_text(record, "account") != account:
        raise _Invalid("记录账号与页面账号不一致")
    direction = record.get("direction")
    if direction not in ("D", "C"):
        raise _Invalid(f"借贷方向 direction 必须是 'D' 或 'C'，实际为 {direction!r}")
    reversal = record.get("reversal", False)
    if not isinstance(reversal, bool):
        raise _Invalid("reversal 必须是 true 或 false")
    text = {}
    for key in _OPTIONAL_TEXT:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise _Invalid(f"{key} 必须是字符串或 null")
        text[key] = (value or "").strip()
    amount = _amount(record.get("amount"), currency)
    booked = _booking_date(record.get("booking_time"))
    return Entry(
        ref=serial,
        amount=-amount if direction == "D" else amount,
        currency=currency,
        booking_date=booked,
        value_date=booked,
        status="BOOK",
        reversal=reversal,
        counterparty=text["counterparty_name"],
        counterparty_account=text["counterparty_account"],
        remittance=text["purpose"],
        bank_serial=serial,
        reversal_of=text["reversed_serial_no"] or None,
    )


def _required_text(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"缺少 {key} 或不是非空字符串")
    return value.strip()


def _amount(value: object, currency: str) -> Decimal:
    if not isinstance(value, str):
        raise _Invalid(f"金额 amount 必须是字符串，实际为 {type(value).__name__}")
    match = _AMOUNT.fullmatch(value)
    if not match:
        raise _Invalid(f"金额 amount 无效：{value[:40]!r}")
    if len(match.group(3) or "") > exponent(currency):
        raise _Invalid(f"金额 amount 小数位超过 {currency} 的 {exponent(currency)} 位：{value!r}")
    return Decimal(value)


def _booking_date(value: object) -> date:
    if not isinstance(value, str):
        raise _Invalid("缺少记账时间 booking_time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(f"记账时间 booking_time 无效：{value[:40]!r}") from None
    if moment.utcoffset() is None or "T" not in value:
        raise _Invalid(f"记账时间 booking_time 须为带时区的 ISO 8601 时间：{value!r}")
    return china_date(moment)
