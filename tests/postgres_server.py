"""A throwaway PostgreSQL server on 127.0.0.1 for the tests (Debian's ``postgresql`` package).

The PostgreSQL tests need a real server, and ``make test`` must start every service its
tests need: ``postgres_dsn`` (tests/conftest.py) uses ``OZG_TEST_POSTGRES_DSN`` when it is
set and otherwise starts a server from this module in a temporary data directory — one per
xdist worker, stopped at the end of the session. ``fsync=off``: the data directory is thrown
away, and durability is not what these tests check.

Without the binaries the tests skip with the install hint; under ``CI=true`` (``.ci/run``
installs the package) a missing server fails, as the browser does (tests/browser.py).

As a script it starts a server and prints its DSN, for a session by hand::

    python tests/postgres_server.py start /tmp/ozg-pg   # prints postgresql://…
    python tests/postgres_server.py stop /tmp/ozg-pg
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "install Debian's 'postgresql' package (apt-get install -y postgresql)"
USER = "ozg"
DATABASE = "ozg"
# initdb refuses to run as root; Debian's package creates this system user.
SYSTEM_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` (Debian's layout), else ``initdb`` on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable(f"no PostgreSQL server binaries (initdb): {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """One server: its directory (data, socket, log) and its port."""

    base: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "server.log"


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SYSTEM_USER, "--", *command]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL {what} failed ({done.returncode}): {done.stderr.strip()}")


def start(base: Path, port: int | None = None) -> PostgresServer:
    """initdb in ``base/data``, start on 127.0.0.1, create role and database ``ozg``."""
    binaries = bin_dir()
    server = PostgresServer(base.resolve(), port or _free_port())
    server.base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(server.base, SYSTEM_USER)
    _run(
        [
            str(binaries / "initdb"),
            "-D",
            str(server.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            # Byte order for text, as DuckDB sorts: the marts compare row for row.
            "--locale=C",
        ],
        "initdb",
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {server.port} -k {server.base} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    _run(
        [
            str(binaries / "pg_ctl"),
            "-D",
            str(server.data),
            "-o",
            options,
            "-l",
            str(server.log),
            "-w",
            "-t",
            "60",
            "start",
        ],
        "start",
    )
    _create_database(server)
    return server


def _create_database(server: PostgresServer) -> None:
    import psycopg2

    deadline = time.monotonic() + 30
    while True:
        try:
            connection = psycopg2.connect(
                host="127.0.0.1", port=server.port, user=USER, dbname="postgres"
            )
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    connection.autocommit = True
    with connection.cursor() as cursor:  # not `with connection`: that opens a transaction
        cursor.execute(f"create database {DATABASE}")
    connection.close()


def stop(base: Path) -> None:
    """Stop the server in ``base`` (fast shutdown); the directory is left to its owner."""
    data = base.resolve() / "data"
    if (data / "postmaster.pid").exists():
        _run([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], "stop")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/postgres_server.py start|stop <directory>", file=sys.stderr)
        return 2
    if argv[0] == "start":
        print(start(Path(argv[1])).dsn)
    else:
        stop(Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
