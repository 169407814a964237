"""The invoice detail, laid out like a web page (IN-4): balance, services with their visits, credits,
payments, service contact, property and the proposal it came from; "View invoice" and "Pay invoice"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.models.dates import branch_date_text, branch_today
from app.models.formatting import date_text, money_text
from app.models.lists import invoice_status
from app.services.billing_records import InvoiceDetail
from app.services.session import PortalSession
from app.services.tasks import OwnedRunner, TaskRunner
from app.views import document_page as page
from app.views.detail_support import PROPOSAL_LINK, error_sentence, follow_link
from app.views.item_windows import close_with_standard_key, fit_to_screen, refuses_to_close
from app.views.pdf_window import PdfWindow
from app.views.theme import colors, icon, named, theme_changed


def in_progress_text(amount: Decimal, currency: str) -> str:
    return f"Payment of {money_text(amount, currency)} in progress — the processor has not confirmed it yet."


def invoice_html(invoice: InvoiceDetail, currency: str, today: date, time_zone: str) -> str:
    """Laid out like the proposal page (shared document_page helpers): header, balance, sections;
    `today` is the branch's, whose due dates these are, and payments are dated in its `time_zone`."""

    def money(amount: object) -> str:
        return page.e(money_text(amount, currency))  # type: ignore[arg-type]

    # The list's status, "overdue" past the due date: the portal only says "due", and the page showed
    # a calm "Due" for an invoice the list had just marked overdue in red.
    status = invoice_status(invoice, today)
    parts = [
        page.header(
            f"INVOICE · issued {date_text(invoice.invoice_date)}",
            f"Invoice {invoice.number}",
            status,
            f"{invoice.property.name} · due {date_text(invoice.due_date)}",
        )
    ]
    if invoice.balance > 0:
        parts.append(
            page.note(
                f"<span style='font-size:13pt;'>Balance due: <b>{money(invoice.balance)}</b></span>"
                # "of $300.00" beside a $300.00 balance only made one wonder what else there was.
                + (f"&nbsp;&nbsp;of {money(invoice.total)}" if invoice.balance != invoice.total else ""),
                "warning" if status == "overdue" else "info",
            )
        )
    else:
        parts.append(page.note(f"<b>Paid in full.</b> Invoice total {money(invoice.total)}.", "success"))
    if invoice.pending_payment_amount:
        # Not paid yet, so still in the balance above; said here so the payer does not pay it twice.
        parts.append(page.note(page.e(in_progress_text(invoice.pending_payment_amount, currency)), "warning"))
    if invoice.proposal_id is not None and invoice.proposal_number:
        parts.append(
            f"<p style='color:{colors().muted};'>From proposal "
            f"<a href='{PROPOSAL_LINK}{invoice.proposal_id}'>{page.e(invoice.proposal_number)}</a></p>"
        )
    parts.append(page.section("Services"))
    columns = [("Service", "left"), ("Description", "left"), ("Visit", "left"), ("Amount", "right")]
    rows = [
        (
            page.e(line.service),
            page.e(line.description),
            page.e(date_text(line.visit_date)) if line.visit_date else "—",
            money(line.amount),
        )
        for line in invoice.lines
    ]
    parts.append(page.table(columns, rows))
    # The total is before credits (the balance due is the total less credits and payments): "Total $300
    # after $25 in credits" read as if the $300 were what is left after them.
    credits = (
        f"Less {money_text(invoice.applied_credits, currency)} in credits applied" if invoice.applied_credits else ""
    )
    parts.append(page.total_line("Total", money(invoice.total), detail=credits))
    parts.append(page.section("Payments"))
    if invoice.payments:
        payment_rows = []
        for payment in invoice.payments:
            method = (
                f"{'Card' if payment.method_type == 'card' else 'Bank account'} ending {payment.method_last4}"
                if payment.method_type
                else "Payment recorded by the office"
            )
            captured = f" (taken by {payment.captured_by.name})" if payment.captured_by else ""
            fee = f" + {money_text(payment.convenience_fee, currency)} fee" if payment.convenience_fee else ""
            payment_rows.append(
                (
                    page.e(branch_date_text(payment.paid_at, time_zone)),
                    page.e(method + captured + fee),
                    # The receipt's reference, which a customer calling back quotes.
                    page.e(payment.reference or "—"),
                    money(payment.amount),
                )
            )
        columns = [("Date", "left"), ("Method", "left"), ("Reference", "left"), ("Amount", "right")]
        parts.append(page.table(columns, payment_rows))
    else:
        parts.append(page.hint("No payments yet."))
    contact = invoice.service_contact
    if contact is not None:
        parts.append(page.section("Service contact") + page.contact(contact.name, contact.email, contact.phone))
    if invoice.billing_contact:
        parts.append(page.section("Billing contact") + f"<p>{page.e(invoice.billing_contact)}</p>")
    return "".join(parts)


class InvoiceDetailDialog(QDialog):
    pay_requested = Signal(object, object)  # InvoiceDetail, the window the customer acted in (QWidget)
    proposal_requested = Signal(int)

    def __init__(
        self, session: PortalSession, runner: TaskRunner, invoice: InvoiceDetail, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        close_with_standard_key(self)
        self._session = session
        self._runner = OwnedRunner(runner, self)
        self.invoice = invoice
        self.pdf_window: PdfWindow | None = None
        self._viewer_pay_button: QPushButton | None = None
        self.setWindowTitle(f"Invoice {invoice.number}")
        self.setWindowIcon(icon("app"))
        fit_to_screen(self, QSize(720, 760))
        self.browser = QTextBrowser()
        self.browser.setObjectName("DocumentPage")
        self.browser.document().setDocumentMargin(18)
        # One column that wraps: a horizontal scroll bar would only ever scroll a few pixels of table edge.
        self.browser.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(lambda url: follow_link(url, self.proposal_requested.emit))
        self.status_label = named(QLabel(""), "DialogSubtitle")
        self.status_label.setWordWrap(True)
        self.view_button = QPushButton("View invoice", autoDefault=False)
        self.pay_button = QPushButton("Pay invoice", default=True)
        self.pay_button.setObjectName("PrimaryButton")
        close = QPushButton("Close", autoDefault=False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.view_button)
        buttons.addStretch()
        buttons.addWidget(close)
        buttons.addWidget(self.pay_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        close.clicked.connect(self.accept)
        self.view_button.clicked.connect(self.view_pdf)
        self.pay_button.clicked.connect(lambda: self.request_payment())
        self.show_invoice(invoice)
        theme_changed().connect(self._restyle)

    def done(self, result: int) -> None:
        """Close, Escape, Ctrl+W, the close box and the proposal link all end here: refused while a
        payment started from this page or its PDF is out, saying why."""
        reason = refuses_to_close(self)
        if reason is not None:
            self.status_label.setText(reason)
            self.status_label.show()
            return
        super().done(result)

    def _restyle(self) -> None:
        """The page is HTML coloured from the palette in use: built again after a light/dark switch.
        (A bound method, not a lambda: the connection ends with the dialog.)"""
        self.show_invoice(self.invoice)

    def show_invoice(self, invoice: InvoiceDetail) -> None:
        self.invoice = invoice
        config = self._session.config
        zone = config.branch.time_zone
        self.browser.setHtml(invoice_html(invoice, config.currency, branch_today(zone), zone))
        self.pay_button.setEnabled(invoice.can_pay)
        self.pay_button.setToolTip(invoice.pay_blocked_reason or "")
        self.status_label.setText(invoice.pay_blocked_reason or "")
        self.status_label.setVisible(bool(invoice.pay_blocked_reason))
        if self._viewer_pay_button is not None:
            self._viewer_pay_button.setEnabled(invoice.can_pay)
            self._viewer_pay_button.setToolTip(invoice.pay_blocked_reason or "")

    def request_payment(self, over: QWidget | None = None) -> None:
        """Asks for the pay window over `over`, the window the customer acted in (this page, or the
        PDF window's "Pay invoice"): chosen by whether the PDF was open, it covered the PDF even
        when they had clicked Pay on this page, and left this page usable behind it."""
        if self.invoice.can_pay:
            self.pay_requested.emit(self.invoice, over or self)

    def reload(self) -> None:
        client, invoice_id = self._session.client, self.invoice.id
        self._runner.run(lambda: client.invoice(invoice_id), self.show_invoice, self._failed)

    def view_pdf(self) -> None:
        """Fetched off the GUI thread and shown in the embedded viewer (which saves a copy and prints),
        with "Pay invoice" in its toolbar: the customer pays right after reviewing it."""
        client, invoice = self._session.client, self.invoice
        label = self.view_button.text()
        self.view_button.setEnabled(False)
        self.view_button.setText("Opening…")

        def opened(data: bytes) -> None:
            self.view_button.setText(label)
            self.view_button.setEnabled(True)
            self._open_viewer(data)

        def failed(error: Exception) -> None:
            self.view_button.setText(label)
            self._failed(error)

        self._runner.run(lambda: client.invoice_pdf(invoice.id), opened, failed)

    def _open_viewer(self, data: bytes) -> None:
        if self.pdf_window is not None:
            self.pdf_window.close()
        number = self.invoice.number
        window = PdfWindow(f"Invoice {number}", data, f"Invoice-{number}.pdf", self)
        self._viewer_pay_button = window.add_action("Pay invoice", lambda: self.request_payment(window))
        self._viewer_pay_button.setEnabled(self.invoice.can_pay)
        self._viewer_pay_button.setToolTip(self.invoice.pay_blocked_reason or "")
        window.finished.connect(lambda _: self._viewer_closed())
        self.pdf_window = window
        window.show()

    def _viewer_closed(self) -> None:
        self.pdf_window = None
        self._viewer_pay_button = None

    def _failed(self, error: Exception) -> None:
        self.view_button.setEnabled(True)
        self.status_label.setText(error_sentence(error))
        self.status_label.show()
