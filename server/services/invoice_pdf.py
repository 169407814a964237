"""The invoice as a PDF document: what the customer would have received on paper, plus where to pay.

Laid out with the shared pdf_layout building blocks, so an invoice opens, reads and ends like a
proposal (letterhead, tinted boxes, accent tables, footer with page numbers) and is byte-for-byte
the same for the same invoice. Nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from server.services import pdf_layout as layout
from server.services.pdf_layout import (
    SMALL,
    STRONG,
    TEXT,
    Column,
    PageFlow,
    Row,
    Style,
    long_date,
    money_text,
)

PAID_STAMP = Style(size=11, font="bold", color=layout.ACCENT)
SUMMARY_STRONG = Style(size=12, font="bold", color=layout.ACCENT)


@dataclass(frozen=True)
class PdfLine:
    service: str
    description: str
    visit_date: date | None
    amount: Decimal


@dataclass(frozen=True)
class PdfPayment:
    paid_at: datetime
    method: str  # "Visa ending 4242", "Payment"
    amount: Decimal
    captured_by: str | None


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on the invoice, already decided (visibility, phone setting) by the caller."""

    company: str
    number: str
    invoice_date: date
    net_terms_days: int
    due_date: date
    property_name: str
    property_address: str
    bill_to: str | None
    proposal_number: str | None
    lines: list[PdfLine]
    total: Decimal
    applied_credits: Decimal
    payments: list[PdfPayment]
    balance: Decimal
    currency: str
    portal_url: str
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None


def short_date(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _terms(net_terms_days: int) -> str:
    return "due on receipt" if net_terms_days == 0 else f"net {net_terms_days} days"


class _InvoiceWriter:
    def __init__(self, doc: InvoiceDocument) -> None:
        self.doc = doc
        self.flow = PageFlow(
            layout.DocumentInfo(
                title=f"Invoice {doc.number}",
                subject=f"Invoice {doc.number} for {doc.property_name}",
                author=doc.company,
                dated=doc.invoice_date,
                footer=f"{doc.company}  ·  Invoice {doc.number}  ·  {doc.property_name}",
            )
        )

    def money(self, amount: Decimal) -> str:
        return money_text(amount, self.doc.currency)

    def write(self) -> bytes:
        doc, flow = self.doc, self.flow
        flow.letterhead(
            doc.company,
            "Landscape services invoice",
            "Invoice",
            doc.number,
            [
                f"Date: {long_date(doc.invoice_date)}",
                f"Due: {long_date(doc.due_date)}",
                _terms(doc.net_terms_days).upper(),
            ],
        )
        bill_to: list[tuple[str, Style]] = (
            [(doc.bill_to, STRONG)] if doc.bill_to else [("The property's contacts", TEXT)]
        )
        if doc.proposal_number:
            bill_to.append((f"For work under proposal {doc.proposal_number}", SMALL))
        contact: list[tuple[str, Style]] = [(doc.company, STRONG)]
        if doc.contact_name:
            contact = [
                (doc.contact_name, STRONG),
                *((part, TEXT) for part in (doc.contact_email, doc.contact_phone) if part),
            ]
        flow.boxes(
            [
                ("PROPERTY", [(doc.property_name, STRONG), (doc.property_address, TEXT)]),
                ("BILL TO", bill_to),
                ("QUESTIONS? YOUR SERVICE CONTACT", contact),
            ]
        )
        self.services()
        self.payments()
        self.summary()
        self.how_to_pay()
        return layout.to_bytes(flow.finish(), flow.info)

    def services(self) -> None:
        flow = self.flow
        flow.heading("Services")
        columns = [Column("Service", 24), Column("Description", 44), Column("Visit", 15), Column("Amount", 17, "right")]
        rows = [
            Row(
                [
                    line.service,
                    line.description,
                    short_date(line.visit_date) if line.visit_date else "",
                    self.money(line.amount),
                ]
            )
            for line in self.doc.lines
        ]
        flow.table(columns, rows)

    def payments(self) -> None:
        if not self.doc.payments:
            return
        self.flow.heading("Payments received")
        rows = [
            Row(
                [
                    short_date(payment.paid_at.date()),
                    payment.method + (f" (taken by {payment.captured_by})" if payment.captured_by else ""),
                    self.money(payment.amount),
                ]
            )
            for payment in self.doc.payments
        ]
        self.flow.table([Column("Date", 18), Column("Method", 62), Column("Amount", 20, "right")], rows)

    def summary(self) -> None:
        doc, flow = self.doc, self.flow
        paid = sum((p.amount for p in doc.payments), Decimal("0.00"))
        flow.heading("Summary")
        rows = [Row(["Invoice total", self.money(doc.total)])]
        if doc.applied_credits:
            rows.append(Row(["Credits applied", self.money(-doc.applied_credits)]))
        if paid:
            rows.append(Row(["Payments received", self.money(-paid)]))
        flow.table([Column("", 70), Column("", 30, "right")], rows, header=False)
        flow.space(6)
        flow.total("Balance due", self.money(doc.balance), SUMMARY_STRONG)
        if doc.balance <= 0:
            flow.space(4)
            flow.note("PAID IN FULL — thank you.", PAID_STAMP)

    def how_to_pay(self) -> None:
        doc, flow = self.doc, self.flow
        flow.heading("How to pay")
        flow.paragraph(f"Pay online in the customer portal: {doc.portal_url}", TEXT)
        flow.paragraph(f"Please quote invoice {doc.number} with any payment to {doc.company}.", TEXT)


def render_invoice(doc: InvoiceDocument) -> bytes:
    """Letter pages with the shared letterhead and footer; dated by the invoice itself (same input, same bytes)."""
    return _InvoiceWriter(doc).write()
