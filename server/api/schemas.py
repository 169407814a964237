"""Shapes shared by many endpoints: money as a two-decimal string, list envelopes, request bodies that refuse unknown fields."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

from server.models import Staff

MONEY_PATTERN = r"^-?\d+\.\d{2}$"
# Amounts in requests: up to 999 999 999 999.99, at most two decimals.
MONEY_IN_PATTERN = r"^-?\d{1,12}(\.\d{1,2})?$"
CENT = Decimal("0.01")
# Ids are PostgreSQL `integer` (32 bits): a larger number in a query fails there ("integer out of
# range"), and past 64 bits in SQLite too (OverflowError). No field of this API needs more.
MAX_INT = 2**31 - 1
# Ids in paths, queries and bodies: out-of-range values are a 422, not a database error.
ItemId = Annotated[int, Field(ge=1, le=MAX_INT)]


def check_input(value: Any) -> None:
    """Refuses what no field may hold: NUL characters (PostgreSQL cannot store them) and integers past MAX_INT.

    Raises ValueError (pydantic turns it into a 422 naming the field); multipart handlers can call it too.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -MAX_INT - 1 <= value <= MAX_INT:
            raise ValueError("is out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_input(key)
            check_input(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_input(item)


def _money_in(value: Any) -> Decimal:
    """A money string as documented (MONEY_IN_PATTERN); the sign is left to the route's rules (amount_not_positive).

    The bound keeps amounts inside the integer cents the database stores, and keeps Decimal from
    failing on `1e999` or 30-digit amounts (InvalidOperation).
    """
    if isinstance(value, Decimal):  # from Python code, not JSON
        if value.is_finite() and abs(value) < 10**12 and value == value.quantize(CENT):
            return value.quantize(CENT)
    elif not isinstance(value, str):
        raise ValueError('give the amount as a string such as "120.50"')
    elif re.fullmatch(MONEY_IN_PATTERN, value, re.ASCII):
        return Decimal(value).quantize(CENT)
    raise ValueError('is not an amount of money such as "120.50" (at most two decimals)')


MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["120.50"]}),
]
MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_in),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_IN_PATTERN, "examples": ["120.50"]}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(timespec="seconds"), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

T = TypeVar("T")


class Body(BaseModel):
    """Base of every request body: an unknown field is a 422, never silently stored; see check_input."""

    model_config = ConfigDict(extra="forbid")

    # After validation, so a number that arrived as text (a multipart form field) is checked as a number.
    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        check_input(value)
        return value


class ItemList(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    total: int


class PropertyRef(BaseModel):
    id: int
    name: str


class StaffRef(BaseModel):
    """A staff member as the portal shows them: who assisted or captured something (SA-3)."""

    id: int
    name: str


def staff_ref(staff: Staff | None) -> StaffRef | None:
    return None if staff is None else StaffRef(id=staff.id, name=staff.name)


class PersonContact(BaseModel):
    name: str
    email: str
    phone: str | None = None


def json_response(model: BaseModel) -> Response:
    """The model as JSON, for routes whose answer is already of their `response_model` type.

    FastAPI would validate a returned model a second time against `response_model`, in a thread-pool hop
    of its own for a `def` route, before serialising it: a list page paid for its items twice.
    """
    return Response(model.model_dump_json(), media_type="application/json")


def page_response(model: type[BaseModel], items: list[dict[str, Any]], next_cursor: str | None, total: int) -> Response:
    """A list page as JSON, its items given as plain dicts: pydantic checks and builds them against the page's
    `response_model` in its compiled core, in one call. Building a model per row in Python cost about twice
    as much, a tenth of a list request. `model` is the route's ItemList[...] (or a class of the same shape)."""
    page = model.model_validate({"items": items, "next_cursor": next_cursor, "total": total})
    return Response(page.model_dump_json(), media_type="application/json")
