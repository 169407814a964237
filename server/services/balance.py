"""Current balance of a property selection (PF-3)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session

from server.models import Invoice, Property
from server.services.access import PropertyScope, ScopeKind, scope_filter

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balance:
    current_balance: Decimal
    due_invoice_count: int
    unapplied_credits: Decimal


@cache
def _balance_query(scope: ScopeKind) -> Select[tuple[Any, Any, Any]]:
    """One round trip for both figures, built once per scope kind (the scope's params are bound at execution)."""
    due = (
        select(func.coalesce(func.sum(Invoice.balance), ZERO), func.count(Invoice.id))
        .where(scope_filter(Invoice.property_id, scope), Invoice.shared == true(), Invoice.balance > ZERO)
        .subquery()
    )
    credits = select(func.coalesce(func.sum(Property.unapplied_credits), ZERO)).where(scope_filter(Property.id, scope))
    return select(*due.c, credits.scalar_subquery())


def balance_of(session: Session, scope: PropertyScope) -> Balance:
    """Open balances of the shared, due invoices; unapplied credits are reported apart, never subtracted."""
    due_sum, due_count, credits = session.execute(_balance_query(scope.kind), scope.params).one()
    return Balance(Decimal(due_sum), int(due_count), Decimal(credits or ZERO))
