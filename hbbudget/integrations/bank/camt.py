"""ISO 20022 camt.052 / camt.053 / camt.054, versions .001.02 to .001.10, into Statement records.

Elements are matched on local names, so every version's namespace (or none) reads the same way. Each statement,
balance, entry and transaction detail is walked once into a map of local-name paths ("Acct/Id/IBAN" → elements),
and every field is read from that map: one pass per element instead of one search per field.

- An entry books its own `Amt` (account currency, FX details ignored) with the sign of `CdtDbtInd`, DBIT negative.
  A reversal (`RvslInd` true) already carries the opposite indicator and is not flipped again.
- `TxDtls` only name the counterparty and the remittance: with one detail, its own; with a batch, the name all
  details share (else blank) and the distinct remittances joined by "; " (else `AddtlNtryInf`). The counterparty
  is the creditor when the original payment went out (a DBIT entry, or a CRDT reversal of one), else the debtor.
- Remittance: `RmtInf/Ustrd` joined, else `Strd/CdtrRefInf/Ref`, else `AddtlTxInf`, else `AddtlNtryInf`.
- Missing `Sts`: BOOK in camt.053; "" (unknown, never counted as booked) in camt.052/054.
- Opening = OPBD, else PRCD; closing = CLBD. Interim booked balances (ITBD, camt.052) fill in only what is
  missing: with two or more, the first in document order opens and the last closes; after an OPBD a single ITBD
  closes; a lone ITBD is a point-in-time figure and is used for neither.
- Entry ref: `AcctSvcrRef`, else `NtryRef`, else "H" + a hash of the entry's content (local names, attributes,
  trimmed text: the same whatever the namespace version or layout), leaving out `Sts` and `BookgDt` so a pending
  entry keeps its ref when it books. A ref repeated inside one statement gets "-2", "-3"… so identical entries
  are not merged.
- Dates: every xs:date / xs:dateTime form. `Dt` is the day as written (with or without a time zone); a `DtTm`
  with a UTC offset (or Z) is converted to China time (UTC+8) before its date is taken; without one, as written.
- Hostile input is refused: no DTD or entity declarations, no network, no entity expansion, a size limit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from lxml import etree

from hbbudget.clock import CHINA
from hbbudget.integrations.bank.records import MAX_BYTES, BankFormatError, Entry, Statement

_CONTAINERS = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
_AMOUNT = re.compile(r"(?=[\d.]{1,19}$)\d+(\.\d{1,5})?")  # ISO 20022: 18 digits, 5 of them decimals
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_NOT_HASHED = frozenset(("Sts", "BookgDt"))  # change when a pending entry books


class _Invalid(Exception):
    """A detail of what is wrong; parse_camt adds where and turns it into BankFormatError."""


def parse_camt(data: bytes, max_bytes: int = MAX_BYTES) -> list[Statement]:
    root = _parse_xml(data, max_bytes)
    container = root if _local(root) in _CONTAINERS else next((c for c in root if _local(c) in _CONTAINERS), None)
    if container is None:
        raise BankFormatError("不是有效的 camt XML：未找到 BkToCstmrStmt、BkToCstmrAcctRpt 或 BkToCstmrDbtCdtNtfctn")
    message_type, tag = _CONTAINERS[_local(container)]
    statements = []
    for n, st in enumerate((c for c in container if _local(c) == tag), 1):
        try:
            statements.append(_statement(st, message_type))
        except _Invalid as exc:
            raise BankFormatError(f"不是有效的 camt XML：第 {n} 个 {tag}：{exc}") from None
    return statements


def _parse_xml(data: bytes, max_bytes: int) -> etree._Element:
    if len(data) > max_bytes:
        raise BankFormatError(f"文件过大：{len(data)} 字节，上限 {max_bytes} 字节")
    if not data.strip():
        raise BankFormatError("不是有效的 camt XML：文件为空")
    if _DTD.search(data):  # refused before libxml2 sees it; the docinfo check below covers other encodings
        raise _refused()
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise BankFormatError(f"不是有效的 camt XML：{_reason(exc)}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _refused()
    return root


def _refused() -> BankFormatError:
    return BankFormatError("禁止 DTD/实体声明：拒绝含 DOCTYPE 或 ENTITY 的文件")


def _reason(exc: Exception) -> str:
    if isinstance(exc, etree.XMLSyntaxError):
        return f"XML 语法错误（第 {exc.lineno} 行：{exc.msg}）"
    return "XML 解析失败"


def _statement(st: etree._Element, message_type: str) -> Statement:
    found = _paths(st, stop=("Bal", "Ntry"))
    account = _text(found, "Acct/Id/IBAN") or _text(found, "Acct/Id/Othr/Id")
    if not account:
        raise _Invalid("缺少账号 Acct/Id")
    balances = [_paths(bal) for bal in found.get("Bal", ())]
    currency = _text(found, "Acct/Ccy") or _any_currency(balances, found.get("Ntry", ()))
    opening, closing = _balances(balances)
    default_status = "BOOK" if message_type == "camt.053" else ""
    owner = _text(found, "Acct/Ownr/Nm")
    entries, seen = [], {}
    for n, ntry in enumerate(found.get("Ntry", ()), 1):
        try:
            entry = _entry(ntry, currency, default_status, owner)
        except _Invalid as exc:
            raise _Invalid(f"第 {n} 笔 Ntry：{exc}") from None
        seen[entry.ref] = seen.get(entry.ref, 0) + 1
        if seen[entry.ref] > 1:
            entry = replace(entry, ref=f"{entry.ref}-{seen[entry.ref]}")
        entries.append(entry)
    return Statement(
        account=account, currency=currency, opening=opening, closing=closing, entries=entries,
        message_type=message_type, statement_id=_text(found, "Id") or None,
    )


def _any_currency(balances: list[dict], entries: list[etree._Element]) -> str:
    """The first Ccy on a balance's or an entry's Amt, for a statement that does not name its currency."""
    amounts = [a for bal in balances for a in bal.get("Amt", ())]
    amounts += [a for ntry in entries for a in ntry if _local(a) == "Amt"]
    return next((a.get("Ccy") for a in amounts if a.get("Ccy")), "")


def _balances(balances: list[dict]) -> tuple[Decimal | None, Decimal | None]:
    found: dict[str, Decimal] = {}
    interim: list[Decimal] = []
    for n, bal in enumerate(balances, 1):
        code = _text(bal, "Tp/CdOrPrtry/Cd").upper()
        try:
            amount = _signed(bal)
        except _Invalid as exc:
            raise _Invalid(f"第 {n} 个余额 Bal：{exc}") from None
        if code == "ITBD":
            interim.append(amount)
        else:
            found.setdefault(code, amount)
    opening = found.get("OPBD", found.get("PRCD"))
    closing = found.get("CLBD")
    if opening is None and len(interim) >= 2:
        opening = interim[0]
    if closing is None and interim and opening is not None:
        closing = interim[-1]
    return opening, closing


def _entry(ntry: etree._Element, currency: str, default_status: str, owner: str) -> Entry:
    found = _paths(ntry)
    amount = _signed(found, required_indicator=True)
    reversal = _text(found, "RvslInd").lower() in ("true", "1")
    details = found.get("NtryDtls/TxDtls", ())
    # One detail is read in place; a batch's details each on their own.
    details = [(found, _IN_ENTRY)] if len(details) == 1 else [(_paths(d), "") for d in details]
    # The side the money originally went (DBIT is negative, -0 included); a reversal's indicator is already
    # the opposite one.
    outgoing = amount.is_signed() != reversal
    names = _distinct([_party(d, p, outgoing, owner) for d, p in details])
    accounts = _distinct([_party_account(d, p, outgoing) for d, p in details])
    notes = _distinct([_remittance(d, p) for d, p in details])
    bank_ref = _text(found, "AcctSvcrRef")
    return Entry(
        ref=bank_ref or _text(found, "NtryRef") or _digest(ntry),
        amount=amount,
        currency=found["Amt"][0].get("Ccy") or currency,
        booking_date=_date(found, "BookgDt"),
        value_date=_date(found, "ValDt"),
        status=_status(found) or default_status,
        reversal=reversal,
        counterparty=names[0] if len(names) == 1 else "",
        counterparty_account=accounts[0] if len(accounts) == 1 else "",
        remittance="; ".join(notes) or _text(found, "AddtlNtryInf"),
        bank_serial=bank_ref or None,
    )


def _status(found: dict) -> str:
    """`<Sts>BOOK</Sts>`, or from v08 `<Sts><Cd>BOOK</Cd></Sts>` (or a proprietary code)."""
    return (_text(found, "Sts/Cd") or _text(found, "Sts/Prtry") or _text(found, "Sts")).upper()


# A transaction detail's fields, by where the detail is read: on its own ("") or in place in its entry.
_IN_ENTRY = "NtryDtls/TxDtls/"
_DETAIL = {
    at: {
        "names": {out: [(f"{at}RltdPties/{role}/Nm", f"{at}RltdPties/{role}/Pty/Nm") for role in roles]
                  for out, roles in ((True, ("Cdtr", "Dbtr")), (False, ("Dbtr", "Cdtr")))},
        "account": {out: (f"{at}RltdPties/{role}/Id/IBAN", f"{at}RltdPties/{role}/Id/Othr/Id")
                    for out, role in ((True, "CdtrAcct"), (False, "DbtrAcct"))},
        "remittance": tuple(at + p for p in ("RmtInf/Ustrd", "RmtInf/Strd/CdtrRefInf/Ref", "AddtlTxInf")),
    }
    for at in ("", _IN_ENTRY)
}


def _party(tx: dict, at: str, outgoing: bool, owner: str) -> str:
    """The creditor of an outgoing payment, the debtor of an incoming one; the other side if that is blank;
    never the account's own owner."""
    for name_path, party_path in _DETAIL[at]["names"][outgoing]:
        name = _text(tx, name_path) or _text(tx, party_path)
        if name and name != owner:
            return name
    return ""


def _party_account(tx: dict, at: str, outgoing: bool) -> str:
    iban, other = _DETAIL[at]["account"][outgoing]
    return _text(tx, iban) or _text(tx, other)


def _remittance(tx: dict, at: str) -> str:
    for path in _DETAIL[at]["remittance"]:
        parts = [t for t in ((e.text or "").strip() for e in tx.get(path, ())) if t]
        if parts:
            return " ".join(parts)
    return ""


def _signed(found: dict, required_indicator: bool = False) -> Decimal:
    """Amt with the sign of CdtDbtInd (DBIT negative; a missing indicator reads as credit where allowed)."""
    amt = found.get("Amt")
    text = (amt[0].text or "").strip() if amt else ""
    if not _AMOUNT.fullmatch(text):
        raise _Invalid(f"金额无效：{text[:40]!r}")
    indicator = _text(found, "CdtDbtInd").upper()
    if indicator not in ("CRDT", "DBIT") and (indicator or required_indicator):
        raise _Invalid(f"借贷标志 CdtDbtInd 无效：{indicator[:10]!r}")
    return -Decimal(text) if indicator == "DBIT" else Decimal(text)


_XS_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:?\d{2})?")
_XS_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?")


def _offset(text: str | None) -> timezone | None:
    """Z, +hh:mm or -hh:mm (and +hhmm, seen from banks) → a timezone; None without one."""
    if not text:
        return None
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[-2:])
    if hours > 14 or minutes > 59 or (hours == 14 and minutes):
        raise ValueError(text)
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _date(found: dict, name: str) -> date | None:
    """Every form of xs:date and xs:dateTime (ISO 20022): a `Dt` is the day as written, with or without a time
    zone (2017-04-01+02:00 is 1 April); a `DtTm` with an offset (or Z) is converted to China time (UTC+8) before
    its date is taken, without one it is taken as written; 24:00:00 is the next day's midnight."""
    if name not in found:
        return None
    text = _text(found, f"{name}/Dt")
    try:
        if text:
            m = _XS_DATE.fullmatch(text)
            if not m:
                raise ValueError(text)
            _offset(m.group(4))
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        text = _text(found, f"{name}/DtTm")
        if not text:
            return None
        m = _XS_DATETIME.fullmatch(text)
        if not m:
            raise ValueError(text)
        y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
        day = date(y, mo, d)
        if h == 24 and mi == sec == 0 and not int(m.group(7) or 0):
            moment = datetime(y, mo, d) + timedelta(days=1)
        else:
            moment = datetime.combine(day, datetime.min.time()).replace(
                hour=h, minute=mi, second=sec, microsecond=int((m.group(7) or "0")[:6].ljust(6, "0")))
        zone = _offset(m.group(8))
        return moment.replace(tzinfo=zone).astimezone(CHINA).date() if zone else moment.date()
    except ValueError:
        raise _Invalid(f"{name} 日期无效：{text[:40]!r}") from None


def _digest(el: etree._Element) -> str:
    """A hash of the entry's content without its status and booking date (stable from PDNG to BOOK)."""
    parts = [f"<{_local(el)}{sorted((k.rpartition('}')[2], v) for k, v in el.attrib.items())}{(el.text or '').strip()}"]
    for child in el:
        if _local(child) in _NOT_HASHED:
            continue
        for event, node in etree.iterwalk(child, events=("start", "end")):
            if event == "end":
                parts.append(">")
                continue
            attrs = sorted((k.rpartition("}")[2], v) for k, v in node.attrib.items())
            parts.append(f"<{_local(node)}{attrs}{(node.text or '').strip()}")
    parts.append(">")
    return "H" + hashlib.sha256("".join(parts).encode()).hexdigest()[:32]


def _distinct(values: list[str]) -> list[str]:
    """The non-empty values, each once, in order."""
    if len(values) == 1:
        return values if values[0] else []
    return list(dict.fromkeys(v for v in values if v))


def _local(el: etree._Element) -> str:
    """The element's name without its namespace."""
    return el.tag.rpartition("}")[2]


def _paths(el: etree._Element, stop: tuple[str, ...] = ()) -> dict[str, list[etree._Element]]:
    """Every element under `el` by its path of local names, in document order. An element named in `stop`
    is listed but not entered: it is read on its own."""
    found: dict[str, list[etree._Element]] = {}
    _walk(el, "", stop, found)
    return found


def _walk(parent: etree._Element, prefix: str, stop: tuple[str, ...], found: dict) -> None:
    for child in parent:  # the parser drops comments and processing instructions: children are elements
        name = child.tag.rpartition("}")[2]
        path = prefix + name
        same = found.get(path)
        if same is None:
            found[path] = [child]
        else:
            same.append(child)
        if name not in stop and len(child):
            _walk(child, path + "/", stop, found)


def _text(found: dict, path: str) -> str:
    """The stripped text of the first element at `path` (with its descendants' text), "" when absent."""
    elements = found.get(path)
    if not elements:
        return ""
    el = elements[0]
    return ("".join(el.itertext()) if len(el) else el.text or "").strip()
