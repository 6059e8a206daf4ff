"""A bank gateway simulator: camt.053 statements and a paged JSON detail API for the demo accounts.

It books realistic payments over time (Chinese counterparties; a project code in the remittance text some
of the time) and injects faults: latency, HTTP 500, timeouts, a truncated body, malformed XML, duplicates (a
record served twice on any JSON page; the whole period again for camt).

Routes:
  GET  /accounts/{account}/camt053?from=YYYY-MM-DD   camt.053.001.08 of entries booked on or after that date
  GET  /accounts/{account}/camt052?from=YYYY-MM-DD   the same as an intraday report camt.052.001.08 (ITBD balances)
  GET  /accounts/{account}/camt054?from=YYYY-MM-DD   the same as notifications camt.054.001.08 (no balances)
  GET  /accounts/{account}/transactions?cursor=...   JSON pages of 50 records (see integrations/bank/jsonapi.py)
  POST /admin/book    {"account", "amount", "direction", "purpose", "counterparty"}  book one payment now
  POST /admin/faults  {"kind", "count", "after"}     fail the next `count` requests (after `after` good ones)
  GET  /health
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hbbudget import clock
from hbbudget.sim.faults import Faults, admin_endpoint

PAGE_SIZE = 50
COUNTERPARTIES = (
    ("石家庄华北办公用品有限公司", "130101000011"), ("中国联合网络通信有限公司石家庄市分公司", "130101000012"),
    ("国网河北省电力有限公司石家庄供电分公司", "130101000013"), ("石家庄市自来水有限责任公司", "130101000014"),
    ("河北省机关印刷厂", "130101000015"), ("中国石化销售股份有限公司河北石家庄石油分公司", "130101000016"),
    ("河北智联科技服务有限公司", "130101000017"), ("石家庄京铁旅行服务有限公司", "130101000018"),
    ("河北恒信物业服务有限公司", "130101000019"), ("唐山冀东仪器设备有限公司", "130201000020"),
)
PURPOSES = ("办公用品采购", "电费", "水费", "差旅费报销", "设备采购款", "印刷费", "物业管理费", "会议费",
            "培训费", "维修费", "网络通信费", "专用材料购置")


@dataclass
class Record:
    serial_no: str
    booked_at: datetime
    amount: Decimal  # positive
    direction: str  # D / C
    counterparty: str
    counterparty_account: str
    purpose: str
    reversal: bool = False
    reversed_serial_no: str | None = None


@dataclass
class Account:
    number: str
    name: str
    currency: str = "CNY"
    opening: Decimal = Decimal("5000000.00")
    records: list[Record] = field(default_factory=list)


class BankSim:
    """The simulated bank's books (thread-safe)."""

    def __init__(self, accounts: list[dict], project_codes: list[str] | None = None, seed: int = 2026):
        self.accounts = {a["number"]: Account(a["number"], a.get("name", ""), a.get("currency", "CNY"),
                                              Decimal(str(a.get("opening", "5000000.00"))))
                         for a in accounts}
        self.project_codes = list(project_codes or [])
        self.rng = random.Random(seed)
        self.faults = Faults()
        self._lock = threading.Lock()
        self._serial = 0

    def book(self, number: str, amount: Decimal, direction: str = "D", purpose: str = "",
             counterparty: tuple[str, str] | None = None, when: datetime | None = None) -> Record:
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError("金额必须为正数且最多两位小数")
        if direction not in ("D", "C"):
            raise ValueError("方向必须为 D 或 C")
        name, acct = counterparty or self.rng.choice(COUNTERPARTIES)
        with self._lock:
            account = self.accounts[number]
            self._serial += 1
            when = when or clock.now_china()
            record = Record(f"{when:%Y%m%d%H%M%S}{self._serial:06d}", when, amount, direction, name, acct,
                            purpose or self.rng.choice(PURPOSES))
            account.records.append(record)
            return record

    def book_random(self, number: str | None = None) -> Record:
        """A realistic payment: mostly outgoing, a project code in the text about half the time."""
        number = number or self.rng.choice(sorted(self.accounts))
        purpose = self.rng.choice(PURPOSES)
        if self.project_codes and self.rng.random() < 0.5:
            purpose = f"{self.rng.choice(self.project_codes)} {purpose}"
        amount = Decimal(self.rng.randint(20_000, 5_000_000)) / 100
        if self.rng.random() < 0.1:
            return self.book(number, amount * 10, "C", "财政拨款 " + purpose, ("河北省财政厅国库处", "130000000001"))
        return self.book(number, amount, "D", purpose)

    def reverse(self, number: str, serial_no: str) -> Record:
        with self._lock:
            original = next(r for r in self.accounts[number].records if r.serial_no == serial_no)
        rev = self.book(number, original.amount, "C" if original.direction == "D" else "D", "冲正 " + original.purpose,
                        (original.counterparty, original.counterparty_account))
        rev.reversal, rev.reversed_serial_no = True, serial_no
        return rev

    def records(self, number: str) -> list[Record]:
        with self._lock:
            return list(self.accounts[number].records)

    def json_page(self, number: str, cursor: str | None, overlap: bool = False) -> dict:
        """One page from `cursor`; `overlap` serves one record twice: the previous page's last one again, or on
        the first page its own first record repeated inside the page."""
        records = self.records(number)
        start = int(cursor[1:]) if cursor and cursor.startswith("c") and cursor[1:].isdigit() else 0
        end = min(start + PAGE_SIZE, len(records))
        shown = records[start:end]
        if overlap and start > 0:
            shown = records[start - 1:end]
        elif overlap and shown:
            shown = [shown[0], *shown]
        rows = [_json_record(number, r) for r in shown]
        return {"account": number, "currency": self.accounts[number].currency, "records": rows,
                "next_cursor": f"c{end}" if end < len(records) else None}

    def camt053(self, number: str, since: datetime | None) -> str:
        return self.camt(number, since, "camt.053")

    def camt(self, number: str, since: datetime | None, message: str = "camt.053") -> str:
        """A statement (camt.053), an intraday report (camt.052) or a notification (camt.054, no balances) of
        the entries booked on or after `since`."""
        account = self.accounts[number]
        records = self.records(number)
        before = [r for r in records if since and r.booked_at < since]
        shown = [r for r in records if not since or r.booked_at >= since]
        opening = account.opening + sum((_signed(r) for r in before), Decimal(0))
        closing = opening + sum((_signed(r) for r in shown), Decimal(0))
        return _camt_xml(account, shown, opening, closing, message)


def _signed(r: Record) -> Decimal:
    return -r.amount if r.direction == "D" else r.amount


def _json_record(number: str, r: Record) -> dict:
    return {"serial_no": r.serial_no, "account": number, "booking_time": r.booked_at.isoformat(timespec="seconds"),
            "amount": f"{r.amount:.2f}", "direction": r.direction, "counterparty_name": r.counterparty,
            "counterparty_account": r.counterparty_account, "purpose": r.purpose, "reversal": r.reversal,
            "reversed_serial_no": r.reversed_serial_no}


_MESSAGES = {  # message → (root, statement tag, opening and closing balance codes)
    "camt.053": ("BkToCstmrStmt", "Stmt", ("OPBD", "CLBD")),
    "camt.052": ("BkToCstmrAcctRpt", "Rpt", ("ITBD", "ITBD")),  # intraday: interim booked balances
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", ()),  # notifications carry no balances
}


def _camt_xml(account: Account, records: list[Record], opening: Decimal, closing: Decimal,
              message: str = "camt.053") -> str:
    today = clock.today().isoformat()
    root, tag, codes = _MESSAGES[message]

    def bal(code: str, amount: Decimal) -> str:
        ind = "CRDT" if amount >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{account.currency}\">"
                f"{abs(amount):.2f}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{today}</Dt></Dt></Bal>")

    def entry(r: Record) -> str:
        ind = "DBIT" if r.direction == "D" else "CRDT"
        party = "Cdtr" if (r.direction == "D") != r.reversal else "Dbtr"
        return (f"<Ntry><NtryRef>{r.serial_no}</NtryRef><Amt Ccy=\"{account.currency}\">{r.amount:.2f}</Amt>"
                f"<CdtDbtInd>{ind}</CdtDbtInd>{'<RvslInd>true</RvslInd>' if r.reversal else ''}"
                f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>{r.booked_at.isoformat(timespec='seconds')}</DtTm></BookgDt>"
                f"<AcctSvcrRef>{r.serial_no}</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls>"
                f"<RltdPties><{party}><Pty><Nm>{escape(r.counterparty)}</Nm></Pty></{party}></RltdPties>"
                f"<RmtInf><Ustrd>{escape(r.purpose)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")

    balances = f"{bal(codes[0], opening)}{bal(codes[1], closing)}" if codes else ""
    created = clock.now_china().isoformat(timespec="seconds")
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}.001.08"><{root}>'
            f"<GrpHdr><MsgId>SIM-{account.number}-{len(records)}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
            f"<{tag}><Id>{tag.upper()}-{account.number}</Id><CreDtTm>{created}</CreDtTm>"
            f"<Acct><Id><Othr><Id>{account.number}</Id></Othr></Id><Ccy>{account.currency}</Ccy>"
            f"<Nm>{escape(account.name)}</Nm></Acct>"
            f"{balances}{''.join(entry(r) for r in records)}</{tag}>"
            f"</{root}></Document>")


def create_app(sim: BankSim, auto_interval: float = 0.0) -> Starlette:
    """The gateway; with `auto_interval` > 0 a payment is booked on a random account that often."""

    async def faulty(body: bytes, media_type: str, fault: str | None) -> Response:
        if fault == "latency":
            await asyncio.sleep(sim.faults.latency_seconds)
        elif fault == "timeout":
            await asyncio.sleep(sim.faults.timeout_seconds)
        elif fault == "http500":
            return Response("internal error", status_code=500)
        elif fault == "truncate":
            return Response(body[: len(body) // 2], media_type=media_type)
        elif fault == "malformed":
            return Response(b"<Document><BkToCstmrStmt><Stmt>" + body[:40], media_type=media_type)
        return Response(body, media_type=media_type)

    def account_of(request: Request) -> str | None:
        number = request.path_params["account"]
        return number if number in sim.accounts else None

    async def camt(request: Request) -> Response:
        number = account_of(request)
        if number is None:
            return JSONResponse({"error": "账户不存在"}, status_code=404)
        since_text = request.query_params.get("from")
        try:
            since = datetime.fromisoformat(since_text).replace(tzinfo=clock.CHINA) if since_text else None
        except ValueError:
            return JSONResponse({"error": "from 参数格式错误"}, status_code=400)
        fault = sim.faults.next()
        if fault == "duplicate":  # the whole period served again: ingest must add nothing twice
            since = None
        message = "camt." + request.url.path.rpartition("/camt")[2]
        return await faulty(sim.camt(number, since, message).encode(), "application/xml", fault)

    async def transactions(request: Request) -> Response:
        number = account_of(request)
        if number is None:
            return JSONResponse({"error": "账户不存在"}, status_code=404)
        fault = sim.faults.next()
        page = sim.json_page(number, request.query_params.get("cursor"), overlap=fault == "duplicate")
        return await faulty(json.dumps(page, ensure_ascii=False).encode(), "application/json", fault)

    async def book(request: Request) -> Response:
        data = await request.json()
        try:
            number = str(data["account"])
            if number not in sim.accounts:
                raise ValueError("账户不存在")
            record = sim.book(number, Decimal(str(data["amount"])), str(data.get("direction", "D")),
                              str(data.get("purpose", "")),
                              (str(data.get("counterparty", COUNTERPARTIES[0][0])), COUNTERPARTIES[0][1]))
        except (KeyError, ValueError, ArithmeticError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(_json_record(number, record))

    faults = admin_endpoint(sim)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "accounts": {n: len(a.records) for n, a in sim.accounts.items()}})

    async def ticker():
        while True:
            await asyncio.sleep(auto_interval)
            sim.book_random()

    @asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(ticker()) if auto_interval > 0 and sim.accounts else None
        yield
        if task:
            task.cancel()

    return Starlette(routes=[
        Route("/accounts/{account}/camt053", camt),
        Route("/accounts/{account}/camt052", camt),
        Route("/accounts/{account}/camt054", camt),
        Route("/accounts/{account}/transactions", transactions),
        Route("/admin/book", book, methods=["POST"]),
        Route("/admin/faults", faults, methods=["POST"]),
        Route("/health", health),
    ], lifespan=lifespan)
