"""Frozen records for invoice detail, payment methods and payments, parsed from the portal's JSON.

Kept apart from records.py so invoices and payments stay one feature's files; the parsing rules
are the same (money as Decimal from strings only, calendar days as dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.services.records import (
    InvoiceSummary,
    Json,
    PersonContact,
    StaffRef,
    day,
    moment,
    money,
    parse_invoice,
    parse_person,
    parse_staff_ref,
)


@dataclass(frozen=True)
class InvoiceLine:
    service: str
    description: str
    visit_id: int | None
    visit_date: date | None
    amount: Decimal


@dataclass(frozen=True)
class InvoicePayment:
    id: int
    amount: Decimal
    convenience_fee: Decimal
    paid_at: datetime
    method_type: str | None
    method_last4: str | None
    captured_by: StaffRef | None
    group_id: str | None
    # What the receipt calls the charge ("PAY-3F9A0C21B7"); None for payments the office recorded.
    reference: str | None


@dataclass(frozen=True)
class InvoiceDetail(InvoiceSummary):
    lines: tuple[InvoiceLine, ...]
    applied_credits: Decimal
    payments: tuple[InvoicePayment, ...]
    proposal_id: int | None
    proposal_number: str | None
    service_contact: PersonContact | None
    billing_contact: str | None
    can_pay: bool
    pay_blocked_reason: str | None
    # Payments the card processor has not confirmed yet: still part of the balance (nothing is paid
    # until it confirms), but not payable again meanwhile. None when there are none, or from a portal
    # that does not say.
    pending_payment_amount: Decimal | None = None

    @property
    def payable_amount(self) -> Decimal:
        """The most a new payment may take (IN-6): the balance less what is in progress."""
        return self.balance - (self.pending_payment_amount or Decimal("0.00"))


@dataclass(frozen=True)
class PaymentMethod:
    id: int
    type: str  # card | ach
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    holder_name: str
    is_default: bool
    captured_by: StaffRef | None  # the office staff member who added it for the customer (SA-3)

    @property
    def label(self) -> str:
        return f"{self.brand} ending {self.last4}"


@dataclass(frozen=True)
class ReceiptsSetting:
    """The emailed receipts switch (PM-5) and its last change: by office staff in an assist session
    the customer is shown who changed it for them (SA-3)."""

    enabled: bool
    changed_at: datetime | None
    changed_by: StaffRef | None


@dataclass(frozen=True)
class Quote:
    amount: Decimal
    convenience_fee: Decimal
    total: Decimal


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True)
class PaymentResult:
    """One charge, for one invoice or several; `reference` is what a person quotes to the office: the
    receipt's, which the invoice's payments and staff search know too (None from a portal too old to say)."""

    reference: str | None
    amount: Decimal
    convenience_fee: Decimal
    total_charged: Decimal
    receipt_emailed: bool
    allocations: tuple[Allocation, ...]


def parse_invoice_detail(data: Json) -> InvoiceDetail:
    contact = data.get("service_contact")
    proposal = data.get("proposal")
    billing = data.get("billing_contact")
    summary = parse_invoice(data)
    return InvoiceDetail(
        **{field: getattr(summary, field) for field in InvoiceSummary.__dataclass_fields__},
        lines=tuple(
            InvoiceLine(
                service=str(line["service"]),
                description=str(line["description"]),
                visit_id=int(line["visit"]["id"]) if line.get("visit") else None,
                visit_date=day(line["visit"]["date"]) if line.get("visit") else None,
                amount=money(line["amount"]),
            )
            for line in data["lines"]
        ),
        applied_credits=money(data["applied_credits"]),
        payments=tuple(
            InvoicePayment(
                id=int(p["id"]),
                amount=money(p["amount"]),
                convenience_fee=money(p["convenience_fee"]),
                paid_at=moment(p["paid_at"]),
                method_type=str(p["method"]["type"]) if p.get("method") else None,
                method_last4=str(p["method"]["last4"]) if p.get("method") else None,
                captured_by=parse_staff_ref(p.get("captured_by")),
                group_id=str(p["group_id"]) if p.get("group_id") else None,
                reference=str(p["reference"]) if p.get("reference") else None,
            )
            for p in data["payments"]
        ),
        proposal_id=int(proposal["id"]) if proposal else None,
        proposal_number=str(proposal["number"]) if proposal else None,
        service_contact=parse_person(contact) if contact else None,
        billing_contact=str(billing["name"]) if billing else None,
        can_pay=bool(data["can_pay"]),
        pay_blocked_reason=data.get("pay_blocked_reason"),
        pending_payment_amount=None
        if data.get("pending_payment_amount") is None
        else money(data["pending_payment_amount"]),
    )


def parse_payment_method(data: Json) -> PaymentMethod:
    return PaymentMethod(
        id=int(data["id"]),
        type=str(data["type"]),
        brand=str(data["brand"]),
        last4=str(data["last4"]),
        exp_month=None if data.get("exp_month") is None else int(data["exp_month"]),
        exp_year=None if data.get("exp_year") is None else int(data["exp_year"]),
        holder_name=str(data["holder_name"]),
        is_default=bool(data["is_default"]),
        captured_by=parse_staff_ref(data.get("captured_by")),
    )


def parse_receipts_setting(data: Json) -> ReceiptsSetting:
    """`/me`'s `preferences`, also the answer to PATCH /me/preferences."""
    changed_at = data.get("email_receipts_changed_at")
    return ReceiptsSetting(
        enabled=bool(data["email_receipts"]),
        changed_at=None if changed_at is None else moment(changed_at),
        changed_by=parse_staff_ref(data.get("email_receipts_changed_by")),
    )


def parse_quote(data: Json) -> Quote:
    return Quote(money(data["amount"]), money(data["convenience_fee"]), money(data["total"]))


def parse_payment(data: Json) -> PaymentResult:
    """Both answers: one invoice (`invoice_id`, numeric id) and several (`allocations`, group id)."""
    if "allocations" in data:
        allocations = tuple(Allocation(int(a["invoice_id"]), money(a["amount"])) for a in data["allocations"])
    else:
        allocations = (Allocation(int(data["invoice_id"]), money(data["amount"])),)
    return PaymentResult(
        reference=str(data["reference"]) if data.get("reference") else None,
        amount=money(data["amount"]),
        convenience_fee=money(data["convenience_fee"]),
        total_charged=money(data["total_charged"]),
        receipt_emailed=bool(data["receipt_emailed"]),
        allocations=allocations,
    )
