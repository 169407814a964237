"""A real portal server process for the integration tests (pytest plugin module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from app.services.demo_server import free_port, project_root
from tests.client import company

ROOT = project_root()


@dataclass(frozen=True)
class LivePortal:
    origin: str

    def portal_url(self, slug: str = "east") -> str:
        return f"{self.origin}/portal/{slug}"

    def api(self, slug: str = "east") -> str:
        return self.portal_url(slug) + "/api/v1"


def _server_available() -> bool:
    return (ROOT / "server" / "cli.py").exists()


class ServerProcess:
    """`python -m server serve` on one port over one database, which a test may stop (or kill) and
    start again (the port stays the same, so a signed-in client finds it back).

    By default the database is a new SQLite file in `work`; `database_url` serves an existing one
    (several processes may serve one PostgreSQL database), `env` adds server settings, and `slug`
    names a branch of the loaded data (the readiness probe asks that branch's /version)."""

    def __init__(
        self,
        work: Path,
        *,
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
        slug: str = "east",
    ) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.slug = slug
        self.env = {
            **os.environ,
            "PORTAL_DATA_DIR": str(work / "data"),
            "PORTAL_DATABASE_URL": database_url or f"sqlite:///{work / 'portal.sqlite3'}",
            "PORTAL_MAIL_URL": (work / "mail").as_uri(),
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.port = free_port()
        self.portal = LivePortal(origin=f"http://127.0.0.1:{self.port}")
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def load(self, document: dict[str, Any]) -> None:
        """Migrates the database and imports `document` into it."""
        data_file = self.work / "company.json"
        data_file.write_text(json.dumps(document), encoding="utf-8")
        for command in (["migrate"], ["import", str(data_file)]):
            subprocess.run([sys.executable, "-m", "server", *command], cwd=ROOT, env=self.env, check=True, timeout=120)

    def start(self) -> None:
        if self.running:
            return
        self._log = (self.work / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.portal.api(self.slug) + "/version", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.work / "server.log").read_text()) from None
                time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        self._end(kill=False)

    def kill(self) -> None:
        """SIGKILL: the process dies where it stands, nothing is cleaned up or committed (a crash)."""
        self._end(kill=True)

    def _end(self, kill: bool) -> None:
        process, self.process = self.process, None
        if process is not None:
            if kill:
                process.kill()
            else:
                process.terminate()
            process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        path = self.work / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running_portal(work: Path, document: dict[str, Any]) -> Iterator[LivePortal]:
    """A migrated server process loaded with `document`, serving on a free port until the block ends."""
    server = ServerProcess(work)
    server.load(document)
    server.start()
    try:
        yield server.portal
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    if not _server_available():
        pytest.skip("the portal server is not in this checkout yet")
    with running_portal(tmp_path_factory.mktemp("live-server"), company.build(date.today())) as portal:
        yield portal
