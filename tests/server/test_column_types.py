"""Column types read back what was stored, whichever path parses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite

from server.models.base import UTCDateTime

STORED = [
    "2025-04-28 07:00:00.000000",  # as SQLAlchemy writes it
    "2025-04-28 07:00:00",
    "2025-04-28T07:00:00",
    "2025-04-28 07:00:00.5",
    "2025-04-28 07:00",
    "2025-04-28",  # a date alone: midnight, through the general path
]


@pytest.mark.parametrize("stored", STORED)
def test_sqlite_timestamps_read_as_the_general_path_does(stored: str) -> None:
    """The SQLite fast parse gives the value SQLAlchemy's parse and process_result_value give, aware in UTC."""
    dialect = sqlite.dialect()
    column = UTCDateTime()
    fast = column.dialect_impl(dialect).result_processor(dialect, None)  # as the engine asks for it
    assert fast is not None
    general = column.impl_instance.dialect_impl(dialect).result_processor(dialect, None)
    assert general is not None
    expected = column.process_result_value(general(stored), dialect)
    read = fast(stored)
    assert read == expected
    assert read is not None and read.tzinfo is UTC
    assert fast(None) is None


def test_sqlite_timestamps_round_trip() -> None:
    """What the server writes (any offset, microseconds) comes back as the same instant in UTC."""
    metadata = MetaData()
    table = Table("moments", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    moments = [
        datetime(2025, 4, 28, 7, 0, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 6, 1, 9, 30, 15, 250, tzinfo=timezone(timedelta(hours=-7))),
    ]
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": i, "at": moment} for i, moment in enumerate(moments)])
        read = connection.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read == moments
    assert all(value.tzinfo is UTC for value in read)
