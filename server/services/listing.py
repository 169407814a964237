"""The list queries of visits, invoices and requests (VI-1, IN-1, IN-2, RQ-1).

Boolean filters are written `column == true()`: PostgreSQL can use an index for `= true` but not for
`IS TRUE`, which is what `.is_(True)` renders.

The queries select the columns a list item shows, not ORM objects: building a hundred mapped objects per
page cost more than reading them. Each row carries the model's own attribute names (plus `property_name`),
so the item builders take a row or a model alike; the `...Fields` protocols name what they read. A list
reads its rows as the `...Row` named tuples, which name the query's columns in order: a SQLAlchemy row's
attribute access cost about as much as building the item.

Each query is built once per variant, the request's values (the caller's properties, the day) left to bind
parameters: building a statement and SQLAlchemy's cache key for it cost more than running many a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Date, Select, bindparam, select, true

from server.models import Invoice, Property, ServiceRequest, Visit
from server.services.access import ScopeKind, scope_filter

UPCOMING_DAYS = 30


class VisitFields(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def date(self) -> date: ...
    @property
    def property_id(self) -> int: ...
    @property
    def services(self) -> Sequence[str]: ...
    @property
    def status(self) -> str: ...


class InvoiceFields(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def property_id(self) -> int: ...
    @property
    def services(self) -> Sequence[str]: ...
    @property
    def invoice_date(self) -> date: ...
    @property
    def due_date(self) -> date: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def balance(self) -> Decimal: ...


class RequestFields(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def property_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_activity_at(self) -> datetime: ...
    @property
    def public_comment_count(self) -> int: ...


class VisitRow(NamedTuple):
    """A row of visits_query."""

    id: int
    date: date
    property_id: int
    services: list[str]
    status: str
    property_name: str


class InvoiceRow(NamedTuple):
    """A row of invoices_query."""

    id: int
    number: str
    property_id: int
    services: list[str]
    invoice_date: date
    due_date: date
    total: Decimal
    balance: Decimal
    property_name: str


class RequestRow(NamedTuple):
    """A row of requests_query."""

    id: int
    number: str
    subject: str
    property_id: int
    status: str
    created_at: datetime
    last_activity_at: datetime
    public_comment_count: int
    property_name: str


PROPERTY_NAME = Property.name.label("property_name")


def visit_window(when: str, today: date, days: int) -> dict[str, Any]:
    """visits_query's values: upcoming is scheduled, today..today+30; completed is completed, the last `days` days."""
    if when == "upcoming":
        return {"visit_status": "scheduled", "first_day": today, "last_day": today + timedelta(days=UPCOMING_DAYS)}
    return {"visit_status": "completed", "first_day": today - timedelta(days=days), "last_day": today}


@cache
def visits_query(scope: ScopeKind) -> Select[*tuple[Any, ...]]:
    """VI-1, built once: the scope's params and visit_window's values are bound at execution."""
    return (
        select(Visit.id, Visit.date, Visit.property_id, Visit.services, Visit.status, PROPERTY_NAME)
        .join(Property, Property.id == Visit.property_id)
        .where(
            scope_filter(Visit.property_id, scope),
            Visit.status == bindparam("visit_status"),
            Visit.date >= bindparam("first_day", type_=Date),
            Visit.date <= bindparam("last_day", type_=Date),
        )
    )


@cache
def invoices_query(scope: ScopeKind, status: str, *, walk_order: bool = False) -> Select[*tuple[Any, ...]]:
    """IN-1, IN-2, built once per variant (the scope's params are bound at execution).

    `walk_order=True` writes the property filter as `property_id + 0`, which no database
    can answer from an index on property_id: it then walks ix_invoices_date_order in the list's order,
    checking each row's property, and stops after a page. That is the fast plan when the selection holds
    much of the branch; for a few properties, reading their invoices and sorting them is (paginate's Walk).
    """
    property_id = Invoice.property_id + 0 if walk_order else Invoice.property_id
    query = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.property_id,
            Invoice.services,
            Invoice.invoice_date,
            Invoice.due_date,
            Invoice.total,
            Invoice.balance,
            PROPERTY_NAME,
        )
        .join(Property, Property.id == Invoice.property_id)
        .where(scope_filter(property_id, scope), Invoice.shared == true())
    )
    if status == "due":
        return query.where(Invoice.balance > Decimal("0.00"))
    if status == "paid":
        return query.where(Invoice.balance == Decimal("0.00"))
    return query


@cache
def requests_query(scope: ScopeKind) -> Select[*tuple[Any, ...]]:
    """RQ-1, built once per scope kind (the scope's params are bound at execution)."""
    return (
        select(
            ServiceRequest.id,
            ServiceRequest.number,
            ServiceRequest.subject,
            ServiceRequest.property_id,
            ServiceRequest.status,
            ServiceRequest.created_at,
            ServiceRequest.last_activity_at,
            ServiceRequest.public_comment_count,
            PROPERTY_NAME,
        )
        .join(Property, Property.id == ServiceRequest.property_id)
        .where(scope_filter(ServiceRequest.property_id, scope), ServiceRequest.include_client == true())
    )
