"""`make run-cluster` (issue 17), started for real: PostgreSQL, Redis, three backend processes behind the proxy, the
test's bank simulator. Shown here: the scheduled bank poll runs once across the workers (one process holds the lease);
two browsers pinned to different workers both see a newly booked payment on 执行监控; killing the worker that holds
the lease (and serves one of the browsers) moves the jobs to another worker within the lease TTL, and that browser
reconnects to a surviving worker and keeps following the payments; a worker killed while websocket clients are
saving budget amounts through it loses no acknowledged edit.

Slow (one production build and three backends): marker `cluster`; `pytest -m cluster`. HBB_TEST_CLUSTER_VAR=DIR
with HBB_TEST_CLUSTER_PORT=PORT reuses a cluster folder whose frontend was built for that port."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from hbbudget.clock import current_fiscal_year
from hbbudget.models import BankAccount, JobLease, SyncRun
from hbbudget.services.demo.execution import ACCOUNTS
from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import ROOT, _free_port, login

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

WORKERS = 3
LEASE_TTL = 9  # seconds (renewed every 3)
POLL = 2  # seconds between bank polls


@pytest.fixture(scope="module")
def cluster(bank_sim):
    if not Path("/usr/bin/redis-server").exists() or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip("needs postgresql and redis-server (apt-get install postgresql redis-server)")
    reuse = os.environ.get("HBB_TEST_CLUSTER_VAR")
    # not under pytest's tmp folder: PostgreSQL runs as the `postgres` user, which must reach its data folder
    var = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="hbb-cluster-"))
    var.chmod(0o755)
    port = int(os.environ.get("HBB_TEST_CLUSTER_PORT", 0)) or _free_port()  # a reused build keeps its port
    pg_port, redis_port = _free_port(), _free_port()
    worker_port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HBB_", "REFLEX_"))}
    env.update({"HBB_DEMO": "0", "HBB_LEASE_TTL": str(LEASE_TTL), "HBB_BANK_POLL_SECONDS": str(POLL),
                "HBB_BANK_URL": bank_sim, "HBB_BACKUP_DIR": str(var / "backups"), "HBB_VAR_DIR": str(var)})
    log = var / "cluster.log"
    cmd = [sys.executable, "-m", "hbbudget.cluster", "--workers", str(WORKERS), "--port", str(port), "--var", str(var),
           "--pg-port", str(pg_port), "--redis-port", str(redis_port), "--worker-base-port", str(worker_port),
           "--no-simulators"] + (["--no-build"] if reuse else [])
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while "集群已启动" not in log.read_text():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        workers = [tuple(map(int, line.split())) for line in (var / "workers").read_text().split("\n") if line]
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/hbbudget")
        yield {"url": f"http://localhost:{port}", "log": log, "workers": workers, "engine": engine}
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)  # the cluster stops its servers and keeps the data
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if not reuse:
            shutil.rmtree(var, ignore_errors=True)


def _lease(cluster) -> tuple[str, float]:
    with Session(cluster["engine"]) as s:
        row = s.get(JobLease, "scheduler")
        return (row.holder, row.expires_at.timestamp()) if row else ("", 0.0)


def _worker_of(cluster, holder: str) -> tuple[int, int, int] | None:
    """The worker (index, port, pid) whose process group holds the lease (holder = host:pid:token)."""
    try:
        group = os.getpgid(int(holder.split(":")[1]))
    except (ProcessLookupError, IndexError, ValueError):
        return None
    return next((w for w in cluster["workers"] if w[2] == group), None)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout} s")


def _schedule_runs(cluster, account_no: str) -> list[float]:
    with Session(cluster["engine"]) as s:
        account = s.exec(select(BankAccount).where(BankAccount.number == account_no)).one()
        return [r.started_at.timestamp() for r in s.exec(
            select(SyncRun).where(SyncRun.account_id == account.id, SyncRun.trigger == "schedule")
            .order_by(SyncRun.id)).all()]


def test_the_bank_poll_runs_once_across_the_workers(cluster):
    holder = _wait_for(lambda: _worker_of(cluster, _lease(cluster)[0]), 60, "a worker holds the lease")
    assert holder in cluster["workers"]
    before = len(_schedule_runs(cluster, ACCOUNTS[0][0]))
    began = time.monotonic()

    def five_more() -> list[float] | None:
        runs = _schedule_runs(cluster, ACCOUNTS[0][0])
        return runs[before:] if len(runs) >= before + 5 else None

    runs = _wait_for(five_more, 60, "five scheduled polls")
    elapsed = time.monotonic() - began
    # three schedulers each polling would make about three runs per interval, some within moments of each other
    assert len(runs) <= elapsed / POLL + 2, (len(runs), elapsed)
    gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)]
    assert min(gaps) >= POLL * 0.5, gaps


def _monitor(browser, cluster, worker_index: int):
    context = browser.new_context(locale="zh-CN", base_url=cluster["url"], viewport={"width": 1440, "height": 1000})
    context.add_cookies([{"name": "hbb_worker", "value": str(worker_index), "url": cluster["url"]}])
    context.set_default_timeout(60_000)
    page = context.new_page()
    login(page, "chuzhang", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    page.goto("/monitor")
    expect(page.locator("#kpi-spent")).to_be_visible()
    return page


def _book(bank_sim: str, yuan: str) -> None:
    classroom = f"130100{current_fiscal_year()}P000004"  # 智慧教室改造 in the demo budget
    booked = httpx.post(f"{bank_sim}/admin/book", json={
        "account": ACCOUNTS[0][0], "amount": yuan, "direction": "D", "purpose": f"{classroom} 智慧教室设备采购",
        "counterparty": "河北智联科技服务有限公司"}, timeout=10)
    assert booked.status_code == 200


def _websockets(cluster) -> list[int]:
    return [int(n) for n in re.findall(r"websocket → 后端进程 (\d+)", cluster["log"].read_text())]


def test_browsers_on_two_workers_follow_a_payment_and_survive_the_lease_holder_being_killed(browser, cluster,
                                                                                             bank_sim):
    lease_worker = _wait_for(lambda: _worker_of(cluster, _lease(cluster)[0]), 60, "a worker holds the lease")
    other = next(w for w in cluster["workers"] if w != lease_worker)
    seen = len(_websockets(cluster))
    pages = [_monitor(browser, cluster, lease_worker[0]), _monitor(browser, cluster, other[0])]
    assert {lease_worker[0], other[0]} <= set(_websockets(cluster)[seen:])  # the proxy put them on the two workers

    spent = [p.locator("#kpi-spent").inner_text() for p in pages]
    _book(bank_sim, "1000.00")
    began = time.monotonic()
    for page, text in zip(pages, spent, strict=True):
        expect(page.locator("#kpi-spent")).not_to_have_text(text, timeout=30_000)
    elapsed = time.monotonic() - began
    assert elapsed <= POLL + 5, f"both pages updated {elapsed:.1f} s after the booking"

    # kill the worker that holds the lease and serves the first browser: no goodbye, no lease release
    holder, _ = _lease(cluster)
    os.killpg(lease_worker[2], signal.SIGKILL)
    killed = time.monotonic()
    new_holder = _wait_for(lambda: (h := _lease(cluster)[0]) != holder and _worker_of(cluster, h), LEASE_TTL * 3,
                           "another worker takes the lease")
    moved = time.monotonic() - killed
    assert new_holder != lease_worker and moved <= LEASE_TTL + LEASE_TTL / 3 + 3, f"lease moved after {moved:.1f} s"

    spent = [p.locator("#kpi-spent").inner_text() for p in pages]
    _book(bank_sim, "2000.00")
    for n, (page, text) in enumerate(zip(pages, spent, strict=True)):  # the first reconnected to another worker
        try:
            # the killed worker's browser: Reflex's reconnect backoff, the new lease holder's next poll
            expect(page.locator("#kpi-spent")).not_to_have_text(text, timeout=60_000)
        except AssertionError:
            page.screenshot(path=str(cluster["log"].parent / f"after-kill-{n}.png"))
            raise
    print(f"\nboth browsers updated {elapsed:.1f} s after a booking; lease moved {moved:.1f} s after the kill")


def _alive(worker: tuple[int, int, int]) -> bool:
    """The worker's process group exists and its port answers (a worker killed by an earlier test may linger
    as a zombie that killpg(…, 0) still finds)."""
    try:
        os.killpg(worker[2], 0)
    except ProcessLookupError:
        return False
    try:
        socket.create_connection(("127.0.0.1", worker[1]), timeout=5).close()
    except OSError:
        return False
    return True


def test_a_worker_killed_mid_request_loses_no_acknowledged_edit(cluster, monkeypatch):
    """Four websocket clients (bench/load.py's: the frames the browser sends) pinned to one worker save amounts in
    the budget editor without pause; the worker is killed while edits are in flight. Every edit the page had
    acknowledged (the update showed the new amount) is in the database; the edit in flight may or may not be."""
    from bench import load

    holder = _worker_of(cluster, _lease(cluster)[0])
    victim = next(w for w in cluster["workers"] if w != holder and _alive(w))
    monkeypatch.setenv("HBB_DATABASE_URL", str(cluster["engine"].url.render_as_string(hide_password=False)))
    users = load.seed(os.environ["HBB_DATABASE_URL"], 4, current_fiscal_year())
    names = load._handler_names()
    port = int(cluster["url"].rsplit(":", 1)[1])
    tally = load.Tally()
    seen = len(_websockets(cluster))

    salt = int(time.time()) % 997  # new amounts on every run (an unchanged amount gets no answer)

    async def scenario() -> float:
        until = time.monotonic() + 120
        clients = [asyncio.create_task(load.run_client(port, names, u, until, tally, i, salt, 0,
                                                       cookie=f"hbb_worker={victim[0]}"))
                   for i, u in enumerate(users)]
        while len(tally.rtt) < 12:  # edits are flowing through the victim
            assert not all(c.done() for c in clients), tally.errors
            await asyncio.sleep(0.05)
        assert _websockets(cluster)[seen:] == [victim[0]] * len(users)  # all four went through the victim
        os.killpg(victim[2], signal.SIGKILL)
        killed_at = len(tally.rtt)
        await asyncio.wait_for(asyncio.gather(*clients), 90)
        return killed_at

    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(killed_at=asyncio.run(scenario())))
    thread.start()
    thread.join(200)
    assert "killed_at" in result, "the clients did not finish"
    assert len(tally.errors) == len(users), tally.errors  # each connection was cut by the kill
    assert all("ConnectionError" in e or "连接" in e or "TimeoutError" in e for e in tally.errors), tally.errors
    assert len(tally.acked) >= 5
    in_flight = sum(len(v) for v in tally.unacked.values())
    assert load.lost_edits(os.environ["HBB_DATABASE_URL"], tally) == []
    assert load.audit_chain(os.environ["HBB_DATABASE_URL"]) == ""  # entries appended at commit, concurrently
    print(f"\n{len(tally.rtt)} edits acknowledged ({result['killed_at']} before the kill), all stored; "
          f"{in_flight} in flight when the worker died")
