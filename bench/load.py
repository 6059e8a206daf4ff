"""Load (issue 17): N concurrent real Reflex clients over the websocket (`/_event`, Engine.IO 4 / Socket.IO over a
plain wsproto websocket, the frames the browser's state.js sends), each signed in as a different user of a generated
org tree, editing the amounts of its own budget's lines in the editor (`BudgetEditorState.save_amount`, what the
amount cell's on_blur sends) for a period. Measured: p95 event round trip (send → the update), errors (a toast, a
refused or lost connection), lost edits (an acknowledged amount not in the database afterwards), CPU seconds and
peak memory per process (backend workers, Redis, PostgreSQL, from /proc).

Runs against `make run-cluster` started here (hbbudget/cluster.py, its own folder and ports) with HBB_LOAD_WORKERS
backends (default 3), then the same load on one worker. Environment: HBB_LOAD_CLIENTS (default 100),
HBB_LOAD_SECONDS (default 120; e.g. 15 for a quick run), HBB_LOAD_THINK (seconds between a client's answer and
its next edit, "low,high", default "1,3": a person typing the next amount of 5-9 digits and leaving the cell; "0.2,0.6"
is a bot's pace), HBB_LOAD_VAR (reuse a cluster folder and its built frontend), HBB_LOAD_PORT (the proxy port the
build is for). Target: p95 ≤ 250 ms, 0 errors, 0 lost edits, the audit chain intact afterwards. The rows say the
edits per second served.

    .venv/bin/python -m bench bench.load        (or python -m bench.load)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, RejectConnection, Request, TextMessage

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Load@2027x"
LINES = 20
RAMP = 20.0  # seconds over which the clients sign in (argon2 per login), before the editing period
NS = "/_event"
THINK = tuple(float(x) for x in os.environ.get("HBB_LOAD_THINK", "1,3").split(","))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _handler_names() -> dict[str, str]:
    """The websocket names of the handlers used, as the compiled frontend names them."""
    from reflex_base.utils.format import format_event_handler

    import hbbudget.hbbudget  # noqa: F401  (registers the page states)
    from hbbudget.pages.budgeting.editor_state import BudgetEditorState

    return {"load": format_event_handler(BudgetEditorState.load),
            "save": format_event_handler(BudgetEditorState.save_amount)}


def seed(database_url: str, clients: int, year: int) -> list[dict]:
    """A city with `clients` units, an operator (编制人) in each, a draft budget of LINES lines per unit."""
    os.environ["HBB_DATABASE_URL"] = database_url
    from sqlmodel import select

    from hbbudget import money
    from hbbudget.db import session_scope
    from hbbudget.models import Budget, BudgetLine, EconomicSubject, FunctionSubject, Org, User, UserRole
    from hbbudget.models.budget import MONTHS
    from hbbudget.services.core import orgs
    from hbbudget.services.security import auth, roles

    out = []
    hashed = auth.hash_password(PASSWORD)
    with session_scope() as session:
        econ = list(session.exec(select(EconomicSubject.code).where(
            EconomicSubject.fiscal_year == year, EconomicSubject.kind == "dept", EconomicSubject.level == 2)).all())
        funcs = list(session.exec(select(FunctionSubject.code).where(
            FunctionSubject.fiscal_year == year, FunctionSubject.level == 3)).all())
        op_role = roles.by_code(session, "operator")
        root = session.exec(select(Org).where(Org.code == "LOAD")).first() or orgs.create(
            session, "LOAD", "压测市财政局", "行政", region_code="139900")
        for i in range(clients):
            code = f"LOAD{i:04d}"
            user = session.exec(select(User).where(User.username == f"load{i:04d}")).first()
            if user is None:
                unit = orgs.create(session, code, f"压测单位{i:04d}", "其他事业", root)
                user = User(username=f"load{i:04d}", full_name=f"压测{i:04d}", org_id=unit.id, password_hash=hashed)
                session.add(user)
                session.flush()
                session.add(UserRole(user_id=user.id, role_id=op_role.id, org_id=unit.id, subtree=False))
                budget = Budget(org_id=unit.id, fiscal_year=year, round="一上", status="草稿")
                session.add(budget)
                session.flush()
                rnd = random.Random(i)
                for n in range(LINES):
                    fen = (n + 1) * 100_000
                    session.add(BudgetLine(budget_id=budget.id, econ_code=econ[n % len(econ)],
                                           func_code=rnd.choice(funcs), source="财政拨款", amount=fen,
                                           updated_by="压测", **dict(zip(MONTHS, money.spread(fen), strict=True))))
                session.flush()
            budget = session.exec(select(Budget).where(Budget.org_id == user.org_id, Budget.fiscal_year == year)).one()
            lines = session.exec(select(BudgetLine.id).where(BudgetLine.budget_id == budget.id)
                                 .order_by(BudgetLine.id)).all()
            out.append({"username": user.username, "budget_id": budget.id, "lines": list(lines)})
    return out


class Client:
    """One browser tab's websocket: Engine.IO 4 framing, Socket.IO namespace /_event, Reflex's `event` messages."""

    def __init__(self, port: int, names: dict[str, str], cookie: str = ""):
        self.port, self.names, self.token, self.cookie = port, names, str(uuid.uuid4()), cookie
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.parts: list[str] = []

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**22)
        host = f"localhost:{self.port}"
        self.writer.write(self.ws.send(Request(
            host=host, target=f"{NS}/?EIO=4&transport=websocket&token={self.token}",
            extra_headers=[(b"origin", f"http://{host}".encode())] + ([(b"cookie", self.cookie.encode())]
                                                                      if self.cookie else []))))
        self.pump = asyncio.create_task(self._pump())
        opened = await self._frame()
        assert opened.startswith("0"), opened
        self._send_text(f"40{NS},")
        joined = await self._frame()
        assert joined.startswith(f"40{NS},"), joined

    async def _pump(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self.ws.receive_data(data)
                for ev in self.ws.events():
                    if isinstance(ev, RejectConnection):
                        await self.inbox.put(None)
                        return
                    if isinstance(ev, Ping):
                        self.writer.write(self.ws.send(ev.response()))
                    elif isinstance(ev, CloseConnection):
                        await self.inbox.put(None)
                        return
                    elif isinstance(ev, TextMessage):
                        self.parts.append(ev.data)
                        if ev.message_finished:
                            text, self.parts = "".join(self.parts), []
                            if text == "2":  # Engine.IO ping → pong
                                self._send_text("3")
                            else:
                                await self.inbox.put(text)
                    elif isinstance(ev, AcceptConnection):
                        pass
        except (ConnectionError, OSError):
            pass
        await self.inbox.put(None)

    def _send_text(self, text: str) -> None:
        self.writer.write(self.ws.send(Message(data=text)))

    async def _frame(self, timeout: float = 60) -> str:
        got = await asyncio.wait_for(self.inbox.get(), timeout)
        if got is None:
            raise ConnectionError("连接已断开")
        return got

    def send(self, handler: str, payload: dict, path: str) -> None:
        data = {"name": self.names[handler], "payload": payload, "router_data": {"pathname": path, "asPath": path}}
        self._send_text(f"42{NS}," + json.dumps(["event", data], ensure_ascii=False))

    async def update(self, timeout: float = 60) -> dict:
        """The next state update (a delta and/or frontend events)."""
        while True:
            frame = await self._frame(timeout)
            if frame.startswith(f"42{NS},"):
                name, update = json.loads(frame[len(NS) + 3:])[:2]
                if name == "event":
                    update = json.loads(update) if isinstance(update, str) else update
                    if update.get("delta") or update.get("events"):
                        return update

    async def event(self, handler: str, payload: dict, path: str, timeout: float = 60) -> dict:
        """Send one event; return the first update after it."""
        self.send(handler, payload, path)
        return await self.update(timeout)

    async def close(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass
        self.pump.cancel()


def _toast(update: dict) -> str:
    """The message of an error toast in an update ('' when none): a new notice in NoticeState's delta
    (state/notices.py), or a toast among its frontend events."""
    for name, changes in (update.get("delta") or {}).items():
        if name.endswith("notice_state") and (notices := changes.get("notices_rx_state_")):
            if notices[-1].get("kind") == "error":
                return str(notices[-1].get("text", ""))[:120]
    for event in update.get("events") or []:
        code = str((event.get("payload") or {}).get("function", ""))
        if "__toast" in code:
            found = re.search(r'\("((?:[^"\\]|\\.)*)"', code)
            return json.loads(f'"{found.group(1)}"')[:120] if found else code[:120]
    return ""


@dataclass
class Tally:
    rtt: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    acked: dict[int, str] = field(default_factory=dict)  # line id → last acknowledged amount text
    unacked: dict[int, list[str]] = field(default_factory=dict)  # sent after the last ack, no answer


async def _login(port: int, username: str, cookie: str = "") -> str:
    """POST /api/session/login; the session token of the HttpOnly cookie it sets."""
    import httpx

    host = f"localhost:{port}"
    headers = {"origin": f"http://{host}", **({"cookie": cookie} if cookie else {})}
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=60) as http:
        answer = await http.post("/api/session/login", data={"username": username, "password": PASSWORD},
                                 headers=headers)
    sid = answer.cookies.get("hbb_sid")
    if not sid:
        raise RuntimeError(f"登录失败：{answer.status_code} {answer.headers.get('location', '')}")
    return sid


async def run_client(port: int, names: dict, user: dict, until: float, tally: Tally, index: int, salt: int,
                     delay: float, cookie: str = "") -> None:
    """Sign in, open the user's budget in the editor, save amounts until `until` (or the connection drops)."""
    path = f"/budgets/{user['budget_id']}"
    rnd = random.Random(index)
    client = None
    try:
        await asyncio.sleep(delay)  # people do not all sign in within the same second
        sid = await _login(port, user["username"], cookie)  # the HTTP form post, as the login page does
        client = Client(port, names, "; ".join(c for c in (cookie, f"hbb_sid={sid}") if c))
        await client.connect()
        await client.event("load", {}, path)
        n = 0
        while time.monotonic() < until:
            n += 1
            line = rnd.choice(user["lines"])
            # always a new amount (an unchanged one gets no answer): this run's salt, the client, the edit
            value = f"{1000 + (salt * 1_000_000 + index * 10_000 + n) % 90_000_000}.{n % 100:02d}"
            tally.unacked.setdefault(line, []).append(value)
            shown = (value, f"{Decimal(value):,.2f}")  # as typed, or formatted by the page
            began = time.perf_counter()
            client.send("save", {"line_id": str(line), "value": value}, path)
            while True:  # acknowledged = the page's update shows the new amount; an error toast = refused
                update = await client.update()
                if toast := _toast(update):
                    break
                if any(v in json.dumps(update.get("delta") or {}, ensure_ascii=False) for v in shown):
                    break
            tally.rtt.append((time.perf_counter() - began) * 1000)
            if toast:
                tally.errors.append(f"{user['username']}: {toast}")
                continue
            tally.acked[line] = value
            tally.unacked[line] = []
            await asyncio.sleep(rnd.uniform(*THINK))  # a person typing the next amount
    except Exception as err:  # a refused or dropped connection counts as an error
        tally.errors.append(f"{user['username']}: {type(err).__name__}: {str(err)[:200]}")
    finally:
        if client is not None:
            await client.close()


def audit_chain(database_url: str) -> str:
    """"" when the audit chain verifies after the run (every edit appended its entry concurrently), else why not."""
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from hbbudget.services.core import audit

    engine = create_engine(database_url)
    with Session(engine) as s:
        result = audit.verify(s)
    engine.dispose()
    return "" if result.ok else f"id={result.broken_id}: {result.reason}"


def lost_edits(database_url: str, tally: Tally) -> list[str]:
    """Acknowledged amounts that are not in the database (a later unanswered edit may have been stored instead)."""
    from sqlalchemy import create_engine
    from sqlmodel import Session, select

    from hbbudget import money
    from hbbudget.models import BudgetLine

    engine = create_engine(database_url)
    lost = []
    with Session(engine) as s:
        stored = dict(s.exec(select(BudgetLine.id, BudgetLine.amount).where(
            BudgetLine.id.in_(list(tally.acked)))).all())
    engine.dispose()
    for line, value in tally.acked.items():
        allowed = {money.parse_yuan(v) for v in [value, *tally.unacked.get(line, [])]}
        if stored.get(line) not in allowed:
            lost.append(f"line {line}: acknowledged {value}, stored {stored.get(line)}")
    return lost


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _proc_stat(pid: int) -> tuple[int, float, int]:
    """(process group, CPU seconds, resident kB) from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    rss = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmRSS:")), 0)
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks, rss


def _groups(var: Path) -> dict[str, set[int]]:
    """Process names → pids: each backend worker (its process group), Redis, PostgreSQL (the postmaster's group)."""
    names = {}
    for line in (var / "workers").read_text().split("\n"):
        if line:
            index, _port, pid = map(int, line.split())
            names[pid] = f"backend {index}"
    postmaster = int((var / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
    out: dict[str, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            group, _, _ = _proc_stat(int(entry.name))
            cmd = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if group in names:
            out.setdefault(names[group], set()).add(int(entry.name))
        elif int(entry.name) == postmaster or _parent(int(entry.name)) == postmaster:  # its backends
            out.setdefault("PostgreSQL", set()).add(int(entry.name))
        elif b"redis-server" in cmd and f":{_redis_port(var)}".encode() in cmd:
            out.setdefault("Redis", set()).add(int(entry.name))
    return out


def _redis_port(var: Path) -> int:
    return int((var / "redis-port").read_text()) if (var / "redis-port").exists() else -1


class Sampler:
    """CPU seconds used during the run and peak resident memory, per process group, sampled every second."""

    def __init__(self, var: Path):
        self.var, self.start, self.cpu, self.peak = var, {}, {}, {}

    def _read(self) -> dict[str, tuple[float, int]]:
        out = {}
        for name, pids in _groups(self.var).items():
            cpu = rss = 0
            for pid in pids:
                try:
                    _, c, r = _proc_stat(pid)
                except OSError:
                    continue
                cpu, rss = cpu + c, rss + r
            out[name] = (cpu, rss)
        return out

    async def run(self, stop: asyncio.Event) -> None:
        self.start = {k: v[0] for k, v in self._read().items()}
        while not stop.is_set():
            for name, (cpu, rss) in (await asyncio.to_thread(self._read)).items():
                self.cpu[name] = cpu - self.start.get(name, cpu)
                self.peak[name] = max(self.peak.get(name, 0), rss)
            try:
                await asyncio.wait_for(stop.wait(), 1)
            except TimeoutError:
                pass


async def drive(port: int, names: dict, users: list[dict], seconds: float, var: Path) -> tuple[Tally, Sampler]:
    tally, sampler, stop = Tally(), Sampler(var), asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    ramp = min(RAMP, seconds / 4)
    until = time.monotonic() + ramp + seconds
    salt = int(time.time()) % 997
    await asyncio.gather(*(run_client(port, names, u, until, tally, i, salt, ramp * i / len(users))
                           for i, u in enumerate(users)))
    stop.set()
    await sampling
    return tally, sampler


def start_cluster(var: Path, workers: int, port: int) -> tuple[subprocess.Popen, str]:
    pg_port, redis_port = _free_port(), _free_port()
    (var).mkdir(parents=True, exist_ok=True)
    (var / "redis-port").write_text(str(redis_port))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HBB_", "REFLEX_"))}
    env.update({"HBB_DEMO": "0", "HBB_SCHEDULER": "1", "HBB_BACKUP_DIR": str(var / "backups"),
                "HBB_VAR_DIR": str(var), "HBB_BANK_URL": "http://127.0.0.1:9"})  # no bank: polls fail fast
    log = var / f"cluster-{workers}.log"
    cmd = [sys.executable, "-m", "hbbudget.cluster", "--workers", str(workers), "--port", str(port),
           "--var", str(var), "--pg-port", str(pg_port), "--redis-port", str(redis_port),
           "--worker-base-port", str(_free_port()), "--no-simulators", "--no-build"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 900
    while "集群已启动" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text()[-3000:])
        time.sleep(1)
    return proc, f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/hbbudget"


def stop_cluster(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples, default=0.0)


def measure(workers: int, clients: int, seconds: float, var: Path, port: int) -> list[dict]:
    from hbbudget.clock import current_fiscal_year

    proc, url = start_cluster(var, workers, port)
    try:
        users = seed(url, clients, current_fiscal_year())
        names = _handler_names()
        tally, sampler = asyncio.run(drive(port, names, users, seconds, var))
        lost = lost_edits(url, tally)
        broken = audit_chain(url)
    finally:
        stop_cluster(proc)
    label = f"{workers} worker{'s' if workers > 1 else ''}, {clients} clients, {seconds:.0f} s, think {THINK[0]:g}–{THINK[1]:g} s"
    p95 = _p95(tally.rtt)
    for err in tally.errors[:5]:
        print(f"  error: {err}", file=sys.stderr)
    for item in lost[:5]:
        print(f"  lost: {item}", file=sys.stderr)
    rows = [{"name": f"load {label}: edit round trip p95 ({len(tally.rtt)} edits)", "target": "≤ 250 ms",
             "measured": f"{p95:.0f} ms", "unit": "ms", "pass": p95 <= 250 and bool(tally.rtt)},
            {"name": f"load {label}: errors", "target": "0", "measured": str(len(tally.errors)), "unit": "",
             "pass": not tally.errors},
            {"name": f"load {label}: edits served per second", "target": "(info)",
             "measured": f"{len(tally.rtt) / (seconds + min(RAMP, seconds / 4)):.1f}", "unit": "/s", "pass": True},
            {"name": f"load {label}: lost edits (acknowledged, not stored)", "target": "0",
             "measured": f"{len(lost)} of {len(tally.acked)}", "unit": "", "pass": not lost},
            {"name": f"load {label}: audit chain verifies after the run", "target": "intact",
             "measured": broken or "intact", "unit": "", "pass": not broken}]
    for name in sorted(sampler.cpu):
        rows.append({"name": f"load {label}: {name} CPU / peak memory", "target": "(info)",
                     "measured": f"{sampler.cpu[name]:.1f} s / {sampler.peak[name] / 1024:.0f} MB", "unit": "",
                     "pass": True})
    return rows


def run() -> list[dict]:
    if not Path("/usr/bin/redis-server").exists() or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        return [{"name": "load (cluster)", "target": "needs postgresql, redis-server", "measured": "skipped",
                 "unit": "", "pass": False}]
    clients = int(os.environ.get("HBB_LOAD_CLIENTS", "100"))
    seconds = float(os.environ.get("HBB_LOAD_SECONDS", "120"))
    workers = int(os.environ.get("HBB_LOAD_WORKERS", "3"))
    port = int(os.environ.get("HBB_LOAD_PORT", "0")) or _free_port()
    reuse = os.environ.get("HBB_LOAD_VAR")
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(reuse) if reuse else Path(tmp)
        var.chmod(0o755)  # PostgreSQL runs as the `postgres` user when this runs as root
        if not (var / "web" / "built-for-port").exists() or (var / "web" / "built-for-port").read_text() != str(port):
            _build(var, port)
        rows = measure(workers, clients, seconds, var, port)
        if workers > 1:
            rows += measure(1, clients, seconds, var, port)
    return rows


def _build(var: Path, port: int) -> None:
    """Build the frontend for `port` once (the cluster runs below use --no-build)."""
    from hbbudget import cluster

    env = cluster.base_env(port, "sqlite:///unused", 0, var / "web")
    cluster.build_frontend(env)
    (var / "web").mkdir(parents=True, exist_ok=True)
    (var / "web" / "built-for-port").write_text(str(port))


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['measured']} (target {row['target']}) {'PASS' if row['pass'] else 'MISS'}")
    sys.exit(0)
