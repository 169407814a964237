"""The list queries of visits, invoices and requests (VI-1, IN-1, IN-2, RQ-1).

Boolean filters are written `column == true()`: PostgreSQL can use an index for `= true` but not for
`IS TRUE`, which is what `.is_(True)` renders.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, select, true

from server.models import Invoice, Property, ServiceRequest, Visit
from server.services.access import PropertyScope

UPCOMING_DAYS = 30


def visits_query(property_ids: PropertyScope, when: str, today: date, days: int) -> Select[Visit, str]:
    """Upcoming: scheduled, today..today+30. Completed: completed, the last `days` days."""
    query = select(Visit, Property.name).join(Property, Property.id == Visit.property_id)
    query = query.where(Visit.property_id.in_(property_ids))
    if when == "upcoming":
        return query.where(
            Visit.status == "scheduled", Visit.date >= today, Visit.date <= today + timedelta(days=UPCOMING_DAYS)
        )
    return query.where(Visit.status == "completed", Visit.date >= today - timedelta(days=days), Visit.date <= today)


def invoices_query(property_ids: PropertyScope, status: str) -> Select[Invoice, str]:
    query = (
        select(Invoice, Property.name)
        .join(Property, Property.id == Invoice.property_id)
        .where(Invoice.property_id.in_(property_ids), Invoice.shared == true())
    )
    if status == "due":
        return query.where(Invoice.balance > Decimal("0.00"))
    if status == "paid":
        return query.where(Invoice.balance == Decimal("0.00"))
    return query


def requests_query(property_ids: PropertyScope) -> Select[ServiceRequest, str]:
    return (
        select(ServiceRequest, Property.name)
        .join(Property, Property.id == ServiceRequest.property_id)
        .where(ServiceRequest.property_id.in_(property_ids), ServiceRequest.include_client == true())
    )
