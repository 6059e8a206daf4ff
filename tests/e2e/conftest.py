"""The production build (`reflex run --env prod`) on a free port, on a fresh seeded SQLite database,
driven by Debian's Chromium through the PyPI playwright package (never `playwright install`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(base: str, proc: subprocess.Popen, log: Path, timeout: float = 420) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"reflex exited early ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/ping", timeout=2).status_code == 200 and \
                    httpx.get(base + "/login", timeout=2, follow_redirects=True).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"app not ready in {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def bank_sim():
    """The bank simulator the app polls: the demo accounts, no automatic bookings (tests POST /admin/book)."""
    from hbbudget.services.demo.execution import sim_accounts
    from hbbudget.sim.bank import BankSim, create_app
    from hbbudget.sim.server import ThreadedServer

    with ThreadedServer(create_app(BankSim(sim_accounts(), seed=5))) as url:
        yield url


def make_env(folder: Path, bank_url: str) -> dict[str, str]:
    """The environment of an app instance whose database, builds and backups live in `folder`."""
    port = _free_port()
    env = dict(os.environ)
    env.update({
        "HBB_DATABASE_URL": f"sqlite:///{folder / 'e2e.db'}",
        "HBB_DEMO": "0",
        "HBB_PORT": str(port),
        "HBB_SCHEDULER": "1",
        "HBB_BANK_URL": bank_url,
        "HBB_BANK_POLL_SECONDS": "2",
        "HBB_OA_POLL_SECONDS": "2",
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_HTTP_CLIENT_BIND_ADDRESS": "0.0.0.0",
        "E2E_FOLDER": str(folder),
        "HBB_BACKUP_DIR": str(folder / "backups"),  # never the project's var/
        # A build folder of its own: never collides with `make run` or another test run.
        "REFLEX_WEB_WORKDIR": str(folder / "web"),
        "REFLEX_STATES_WORKDIR": str(folder / "states"),
    })
    env.pop("HBB_TEST_DATABASE_URL", None)
    return env


@contextmanager
def serve(env: dict[str, str]) -> Iterator[str]:
    """Seed the demo data, serve the production build with `env`, yield its base URL; stopped on exit."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    # `python -m hbbudget.cli` from ROOT: this checkout's code and migrations (the `hbbudget` script may belong to
    # another checkout of the shared editable install)
    subprocess.run([sys.executable, "-m", "hbbudget.cli", "seed-demo"], env=env, cwd=ROOT, check=True,
                   timeout=300)
    registry = subprocess.run([str(BIN / "npm"), "config", "get", "registry"], env=env,
                              capture_output=True, text=True).stdout.strip()
    if registry:
        env["NPM_CONFIG_REGISTRY"] = registry
    port = env["HBB_PORT"]
    log = Path(env["E2E_FOLDER"]) / "reflex.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "reflex"), "run", "--env", "prod", "--frontend-port", port, "--backend-port", port],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://localhost:{port}"
    try:
        _wait_ready(base, proc, log)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def app_env(tmp_path_factory: pytest.TempPathFactory, bank_sim: str) -> dict[str, str]:
    return make_env(tmp_path_factory.mktemp("e2e"), bank_sim)


@pytest.fixture(scope="session")
def app_url(app_env: dict[str, str]):
    with serve(app_env) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(locale="zh-CN", base_url=app_url)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    context.close()


def login(page, username: str, password: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()
