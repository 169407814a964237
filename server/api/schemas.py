"""Shapes shared by many endpoints: money as a two-decimal string, list envelopes, request bodies that refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

MONEY_PATTERN = r"^-?\d+\.\d{2}$"
# Integers past 64 bits cannot be stored or compared by SQLite (OverflowError) and are no one's id.
MAX_INT = 2**63 - 1
# Ids in paths, queries and bodies: out-of-range values are a 422, not a database error.
ItemId = Annotated[int, Field(ge=1, le=MAX_INT)]


def check_input(value: Any) -> None:
    """Refuses what no field may hold: NUL characters (PostgreSQL cannot store them) and integers past 64 bits.

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
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('give the amount as a string such as "120.50"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("is not an amount of money") from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("use at most two decimals")
    return amount.quantize(Decimal("0.01"))


MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["120.50"]}),
]
MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_in),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["120.50"]}),
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

    @field_validator("*", mode="before")
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


class PersonContact(BaseModel):
    name: str
    email: str
    phone: str | None = None
