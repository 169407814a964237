"""A proxy on a free local port in front of a real portal, misbehaving as a subclass says: it loses
an answer, fails a call or holds one back, so the client's failure paths meet a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

import requests


class Proxy(ThreadingHTTPServer):
    """A proxy on a free local port in front of the real portal, misbehaving as a subclass says."""

    def __init__(self, upstream: str, handler: type[BaseHTTPRequestHandler]) -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def relay(handler: BaseHTTPRequestHandler, upstream: str) -> requests.Response:
    """The request `handler` received, sent on to the portal at `upstream`."""
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else None
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
    return requests.request(handler.command, upstream + handler.path, data=body, headers=headers, timeout=30)


def reply(handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], content: bytes) -> None:
    handler.send_response(status)
    for name in ("Content-Type", "Retry-After", "Idempotent-Replayed"):
        if name in headers:
            handler.send_header(name, headers[name])
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)


ProxyT = TypeVar("ProxyT", bound=Proxy)


@contextmanager
def serving(server: ProxyT) -> Iterator[ProxyT]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
