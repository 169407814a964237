"""Which invoices a contact sees (IN-1) and may pay (IN-5, IN-8), and why not."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import Problem, conflict, forbidden, invalid, not_found
from server.models import Branch, Contact, Invoice, PropertyContact

ZERO = Decimal("0.00")


def money(amount: Decimal, currency: str = "USD") -> str:
    return f"${amount:,.2f}" if currency == "USD" else f"{currency} {amount:,.2f}"


def payable(invoice: Invoice) -> Decimal:
    """What a new payment may take (IN-6): the open balance less the payments still in flight, which
    are not paid yet (PF-3) but would overpay the invoice if they succeed after another payment."""
    return invoice.balance - invoice.reserved


def in_progress(invoice: Invoice, currency: str) -> Problem:
    """The whole open balance is held by payments the processor has not confirmed: nothing more fits."""
    return invalid(
        [],
        "amount_exceeds_balance",
        f"A payment of {money(invoice.reserved, currency)} on invoice {invoice.number} is in progress: "
        "the card processor has not confirmed it yet, so nothing more can be paid on it until it does.",
    )


def visible_invoice(session: Session, contact_id: int, invoice_id: int) -> tuple[Invoice, str]:
    """The invoice and the contact's role on its property; 404 when unshared or on someone else's property."""
    row = session.execute(
        select(Invoice, PropertyContact.role)
        .join(PropertyContact, PropertyContact.property_id == Invoice.property_id)
        .where(Invoice.id == invoice_id, Invoice.shared.is_(True), PropertyContact.contact_id == contact_id)
    ).first()
    if row is None:
        raise not_found("That invoice")
    return row[0], row[1]


def may_pay(invoice: Invoice, contact: Contact, role: str) -> bool:
    """IN-5: the property's primary contact or the invoice's own billing contact."""
    return role == "primary" or invoice.billing_contact_id == contact.id


def pay_block(invoice: Invoice, contact: Contact, role: str, branch: Branch) -> Problem | None:
    """Why this contact cannot pay this invoice now, as the problem the payment endpoint answers; None if they can."""
    if not may_pay(invoice, contact, role):
        return forbidden(
            "not_allowed_to_pay",
            "Only the property's primary contact or the invoice's billing contact can pay this invoice.",
        )
    if not branch.electronic_payments or not branch.accepted_payment_types:
        return conflict("electronic_payments_disabled", f"{branch.name} does not take payments in the portal.")
    if invoice.balance <= ZERO:
        return conflict("invoice_paid", f"Invoice {invoice.number} is already paid in full.")
    if payable(invoice) <= ZERO:
        return in_progress(invoice, branch.currency)
    return None
