"""The embedded sandbox payment gateway's own ledger.

A real gateway keeps its state on its side; the sandbox keeps it in the portal's database so every
server process (and a restarted one) sees the same tokens and charges, which is what lets a lost
answer be recovered by looking the charge up by its idempotency key. No card or account number is
kept here either (PM-4): only what the test number means.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, Money, UTCDateTime, utcnow


class SandboxMethod(Base):
    __tablename__ = "sandbox_gateway_methods"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # card | ach
    brand: Mapped[str] = mapped_column(String(40))
    last4: Mapped[str] = mapped_column(String(4))
    # approve | card_declined | insufficient_funds | ach_rejected
    behavior: Mapped[str] = mapped_column(String(30))
    # Card 4000000000000119: its first charge takes the money and then times out.
    first_charge_times_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxCharge(Base):
    """Every charge attempt, declined ones too, under the caller's idempotency key (unique)."""

    __tablename__ = "sandbox_gateway_charges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    token: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # succeeded | declined
    decline_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
