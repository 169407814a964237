# mypy: disallow-untyped-calls=False
"""The invoice as a PDF document: what the customer would have received on paper, plus where to pay.

Laid out with MuPDF's Story engine from a small HTML fragment, so every page is real, selectable
text. The layout pieces (page, footer, money text) are plain functions so the other portal documents
can share them once they live side by side; nothing here knows about HTTP.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pymupdf

PAGE = pymupdf.paper_rect("letter")
MARGIN = 54.0
FOOTER_HEIGHT = 28.0
BODY = pymupdf.Rect(MARGIN, MARGIN, PAGE.width - MARGIN, PAGE.height - MARGIN - FOOTER_HEIGHT)
ACCENT = "#2f6b3a"
MUTED_RGB = (0.42, 0.45, 0.48)
RULE_RGB = (0.82, 0.84, 0.86)

CSS = f"""
* {{ font-family: sans-serif; }}
body {{ font-size: 9.5pt; color: #23272b; line-height: 1.35; }}
h1 {{ font-size: 20pt; color: {ACCENT}; margin: 0 0 2pt 0; }}
h2 {{ font-size: 11pt; margin: 14pt 0 4pt 0; }}
p {{ margin: 0 0 3pt 0; }}
.muted {{ color: #6b7379; }}
.label {{ font-size: 7.5pt; color: #6b7379; font-weight: bold; }}
.stamp {{ font-size: 14pt; font-weight: bold; color: {ACCENT}; }}
table {{ width: 100%; border-collapse: collapse; }}
table.lines th {{ font-size: 7.5pt; color: #ffffff; background-color: {ACCENT}; text-align: left; padding: 4pt 5pt; }}
table.lines td {{ padding: 4pt 5pt; border-bottom: 0.6pt solid #d3d7da; vertical-align: top; }}
table.lines th.num, table.lines td.num {{ text-align: right; }}
table.totals td {{ padding: 2pt 5pt; }}
table.totals td.num {{ text-align: right; }}
table.totals tr.grand td {{ font-size: 12pt; font-weight: bold; color: {ACCENT}; border-top: 1pt solid {ACCENT}; }}
table.head td {{ vertical-align: top; padding: 0 6pt 0 0; }}
"""


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


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def money_text(amount: Decimal, currency: str = "USD") -> str:
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    return f"{sign}${digits}" if currency == "USD" else f"{sign}{currency} {digits}"


def _body(doc: InvoiceDocument) -> str:
    m = lambda amount: esc(money_text(amount, doc.currency))  # noqa: E731 - local shorthand
    terms = "due on receipt" if doc.net_terms_days == 0 else f"net {doc.net_terms_days} days"
    parts = [
        "<table class='head'><tr><td>",
        f"<h1>Invoice {esc(doc.number)}</h1><p class='muted'>{esc(doc.company)}</p>",
        "</td><td style='text-align: right'>",
        f"<p><span class='label'>INVOICE DATE</span><br/>{doc.invoice_date:%B %d, %Y}</p>",
        f"<p><span class='label'>DUE DATE ({esc(terms.upper())})</span><br/>{doc.due_date:%B %d, %Y}</p>",
        "</td></tr></table>",
        "<table class='head'><tr><td>",
        f"<p class='label'>PROPERTY</p><p>{esc(doc.property_name)}<br/>{esc(doc.property_address)}</p>",
        "</td><td>",
    ]
    if doc.bill_to:
        parts.append(f"<p class='label'>BILL TO</p><p>{esc(doc.bill_to)}</p>")
    if doc.proposal_number:
        parts.append(f"<p class='label'>FROM PROPOSAL</p><p>{esc(doc.proposal_number)}</p>")
    parts.append("</td></tr></table>")
    parts.append("<h2>Services</h2><table class='lines'><tr><th>Service</th><th>Description</th>")
    parts.append("<th>Visit</th><th class='num'>Amount</th></tr>")
    for line in doc.lines:
        visit = f"{line.visit_date:%b %d, %Y}" if line.visit_date else ""
        parts.append(
            f"<tr><td>{esc(line.service)}</td><td>{esc(line.description)}</td>"
            f"<td>{esc(visit)}</td><td class='num'>{m(line.amount)}</td></tr>"
        )
    parts.append("</table>")
    if doc.payments:
        parts.append("<h2>Payments received</h2><table class='lines'><tr><th>Date</th><th>Method</th>")
        parts.append("<th class='num'>Amount</th></tr>")
        for payment in doc.payments:
            method = payment.method + (f" (taken by {payment.captured_by})" if payment.captured_by else "")
            parts.append(
                f"<tr><td>{payment.paid_at:%b %d, %Y}</td><td>{esc(method)}</td>"
                f"<td class='num'>{m(payment.amount)}</td></tr>"
            )
        parts.append("</table>")
    paid = sum((p.amount for p in doc.payments), Decimal("0.00"))
    parts.append("<h2>Summary</h2><table class='totals'>")
    parts.append(f"<tr><td>Total</td><td class='num'>{m(doc.total)}</td></tr>")
    if doc.applied_credits:
        parts.append(f"<tr><td>Credits applied</td><td class='num'>{m(-doc.applied_credits)}</td></tr>")
    if paid:
        parts.append(f"<tr><td>Payments received</td><td class='num'>{m(-paid)}</td></tr>")
    parts.append(f"<tr class='grand'><td>Balance due</td><td class='num'>{m(doc.balance)}</td></tr></table>")
    if doc.balance <= 0:
        parts.append("<p class='stamp'>PAID IN FULL - thank you.</p>")
    parts.append("<h2>How to pay</h2>")
    parts.append(f"<p>Pay online in the customer portal: {esc(doc.portal_url)}</p>")
    parts.append(f"<p>Please quote invoice {esc(doc.number)} with any payment to {esc(doc.company)}.</p>")
    if doc.contact_name:
        reach = ", ".join(esc(part) for part in (doc.contact_email, doc.contact_phone) if part)
        parts.append(f"<p class='label'>QUESTIONS</p><p>{esc(doc.contact_name)}" + (f" - {reach}" if reach else ""))
        parts.append("</p>")
    return "".join(parts)


def _footers(document: pymupdf.Document, footer: str) -> None:
    count = document.page_count
    for index in range(count):
        page = document[index]
        y = PAGE.height - MARGIN
        page.draw_line((MARGIN, y - 12), (PAGE.width - MARGIN, y - 12), color=RULE_RGB, width=0.6)
        page.insert_text((MARGIN, y), footer, fontname="helv", fontsize=7.5, color=MUTED_RGB)
        label = f"Page {index + 1} of {count}"
        width = pymupdf.get_text_length(label, fontname="helv", fontsize=7.5)
        page.insert_text((PAGE.width - MARGIN - width, y), label, fontname="helv", fontsize=7.5, color=MUTED_RGB)


def render_invoice(doc: InvoiceDocument) -> bytes:
    """Letter pages, a footer with page numbers, metadata dated by the invoice itself (same input, same bytes)."""
    story = pymupdf.Story(_body(doc), user_css=CSS, em=10)
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    more = 1
    while more:
        device = writer.begin_page(PAGE)
        more, _ = story.place(BODY)
        story.draw(device)
        writer.end_page()
    writer.close()
    document = pymupdf.open("pdf", buffer.getvalue())
    _footers(document, f"{doc.company} - invoice {doc.number}")
    stamp = f"D:{doc.invoice_date:%Y%m%d}000000Z"
    document.set_metadata(
        {
            "title": f"Invoice {doc.number}",
            "subject": f"Invoice {doc.number} for {doc.property_name}",
            "author": doc.company,
            "creator": "Portal Desk",
            "producer": "Portal Desk",
            "creationDate": stamp,
            "modDate": stamp,
            "keywords": "",
        }
    )
    data: bytes = document.tobytes(garbage=4, deflate=True, no_new_id=True)
    document.close()
    return data
