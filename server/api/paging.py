"""Keyset (cursor) paging: a page deep in a long list costs the same as the first one."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, TypeDecorator, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.api.schemas import MAX_INT
from server.errors import Problem

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# paginate's keys_from: from this many pages of matches on, walking the order beats sorting the matches.
WALK_AFTER = 8

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"dt"} and isinstance(value["dt"], str):
            moment = datetime.fromisoformat(value["dt"])
            if moment.tzinfo is None:
                raise ValueError("timestamp without offset")
            return moment
        if value.keys() == {"d"} and isinstance(value["d"], str):
            return date.fromisoformat(value["d"])
        raise ValueError("unknown cursor value")
    # Only what encode_cursor writes: no floats, booleans, nulls or lists.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("unexpected cursor value")
    if isinstance(value, int) and not -MAX_INT - 1 <= value <= MAX_INT:
        raise ValueError("cursor integer out of range")  # the id columns are 32-bit
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL in cursor")
    return value


def _python_type(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> type | None:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        kind: type = column_type.python_type
    except NotImplementedError:  # computed columns (a search rank) may not know theirs
        return None
    return kind if kind in (int, str, date, datetime) else None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]]) -> list[Any]:
    """The values of a cursor made by encode_cursor for the same `order`; anything else is a 400, never a query.

    A forged cursor with the wrong types would otherwise reach the database (a date compared
    with a string, an id past the columns' 32 bits) and fail there.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(order):
            raise ValueError("wrong width")
        decoded = [_decode_value(v) for v in values]
        for value, column in zip(decoded, order, strict=True):
            expected = _python_type(column)
            if expected is not None and type(value) is not expected:
                raise ValueError("cursor value of the wrong type")
        return decoded
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise Problem(400, "bad_cursor", "The page cursor is not valid; start again from the first page.") from exc


def paginate(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    *,
    descending: bool,
    cursor: str | None,
    limit: int,
    display_joins: bool = False,
    keys_from: Callable[[], Select[*tuple[Any, ...]] | None] | None = None,
    walk_after: int = WALK_AFTER,
) -> Page[Any]:
    """Runs `statement` one page at a time, ordered by `order` (its last column unique).

    The statement's rows must expose the order columns as their first elements after the
    entity, so the last row of a page can become the next cursor.

    `display_joins=True` is the caller's word that the statement's WHERE uses only the columns of the
    table `order` belongs to and that its joins only add display columns (never drop or repeat a row).
    The total and the page's keys are then read from that table alone (from an index holding the filter
    and order columns, without visiting a row) and the joins are made for the page's rows only, so a
    page costs about the same whether the selection matches a hundred rows or a hundred thousand.
    Such a statement selects columns, the order columns among them, and its rows are the page's items.

    `keys_from` (with display_joins) gives, when asked, the same selection written so that the database
    walks an index in the list's order (see invoices_query's walk_order), or None when walking would not
    pay. It is asked once the total shows more than `walk_after` pages of matches, when reading and sorting
    every match costs more than walking the order and stopping after a page. The total is always counted
    with the statement's own WHERE.
    """
    if not display_joins:
        return _paginate_statement(session, statement, order, descending=descending, cursor=cursor, limit=limit)
    key = order[-1]
    table = key.table
    where = statement.whereclause
    counted = select(func.count()).select_from(table)
    total = session.execute(counted if where is None else counted.where(where)).scalar_one()
    keys = select(key).select_from(table)
    walk = keys_from() if keys_from is not None and total > walk_after * (limit + 1) else None
    if walk is not None:
        statement, where = walk, walk.whereclause
    if where is not None:
        keys = keys.where(where)
    if cursor:
        keys = keys.where(_after(cursor, order, descending))
    ordering = [column.desc() if descending else column.asc() for column in order]
    page = statement.where(key.in_(keys.order_by(*ordering).limit(limit + 1)))
    rows = list(session.execute(page.order_by(*ordering)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]._mapping
        next_cursor = encode_cursor([last[column] for column in order])
    return Page(items=rows, next_cursor=next_cursor, total=total)


def _paginate_statement(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    *,
    descending: bool,
    cursor: str | None,
    limit: int,
) -> Page[Any]:
    total = session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    keyed = statement
    if cursor:
        keyed = keyed.where(_after(cursor, order, descending))
    ordering = [column.desc() if descending else column.asc() for column in order]
    rows = list(session.execute(keyed.add_columns(*order).order_by(*ordering).limit(limit + 1)).all())
    return _page(rows, order, limit, total)


def _after(
    cursor: str, order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]], descending: bool
) -> ColumnElement[bool]:
    """The keyset condition: rows strictly after the cursor's row in the list's order."""
    after = decode_cursor(cursor, order)
    key = tuple_(*order)
    # Bind each value with its column's type so dates and money compare as stored.
    bound = tuple_(*(literal(value, column.type) for value, column in zip(after, order, strict=True)))
    return key < bound if descending else key > bound


def _page(
    rows: list[Any], order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]], limit: int, total: int
) -> Page[Any]:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(list(rows[-1][-len(order) :]))
    return Page(items=[row[: -len(order)] for row in rows], next_cursor=next_cursor, total=total)
