"""A local HTTP server that misbehaves on purpose, for the REST client's failure paths."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[[BaseHTTPRequestHandler], None]
PREFIX = "/portal/test/api/v1"


def answer(status: int, body: Any, headers: dict[str, str] | None = None, *, problem: bool = False) -> Behaviour:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        content_type = "application/problem+json" if problem else "application/json"
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    return respond


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Behaviour:
    body = {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code, **extra}
    return answer(status, body, headers, problem=True)


def malformed() -> Behaviour:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        payload = b'{"server_version": "1.0", "api_ver'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    return respond


def slow(seconds: float, then: Behaviour) -> Behaviour:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        then(handler)

    return respond


def hang(released: threading.Event) -> Behaviour:
    """Takes the request and never answers (a hung portal, a dead proxy) until `released` is set."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        released.wait()

    return respond


def sequence(*behaviours: Behaviour) -> Behaviour:
    """Each hit gets the next behaviour; the last one repeats."""
    remaining = list(behaviours)

    def respond(handler: BaseHTTPRequestHandler) -> None:
        current = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        current(handler)

    return respond


class FaultServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Behaviour] = {}
        self.hits: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _dispatch(self, method: str) -> None:
                path = self.path.split("?")[0].removeprefix(PREFIX)
                server.hits.append((method, path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                behaviour = server.routes.get((method, path), problem(404, "not_found", "Nothing here."))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    behaviour(self)

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/portal/test"

    def route(self, method: str, path: str, behaviour: Behaviour) -> None:
        self.routes[(method, path)] = behaviour

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
