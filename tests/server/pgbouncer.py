"""PgBouncer in transaction mode (its usual production set-up) in front of a server test's PostgreSQL database.

Scaled-out deployments often reach PostgreSQL through a pooler. In transaction mode each transaction gets
whichever server connection is free, so anything a session keeps on its connection (a prepared statement,
a start-up option) is not there on the next one: the load test runs through one to prove the server
keeps nothing of the kind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from tests.server.live_helpers import free_port

# What a pooled deployment sets (README, "The server"): PgBouncer refuses the start-up options the
# server's connections otherwise carry.
POOLED_SERVER_ENV = {"PORTAL_PG_RANDOM_PAGE_COST": "database"}


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(path, os.X_OK)), None
    )


@contextmanager
def pgbouncer_in_front(database_url: str, work: Path) -> Iterator[str]:
    """Starts PgBouncer on a free port in front of `database_url`'s server; yields the URL through it."""
    binary = pgbouncer_binary()
    assert binary is not None, "pgbouncer is not installed"
    target = make_url(database_url)
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    users = work / "users.txt"
    users.write_text(f'"{target.username}" "{target.password or ""}"\n')
    config = work / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={target.host or '127.0.0.1'} port={target.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\n"
        "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n"
    )
    command = [binary, str(config)]
    if os.geteuid() == 0:  # PgBouncer will not run as root; it reads its files before switching
        command[1:1] = ["-u", "postgres"]
    log = (work / "pgbouncer.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    through = target.set(port=port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(through.set(drivername="postgresql").render_as_string(hide_password=False)):
                    break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"PgBouncer did not start; see {work / 'pgbouncer.log'}") from None
                time.sleep(0.1)
        yield through.render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
