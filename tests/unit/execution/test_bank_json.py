"""The JSON transaction API: strict page parsing, and the client over real HTTP with faults."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from hbbudget.integrations.bank.client import BankClient
from hbbudget.integrations.bank.jsonapi import parse_page
from hbbudget.integrations.bank.records import BankError, BankFormatError

ACCOUNT = "13050161520800000123"


def record(serial: str, amount: str = "100.00", direction: str = "D", **extra: object) -> dict:
    return {
        "serial_no": serial, "account": ACCOUNT, "booking_time": "2026-03-01T23:15:00+08:00", "amount": amount,
        "direction": direction, "counterparty_name": "石家庄某某科技有限公司", "counterparty_account": "6222001",
        "purpose": "P2026-001 办公设备", "reversal": False, "reversed_serial_no": None, **extra,
    }


def page(records: list[dict], next_cursor: str | None = None, **extra: object) -> bytes:
    doc = {"account": ACCOUNT, "currency": "CNY", "records": records, "next_cursor": next_cursor, **extra}
    return json.dumps(doc, ensure_ascii=False).encode()


# --- parse_page ---------------------------------------------------------------------------------------


def test_page_parses_signed_decimals() -> None:
    reversal = record("S3", "100.00", "C", reversal=True, reversed_serial_no="S1")
    data = page([record("S1"), record("S2", "0.5", "C"), reversal], "c2")
    statement, cursor = parse_page(data)
    assert cursor == "c2"
    assert (statement.account, statement.currency, statement.message_type) == (ACCOUNT, "CNY", "json")
    assert statement.reconciles is None
    debit, credit, reversal = statement.entries
    assert debit.amount == Decimal("-100.00") and isinstance(debit.amount, Decimal)
    assert debit.booking_date == date(2026, 3, 1)  # 23:15 China time: its own date, not UTC's
    assert (debit.ref, debit.bank_serial, debit.status) == ("S1", "S1", "BOOK")
    assert (debit.counterparty, debit.counterparty_account, debit.remittance) == (
        "石家庄某某科技有限公司", "6222001", "P2026-001 办公设备")
    assert credit.amount == Decimal("0.5")
    assert reversal.reversal and reversal.reversal_of == "S1" and reversal.amount == Decimal("100.00")


def test_optional_fields_may_be_absent_or_null() -> None:
    required = ("serial_no", "account", "booking_time", "amount", "direction")
    minimal = {k: v for k, v in record("S1").items() if k in required}
    e = parse_page(page([minimal, record("S2", counterparty_name=None)]))[0].entries[0]
    assert (e.counterparty, e.remittance, e.reversal, e.reversal_of) == ("", "", False, None)


def test_yen_page_takes_whole_amounts_only() -> None:
    doc = json.loads(page([record("S1", "1500")]))
    doc["currency"] = "JPY"
    assert parse_page(json.dumps(doc).encode())[0].entries[0].amount == Decimal("-1500")
    doc["records"][0]["amount"] = "1500.5"
    with pytest.raises(BankFormatError, match="小数位"):
        parse_page(json.dumps(doc).encode())


BAD_RECORDS = [
    ({"amount": "1e5"}, "金额 amount 无效"),
    ({"amount": "abc"}, "金额 amount 无效"),
    ({"amount": "12.345"}, "小数位超过 CNY 的 2 位"),
    ({"amount": "-5.00"}, "金额 amount 无效"),
    ({"amount": "+5.00"}, "金额 amount 无效"),
    ({"amount": " 5.00"}, "金额 amount 无效"),
    ({"amount": "NaN"}, "金额 amount 无效"),
    ({"amount": "1" * 30}, "金额 amount 无效"),
    ({"amount": "007.00"}, "金额 amount 无效"),
    ({"amount": 12.5}, "必须是字符串"),
    ({"amount": None}, "必须是字符串"),
    ({"direction": "X"}, "direction"),
    ({"direction": "d"}, "direction"),
    ({"booking_time": "2026-13-01T10:00:00+08:00"}, "booking_time 无效"),
    ({"booking_time": "昨天"}, "booking_time 无效"),
    ({"booking_time": "2026-03-01T10:00:00"}, "带时区"),
    ({"booking_time": "2026-03-01"}, "带时区"),
    ({"reversal": "yes"}, "reversal"),
    ({"serial_no": ""}, "serial_no"),
    ({"serial_no": 123}, "serial_no"),
    ({"account": "other"}, "账号"),
    ({"purpose": 5}, "purpose"),
    ({"serial_no": "S1", "amount": "100.01"}, "流水号 'S1' 重复且内容与第 1 条不一致"),
    ({"serial_no": "S1", "direction": "C"}, "流水号 'S1' 重复且内容与第 1 条不一致"),
]


@pytest.mark.parametrize(("change", "needle"), BAD_RECORDS)
def test_bad_record_is_refused_with_its_index(change: dict, needle: str) -> None:
    bad = {**record("S2"), **change}
    with pytest.raises(BankFormatError, match=needle) as info:
        parse_page(page([record("S1"), bad]))
    assert "第 2 条（records[1]）" in str(info.value)


def test_identical_repeated_records_are_skipped_and_counted() -> None:
    same = record("S1")
    statement, _ = parse_page(page([same, record("S2"), dict(same), {**same, "purpose": " P2026-001 办公设备 "}]))
    assert [e.ref for e in statement.entries] == ["S1", "S2"]  # the same record once, in first-seen order
    assert statement.duplicates == 2
    assert parse_page(page([record("S1"), record("S2")]))[0].duplicates == 0


@pytest.mark.parametrize(("booking_time", "day"), [
    ("2026-03-31T23:30:00+08:00", date(2026, 3, 31)),
    ("2026-03-31T16:00:00+00:00", date(2026, 4, 1)),  # midnight in Beijing: the next month
    ("2026-03-31T15:59:59Z", date(2026, 3, 31)),
    ("2026-12-31T11:00:00-05:00", date(2027, 1, 1)),  # across the year end
    ("2026-04-01T00:30:00+09:00", date(2026, 3, 31)),  # Tokyo's early hours: still the day before in Beijing
])
def test_booking_date_is_the_date_in_china_time(booking_time: str, day: date) -> None:
    statement, _ = parse_page(page([record("S1", booking_time=booking_time)]))
    assert statement.entries[0].booking_date == statement.entries[0].value_date == day


@pytest.mark.parametrize("key", ["serial_no", "account", "booking_time", "amount", "direction"])
def test_missing_required_field(key: str) -> None:
    bad = record("S1")
    del bad[key]
    with pytest.raises(BankFormatError, match=r"records\[0\]"):
        parse_page(page([bad]))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "不是有效的交易明细 JSON"),
        (b"<html>502 Bad Gateway</html>", "不是有效的交易明细 JSON"),
        (page([record("S1")])[:-20], "不是有效的交易明细 JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[]", "顶层必须是对象"),
        (b'{"account": "A", "currency": "CNY", "records": []}', "next_cursor"),
        (b'{"account": "A", "currency": "rmb", "records": [], "next_cursor": null}', "币种无效"),
        (b'{"account": "A", "currency": "CNY", "records": {}, "next_cursor": null}', "records"),
        (b'{"account": "A", "currency": "CNY", "records": [], "next_cursor": NaN}', "NaN"),
        (b'{"account": "A", "currency": "CNY", "records": [], "next_cursor": 7}', "next_cursor"),
        (b"[" * 100000, "不是有效的交易明细 JSON"),
    ],
)
def test_bad_page(data: bytes, needle: str) -> None:
    with pytest.raises(BankFormatError, match=needle):
        parse_page(data)


def test_page_size_limit() -> None:
    with pytest.raises(BankFormatError, match="文件过大"):
        parse_page(page([record("S1")]), max_bytes=50)


# --- the client over real HTTP ------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        status, body, delay, truncate = self.server.route(self.path)  # type: ignore[attr-defined]
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if truncate:  # promise the whole body, send part of it, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout test) leaves a broken pipe behind


class FakeBank:
    """Serves responses keyed by request path (query included); unknown paths get 404."""

    def __init__(self) -> None:
        self.responses: dict[str, tuple[int, bytes, float, bool]] = {}
        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        self.server.seen = []  # type: ignore[attr-defined]
        not_found = (404, b"{}", 0.0, False)
        self.server.route = lambda path: self.responses.get(path, not_found)  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def on(self, path: str, body: bytes, status: int = 200, delay: float = 0.0, truncate: bool = False) -> None:
        self.responses[f"/api/accounts/{ACCOUNT}/{path}"] = (status, body, delay, truncate)

    @property
    def seen(self) -> list[str]:
        return self.server.seen  # type: ignore[attr-defined]


@pytest.fixture
def bank() -> Iterator[FakeBank]:
    fake = FakeBank()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def client(bank: FakeBank, **kwargs: object) -> BankClient:
    return BankClient(bank.url, ACCOUNT, **{"timeout": 2.0, **kwargs})  # type: ignore[arg-type]


def test_paging_follows_the_cursor(bank: FakeBank) -> None:
    bank.on("transactions", page([record("S1"), record("S2", "5.00", "C")], "p2"))
    bank.on("transactions?cursor=p2", page([record("S3")], None))
    with client(bank) as c:
        pages = list(c.fetch_json())
    assert [cursor for _, cursor in pages] == ["p2", None]
    assert [e.ref for s, _ in pages for e in s.entries] == ["S1", "S2", "S3"]
    assert bank.seen == [f"/api/accounts/{ACCOUNT}/transactions", f"/api/accounts/{ACCOUNT}/transactions?cursor=p2"]


def test_paging_resumes_from_a_stored_cursor(bank: FakeBank) -> None:
    bank.on("transactions?cursor=p2", page([record("S3")], None))
    with client(bank) as c:
        [(statement, cursor)] = list(c.fetch_json("p2"))
    assert cursor is None and statement.entries[0].ref == "S3"


def test_http_500(bank: FakeBank) -> None:
    bank.on("transactions", page([record("S1")], "p2"))
    bank.on("transactions?cursor=p2", b'{"error": "internal"}', status=500)
    with client(bank) as c:
        pages = c.fetch_json()
        first, _ = next(pages)  # the good page arrives before the fault
        assert first.entries[0].ref == "S1"
        with pytest.raises(BankError, match="银行接口返回 HTTP 500"):
            next(pages)


def test_truncated_body(bank: FakeBank) -> None:
    bank.on("transactions", page([record(f"S{i}") for i in range(50)]), truncate=True)
    with client(bank) as c, pytest.raises(BankError, match="不完整"):
        list(c.fetch_json())


def test_slow_response_times_out(bank: FakeBank) -> None:
    bank.on("transactions", page([record("S1")]), delay=1.0)
    started = time.monotonic()
    with client(bank, timeout=0.2) as c, pytest.raises(BankError, match="银行接口超时"):
        list(c.fetch_json())
    assert time.monotonic() - started < 0.9


def test_malformed_records(bank: FakeBank) -> None:
    bank.on("transactions", page([record("S1"), record("S2", amount="1e5")]))
    with client(bank) as c, pytest.raises(BankError, match=r"交易明细无效.*records\[1\].*1e5") as info:
        list(c.fetch_json())
    assert isinstance(info.value.__cause__, BankFormatError)


def test_page_about_another_account(bank: FakeBank) -> None:
    other = json.loads(page([]))
    other["account"] = "999"
    bank.on("transactions", json.dumps(other).encode())
    with client(bank) as c, pytest.raises(BankError, match="其他账户"):
        list(c.fetch_json())


def test_cursor_that_does_not_advance_and_page_limit(bank: FakeBank) -> None:
    bank.on("transactions?cursor=loop", page([], "loop"))
    with client(bank) as c, pytest.raises(BankError, match="游标未前进"):
        list(c.fetch_json("loop"))
    bank.on("transactions", page([], "a"))
    bank.on("transactions?cursor=a", page([], "b"))
    bank.on("transactions?cursor=b", page([], "c"))
    with client(bank, max_pages=2) as c, pytest.raises(BankError, match="超过 2 页"):
        list(c.fetch_json())


def test_oversized_body(bank: FakeBank) -> None:
    bank.on("transactions", page([record(f"S{i}") for i in range(100)]))
    with client(bank, max_bytes=1000) as c, pytest.raises(BankError, match="过大"):
        list(c.fetch_json())


def test_connection_refused() -> None:
    fake = FakeBank()
    url = fake.url
    fake.server.shutdown()
    fake.server.server_close()
    with BankClient(url, ACCOUNT, timeout=1.0) as c, pytest.raises(BankError, match="无法连接银行接口"):
        list(c.fetch_json())


def test_fetch_camt_over_http(bank: FakeBank, shared_dir: str) -> None:
    with open(os.path.join(shared_dir, "samples", "camt", "iso-mdr_camt053v04_business-sample_dvbern.xml"), "rb") as f:
        bank.on("camt053?from=2010-10-18", f.read())
    with client(bank) as c:
        [statement] = c.fetch_camt(date(2010, 10, 18))
    assert statement.reconciles is True and len(statement.entries) == 3


def test_fetch_camt_refuses_hostile_and_broken_bodies(bank: FakeBank) -> None:
    bank.on("camt053", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>')
    with client(bank) as c, pytest.raises(BankError, match="禁止 DTD") as info:
        c.fetch_camt()
    assert "root:" not in str(info.value)
    bank.on("camt053", b"<Document><BkToCstmrStmt><Stmt>", status=200)
    with client(bank) as c, pytest.raises(BankError, match="对账单无效"):
        c.fetch_camt()


def test_injected_transport() -> None:
    body = page([record("S1")])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with BankClient("http://bank.invalid", ACCOUNT, transport=transport) as c:
        assert [s.entries[0].ref for s, _ in c.fetch_json()] == ["S1"]


def test_fetch_camt054_and_camt052_by_message_type(bank: FakeBank, shared_dir: str) -> None:
    def sample(name: str) -> bytes:
        with open(os.path.join(shared_dir, "samples", "camt", name), "rb") as f:
            return f.read()

    bank.on("camt054", sample("postfinance_camt054v08_sps2019_dvbern.xml"))
    bank.on("camt052", sample("fffs-finland_camt052v02_sample_moov.xml"))
    bank.on("camt053", sample("postfinance_camt054v08_sps2019_dvbern.xml"))  # a gateway serving the wrong message
    with client(bank) as c:
        [notification] = c.fetch_camt(message="camt.054")
        reports = c.fetch_camt(message="camt.052")
        with pytest.raises(BankError, match="报文类型与请求的 camt.053 不符"):
            c.fetch_camt()
        with pytest.raises(ValueError, match="不支持的报文类型"):
            c.fetch_camt(message="camt.099")
    assert notification.message_type == "camt.054" and notification.entries[0].amount == Decimal("1692.22")
    assert [r.message_type for r in reports] == ["camt.052", "camt.052"]
    assert bank.seen == [f"/api/accounts/{ACCOUNT}/camt054", f"/api/accounts/{ACCOUNT}/camt052",
                         f"/api/accounts/{ACCOUNT}/camt053"]
