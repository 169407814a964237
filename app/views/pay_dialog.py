"""Pay one invoice or several in one charge (IN-6, IN-7, IN-10): amount, method, fee, confirm, receipt.

The Idempotency-Key is made once per confirmed attempt and reused by "Try again" after an answer
got lost (timeout, unreachable, 5xx, still in progress), so a retry can never pay twice. Anything
that changes the payment, or a definite answer (paid, declined, refused), starts a new attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models.formatting import amount_input_text, date_text, money_text, parse_amount
from app.models.saved_methods import card_expired, expired_card_sentence, method_text
from app.services.billing_records import Allocation, InvoiceDetail, PaymentMethod, PaymentResult, Quote, ReceiptsSetting
from app.services.errors import DeclinedError, PortalError, ValidationError, payment_outcome_unknown
from app.services.session import PortalSession
from app.services.tasks import OwnedRunner, TaskRunner
from app.views.detail_support import error_sentence
from app.views.fit_height import HeightFitter
from app.views.payment_methods_dialog import AddPaymentMethodDialog
from app.views.short_lists import ShortTable, ShortText
from app.views.theme import colors, named

QUOTE_DELAY_MS = 300
NO_RECEIPT_YET = "No receipt email."  # in an assist, until the customer's setting says why
CHOOSE_METHOD_HINT = "Choose how to pay to see the fee"
EXPIRED_METHOD_HINT = "Choose a card that has not expired to see the fee"
ENTER_AMOUNT_HINT = "Enter the amount to see the fee"
ADD_CARD, ADD_BANK = "add:card", "add:ach"
# Refusals that mean the balance changed since the window opened (paid elsewhere, by the office or
# in another window): what the form offers is read again, or the payer would meet the same refusal.
BALANCE_CHANGED = frozenset({"invoice_paid", "amount_exceeds_balance", "partial_payments_disabled"})
# A payment of several invoices names their properties in its heading up to this many; beyond, it counts them.
NAMED_PROPERTIES = 3
# The most rows the invoice table, the confirm page's list and the "Not included" list ask room for:
# with more, each scrolls within itself and the window stays short enough for the buttons to show.
LISTED_ROWS = 6


@dataclass(frozen=True)
class Confirmed:
    """What Continue put on the confirm page, taken together: Pay charges exactly these amounts with
    this method, and the receipt names this method, whatever the form or a late quote says since."""

    allocations: tuple[Allocation, ...]
    method: PaymentMethod
    quote: Quote


def total_hint(fee_hint: str) -> str:
    """What the Total row says while the fee waits: what to do, as for the fee ("Choose how to pay
    to see the total"); a quiet dash while it is worked out or could not be (said once, by the fee)."""
    return fee_hint.removesuffix("the fee") + "the total" if fee_hint.endswith("to see the fee") else "—"


class PayDialog(QDialog):
    paid = Signal(object)  # PaymentResult
    # Closed after an answer got lost: the payment may have gone through, so what the owner shows
    # (balances, "Pay invoice") has to be asked for again.
    closed_unconfirmed = Signal()
    # The portal refused because a balance changed elsewhere: the owner's lists and pages are stale too.
    balances_changed = Signal()

    PAGE_FORM, PAGE_CONFIRM, PAGE_DONE = 0, 1, 2

    def __init__(
        self,
        session: PortalSession,
        runner: TaskRunner,
        invoices: Sequence[InvoiceDetail],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._runner = OwnedRunner(runner, self)
        self._currency = session.config.currency
        self._partial = session.config.partial_payments
        self.payable = [i for i in invoices if i.can_pay]
        self.blocked = [i for i in invoices if not i.can_pay]
        self.methods: tuple[PaymentMethod, ...] = ()
        self.quote: Quote | None = None
        self.payment: PaymentResult | None = None
        self._receipt_pending = False  # an assist's done page waits to say why no receipt went
        self.idempotency_key: str | None = None
        self.paying = False  # a payment request is out: the window stays until its answer
        self.outcome_unknown = False  # the last answer got lost; "Try again" asks about the same payment
        self._quote_generation = 0
        self._quoted_for: tuple[tuple[Allocation, ...], int] | None = None
        self.confirmed: Confirmed | None = None
        self._invoices = list(invoices)
        # form_error holds why a payment failed (IN-9): it stays until the payer changes something,
        # whatever quote comes back meanwhile; a failed load or quote's sentence goes once it works.
        # The portal's refusal of the last payment ("" when none stands), kept apart from form_error so
        # a failed balance check adds to it once.
        self._refusal = ""
        self._methods_loaded = False
        self._balances_stale = False  # refused for a changed balance, and the invoices not read again yet
        self._method_id: int | None = None  # the method last chosen, restored when adding one is cancelled
        # Called with a payment's answer when this window was destroyed before it came (its owner
        # went away regardless): the owner still reloads what the payment changed.
        self.answered_after_close: Callable[[], None] | None = None
        single = len(invoices) == 1
        self.setWindowTitle(f"Pay invoice {invoices[0].number}" if single else f"Pay {len(invoices)} invoices")
        self.setMinimumWidth(560)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_form(single))
        self.stack.addWidget(self._build_confirm())
        self.stack.addWidget(self._build_done())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        heading, summary = self._headings(invoices)
        self.heading = named(QLabel(heading), "DialogTitle")
        self.heading.setWordWrap(True)
        self.summary = named(QLabel(summary), "DialogSubtitle")
        self.summary.setWordWrap(True)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addSpacing(6)
        layout.addWidget(self.stack)

        # The expired-card note, amount and form errors appear under their fields: the window grows to show them.
        HeightFitter(self)
        self._quote_timer = QTimer(self, singleShot=True, interval=QUOTE_DELAY_MS)
        self._quote_timer.timeout.connect(self._fetch_quote)
        self._show_page(self.PAGE_FORM)
        self._load_methods()

    # -- construction ------------------------------------------------------------------

    def _headings(self, invoices: Sequence[InvoiceDetail]) -> tuple[str, str]:
        """As in the sign dialog: the window title names the invoice, the heading the property it is
        for and the line under it what was billed and when it is due, so the payer (or the office on
        the phone with them) sees that this is the bill they mean."""
        properties = list(dict.fromkeys(i.property.name for i in invoices))
        if len(invoices) == 1:
            invoice = invoices[0]
            parts = [f"Invoice {invoice.number}", ", ".join(invoice.services), f"due {date_text(invoice.due_date)}"]
            return properties[0], " · ".join(part for part in parts if part)
        due = self._money(sum((i.payable_amount for i in self.payable), Decimal("0.00")))
        where = f"{due} due on the {len(self.payable)} that can be paid here" if self.blocked else f"{due} due in all"
        if len(properties) <= NAMED_PROPERTIES:
            return ", ".join(properties), f"{len(invoices)} invoices · {where}"
        # Every name in the heading made it hundreds of lines tall with a hundred invoices, and
        # pushed Continue off the screen; the table below names each invoice's property.
        return f"{len(invoices)} invoices at {len(properties)} properties", where

    def _build_form(self, single: bool) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.full_radio = QRadioButton()
        self.other_radio = QRadioButton("Other amount")
        self.other_edit = QLineEdit(placeholderText=amount_input_text(Decimal(0)))
        self.other_edit.setEnabled(False)
        self.amount_error = named(QLabel(""), "FormError")
        self.amount_error.hide()
        self.table: QTableWidget | None = None
        # One form for the amount, the method, the fee and the total: the radios and every field
        # start at one left edge (the "Other amount" box sat 7 px right of the method's), and the
        # labels read down one column.
        form = QFormLayout()
        if single and self.payable:
            invoice = self.payable[0]
            self.full_radio.setText(self._full_text(invoice))
            self.full_radio.setChecked(True)
            group = QButtonGroup(page)
            group.addButton(self.full_radio)
            group.addButton(self.other_radio)
            other_row = QHBoxLayout()
            other_row.addWidget(self.other_radio)
            other_row.addWidget(self.other_edit, 1)
            form.addRow("Amount", self.full_radio)
            if self._partial:
                form.addRow("", other_row)
            else:
                self.other_radio.hide()
                self.other_edit.hide()
                note = named(QLabel("This company takes payment of the full balance only."), "DialogSubtitle")
                form.addRow("", note)
            form.addRow(self.amount_error)
            self.full_radio.toggled.connect(self._amount_mode_changed)
            self.other_edit.textChanged.connect(lambda _: self._changed())
        elif self.payable:
            self.table = ShortTable(len(self.payable), 4, LISTED_ROWS)
            self.table.setHorizontalHeaderLabels(["Invoice", "Property", "Balance", "Amount"])
            # Headings over their values as in the main lists: left, money right (Qt centres them).
            self.table.horizontalHeader().setDefaultAlignment(
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            )
            for column in (2, 3):
                heading = self.table.horizontalHeaderItem(column)
                if heading is not None:
                    heading.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.verticalHeader().hide()
            # Numbers and money show whole (a cut "INV-2611…" could be any of a month's invoices);
            # the property's name gives way, elided, with the whole name as its tooltip.
            header = self.table.horizontalHeader()
            for column in (0, 2, 3):
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            # Names of one portfolio differ at their end ("… North Entrance 0047"): that part stays.
            self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
            self._fill_table()
            self.table.itemChanged.connect(lambda _: self._changed())
            layout.addWidget(self.table)
            if not self._partial:
                layout.addWidget(named(QLabel("Each invoice is paid in full."), "DialogSubtitle"))
        self.blocked_label = named(QLabel(""), "DialogSubtitle")
        self.blocked_label.setTextFormat(Qt.TextFormat.PlainText)
        self.blocked_list = ShortText(self.blocked_label, LISTED_ROWS)
        self.blocked_list.setAccessibleName("Invoices not included")
        layout.addWidget(self.blocked_list)
        self._show_blocked()
        if not (single and self.payable):  # the single invoice's form holds it, under the amount
            layout.addWidget(self.amount_error)

        self.method_combo = QComboBox()
        self.method_combo.setMinimumWidth(300)
        # Under the method: why an expired card cannot pay, and what to do instead.
        self.method_note = named(QLabel(""), "WarnText")
        self.method_note.setWordWrap(True)
        self.method_note.hide()
        self.fee_label = named(QLabel(CHOOSE_METHOD_HINT), "DialogSubtitle")
        self.total_label = named(QLabel(total_hint(CHOOSE_METHOD_HINT)), "DialogSubtitle")
        form.addRow("Pay with", self.method_combo)
        form.addRow("", self.method_note)
        form.addRow("Convenience fee", self.fee_label)
        form.addRow("Total", self.total_label)
        layout.addLayout(form)
        self.form_error = named(QLabel(""), "FormError")
        self.form_error.setWordWrap(True)
        self.form_error.hide()
        layout.addWidget(self.form_error)
        self.continue_button = QPushButton("Continue", autoDefault=False)
        self.continue_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel", autoDefault=False)
        # After the methods or the fee could not be loaded (the portal unreachable): asks again.
        self.retry_button = QPushButton("Try again", autoDefault=False)
        self.retry_button.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addStretch()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.continue_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.continue_button.clicked.connect(self.review)
        self.retry_button.clicked.connect(self.try_again)
        self.method_combo.activated.connect(self._method_chosen)
        return page

    def _fill_table(self) -> None:
        """One row per invoice that can be paid, its amount the whole balance (the payer edits it)."""
        table = self.table
        if table is None:
            return
        table.blockSignals(True)
        table.setRowCount(len(self.payable))
        for row, invoice in enumerate(self.payable):
            for column, text in enumerate(
                (
                    invoice.number,
                    invoice.property.name,
                    self._balance_text(invoice),
                    amount_input_text(invoice.payable_amount),
                )
            ):
                item = QTableWidgetItem(text)
                editable = column == 3 and self._partial
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if editable else flags)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 1:
                    item.setToolTip(invoice.property.name)
                table.setItem(row, column, item)
        table.blockSignals(False)

    def _show_blocked(self) -> None:
        """A "Not included:" heading is for a list left out of a payment of several; for the window's only
        invoice it read as if others were being paid, so that one gets the portal's sentence alone
        (the heading above already names the invoice)."""
        if not self.blocked:
            text = ""
        elif len(self.blocked) == 1 and not self.payable:
            text = self.blocked[0].pay_blocked_reason or "This invoice cannot be paid here."
        else:
            # One line per invoice: joined with "; " the portal's own sentences read "…this invoice.; INV-…".
            heading = "None of these invoices can be paid here:" if not self.payable else "Not included:"
            reasons = "\n".join(
                f"{i.number}: {i.pay_blocked_reason or 'It cannot be paid here.'}" for i in self.blocked
            )
            text = f"{heading}\n{reasons}"
        self.blocked_label.setText(text)
        self.blocked_list.setVisible(bool(text))

    def _build_confirm(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.confirm_label = QLabel("")
        self.confirm_label.setTextFormat(Qt.TextFormat.RichText)
        # One line per invoice: a hundred of them scroll, and Back and Pay stay on screen.
        self.confirm_text = ShortText(self.confirm_label, LISTED_ROWS + 6)
        self.confirm_text.setAccessibleName("The payment to confirm")
        self.confirm_status = named(QLabel(""), "FormError")
        self.confirm_status.setWordWrap(True)
        self.confirm_status.hide()
        self.back_button = QPushButton("Back", autoDefault=False)
        # Only after a lost answer: the way out besides "Try again" (see _pay_failed).
        self.close_button = QPushButton("Close", autoDefault=False)
        self.close_button.hide()
        self.pay_button = QPushButton("Pay", autoDefault=False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.pay_button)
        layout.addWidget(self.confirm_text, 1)
        layout.addWidget(self.confirm_status)
        layout.addStretch()
        layout.addLayout(buttons)
        self.back_button.clicked.connect(self._back_to_form)
        self.close_button.clicked.connect(self.reject)
        self.pay_button.clicked.connect(self.pay)
        return page

    def _build_done(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.receipt_label = QLabel("")
        self.receipt_label.setWordWrap(True)
        self.receipt_label.setTextFormat(Qt.TextFormat.RichText)
        self.receipt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.done_button = QPushButton("Done", autoDefault=False)
        self.done_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.done_button)
        layout.addWidget(self.receipt_label)
        layout.addStretch()
        layout.addLayout(buttons)
        return page

    # -- state -------------------------------------------------------------------------

    def _money(self, amount: Decimal) -> str:
        return money_text(amount, self._currency)

    # A payment the processor has not confirmed yet is still in the balance but cannot be paid again
    # (IN-6): what the window offers is the balance less it, and says why it is less.

    def _full_text(self, invoice: InvoiceDetail) -> str:
        if invoice.pending_payment_amount:
            return f"Rest of the balance  {self._money(invoice.payable_amount)}"
        return f"Full balance  {self._money(invoice.balance)}"

    def _balance_text(self, invoice: InvoiceDetail) -> str:
        if invoice.pending_payment_amount:
            return f"{self._money(invoice.balance)} ({self._money(invoice.pending_payment_amount)} in progress)"
        return self._money(invoice.balance)

    def _most_text(self, invoice: InvoiceDetail) -> str:
        most = self._money(invoice.payable_amount)
        if invoice.pending_payment_amount:
            return f"{most} (a payment of {self._money(invoice.pending_payment_amount)} is in progress)"
        return most

    def _show_page(self, page: int) -> None:
        """Each page gives the keyboard focus to what it is for: the form its first input (what to
        pay, or how when nothing can be paid), confirm its Pay, the receipt its Done. Left to Qt, the
        focus fell on the page's first button, Back, when the confirm page replaced the form. Enter
        presses the page's own step, set here rather than left to Qt's auto-default buttons, which
        follow the focus: after Back, Enter went to the hidden Pay and did nothing."""
        self.stack.setCurrentIndex(page)
        primary = (self.continue_button, self.pay_button, self.done_button)[page]
        primary.setDefault(True)
        target: QWidget
        if page != self.PAGE_FORM:
            target = primary
        elif self.table is not None:
            target = self.table
        elif not self.payable:
            target = self.cancel_button
        elif self.other_radio.isChecked():
            target = self.other_edit
        else:
            target = self.full_radio
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def selected_method(self) -> PaymentMethod | None:
        wanted = self.method_combo.currentData()
        return next((m for m in self.methods if m.id == wanted), None)

    def allocations(self) -> tuple[Allocation, ...] | None:
        """What the form asks to pay, or None (with the reason shown) when an amount is not usable."""
        problem: str | None = None
        result: list[Allocation] = []
        if self.table is None:
            if not self.payable:
                return None
            invoice = self.payable[0]
            amount = invoice.payable_amount if self.full_radio.isChecked() else parse_amount(self.other_edit.text())
            if amount is None:
                problem = (
                    f"Enter an amount such as {amount_input_text(Decimal(25))}."
                    if self.other_edit.text().strip()
                    else ""
                )
            elif amount <= 0:
                problem = "The amount must be more than zero."
            elif amount > invoice.payable_amount:
                problem = (
                    f"The amount cannot be more than {self._most_text(invoice)}."
                    if invoice.pending_payment_amount
                    else f"The amount cannot be more than the balance of {self._money(invoice.balance)}."
                )
            else:
                result.append(Allocation(invoice.id, amount))
        else:
            for row, invoice in enumerate(self.payable):
                cell = self.table.item(row, 3)
                amount = parse_amount(cell.text() if cell else "")
                if amount is None or amount <= 0 or amount > invoice.payable_amount:
                    problem = f"{invoice.number}: enter an amount above zero and up to {self._most_text(invoice)}."
                    break
                result.append(Allocation(invoice.id, amount))
        self.amount_error.setText(problem or "")
        self.amount_error.setVisible(bool(problem))
        return None if problem is not None else tuple(result)

    def _amount_mode_changed(self) -> None:
        self.other_edit.setEnabled(self.other_radio.isChecked())
        if self.other_radio.isChecked():
            self.other_edit.setFocus()
        self._changed()

    def _changed(self) -> None:
        """The payer changed something: they have read why the last payment failed (IN-9), so that
        sentence goes now, and only now (a quote answering later must not wipe it)."""
        self._clear_form_error(payment_too=True)
        self._requote()

    def _requote(self) -> None:
        """It is another payment: new quote, and a new key when confirmed. A quote still out is
        superseded (it was for other amounts or another method: accepted, Continue would have
        confirmed one amount and charged another), and Continue waits for this one."""
        self.idempotency_key = None
        self.quote = None
        self._quoted_for = None
        self._quote_generation += 1
        self.continue_button.setEnabled(False)
        method = self.selected_method()
        expired = method is not None and card_expired(method)
        self.method_note.setText(expired_card_sentence(method) if method is not None and expired else "")
        self.method_note.setVisible(expired)
        if method is None:
            self._show_fee(None, CHOOSE_METHOD_HINT)
        elif expired:
            self._show_fee(None, EXPIRED_METHOD_HINT)
        else:
            self._show_fee(None, "Working out the fee…")
        self._quote_timer.start()

    def _show_fee(self, quote: Quote | None, hint: str = "") -> None:
        """The fee and total rows: the quoted amounts, or a sentence saying what they are waiting for.
        The total is large and bold once known; until then it is as quiet as the fee's sentence (a
        large bold "—" looked like an amount)."""
        if quote is not None:
            fee = quote.convenience_fee
            self.fee_label.setText(self._money(fee) if fee else "No fee")
            self.fee_label.setObjectName("")
            self.total_label.setText(self._money(quote.total))
            self.total_label.setObjectName("DialogTitle")
        else:
            self.fee_label.setText(hint)
            self.fee_label.setObjectName("DialogSubtitle")
            self.total_label.setText(total_hint(hint))
            self.total_label.setObjectName("DialogSubtitle")
        for label in (self.fee_label, self.total_label):
            label.style().unpolish(label)
            label.style().polish(label)

    # -- payment methods ---------------------------------------------------------------

    def _load_methods(self, select_id: int | None = None) -> None:
        client = self._session.client
        self._runner.run(
            client.payment_methods, lambda methods: self._show_methods(methods, select_id), self._methods_failed
        )

    def _methods_failed(self, error: Exception) -> None:
        self._failed(error)
        if not self._methods_loaded:
            self._show_fee(None, "The payment methods could not be loaded (see below)")
            self.retry_button.show()

    def try_again(self) -> None:
        """Asks again for what failed: the methods if they never came, otherwise the fee."""
        self.retry_button.hide()
        self._clear_form_error(payment_too=False)
        if not self._methods_loaded:
            self._show_fee(None, "Loading your payment methods…")
            self._load_methods(self._method_id)
        elif self._balances_stale:
            self._reload_invoices()
        else:
            self._requote()

    def portal_back(self) -> None:
        """The connection came back: what failed while it was down is asked for again at once."""
        if self.retry_button.isVisible() and self.stack.currentIndex() == self.PAGE_FORM:
            self.try_again()

    def _clear_form_error(self, *, payment_too: bool) -> None:
        if self._refusal and not payment_too:
            return
        self._refusal = ""
        self.form_error.hide()

    def _show_methods(self, methods: tuple[PaymentMethod, ...], select_id: int | None) -> None:
        accepted = self._session.config.accepted_payment_types
        self.methods = tuple(m for m in methods if m.type in accepted)
        self.method_combo.blockSignals(True)
        self.method_combo.clear()
        chosen = select_id or self._preselected()
        if chosen is None:
            self.method_combo.addItem("Choose how to pay", None)
        for method in self.methods:
            # Worded as in "Manage payments": an expired card says so in the list itself.
            self.method_combo.addItem(method_text(method), method.id)
        if "card" in accepted:
            self.method_combo.addItem("Add a new card…", ADD_CARD)
        if "ach" in accepted:
            self.method_combo.addItem("Add a new bank account…", ADD_BANK)
        if chosen is not None:
            self.method_combo.setCurrentIndex(self.method_combo.findData(chosen))
        self.method_combo.setEnabled(bool(self.payable))
        self.method_combo.blockSignals(False)
        self._methods_loaded = True
        self._method_id = self.method_combo.currentData() if isinstance(self.method_combo.currentData(), int) else None
        self.retry_button.hide()
        self._clear_form_error(payment_too=False)
        self._requote()

    def _preselected(self) -> int | None:
        """The default method, unless it is a card past its expiry: that one stays in the list,
        marked, but is never chosen for the payer (the charge would be refused)."""
        return next((m.id for m in self.methods if m.is_default and not card_expired(m)), None)

    def _method_chosen(self, index: int) -> None:
        data = self.method_combo.itemData(index)
        if data in (ADD_CARD, ADD_BANK):
            dialog = AddPaymentMethodDialog(
                self._session, self._runner.runner, "card" if data == ADD_CARD else "ach", self
            )
            if dialog.exec() and dialog.method is not None:
                self._clear_form_error(payment_too=True)
                self._load_methods(dialog.method.id)
                return
            # Cancelled: back to the method the payer had chosen, not to the default.
            self.method_combo.setCurrentIndex(max(self.method_combo.findData(self._method_id), 0))
        else:
            self._method_id = data if isinstance(data, int) else None
        self._changed()

    # -- quote, confirm, pay -----------------------------------------------------------

    def _fetch_quote(self) -> None:
        allocations, method = self.allocations(), self.selected_method()
        if not allocations or method is None or card_expired(method):
            if not self.payable:
                self._show_fee(None, "Nothing here can be paid right now")
            elif not allocations:
                self._show_fee(None, ENTER_AMOUNT_HINT)
            else:
                self._show_fee(None, CHOOSE_METHOD_HINT if method is None else EXPIRED_METHOD_HINT)
            return
        self._quote_generation += 1
        generation = self._quote_generation
        client = self._session.client

        def current() -> bool:
            """Still the quote for what the form says: a later edit or method supersedes it."""
            chosen = self.selected_method()
            return (
                generation == self._quote_generation
                and chosen is not None
                and chosen.id == method.id
                and self.allocations() == allocations
            )

        def shown(quote: Quote) -> None:
            if current():
                self.quote = quote
                self._quoted_for = (allocations, method.id)
                self._show_fee(quote)
                self._clear_form_error(payment_too=False)
                self.retry_button.hide()
                self.continue_button.setEnabled(True)

        def failed(error: Exception) -> None:
            if current():
                self.quote = None
                self._quoted_for = None
                self.continue_button.setEnabled(False)
                self._show_fee(None, "The fee could not be worked out (see below)")
                if not self._refusal:
                    self._failed(error)
                self.retry_button.show()

        self._runner.run(lambda: client.payment_quote(allocations, method.id), shown, failed)

    def review(self) -> None:
        """The confirm step repeats the total before anything is charged (IN-7). The amounts, the
        method and their quote are frozen here together: Pay and the receipt use only these."""
        if self.quote is None or self._quoted_for is None:
            return
        allocations, method_id = self._quoted_for
        method = next((m for m in self.methods if m.id == method_id), None)
        if method is None:
            return
        quote = self.quote
        self.confirmed = Confirmed(allocations, method, quote)
        numbers = {i.id: i.number for i in self.payable}
        rows = "".join(f"<li>{numbers[a.invoice_id]}: {self._money(a.amount)}</li>" for a in allocations)
        assisting = self._session.assisting
        # Staff taking a payment on the phone read the question out: it names whose card is charged.
        question = (
            f"Charge {escape(assisting.contact.name)}'s <b>{method.label}</b> — <b>{self._money(quote.total)}</b>?"
            if assisting is not None
            else f"Pay <b>{self._money(quote.total)}</b> with <b>{method.label}</b>?"
        )
        self.confirm_label.setText(
            f"<p>{question}</p>"
            f"<ul>{rows}</ul>"
            f"<p>Amount {self._money(quote.amount)} + convenience fee {self._money(quote.convenience_fee)}"
            f" = <b>{self._money(quote.total)}</b></p>"
        )
        self.confirm_status.hide()
        self.pay_button.setText(f"Pay {self._money(quote.total)}")
        self.pay_button.setEnabled(True)
        self.back_button.setEnabled(True)
        self.back_button.show()
        self.close_button.hide()
        self._show_page(self.PAGE_CONFIRM)

    def pay(self) -> None:
        if self.confirmed is None:
            return
        allocations, method_id = self.confirmed.allocations, self.confirmed.method.id
        if self.idempotency_key is None:
            self.idempotency_key = str(uuid.uuid4())
        key = self.idempotency_key
        self.paying = True
        self.pay_button.setEnabled(False)
        self.back_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.pay_button.setText("Paying…")
        client = self._session.client
        orphaned = self.answered_after_close

        def answered(handle: Callable[[Any], None]) -> Callable[[Any], None]:
            def deliver(outcome: object) -> None:
                if shiboken6.isValid(self):
                    handle(outcome)
                elif orphaned is not None:
                    orphaned()

            return deliver

        self._runner.runner.run(
            lambda: client.pay(allocations, method_id, key), answered(self._paid), answered(self._pay_failed)
        )

    def _paid(self, result: PaymentResult) -> None:
        self.paying = self.outcome_unknown = False
        self.payment = result
        self.idempotency_key = None
        method = self.confirmed.method if self.confirmed is not None else None
        emailed = self._receipt_sentence(result.receipt_emailed)
        self.receipt_label.setText(
            "<h3>Payment received. Thank you!</h3>"
            f"<p>Amount: {self._money(result.amount)}<br/>"
            f"Convenience fee: {self._money(result.convenience_fee)}<br/>"
            f"<b>Total charged: {self._money(result.total_charged)}</b><br/>"
            f"Paid with: {method.label if method else ''}<br/>"
            f"{f'Reference: {result.reference}' if result.reference else ''}</p><p>{emailed}</p>"
        )
        self._show_page(self.PAGE_DONE)
        self.paid.emit(result)

    def _receipt_sentence(self, emailed: bool) -> str:
        """In an assist the receipt goes to the customer, not to the staff member reading "to you";
        one not sent is either the customer's setting or a mail that failed, and the answer does not
        say which, so the setting is asked for and the sentence completed when it comes."""
        assisting = self._session.assisting
        if assisting is None:
            return "A receipt was emailed to you." if emailed else ""
        address = escape(assisting.contact.email or self._session.email)
        if emailed:
            return f"Receipt emailed to {address}."
        client = self._session.client

        def known(setting: ReceiptsSetting) -> None:
            if shiboken6.isValid(self) and self._receipt_pending:
                self._receipt_pending = False
                why = "receipts are turned off" if not setting.enabled else "the email could not be sent"
                self.receipt_label.setText(
                    self.receipt_label.text().replace(NO_RECEIPT_YET, f"No receipt email ({why}).")
                )

        self._receipt_pending = True
        self._runner.runner.run(client.email_receipts, known, lambda _: None)
        return NO_RECEIPT_YET

    def _pay_failed(self, error: Exception) -> None:
        self.paying = False
        detail = error.detail if isinstance(error, PortalError) else "The payment could not be sent."
        self.outcome_unknown = payment_outcome_unknown(error)
        if self.outcome_unknown:
            checked = "the invoice is checked" if len(self.payable) == 1 else "the invoices are checked"
            # Keep the key: "Try again" asks about this same payment and can never pay twice. Back
            # would make it another payment, so the way out is Close, which (see reject) has the
            # balances asked for again.
            self.confirm_status.setText(
                f"{detail} We could not confirm whether the payment went through. "
                "Press Try again: you will not be charged twice. Or press Close: as the payment may have "
                f"gone through, {checked} again with the portal."
            )
            self.confirm_status.show()
            self.pay_button.setText("Try again")
            self.pay_button.setEnabled(True)
            self.back_button.hide()
            self.close_button.setEnabled(True)
            self.close_button.show()
            # Disabled while paying, Pay had lost the focus; Try again is the step offered first.
            self.pay_button.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.idempotency_key = None
        self._show_page(self.PAGE_FORM)
        self._failed(error, prefix="Payment declined. " if isinstance(error, DeclinedError) else "")
        self._refusal = self.form_error.text()
        if isinstance(error, DeclinedError):
            return  # a definite refusal of this card: the quote still holds, and the sentence stays
        if isinstance(error, PortalError) and error.code in BALANCE_CHANGED:
            self._reload_invoices()
        else:
            self._requote()  # quote again before the next try

    def _reload_invoices(self) -> None:
        """A balance changed elsewhere: the invoices are read again and the amounts offered rebuilt
        from them, so the next try is not refused the same way; the owner reloads its lists."""
        self._requote()
        self._quote_timer.stop()  # a quote of the old balance would offer it again
        self._balances_stale = True
        self._show_fee(None, "Checking the balance with the portal…")
        client, ids = self._session.client, [i.id for i in self._invoices]
        self._runner.run(lambda: [client.invoice(i) for i in ids], self._invoices_reloaded, self._reload_failed)
        self.balances_changed.emit()

    def _invoices_reloaded(self, invoices: list[InvoiceDetail]) -> None:
        self._balances_stale = False
        before = {i.id: (i.balance, i.payable_amount) for i in self.payable}
        typed = self._typed_amounts()
        self._invoices = invoices
        self.payable = [i for i in invoices if i.can_pay]
        self.blocked = [i for i in invoices if not i.can_pay]
        self._show_blocked()
        self.summary.setText(self._headings(invoices)[1])
        if self.table is not None:
            self._fill_table()
            changes = self._keep_typed_amounts(typed, before)
            if changes and self._refusal:
                self._refusal = f"{self._refusal} {changes}"
        elif self.payable:
            self.full_radio.setText(self._full_text(self.payable[0]))
        else:
            for widget in (self.full_radio, self.other_radio, self.other_edit):
                widget.setEnabled(False)
        self.method_combo.setEnabled(bool(self.payable))
        if self._refusal:
            self.form_error.setText(self._refusal)  # without a failed check's sentence from before
        self._requote()

    def _typed_amounts(self) -> dict[int, str]:
        """The table's amounts by invoice, as the payer left them."""
        table = self.table
        if table is None:
            return {}
        cells = ((invoice.id, table.item(row, 3)) for row, invoice in enumerate(self.payable))
        return {invoice_id: cell.text() for invoice_id, cell in cells if cell is not None}

    def _keep_typed_amounts(self, typed: dict[int, str], before: dict[int, tuple[Decimal, Decimal]]) -> str:
        """After the balances were read again: each amount the payer typed stays while it still fits
        its invoice's balance (refilled with whole balances, amounts of $1, $2 and $3 became $684 to
        pay); one above what can be paid now (the balance less a payment in progress) is lowered to it.
        The rows whose balance changed are marked, and the sentence returned says which changed and which
        amount was lowered ("" when none)."""
        table = self.table
        if table is None:
            return ""
        changed: list[str] = []
        lowered: list[str] = []
        table.blockSignals(True)
        for row, invoice in enumerate(self.payable):
            amount_cell, balance_cell = table.item(row, 3), table.item(row, 2)
            # Full payments only: the amounts are not the payer's to type, and are the new balances.
            text = typed.get(invoice.id) if self._partial else None
            if amount_cell is not None and text is not None:
                amount = parse_amount(text)
                if amount is not None and amount > invoice.payable_amount:
                    lowered.append(invoice.number)  # what can be paid now, as _fill_table wrote it
                else:
                    amount_cell.setText(text)  # kept, even when not an amount yet: the form says why
            old = before.get(invoice.id)
            if old == (invoice.balance, invoice.payable_amount) or balance_cell is None or amount_cell is None:
                continue
            changed.append(invoice.number)
            if old is not None and old[0] != invoice.balance:
                balance_cell.setText(f"{self._balance_text(invoice)} (was {self._money(old[0])})")
            for cell in (balance_cell, amount_cell):
                _mark(cell, "The balance changed since this window opened.")
        table.blockSignals(False)
        if not changed:
            return ""
        parts = [f"The balance of {_listed(changed)} changed (marked in the list)"]
        if lowered:
            parts.append(f"the amount for {_listed(lowered)} was lowered to the new balance")
        if not self._partial:
            parts.append("the amounts to pay are the new balances")
        elif len(lowered) < len(self.payable):
            parts.append(
                "the other amounts are as you entered them" if lowered else "the amounts are as you entered them"
            )
        return "; ".join(parts) + "."

    def _reload_failed(self, error: Exception) -> None:
        """The portal's refusal stays (it says what changed), followed by why the balance could not
        be read; Continue waits, as a quote of the old balance would be refused again."""
        self._show_fee(None, "The balance could not be checked (see below)")
        self.form_error.setText(f"{self._refusal} {error_sentence(error)}".strip())
        self.form_error.show()
        self.retry_button.show()

    @property
    def waiting_for_portal(self) -> bool:
        return self.paying

    def reject(self) -> None:
        """Escape, Cancel and the title bar's close do nothing while a payment is out: closing would
        drop its answer, and with it the receipt and the refresh that stops a second payment."""
        if self.paying:
            return
        if self.outcome_unknown:
            self.closed_unconfirmed.emit()
        super().reject()

    def _back_to_form(self) -> None:
        self._show_page(self.PAGE_FORM)

    def _failed(self, error: Exception, prefix: str = "") -> None:
        if isinstance(error, ValidationError) and error.field_errors:
            text = " ".join(e.message for e in error.field_errors)
        else:
            text = error_sentence(error)
        self._refusal = ""
        self.form_error.setText(prefix + text)
        self.form_error.show()


def _listed(numbers: Sequence[str]) -> str:
    """Invoice numbers as a sentence names them: INV-1, INV-2 and INV-3."""
    return numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} and {numbers[-1]}"


def _mark(cell: QTableWidgetItem, why: str) -> None:
    """Set apart as a warning is, in bold for when colours are not told apart."""
    palette = colors()
    font = cell.font()
    font.setBold(True)
    cell.setFont(font)
    cell.setBackground(QColor(palette.warn_bg))
    cell.setForeground(QColor(palette.warn_text))
    cell.setToolTip(why)
