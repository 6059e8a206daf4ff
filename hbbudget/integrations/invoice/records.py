"""The invoice record every format parses into, the error, and the JSON object the CLI prints."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

MAX_BYTES = 10 * 1024 * 1024  # one invoice file (OFD zip or XML)
CENT = Decimal("0.01")
_MONEY = re.compile(r"-?\d{1,15}(\.\d{1,6})?")
_DATE = re.compile(r"(\d{4})\s*[-年/.]?\s*(\d{1,2})\s*[-月/.]?\s*(\d{1,2})")


class InvoiceFormatError(ValueError):
    """A file that is not a readable invoice; the message is Chinese and safe to show to a user."""


@dataclass(kw_only=True)
class Item:
    name: str
    amount: Decimal
    tax_rate: str  # "6%", or the printed text (免税, 不征税) when it is not a number
    tax: Decimal


@dataclass(kw_only=True)
class Invoice:
    kind: str
    code: str  # "" for 数电票 (全电发票)
    number: str  # 8 digits with a code, 20 digits for 数电票
    date: date
    seller_name: str
    seller_tax_id: str
    buyer_name: str
    buyer_tax_id: str
    amount: Decimal  # 不含税
    tax: Decimal
    total: Decimal  # 价税合计
    source_format: str
    items: list[Item] = field(default_factory=list)

    @property
    def key(self) -> str:
        """What makes an invoice unique: code + number, or the 20-digit number alone."""
        return f"{self.code}-{self.number}" if self.code else self.number


def to_json(inv: Invoice) -> dict:
    return {
        "kind": inv.kind, "code": inv.code, "number": inv.number, "date": inv.date.isoformat(),
        "seller_name": inv.seller_name, "seller_tax_id": inv.seller_tax_id,
        "buyer_name": inv.buyer_name, "buyer_tax_id": inv.buyer_tax_id,
        "amount": _fmt(inv.amount), "tax": _fmt(inv.tax), "total": _fmt(inv.total),
        "items": [{"name": i.name, "amount": _fmt(i.amount), "tax_rate": i.tax_rate, "tax": _fmt(i.tax)}
                  for i in inv.items],
        "source_format": inv.source_format,
    }


def _fmt(value: Decimal) -> str:
    return str(value.quantize(CENT))


def money(text: str | None, what: str) -> Decimal | None:
    """'¥1,234.56' → Decimal('1234.56'); '' or None → None; anything else is refused."""
    t = (text or "").strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not t:
        return None
    if not _MONEY.fullmatch(t):
        raise InvoiceFormatError(f"{what}不是有效金额：{t[:40]}")
    try:
        return Decimal(t).quantize(CENT)
    except InvalidOperation:
        raise InvoiceFormatError(f"{what}不是有效金额：{t[:40]}") from None


def parse_date(text: str | None) -> date | None:
    """'2020年08月05日', '2020-08-05 10:00:00', '20200805' → date; '' → None; nonsense is refused."""
    t = (text or "").strip()
    if not t:
        return None
    m = _DATE.match(t)
    try:
        if not m:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise InvoiceFormatError(f"开票日期无效：{t[:40]}") from None


def tax_rate(text: str | None) -> str:
    """'6%' / '0.06' / '6' → '6%'; other printed text (免税, 不征税, ***) as written."""
    t = (text or "").strip()
    if not t:
        return ""
    try:
        value = Decimal(t.rstrip("%"))
    except InvalidOperation:
        return t
    if not t.endswith("%") and value < 1:
        value *= 100
    return f"{value.normalize():f}%"


def build(fields: dict[str, str], items: list[Item], *, kind: str, source_format: str) -> Invoice:
    """An Invoice from the text fields every reader collects; checks what must be there."""
    number = "".join(fields.get("number", "").split())
    code = "".join(fields.get("code", "").split())
    if not number:
        raise InvoiceFormatError("缺少发票号码")
    if not number.isdigit() or not (len(number) == 20 or (code and len(number) == 8)):
        raise InvoiceFormatError(f"发票号码格式不对（应为 8 位加发票代码，或 20 位数电票号码）：{number[:30]}")
    if code and not (code.isdigit() and len(code) in (10, 12)):
        raise InvoiceFormatError(f"发票代码格式不对（应为 10 或 12 位数字）：{code[:30]}")
    issued = parse_date(fields.get("date"))
    if issued is None:
        raise InvoiceFormatError("缺少开票日期")
    amount, tax, total = (money(fields.get(k), label) for k, label in
                          (("amount", "合计金额"), ("tax", "合计税额"), ("total", "价税合计")))
    if total is None and amount is not None and tax is not None:
        total = amount + tax
    if tax is None and amount is not None and total is not None:
        tax = total - amount
    if amount is None and tax is not None and total is not None:
        amount = total - tax
    if amount is None or tax is None or total is None:
        raise InvoiceFormatError("缺少金额：合计金额、合计税额、价税合计至少要有两项")
    if amount + tax != total:
        raise InvoiceFormatError(f"金额不一致：合计金额 {amount} + 合计税额 {tax} ≠ 价税合计 {total}")
    return Invoice(
        kind=kind, code=code, number=number, date=issued,
        seller_name=fields.get("seller_name", "").strip(), seller_tax_id=fields.get("seller_tax_id", "").strip(),
        buyer_name=fields.get("buyer_name", "").strip(), buyer_tax_id=fields.get("buyer_tax_id", "").strip(),
        amount=amount, tax=tax, total=total, items=items, source_format=source_format,
    )


def item(name: str, amount: str, rate: str, tax: str) -> Item:
    return Item(name=name.strip(), amount=money(amount, "明细金额") or Decimal("0.00"), tax_rate=tax_rate(rate),
                tax=money(tax, "明细税额") or Decimal("0.00"))


def kind_of(code: str, number: str, type_code: str = "") -> str:
    """The invoice kind from the GraphCode's type ('10', '08', '01', '04') or the code's last two digits."""
    if not code and len(number) == 20:
        return "数电票"
    named = {"10": "增值税电子普通发票", "08": "增值税电子专用发票", "01": "增值税专用发票", "04": "增值税普通发票",
             "14": "增值税电子普通发票（通行费）"}
    if type_code in named:
        return named[type_code]
    if len(code) == 12 and code[-2:] in ("11", "12"):
        return "增值税电子普通发票"
    return "电子发票"
