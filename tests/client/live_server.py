"""A real portal server process for the integration tests (pytest plugin module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

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


@contextmanager
def running_portal(work: Path, document: dict[str, Any]) -> Iterator[LivePortal]:
    """A server process on a fresh SQLite database holding `document`; stopped on exit."""
    env = dict(
        os.environ,
        PORTAL_DATA_DIR=str(work / "data"),
        PORTAL_DATABASE_URL=f"sqlite:///{work / 'portal.sqlite3'}",
        PORTAL_MAIL_URL=(work / "mail").as_uri(),
        PYTHONPATH=str(ROOT),
    )
    data_file = work / "company.json"
    data_file.write_text(json.dumps(document), encoding="utf-8")
    for command in (["migrate"], ["import", str(data_file)]):
        subprocess.run([sys.executable, "-m", "server", *command], cwd=ROOT, env=env, check=True, timeout=120)
    port = free_port()
    log_file = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    portal = LivePortal(origin=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(portal.api() + "/version", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "server.log").read_text()) from None
                time.sleep(0.1)
        yield portal
    finally:
        process.terminate()
        process.wait(timeout=10)
        log_file.close()


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    if not _server_available():
        pytest.skip("the portal server is not in this checkout yet")
    with running_portal(tmp_path_factory.mktemp("live-server"), company.build(date.today())) as portal:
        yield portal
