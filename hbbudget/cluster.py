"""`make run-cluster` (issue 17): the app scaled out on this machine.

PostgreSQL and Redis run as local servers with their data under var/cluster/ (kept between runs), the demo data is
loaded (idempotent), the frontend is built once, and HBB_WORKERS (default 3) backend processes share Reflex's Redis
state manager, each serving the built frontend and the websocket on its own port. A small proxy on PORT spreads
browser connections over the workers: a connection carrying the cookie `hbb_worker=N` goes to worker N (1-based;
tests pin browsers that way), others round-robin; a worker that does not answer is skipped, so a browser whose
worker died reconnects to another and finds its state in Redis. Every worker runs the scheduler, and the database
lease (jobs.py) lets one of them run the jobs. The bank and other simulators run as in `make run`.
Ctrl-C stops everything and leaves the data.

    python -m hbbudget.cluster [--workers N] [--port PORT]
    python -m hbbudget.cluster worker PORT     (one backend process; started by the above)
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hbbudget.settings import ROOT

BIN = Path(sys.executable).parent
COOKIE = b"hbb_worker="


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root its commands run as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _wait_port(port: int, what: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} 启动失败（退出码 {proc.returncode}）")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} 未在 {timeout:.0f} 秒内启动（端口 {port}）")


def start_postgres(base: Path, port: int) -> str:
    """Start (initialise on first use) the cluster's PostgreSQL under `base`; returns the database URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit("缺少 PostgreSQL，请运行：sudo apt-get install -y postgresql")
    pg = Path(found[-1]).parent
    data = base / "data"
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(base)]).returncode != 0:
            raise SystemExit(f"postgres 用户无法访问 {base}（上级目录权限），请用 --var 指定其他目录")
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_postgres([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    if not (data / "postmaster.pid").exists():
        subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                                     "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"]),
                       check=True, capture_output=True)
    _wait_port(port, "PostgreSQL")
    exists = subprocess.run([str(pg / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-tAc",
                             "SELECT 1 FROM pg_database WHERE datname = 'hbbudget'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run([str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "hbbudget"],
                       check=True, capture_output=True)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/hbbudget"


def stop_postgres(base: Path) -> None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found and (base / "data" / "postmaster.pid").exists():
        subprocess.run(_as_postgres([found[-1], "-D", str(base / "data"), "-m", "fast", "stop"]),
                       check=False, capture_output=True)


def start_redis(base: Path, port: int) -> subprocess.Popen:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        raise SystemExit("缺少 Redis，请运行：sudo apt-get install -y redis-server")
    base.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base),
                             "--save", "60 1", "--appendonly", "no", "--daemonize", "no",
                             "--logfile", str(base / "redis.log")], start_new_session=True)
    _wait_port(port, "Redis", proc)
    return proc


def base_env(port: int, database_url: str, redis_port: int, web_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "HBB_DATABASE_URL": database_url, "HBB_PORT": str(port), "HBB_BACKEND_PORT": str(port),
        "HBB_DEMO": env.get("HBB_DEMO", "1"),
        "REFLEX_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        # a handler holding a tab's state longer than this fails (LockExpiredError): Reflex's 10 s default is short
        # for a burst of logins (argon2) on two cores; bench/load.py showed it
        "REFLEX_REDIS_LOCK_EXPIRATION": env.get("REFLEX_REDIS_LOCK_EXPIRATION", "30000"),
        "REFLEX_API_URL": f"http://localhost:{port}",  # the browser talks to the proxy, never to a worker
        "REFLEX_WEB_WORKDIR": str(web_dir),  # its own build folder: `make run` keeps .web
        "REFLEX_USE_NPM": "1", "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_HTTP_CLIENT_BIND_ADDRESS": "0.0.0.0",
    })
    return env


def build_frontend(env: dict[str, str]) -> None:
    """Compile the app and build the production frontend once (the workers serve it, none compiles)."""
    registry = subprocess.run([str(BIN / "npm"), "config", "get", "registry"], env=env, capture_output=True,
                              text=True).stdout.strip()
    if registry:
        env["NPM_CONFIG_REGISTRY"] = registry
    subprocess.run([str(BIN / "reflex"), "export", "--frontend-only", "--no-zip", "--env", "prod"],
                   cwd=ROOT, env=env, check=True)


def start_worker(index: int, port: int, env: dict[str, str], logs: Path) -> subprocess.Popen:
    out = (logs / f"worker{index}.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "hbbudget.cluster", "worker", str(port)], cwd=ROOT,
                            env={**env, "HBB_WORKER_INDEX": str(index)}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def run_worker(port: int) -> None:
    """One backend process in production mode on `port`: Reflex's own prod server (Granian, one worker),
    the frontend built by `build_frontend` mounted, nothing compiled."""
    os.environ["GRANIAN_WORKERS"] = "1"
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from reflex.utils import exec as reflex_exec
    from reflex_base import constants
    from reflex_base.constants.base import LogLevel
    from reflex_base.environment import environment

    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)  # what `reflex run --env prod` does before starting its server

    reflex_exec.run_backend_prod("127.0.0.1", port, LogLevel.WARNING, mount_frontend_compiled_app=True)


class Proxy:
    """TCP proxy over the workers' ports: the first request's Cookie picks a worker, else round-robin."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.turn = itertools.cycle(range(len(ports)))

    def order(self, head: bytes) -> list[int]:
        first = next(self.turn)
        ranked = [self.ports[(first + i) % len(self.ports)] for i in range(len(self.ports))]
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"cookie:") and COOKIE in line:
                value = line.split(COOKIE, 1)[1].split(b";", 1)[0].strip()
                if value.isdigit() and 1 <= int(value) <= len(self.ports):
                    pinned = self.ports[int(value) - 1]
                    ranked = [pinned] + [p for p in ranked if p != pinned]
        return ranked

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        for port in self.order(head):
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        if head.startswith(b"GET /_event"):  # one line per websocket: which worker serves that browser
            print(f"websocket → 后端进程 {self.ports.index(port) + 1}", flush=True)
        up_writer.write(head)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def serve(self, port: int) -> None:
        server = await asyncio.start_server(self.handle, "0.0.0.0", port, limit=256 * 1024)
        async with server:
            await server.serve_forever()


def start_simulators(port: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    sim_port, oa_port = os.environ.get("SIM_PORT", "8701"), os.environ.get("OA_SIM_PORT", "8705")
    cli = [sys.executable, "-m", "hbbudget.cli", "sim"]
    commands = [["--demo", "--port", sim_port],
                ["--oa", "--demo", "--port", oa_port, "--callback", f"http://127.0.0.1:{port}/api/oa/callback"],
                ["--invoice"], ["--fincloud"], ["--evidence"]]
    env["HBB_BANK_URL"] = f"http://127.0.0.1:{sim_port}"
    out = (logs / "simulators.log").open("ab")
    return [subprocess.Popen(cli + args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True) for args in commands]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 20
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _interrupt(_sig, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hbbudget.cluster", description="PostgreSQL + Redis + N 个后端进程")
    parser.add_argument("mode", nargs="?", default="cluster", choices=["cluster", "worker"])
    parser.add_argument("worker_port", nargs="?", type=int)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("HBB_WORKERS", "3")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--var", type=Path, default=Path(os.environ.get("HBB_CLUSTER_DIR", ROOT / "var" / "cluster")))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("HBB_CLUSTER_PG_PORT", "5433")))
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("HBB_CLUSTER_REDIS_PORT", "6380")))
    parser.add_argument("--worker-base-port", type=int,
                        default=int(os.environ.get("HBB_CLUSTER_WORKER_PORT", "3101")))
    parser.add_argument("--no-simulators", action="store_true", help="不启动模拟器（测试自带银行模拟器）")
    parser.add_argument("--no-build", action="store_true", help="沿用上次构建的前端（代码未改时更快）")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        run_worker(args.worker_port)
        return 0
    if not 1 <= args.workers <= 16:
        raise SystemExit("HBB_WORKERS 应在 1 到 16 之间")
    base = args.var.resolve()
    logs = base / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, _interrupt)  # a TERM stops it like Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C even when started in the background
    try:
        url = start_postgres(base / "postgres", args.pg_port)
        procs.append(start_redis(base / "redis", args.redis_port))
        env = base_env(args.port, url, args.redis_port, base / "web")
        subprocess.run([sys.executable, "-m", "hbbudget.cli", "seed-demo"], cwd=ROOT, env=env, check=True)
        if not args.no_simulators:
            procs += start_simulators(args.port, env, logs)
        stamp = base / "web" / "built-for-port"  # the build names the port the browser connects to
        if not (args.no_build and stamp.exists() and stamp.read_text() == str(args.port)):
            build_frontend(env)
            stamp.write_text(str(args.port))
        ports = [args.worker_base_port + i for i in range(args.workers)]
        workers = [start_worker(i + 1, p, env, logs) for i, p in enumerate(ports)]
        procs += workers
        for i, (proc, port) in enumerate(zip(workers, ports, strict=True)):
            _wait_port(port, f"后端进程 {i + 1}", proc, timeout=300)
        (base / "workers").write_text("\n".join(f"{i + 1} {p} {w.pid}" for i, (p, w) in
                                                enumerate(zip(ports, workers, strict=True))) + "\n")
        print(f"集群已启动：http://localhost:{args.port}（{args.workers} 个后端进程：端口 "
              f"{', '.join(map(str, ports))}；PostgreSQL {args.pg_port}；Redis {args.redis_port}；日志 {logs}）",
              flush=True)
        asyncio.run(Proxy(ports).serve(args.port))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave servers behind
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("正在停止集群（数据保留）……", flush=True)
        _stop(procs)
        stop_postgres(base / "postgres")
    return 0


if __name__ == "__main__":
    sys.exit(main())
