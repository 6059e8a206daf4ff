"""The bank simulator over real HTTP, read by our own httpx client and parsers."""

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


def test_fault_settings_are_validated():
    assert Faults.parse("http500:0.1,latency").rates == {"http500": 0.1, "latency": 1.0}
    for bad in ("explode:0.1", "http500:2"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


def test_unknown_account_is_404(sim):
    with ThreadedServer(create_app(sim)) as url:
        assert httpx.get(f"{url}/accounts/999/transactions").status_code == 404
