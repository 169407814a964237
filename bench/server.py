"""The portal server as a real process on 127.0.0.1, and a keep-alive HTTP client thin enough not to be measured."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """One keep-alive connection to one branch's API; `seconds` covers sending the request and reading the body."""

    def __init__(self, port: int, branch: str) -> None:
        self.port = port
        self.base = f"/portal/{branch}/api/v1"
        self.headers: dict[str, str] = {}
        self.token: str | None = None
        self._conn = http.client.HTTPConnection(HOST, port, timeout=120)

    def close(self) -> None:
        self._conn.close()

    def call(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        body: Any = None,
        headers: dict[str, str] | None = None,
        absolute: bool = False,
    ) -> Answer:
        url = (path if absolute else self.base + path) + (f"?{urlencode(list(query))}" if query else "")
        sent = {**self.headers, **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self._conn.request(method, url, body=payload, headers=sent)
                response = self._conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closes a keep-alive connection left idle (uvicorn: 5 s), e.g. while floors run;
                # nothing reached it, so sending again on a new connection is safe.
                self._conn.close()
                if attempt == 2:
                    raise
                continue
            data = response.read()
            return Answer(response.status, data, time.perf_counter() - started)
        raise AssertionError("unreachable")

    def sign_in(self, email: str, password: str) -> None:
        answer = self.call("POST", "/auth/login", body={"email": email, "password": password})
        if answer.status != 200:
            raise RuntimeError(f"sign-in as {email} failed: {answer.status} {answer.body[:200]!r}")
        self.token = str(answer.json()["token"])
        self.headers["Authorization"] = f"Bearer {self.token}"


@contextmanager
def running_server(database_url: str, data_dir: Path, branch: str) -> Iterator[tuple[int, int]]:
    """`python -m server serve` on a free port; yields (port, process id) once /version answers."""
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(data_dir.resolve()),
        "PORTAL_MAIL_URL": (data_dir.resolve() / "mail").as_uri(),
    }
    env.pop("PORTAL_DATABASE_URL", None)
    command = ["-m", "server", "serve", "--database-url", database_url, "--host", HOST, "--port", str(port)]
    with _serving(command, env, port, f"/portal/{branch}/api/v1/version", data_dir / "server.log") as pid:
        yield port, pid


@contextmanager
def running_bare_app(log_dir: Path) -> Iterator[int]:
    """bench.bare_app under uvicorn as the portal runs it (its defaults: httptools, uvloop); yields the port."""
    port = _free_port()
    command = ["-m", "uvicorn", "bench.bare_app:app", "--host", HOST, "--port", str(port), "--no-access-log"]
    with _serving(command, dict(os.environ), port, "/ping", log_dir / "bare-app.log"):
        yield port


@contextmanager
def _serving(command: list[str], env: dict[str, str], port: int, ready_path: str, log_path: Path) -> Iterator[int]:
    """A Python server process started with `command`; yields its process id once `ready_path` answers 200."""
    log = log_path.open("wb")
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}; see {log_path}")
            try:
                probe = Api(port, "")
                ready = probe.call("GET", ready_path, absolute=True).status == 200
                probe.close()
                if ready:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 120 s")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
