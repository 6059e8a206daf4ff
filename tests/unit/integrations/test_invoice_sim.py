"""`hbbudget sim --invoice` serves the verification API over real HTTP; the client reads every answer and fault."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from hbbudget.integrations.invoice import client
from hbbudget.sim.invoice import InvoiceSim, create_app
from hbbudget.sim.server import ThreadedServer, free_port


def test_cli_starts_the_invoice_simulator() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hbbudget.cli", "sim", "--invoice", "--strict", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        assert client.verify(url, "", "26132000000012345678", "2026-04-01", "1590.00") == "不存在"
        httpx.post(f"{url}/admin/invoices", json={"number": "26132000000012345678", "date": "2026-04-01",
                                                  "total": "1590.00", "status": "作废"}).raise_for_status()
        assert client.verify(url, "", "26132000000012345678", "2026-04-01", "1590.00") == "作废"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def platform():
    sim = InvoiceSim(strict=False)
    sim.faults.timeout_seconds = 3
    with ThreadedServer(create_app(sim)) as url:
        yield sim, url


def test_answers_and_faults(platform) -> None:
    sim, url = platform
    assert client.verify(url, "013001900111", "12345678", "2026-03-09", "1286.00") == "正常"  # demo: unknown is 正常
    sim.register("013001900111", "12345678", "2026-03-09", "1286.00", "红冲")
    assert client.verify(url, "013001900111", "12345678", "2026-03-09", "1286.00") == "红冲"
    assert client.verify(url, "013001900111", "12345678", "2026-03-10", "1286.00") == "信息不符"
    for kind, message in (("http500", "HTTP 500"), ("malformed", "无法解析"), ("truncate", "无法解析"),
                          ("timeout", "超时")):
        httpx.post(f"{url}/admin/faults", json={"kind": kind}).raise_for_status()
        with pytest.raises(client.InvoiceError, match=message):
            client.verify(url, "013001900111", "12345678", "2026-03-09", "1286.00", timeout=1)
    with pytest.raises(client.InvoiceError, match="无法连接"):
        client.verify(f"http://127.0.0.1:{free_port()}", "", "1", "2026-01-01", "1.00", timeout=1)
    with pytest.raises(ValueError):
        sim.register("", "1", "2026-01-01", "1.00", "不存在")
