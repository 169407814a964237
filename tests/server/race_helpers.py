"""Making a race happen on purpose: one request paused at the vulnerable point while another runs.

On PostgreSQL (READ COMMITTED, row locks) the other request either runs through or is seen waiting for a
lock the paused one holds; on SQLite every transaction takes the database's write lock up front (see
server/db.py), so the other request simply waits, and a moment's pause is enough to show it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import create_engine, text

from server.settings import Settings

T = TypeVar("T")


def is_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgresql")


def waiting_on_a_lock(settings: Settings) -> bool:
    """Whether some PostgreSQL session of this database waits for a row lock (the other request, behind us)."""
    return lock_waiters(settings) > 0


def lock_waiters(settings: Settings) -> int:
    """How many PostgreSQL sessions of this database wait for a lock (always 0 on SQLite)."""
    if not is_postgres(settings):
        return 0
    engine = create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            query = text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


class Meanwhile(Generic[T]):
    """Runs `action` in a thread and waits until it has finished or is seen waiting for a lock we hold (on
    PostgreSQL; on SQLite, where it waits for the write lock unseen, a second); `result()` joins it."""

    def __init__(self, settings: Settings, action: Callable[[], T]) -> None:
        self._answers: list[T] = []
        self._thread = threading.Thread(target=lambda: self._answers.append(action()))
        self._thread.start()
        deadline = time.monotonic() + (10 if is_postgres(settings) else 1)
        while self._thread.is_alive() and not waiting_on_a_lock(settings) and time.monotonic() < deadline:
            time.sleep(0.05)

    def result(self) -> T:
        self._thread.join(60)
        assert self._answers, "the other request never answered"
        return self._answers[0]


class Gate:
    """Holds each of `count` parallel requests at its check until every one of them has reached it, been
    answered without it, or waits for a lock (PostgreSQL); then lets them all through. Parallel guesses
    that all get past a plain read of "blocked" before any is counted are then all checked."""

    def __init__(self, settings: Settings, count: int) -> None:
        self._settings = settings
        self._count = count
        self._arrived = 0
        self._answered = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self.checked = 0

    def hold(self) -> None:
        with self._lock:
            self._arrived += 1
            self.checked += 1
        deadline = time.monotonic() + (10 if is_postgres(self._settings) else 0.5)
        while not self._open.is_set() and time.monotonic() < deadline:
            with self._lock:
                seen = self._arrived + self._answered
            if seen + lock_waiters(self._settings) >= self._count:
                self._open.set()
            else:
                time.sleep(0.05)
        self._open.set()  # were one left behind, the others need not wait for it too

    def answered(self, answer: T) -> T:
        with self._lock:
            self._answered += 1
        return answer
