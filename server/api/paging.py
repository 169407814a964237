"""Keyset (cursor) paging: a page deep in a long list costs the same as the first one."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, TypeDecorator, bindparam, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.api.schemas import MAX_INT
from server.errors import Problem

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# paginate's walk: from this many pages of matches on, walking the order beats sorting the matches.
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


@dataclass(frozen=True, eq=False)  # compared by identity: built once per list variant, a key of _plan
class Walk:
    """The same selection as a list's statement, written so that the database walks an index in the list's
    order (see invoices_query's walk_order), and when that pays.

    `pays` is a SQL truth (wide_scope) read in the same round trip as the total: walking is asked for
    when the selection holds much of the table and the total shows more than paginate's `walk_after` pages
    of matches, when reading and sorting every match costs more than walking the order and stopping
    after a page."""

    statement: Select[*tuple[Any, ...]]
    pays: ColumnElement[bool]


OrderColumns = tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]


@dataclass(frozen=True)
class _Plan:
    """The statements paginate runs for one list statement, built once: a request then only binds values."""

    count: Select[*tuple[Any, ...]]
    first: Select[*tuple[Any, ...]]  # the first page
    later: Select[*tuple[Any, ...]]  # a page after a cursor
    walk_first: Select[*tuple[Any, ...]] | None
    walk_later: Select[*tuple[Any, ...]] | None
    cursor_at: tuple[int, ...]  # where the order columns are in a row


_PAGE_SIZE = bindparam("page_size", type_=Integer)


def _cursor_param(position: int) -> str:
    return f"cursor_{position}"


@lru_cache(maxsize=256)
def _plan(statement: Select[*tuple[Any, ...]], order: OrderColumns, descending: bool, walk: Walk | None) -> _Plan:
    """Keyed by the statement object itself: meant for the statements the list queries build once per
    variant (with bind parameters for the request's values). Another statement still pages correctly,
    at the price of building its plan again."""
    key = order[-1]
    table = key.table
    where = statement.whereclause
    counted = select(func.count()).select_from(table)
    if walk is not None:
        counted = counted.add_columns(walk.pays)
    if where is not None:
        counted = counted.where(where)
    ordering = [column.desc() if descending else column.asc() for column in order]
    # Bound with each column's type so dates and money compare as stored.
    bound = tuple_(*(bindparam(_cursor_param(i), type_=column.type) for i, column in enumerate(order)))
    after = tuple_(*order) < bound if descending else tuple_(*order) > bound

    def pages(selection: Select[*tuple[Any, ...]]) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
        """The first page and a page after the cursor: the page's keys from the table alone, then its rows."""
        keys = select(key).select_from(table)
        if selection.whereclause is not None:
            keys = keys.where(selection.whereclause)
        first = keys.order_by(*ordering).limit(_PAGE_SIZE)
        later = keys.where(after).order_by(*ordering).limit(_PAGE_SIZE)
        return (
            selection.where(key.in_(first)).order_by(*ordering),
            selection.where(key.in_(later)).order_by(*ordering),
        )

    first, later = pages(statement)
    walk_first, walk_later = pages(walk.statement) if walk is not None else (None, None)
    names = [column.key for column in statement.selected_columns]
    cursor_at = tuple(names.index(column.key) for column in order)
    return _Plan(counted, first, later, walk_first, walk_later, cursor_at)


def paginate(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    *,
    descending: bool,
    cursor: str | None,
    limit: int,
    params: Mapping[str, Any] | None = None,
    display_joins: bool = False,
    walk: Walk | None = None,
    walk_after: int = WALK_AFTER,
) -> Page[Any]:
    """Runs `statement` one page at a time, ordered by `order` (its last column unique), with `params` for
    its bind parameters.

    The statement's rows must expose the order columns as their first elements after the
    entity, so the last row of a page can become the next cursor.

    `display_joins=True` is the caller's word that the statement's WHERE uses only the columns of the
    table `order` belongs to and that its joins only add display columns (never drop or repeat a row).
    The total and the page's keys are then read from that table alone (from an index holding the filter
    and order columns, without visiting a row) and the joins are made for the page's rows only, so a
    page costs about the same whether the selection matches a hundred rows or a hundred thousand.
    Such a statement selects columns, the order columns among them, and its rows are the page's items;
    it should be built once (see _plan), its request's values left to bind parameters.

    `walk` (with display_joins) is the same selection walking the list's order, taken when its `pays` holds
    and the total shows more than `walk_after` pages of matches. The total is always counted with the
    statement's own WHERE.
    """
    if not display_joins:
        return _paginate_statement(
            session, statement, order, params=params, descending=descending, cursor=cursor, limit=limit
        )
    plan = _plan(statement, tuple(order), descending, walk)
    values = dict(params or {})
    # Run on the session's connection: these statements select plain columns, and the ORM's result
    # machinery (made for entities) cost about a tenth of a millisecond per statement for nothing.
    connection = session.connection()
    counted = connection.execute(plan.count, values).one()
    total = counted[0]
    walking = walk is not None and bool(counted[1]) and total > walk_after * (limit + 1)
    values["page_size"] = limit + 1
    if cursor:
        values.update((_cursor_param(i), value) for i, value in enumerate(decode_cursor(cursor, order)))
        page = plan.walk_later if walking else plan.later
    else:
        page = plan.walk_first if walking else plan.first
    assert page is not None  # walking only with a walk
    rows = list(connection.execute(page, values).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([last[position] for position in plan.cursor_at])
    return Page(items=rows, next_cursor=next_cursor, total=total)


def _paginate_statement(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    *,
    params: Mapping[str, Any] | None,
    descending: bool,
    cursor: str | None,
    limit: int,
) -> Page[Any]:
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.execute(counted, dict(params or {})).scalar_one()
    keyed = statement
    if cursor:
        keyed = keyed.where(_after(cursor, order, descending))
    ordering = [column.desc() if descending else column.asc() for column in order]
    rows = list(
        session.execute(keyed.add_columns(*order).order_by(*ordering).limit(limit + 1), dict(params or {})).all()
    )
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
