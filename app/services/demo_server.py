"""The bundled demo portal: the server package run as a child process on 127.0.0.1.

The client still talks to it only over HTTP, exactly like a company's hosted portal; this
module merely owns the child's lifetime so it never outlives the app.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from app.services.errors import PortalError, UnreachableError
from app.services.paths import data_dir, log_dir
from app.services.portal_client import PortalClient, Timeouts

log = logging.getLogger(__name__)

DEMO_BRANCH = "north"
DEMO_EMAIL = "pat@example.com"
DEMO_STAFF_EMAIL = "office@example.com"  # the demo's office staff (SA-1)
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - the published demo account, not a secret


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def server_command() -> list[str]:
    """How to start `python -m server` here: a frozen app has no Python to run `-m` with, so it
    runs itself with main.py's hidden `--run-server` entry point."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--run-server"]
    return [sys.executable, "-m", "server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DemoServer:
    def __init__(self, server_data_dir: Path | None = None) -> None:
        self._data_dir = server_data_dir or data_dir() / "demo-server"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.port = 0

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def portal_url(self) -> str:
        return f"{self.origin}/portal/{DEMO_BRANCH}"

    @property
    def log_path(self) -> Path:
        return log_dir() / "demo-server.log"

    def start(self) -> None:
        if self.running:
            return
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        root = project_root()
        env = dict(os.environ, PORTAL_DATA_DIR=str(self._data_dir))
        if not getattr(sys, "frozen", False):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self._log_file = self.log_path.open("ab")
        command = [
            *server_command(),
            "serve",
            "--demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        log.info("starting demo server on port %s", self.port)
        self._process = subprocess.Popen(command, cwd=root, env=env, stdout=self._log_file, stderr=subprocess.STDOUT)

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        """Blocks until GET /version answers; call it off the GUI thread."""
        client = PortalClient(self.portal_url, timeouts=Timeouts(connect=1.0, read=5.0), retries=0)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._process is None or self._process.poll() is not None:
                    raise UnreachableError(
                        f"The demo company's server stopped while starting. Details are in {self.log_path}.",
                        code="demo_server_exited",
                    )
                try:
                    client.version()
                    return
                except PortalError:
                    if time.monotonic() > deadline:
                        raise UnreachableError(
                            f"The demo company's server did not start within {timeout:.0f} seconds. "
                            f"Details are in {self.log_path}.",
                            code="demo_server_timeout",
                        ) from None
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
