"""A throwaway PostgreSQL server for the test suite: `python -m tests.pg_server start|stop DIR`.

Uses Debian's postgresql binaries; as root the cluster runs as the `postgres` user (PostgreSQL refuses root).
`start` prints the SQLAlchemy URL on stdout.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start(base: Path) -> str:
    pg = bin_dir()
    if pg is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_owner([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                  "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    port = _free_port()
    subprocess.run(_as_owner([str(pg / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                              "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
                              "start"]), check=True, capture_output=True)
    (base / "port").write_text(str(port))
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return url
        time.sleep(0.1)
    raise SystemExit("PostgreSQL did not start: see " + str(base / "server.log"))


def stop(base: Path) -> None:
    pg = bin_dir()
    if pg and (base / "data" / "postmaster.pid").exists():
        subprocess.run(_as_owner([str(pg / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "stop"]),
                       check=False, capture_output=True)


if __name__ == "__main__":
    action, folder = sys.argv[1], Path(sys.argv[2]).resolve()
    if action == "start":
        print(start(folder))
    else:
        stop(folder)
