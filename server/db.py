"""Engine and session factory; SQLite and PostgreSQL behave alike through these."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

SSD_RANDOM_PAGE_COST = 1.1
# A connection pooler such as PgBouncer refuses start-up settings it does not track; behind one, set this
# to `database` (and the setting on the database with ALTER DATABASE ... SET) or to another number.
RANDOM_PAGE_COST_ENV = "PORTAL_PG_RANDOM_PAGE_COST"
LEAVE_TO_DATABASE = "database"


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # PostgreSQL's planner prices a random page read at 4 sequential ones by default, a figure for
    # spinning disks; on the SSDs servers run on today 1.1 is the usual setting. With 4 it counted a
    # large selection's due invoices (a list's `total`) by reading the whole table, where the
    # index that holds property, shared and balance answers the same count in half the time
    # (EXPLAIN ANALYZE on the benchmark's company: 9-14 ms against 4-5 ms). Set per connection at
    # start-up, so it costs no round trip and needs no right to change the database.
    # psycopg prepares a statement on the server from its fifth run on a connection. A transaction pooler
    # (PgBouncer's usual mode) hands each transaction whichever server connection is free, where that
    # name is unknown or already taken: the request failed with "prepared statement "_pg3_3" already
    # exists". Measured on the benchmark's company, preparing saved nothing: list pages took -22% to +9%
    # without it (PostgreSQL re-plans most of them with their values either way).
    connect_args = {"options": postgres_options(url), "prepare_threshold": None}
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args)


def postgres_options(url: str) -> str:
    """Ours first, then the operator's: PGOPTIONS and the URL's own `options`, which an `options`
    argument would otherwise replace (libpq reads PGOPTIONS only when none is given). A setting the
    operator made, random_page_cost included, is the one that holds."""
    given = make_url(url).query.get("options") or ()
    cost = random_page_cost()
    parts = [f"-c random_page_cost={cost}" if cost is not None else "", os.environ.get("PGOPTIONS", "")]
    parts += [given] if isinstance(given, str) else list(given)
    return " ".join(part for part in parts if part)


def random_page_cost() -> str | None:
    """The price of a random page read the server's sessions ask for, or None to leave it to the database.

    A typo stops the start (as a bad setting should) rather than reaching PostgreSQL as a start-up option."""
    raw = os.environ.get(RANDOM_PAGE_COST_ENV, "").strip()
    if not raw:
        return str(SSD_RANDOM_PAGE_COST)
    if raw == LEAVE_TO_DATABASE:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{RANDOM_PAGE_COST_ENV} must be a number more than 0 or {LEAVE_TO_DATABASE!r}, not {raw!r}")
    return raw


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # SQLite cannot upgrade a reader to a writer safely under concurrency; taking the write
    # lock up front makes transactions queue (busy timeout) instead of failing mid-way.
    # Sent on the driver's connection: through exec_driver_sql, SQLAlchemy's statement machinery cost
    # 60 us of every transaction's begin (a lock timeout is then sqlite3's own error, a 500 either way).
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
