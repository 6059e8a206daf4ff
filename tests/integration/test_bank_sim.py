"""The bank simulator over real HTTP, read by our own httpx client and parsers."""

import time
from decimal import Decimal

import httpx
import pytest

from hbbudget.integrations.bank.client import BankClient
from hbbudget.integrations.bank.records import BankError
from hbbudget.sim.bank import PAGE_SIZE, BankSim, create_app
from hbbudget.sim.faults import Faults
from hbbudget.sim.server import ThreadedServer

ACCOUNT = "130101000000001"


@pytest.fixture
def sim():
    return BankSim([{"number": ACCOUNT, "name": "河北示范大学"}], ["DEMO-P001"], seed=1)


def _all_json(url: str) -> list:
    with BankClient(url, ACCOUNT, timeout=5) as client:
        return [e for statement, _ in client.fetch_json() for e in statement.entries]


def test_json_pages_follow_the_cursor_and_carry_chinese_text(sim):
    for _ in range(PAGE_SIZE + 7):
        sim.book_random(ACCOUNT)
    with ThreadedServer(create_app(sim)) as url:
        entries = _all_json(url)
    assert len(entries) == PAGE_SIZE + 7 and len({e.ref for e in entries}) == PAGE_SIZE + 7
    assert any("DEMO-P001" in e.remittance for e in entries)
    assert all(e.counterparty for e in entries) and any("有限公司" in e.counterparty for e in entries)
    assert all(e.amount == e.amount.quantize(Decimal("0.01")) for e in entries)


def test_camt_statement_reconciles_and_books_signed_amounts(sim):
    sim.book(ACCOUNT, Decimal("1234.56"), "D", "DEMO-P001 设备采购款")
    sim.book(ACCOUNT, Decimal("100000.00"), "C", "财政拨款")
    with ThreadedServer(create_app(sim)) as url, BankClient(url, ACCOUNT, timeout=5) as client:
        [statement] = client.fetch_camt()
    assert statement.reconciles is True
    assert [e.amount for e in statement.entries] == [Decimal("-1234.56"), Decimal("100000.00")]
    assert statement.closing - statement.opening == Decimal("98765.44")
    assert statement.entries[0].remittance == "DEMO-P001 设备采购款"


def test_booking_over_http_and_a_reversal(sim):
    with ThreadedServer(create_app(sim)) as url:
        booked = httpx.post(url + "/admin/book", json={"account": ACCOUNT, "amount": "88.80", "purpose": "会议费"})
        assert booked.status_code == 200
        sim.reverse(ACCOUNT, booked.json()["serial_no"])
        bad = httpx.post(url + "/admin/book", json={"account": ACCOUNT, "amount": "-1"})
        assert bad.status_code == 400 and "金额" in bad.json()["error"]
        entries = _all_json(url)
    assert [(e.amount, e.reversal) for e in entries] == [(Decimal("-88.80"), False), (Decimal("88.80"), True)]


@pytest.mark.parametrize("kind,message", [("http500", "HTTP 500"), ("truncate", ""), ("malformed", "")])
def test_injected_faults_surface_as_bank_errors(sim, kind, message):
    sim.book_random(ACCOUNT)
    with ThreadedServer(create_app(sim)) as url:
        httpx.post(url + "/admin/faults", json={"kind": kind})
        with pytest.raises(BankError) as err:
            with BankClient(url, ACCOUNT, timeout=5) as client:
                client.fetch_camt()
        assert message in str(err.value)
        with BankClient(url, ACCOUNT, timeout=5) as client:  # the next request is fine again
            assert client.fetch_camt()[0].entries


def test_timeout_fault_beyond_the_client_timeout(sim):
    sim.faults.timeout_seconds = 3
    with ThreadedServer(create_app(sim)) as url:
        sim.faults.inject("timeout")
        with pytest.raises(BankError, match="超时"):
            with BankClient(url, ACCOUNT, timeout=0.5) as client:
                client.fetch_camt()


def test_duplicate_fault_serves_an_overlapping_page(sim):
    for _ in range(PAGE_SIZE + 3):
        sim.book_random(ACCOUNT)
    with ThreadedServer(create_app(sim)) as url:
        first = httpx.get(f"{url}/accounts/{ACCOUNT}/transactions").json()
        httpx.post(url + "/admin/faults", json={"kind": "duplicate"})
        second = httpx.get(f"{url}/accounts/{ACCOUNT}/transactions", params={"cursor": first["next_cursor"]}).json()
    assert second["records"][0]["serial_no"] == first["records"][-1]["serial_no"]
    assert len(second["records"]) == 4


def test_duplicate_fault_repeats_a_record_on_every_page_first_included(sim):
    total = 2 * PAGE_SIZE + 3
    for _ in range(total):
        sim.book_random(ACCOUNT)
    serials = [r.serial_no for r in sim.records(ACCOUNT)]
    with ThreadedServer(create_app(sim)) as url:
        httpx.post(url + "/admin/faults", json={"kind": "duplicate", "count": 3})
        pages = []
        cursor = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            page = httpx.get(f"{url}/accounts/{ACCOUNT}/transactions", params=params).json()
            pages.append([r["serial_no"] for r in page["records"]])
            if not (cursor := page["next_cursor"]):
                break
        httpx.post(url + "/admin/faults", json={"kind": "duplicate", "count": 3})
        with BankClient(url, ACCOUNT, timeout=5) as client:
            read = [s for s, _ in client.fetch_json()]
    assert [len(p) - len(set(p)) for p in pages] == [1, 0, 0]  # the first page repeats one of its own records
    assert pages[0].count(serials[0]) == 2
    assert pages[1][0] == pages[0][-1] and pages[2][0] == pages[1][-1]  # later pages re-serve the one before
    assert all(len(p) > n for p, n in zip(pages, (PAGE_SIZE, PAGE_SIZE, 3)))  # every page carries one extra
    # our client keeps the in-page repeat once (counted); the re-served ones are for ingest to recognise
    assert [s.duplicates for s in read] == [1, 0, 0]
    assert sorted({e.ref for s in read for e in s.entries}) == sorted(serials)


def test_latency_fault_makes_a_fetch_slower_but_it_succeeds(sim):
    for _ in range(3):
        sim.book_random(ACCOUNT)
    sim.faults.latency_seconds = 0.3
    with ThreadedServer(create_app(sim)) as url, BankClient(url, ACCOUNT, timeout=5) as client:
        began = time.monotonic()
        plain = [e.ref for s, _ in client.fetch_json() for e in s.entries]
        quick = time.monotonic() - began
        httpx.post(url + "/admin/faults", json={"kind": "latency"})
        began = time.monotonic()
        slow = [e.ref for s, _ in client.fetch_json() for e in s.entries]
        slowed = time.monotonic() - began
        began = time.monotonic()
        [statement] = client.fetch_camt()  # the fault was used up: the next request is quick again
        after = time.monotonic() - began
    assert slow == plain and len(slow) == 3 and statement.reconciles is True
    assert slowed >= 0.3 and slowed > quick and after < 0.3


def test_camt052_and_camt054_are_served_and_read(sim):
    sim.book(ACCOUNT, Decimal("1234.56"), "D", "DEMO-P001 设备采购款")
    sim.book(ACCOUNT, Decimal("100.00"), "C", "财政拨款")
    with ThreadedServer(create_app(sim)) as url, BankClient(url, ACCOUNT, timeout=5) as client:
        [report] = client.fetch_camt(message="camt.052")
        [notification] = client.fetch_camt(message="camt.054")
        [statement] = client.fetch_camt()
    assert (report.message_type, notification.message_type, statement.message_type) == (
        "camt.052", "camt.054", "camt.053")
    assert report.reconciles is True and report.closing - report.opening == Decimal("-1134.56")  # ITBD → ITBD
    assert notification.reconciles is None and notification.opening is None  # notifications carry no balances
    for s in (report, notification):
        assert [(e.ref, e.amount, e.status) for e in s.entries] == [
            (e.ref, e.amount, e.status) for e in statement.entries]


def test_a_fault_can_wait_for_good_requests(sim):
    sim.book_random(ACCOUNT)
    with ThreadedServer(create_app(sim)) as url:
        queued = httpx.post(url + "/admin/faults", json={"kind": "http500", "after": 2}).json()["queued"]
        codes = [httpx.get(f"{url}/accounts/{ACCOUNT}/transactions").status_code for _ in range(4)]
    assert queued == [None, None, "http500"] and codes == [200, 200, 500, 200]


def test_fault_settings_are_validated():
    assert Faults.parse("http500:0.1,latency").rates == {"http500": 0.1, "latency": 1.0}
    for bad in ("explode:0.1", "http500:2"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


def test_unknown_account_is_404(sim):
    with ThreadedServer(create_app(sim)) as url:
        assert httpx.get(f"{url}/accounts/999/transactions").status_code == 404
