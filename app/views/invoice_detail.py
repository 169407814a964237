"""The invoice detail, laid out like a web page (IN-4): balance, services with their visits, credits,
payments, service contact, property and the proposal it came from; "View invoice" and "Pay invoice"."""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.models.formatting import date_text, moment_text, money_text
from app.services.billing_records import InvoiceDetail
from app.services.errors import PortalError
from app.services.paths import data_dir
from app.services.session import PortalSession
from app.services.tasks import TaskRunner
from app.views.theme import named

PROPOSAL_LINK = "proposal:"


def invoice_html(invoice: InvoiceDetail, currency: str) -> str:
    def m(amount: object) -> str:
        return html.escape(money_text(amount, currency))  # type: ignore[arg-type]

    e = html.escape
    parts = [
        f"<h2>Invoice {e(invoice.number)}</h2>",
        f"<p><b>Balance due: {m(invoice.balance)}</b> of {m(invoice.total)}"
        f" &nbsp;·&nbsp; Due {e(date_text(invoice.due_date))} &nbsp;·&nbsp; Invoiced {e(date_text(invoice.invoice_date))}</p>",
        f"<p>Property: {e(invoice.property.name)}</p>",
    ]
    if invoice.proposal_id is not None and invoice.proposal_number:
        parts.append(
            f'<p>From proposal <a href="{PROPOSAL_LINK}{invoice.proposal_id}">{e(invoice.proposal_number)}</a></p>'
        )
    parts.append("<h3>Services</h3><table width='100%' cellpadding='4'>")
    parts.append("<tr><th align='left'>Service</th><th align='left'>Description</th><th align='left'>Visit</th>")
    parts.append("<th align='right'>Amount</th></tr>")
    for line in invoice.lines:
        visit = e(date_text(line.visit_date)) if line.visit_date else "-"
        parts.append(
            f"<tr><td>{e(line.service)}</td><td>{e(line.description)}</td><td>{visit}</td>"
            f"<td align='right'>{m(line.amount)}</td></tr>"
        )
    parts.append("</table>")
    if invoice.applied_credits:
        parts.append(f"<p>Credits applied: {m(invoice.applied_credits)}</p>")
    parts.append("<h3>Payments</h3>")
    if invoice.payments:
        parts.append("<table width='100%' cellpadding='4'>")
        for payment in invoice.payments:
            method = (
                f"{'Card' if payment.method_type == 'card' else 'Bank account'} ending {payment.method_last4}"
                if payment.method_type
                else "Payment"
            )
            captured = f" (taken by {e(payment.captured_by)})" if payment.captured_by else ""
            parts.append(
                f"<tr><td>{e(moment_text(payment.paid_at))}</td><td>{e(method)}{captured}</td>"
                f"<td align='right'>{m(payment.amount)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No payments yet.</p>")
    contact = invoice.service_contact
    if contact is not None:
        reach = " · ".join(e(part) for part in (contact.email, contact.phone) if part)
        parts.append(f"<h3>Service contact</h3><p>{e(contact.name)}<br/>{reach}</p>")
    if invoice.billing_contact:
        parts.append(f"<p>Billing contact: {e(invoice.billing_contact)}</p>")
    return "".join(parts)


class InvoiceDetailDialog(QDialog):
    pay_requested = Signal(object)  # InvoiceDetail
    proposal_requested = Signal(int)

    def __init__(
        self, session: PortalSession, runner: TaskRunner, invoice: InvoiceDetail, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._runner = runner
        self.invoice = invoice
        self.pdf_path: Path | None = None
        self.setWindowTitle(f"Invoice {invoice.number}")
        self.resize(720, 640)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        self.status_label = named(QLabel(""), "DialogSubtitle")
        self.status_label.setWordWrap(True)
        self.view_button = QPushButton("View invoice", autoDefault=False)
        self.pay_button = QPushButton("Pay invoice", default=True)
        close = QPushButton("Close", autoDefault=False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.view_button)
        buttons.addStretch()
        buttons.addWidget(close)
        buttons.addWidget(self.pay_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        close.clicked.connect(self.accept)
        self.view_button.clicked.connect(self.view_pdf)
        self.pay_button.clicked.connect(lambda: self.pay_requested.emit(self.invoice))
        self.show_invoice(invoice)

    def show_invoice(self, invoice: InvoiceDetail) -> None:
        self.invoice = invoice
        self.browser.setHtml(invoice_html(invoice, self._session.config.currency))
        self.pay_button.setEnabled(invoice.can_pay)
        self.pay_button.setToolTip(invoice.pay_blocked_reason or "")
        self.status_label.setText(invoice.pay_blocked_reason or "")
        self.status_label.setVisible(bool(invoice.pay_blocked_reason))

    def reload(self) -> None:
        client, invoice_id = self._session.client, self.invoice.id
        self._runner.run(lambda: client.invoice(invoice_id), self.show_invoice, self._failed)

    def _link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith(PROPOSAL_LINK):
            self.proposal_requested.emit(int(text.removeprefix(PROPOSAL_LINK)))

    def view_pdf(self) -> None:
        """Fetched off the GUI thread, saved in the app's data folder and opened in the PDF viewer."""
        client, invoice = self._session.client, self.invoice
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", invoice.number)
        target = data_dir() / "invoices" / f"Invoice-{safe}.pdf"

        def fetch() -> Path:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(client.invoice_pdf(invoice.id))
            return target

        self.view_button.setEnabled(False)
        self.status_label.setText("Getting the invoice…")
        self.status_label.show()
        self._runner.run(fetch, self._opened, self._failed)

    def _opened(self, path: Path) -> None:
        self.pdf_path = path
        self.view_button.setEnabled(True)
        self.status_label.setText(f"Saved to {path}")
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _failed(self, error: Exception) -> None:
        self.view_button.setEnabled(True)
        self.status_label.setText(error.detail if isinstance(error, PortalError) else "That did not work.")
        self.status_label.show()
