"""A `requests` adapter whose connections can be cut from another thread: at quit, a call waiting on a
portal (or proxy) that took the connection and never answers comes back at once instead of after its
read timeout. Part of portal_client's transport; nothing else uses it.

urllib3 keeps no list of the connections it has handed out (a pool's own list holds only idle ones,
which is all `Session.close()` reaches), so the pools made here note every connection they open."""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager

if TYPE_CHECKING:  # urllib3's own types for its connections (protocols it defines only for checkers)
    from urllib3._base_connection import BaseHTTPConnection, BaseHTTPSConnection


class _Connections:
    """The connections one adapter's pools opened, idle or in use; they go when urllib3 drops them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[BaseHTTPConnection] = weakref.WeakSet()

    def add(self, connection: BaseHTTPConnection) -> None:
        with self._lock:
            self._open.add(connection)

    def cut(self) -> None:
        """Shuts each connected socket down: a recv() blocked on it in another thread returns at once
        (closing the descriptor alone does not wake it on Linux); its owner closes it as usual."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            sock: socket.socket | None = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed, or never connected
                    sock.shutdown(socket.SHUT_RDWR)


class _NotingHTTPPool(HTTPConnectionPool):
    noted: _Connections | None = None

    def _new_conn(self) -> BaseHTTPConnection:
        connection = super()._new_conn()
        if self.noted is not None:
            self.noted.add(connection)
        return connection


class _NotingHTTPSPool(HTTPSConnectionPool):
    noted: _Connections | None = None

    def _new_conn(self) -> BaseHTTPSConnection:
        connection = super()._new_conn()
        if self.noted is not None:
            self.noted.add(connection)
        return connection


class _NotingPoolManager(PoolManager):
    def __init__(self, noted: _Connections, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._noted = noted
        self.pool_classes_by_scheme = {"http": _NotingHTTPPool, "https": _NotingHTTPSPool}

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        if isinstance(pool, (_NotingHTTPPool, _NotingHTTPSPool)):
            pool.noted = self._noted
        return pool


class AbortableAdapter(HTTPAdapter):
    """Direct connections only: one through a proxy is not cut, and waits out its timeout on the
    network lane's abandoned thread (which no longer keeps the process alive)."""

    def __init__(self) -> None:
        self._noted = _Connections()
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager = _NotingPoolManager(
            self._noted, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )

    def cut_connections(self) -> None:
        self._noted.cut()
