"""Bank ingest speed: 100,000 camt.053 entries from one generated file — parse, dedupe, store — beside a raw
baseline in the same run (lxml iterparse + executemany into the same table). Target: ≥ 50 % of baseline."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from lxml import etree

N = 100_000
NUMBER = "130101000000001"


def _camt(n: int) -> bytes:
    from hbbudget.sim.bank import CHINA, Account, Record, _camt_xml

    start = datetime(2027, 1, 1, 9, tzinfo=CHINA)
    records = [Record(f"R{i:09d}", start + timedelta(seconds=30 * i), Decimal(100 + i % 5000) / 100, "D",
                      "石家庄华北办公用品有限公司", "130101000011", f"DEMO-P{i % 40:03d} 办公用品") for i in range(n)]
    account = Account(NUMBER, "示范大学基本户", opening=Decimal("100000000.00"))
    closing = account.opening - sum((r.amount for r in records), Decimal(0))
    return _camt_xml(account, records, account.opening, closing).encode()


def _fresh_db(folder: str) -> int:
    os.environ["HBB_DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    from hbbudget.cli import _migrate
    from hbbudget.db import session_scope
    from hbbudget.models import BankAccount
    from hbbudget.services import orgs

    _migrate()
    with session_scope() as session:
        org = orgs.create(session, "B", "基准单位", "高校")
        account = BankAccount(org_id=org.id, number=NUMBER, name="基准账户")
        session.add(account)
        session.flush()
        return account.id


def _baseline(data: bytes, account_id: int, path: str) -> float:
    """The least work that stores the same rows: iterparse + executemany, no checks."""
    import sqlite3

    began = time.perf_counter()
    ns = "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.08}"
    rows = []
    for _, ntry in etree.iterparse(__import__("io").BytesIO(data), tag=f"{ns}Ntry"):
        ref = ntry.findtext(f"{ns}AcctSvcrRef")
        amount = int(Decimal(ntry.findtext(f"{ns}Amt")) * 100)
        if ntry.findtext(f"{ns}CdtDbtInd") == "DBIT":
            amount = -amount
        day = ntry.findtext(f"{ns}BookgDt/{ns}DtTm")[:10]
        rows.append((account_id, 1, f"X{ref}", day, amount, "CNY", "BOOK", 0, 0, "", "", "", "待匹配",
                     "2027-01-01 00:00:00"))
        ntry.clear()
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO banktransaction (account_id, org_id, bank_ref, booking_date, amount, currency,"
                         " status, reversal, cancelled, counterparty, counterparty_account, remittance, match_status,"
                         " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return time.perf_counter() - began


def _ours(data: bytes, account_id: int) -> tuple[float, int]:
    from hbbudget.db import session_scope
    from hbbudget.integrations.bank.camt import parse_camt
    from hbbudget.models import BankAccount
    from hbbudget.services import ingest

    began = time.perf_counter()
    statements = parse_camt(data)
    with session_scope() as session:
        result = ingest.ingest(session, session.get(BankAccount, account_id), statements, "bench")
    return time.perf_counter() - began, result.new


def run() -> list[dict]:
    data = _camt(N)
    with tempfile.TemporaryDirectory() as folder:
        account_id = _fresh_db(folder)
        base = _baseline(data, account_id, f"{folder}/bench.db")
        ours, stored = _ours(data, account_id)
    assert stored == N, stored
    ratio = base / ours
    return [
        {"name": f"ingest {N:,} camt entries: raw baseline", "target": "(info)",
         "measured": f"{N / base:,.0f}/s", "pass": True},
        {"name": f"ingest {N:,} camt entries: hbbudget", "target": "≥ 50% of base",
         "measured": f"{N / ours:,.0f}/s ({ratio:.0%})", "pass": ratio >= 0.5},
    ]
