"""Plain records every bank format parses into, the errors, and the JSON document the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

MAX_BYTES = 50 * 1024 * 1024  # default size limit for one statement file or response body

# ISO 4217 minor units that differ from 2 (XXX and unknown codes use 2).
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


class BankFormatError(ValueError):
    """A statement or page that cannot be read; the message is Chinese and safe to show to a user."""


class BankError(Exception):
    """Talking to the bank failed (HTTP status, timeout, truncated or malformed body); Chinese message."""


@dataclass(kw_only=True, slots=True)  # not frozen: 100,000 of them per big statement, and frozen costs 2.5x
class Entry:
    ref: str  # unique per account: the bank's reference, else a stable hash
    amount: Decimal  # signed, account currency: debits negative
    currency: str
    booking_date: date | None = None
    value_date: date | None = None
    status: str = "BOOK"  # BOOK / PDNG / INFO …; only BOOK is actual money moved
    reversal: bool = False
    counterparty: str = ""
    counterparty_account: str = ""
    remittance: str = ""
    bank_serial: str | None = None  # the bank's own id when it gave one
    reversal_of: str | None = None  # serial of the reversed record, when the format says


@dataclass(frozen=True, kw_only=True)
class Statement:
    account: str
    currency: str
    opening: Decimal | None = None
    closing: Decimal | None = None
    entries: list[Entry] = field(default_factory=list)
    message_type: str = ""  # "camt.053", "camt.052", "camt.054", "json"
    statement_id: str | None = None
    duplicates: int = 0  # identical records the source repeated, skipped by the parser (JSON pages)
    reconciles: bool | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reconciles", _reconciles(self.opening, self.entries, self.closing))


def _reconciles(opening: Decimal | None, entries: list[Entry], closing: Decimal | None) -> bool | None:
    if opening is None or closing is None:
        return None
    return opening + sum((e.amount for e in entries if e.status == "BOOK"), Decimal(0)) == closing


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def format_amount(amount: Decimal, currency: str) -> str:
    """Signed fixed-point string with the currency's minor units; extra digits are kept, never rounded away."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    shown = amount.quantize(quantum) if amount == amount.quantize(quantum) else amount
    return format(abs(shown) if shown == 0 else shown, "f")


def _money(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else format_amount(amount, currency)


def to_json(statements: list[Statement]) -> dict:
    return {
        "statements": [
            {
                "account": s.account,
                "currency": s.currency,
                "opening": _money(s.opening, s.currency),
                "closing": _money(s.closing, s.currency),
                "reconciles": s.reconciles,
                "entries": [
                    {
                        "ref": e.ref,
                        "booking_date": e.booking_date.isoformat() if e.booking_date else None,
                        "amount": format_amount(e.amount, e.currency),
                        "currency": e.currency,
                        "status": e.status,
                        "reversal": e.reversal,
                        "counterparty": e.counterparty,
                        "remittance": e.remittance,
                    }
                    for e in s.entries
                ],
            }
            for s in statements
        ]
    }
