"""Invoices, payments, payment methods, idempotency records and the staff audit trail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Money, UTCDateTime, utcnow
from server.models.company import Contact, Property, Staff
from server.models.work import Proposal, Visit


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        # The balance can never go below zero, whatever races happen (IN-6).
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        # Payments in flight never hold more than the open balance: what a new payment may take
        # (balance - reserved) cannot go below zero, however payments race (IN-6).
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("balance - reserved >= 0", name="reserved_within_balance"),
        # Holds every column the invoice list and the balance filter and sort on, so a list's total, its
        # page's keys and the balance are read from the index alone, however many invoices match.
        Index("ix_invoices_property_listing", "property_id", "shared", "balance", "invoice_date", "id"),
        # The list's order first, then every column it filters on: a selection holding much of the branch
        # walks this index newest first and stops after a page, instead of sorting every match (page 200 of
        # a thousand properties costs what page 1 does). See invoices_query(walk_order=True).
        Index("ix_invoices_date_order", "invoice_date", "id", "shared", "balance", "property_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    number: Mapped[str] = mapped_column(String(60), index=True)
    billing_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    invoice_date: Mapped[date] = mapped_column(Date)
    net_terms_days: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date] = mapped_column(Date)
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    total: Mapped[Decimal] = mapped_column(Money)
    applied_credits: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # total - applied_credits - successful payments, kept in step by every write (PF-3).
    balance: Mapped[Decimal] = mapped_column(Money)
    # The amounts of this invoice's pending payments (charges the processor has not confirmed yet):
    # not money taken, so not off the balance, but not payable again either until they succeed or fail.
    reserved: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)

    property: Mapped[Property] = relationship()
    billing_contact: Mapped[Contact | None] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.id")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    service: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    amount: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    visit: Mapped[Visit | None] = relationship()


class PaymentMethod(Base):
    """What the gateway gave back for a card or bank account; never the number itself (PM-4)."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    type: Mapped[str] = mapped_column(String(10))  # card | ach
    gateway_token: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(40))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    holder_name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The staff member who added it in an assist session: shown to the customer with the method (SA-3).
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    captured_by: Mapped[Staff | None] = relationship()


PAYMENT_PENDING = "pending"
PAYMENT_SUCCEEDED = "succeeded"


# The hex digits of a group_id a payment reference keeps. 40 bits: among the 100,000 payments of a busy
# branch the chance that any two share a reference is n^2 / 2^41, about 0.5 % over the branch's whole
# history, and a shared one only makes a staff search list both payers; 8 digits would make that likely
# (about 70 %), 12 would only lengthen what a customer reads out on the phone.
REFERENCE_DIGITS = 10
REFERENCE_PREFIX = "PAY-"
# An audit entry about a portal payment names it "payment:<group_id>".
PAYMENT_TARGET = "payment:"


def payment_reference(group_id: str | None) -> str | None:
    """The one reference a customer quotes for a portal payment (receipt, answers, lists, staff search),
    derived from the charge's group_id so nothing new is stored; None for payments the office recorded."""
    if not group_id:
        return None
    return REFERENCE_PREFIX + group_id[:REFERENCE_DIGITS].upper()


class Payment(Base):
    """One invoice's share of a charge. Portal payments are written "pending" before the gateway is
    called, their amount added to the invoice's `reserved` (the balance is untouched: nothing is paid
    yet), and become "succeeded" once the charge is confirmed, which moves the amount from reserved
    to off the balance; a declined charge deletes its pending rows and releases the reservation, so
    only succeeded rows are money taken."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    # Imported payments keep their place in the file so a re-import updates them in place.
    import_position: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    convenience_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method_type: Mapped[str | None] = mapped_column(String(10))
    method_last4: Mapped[str | None] = mapped_column(String(4))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    payer_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    gateway_charge_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default=PAYMENT_SUCCEEDED)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
    captured_by: Mapped[Staff | None] = relationship()

    @property
    def reference(self) -> str | None:
        return payment_reference(self.group_id)


class IdempotencyRecord(Base):
    """The first answer to a payment request, replayed for every retry with the same key (IN-8)."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(400), unique=True)  # "<contact id>:<key>"
    fingerprint: Mapped[str] = mapped_column(String(64))
    # NULL while the payment is in flight; then the answer every retry gets.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Which endpoint the key was used on ("invoice_payment" | "group_payment"), to rebuild its answer.
    operation: Mapped[str] = mapped_column(String(40), default="")
    # The payments (and the gateway idempotency key) this request created.
    group_id: Mapped[str | None] = mapped_column(String(64))
    # While in flight, the request that owns the record; after this moment a retry may take over
    # and finish it (the gateway's own idempotency makes that safe even if the owner still runs).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """What staff did while assisting a contact (SA-3). Only ever inserted."""

    __tablename__ = "audit_entries"
    # Newest first for a branch or one contact (GET /staff/audit), by keyset on (at, id).
    __table_args__ = (
        Index("ix_audit_branch_at", "branch_id", "at", "id"),
        Index("ix_audit_contact_at", "contact_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    client_address: Mapped[str] = mapped_column(String(100), default="")

    staff: Mapped[Staff] = relationship()
    contact: Mapped[Contact] = relationship()
