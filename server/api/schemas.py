"""Shapes shared by many endpoints: money as a two-decimal string, list envelopes, request bodies that refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from server.models import Staff

MONEY_PATTERN = r"^-?\d+\.\d{2}$"


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
    """Base of every request body: an unknown field is a 422, never silently stored."""

    model_config = ConfigDict(extra="forbid")


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
