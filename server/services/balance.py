"""Current balance of a property selection (PF-3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from server.models import Invoice, Property
from server.services.access import PropertyScope

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balance:
    current_balance: Decimal
    due_invoice_count: int
    unapplied_credits: Decimal


def balance_of(session: Session, property_ids: PropertyScope) -> Balance:
    """Open balances of the shared, due invoices; unapplied credits are reported apart, never subtracted."""
    if isinstance(property_ids, Sequence) and not property_ids:
        return Balance(ZERO, 0, ZERO)
    due_sum, due_count = session.execute(
        select(func.coalesce(func.sum(Invoice.balance), ZERO), func.count(Invoice.id)).where(
            Invoice.property_id.in_(property_ids), Invoice.shared == true(), Invoice.balance > ZERO
        )
    ).one()
    credits = session.scalar(
        select(func.coalesce(func.sum(Property.unapplied_credits), ZERO)).where(Property.id.in_(property_ids))
    )
    return Balance(Decimal(due_sum), int(due_count), Decimal(credits or ZERO))
