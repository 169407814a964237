"""Housekeeping inside a server that owns its database (SQLite): at start-up, then every interval.

It runs on a thread of its own, so requests never wait for it beyond one short batch (see
server/services/housekeeping.py); PostgreSQL deployments run `python -m server housekeeping` on a
schedule instead, once for all their processes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from server.services.housekeeping import housekeeping

log = logging.getLogger(__name__)

# How long shutting down waits for a batch in progress; the thread is a daemon, so a database that
# hangs cannot keep the process alive beyond it.
_STOP_WAIT_SECONDS = 5.0


class Housekeeper:
    def __init__(self, run: Callable[[], object], interval: timedelta) -> None:
        self._run = run
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(_STOP_WAIT_SECONDS)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._run()
            except Exception:
                # A database busy or gone for a while: the next round tries again; the server serves on.
                log.exception("housekeeping failed; trying again in %s", self._interval)
            self._stopping.wait(self._interval.total_seconds())


def housekeeping_lifespan(interval: timedelta) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that keeps the app's own database tidy while it serves."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        keeper = Housekeeper(lambda: housekeeping(state.session_factory, state.settings), interval)
        keeper.start()
        try:
            yield
        finally:
            await asyncio.to_thread(keeper.stop)

    return lifespan
