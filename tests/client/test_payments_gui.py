"""Invoices and payments in the desktop client against a real portal server (IN-4..IN-10, PM-1..PM-5).

The module runs its own server process (payments change balances the other live tests assert),
with the West branch set to full payments only.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QItemSelectionModel, QLocale, QSettings, Qt
from PySide6.QtGui import QAccessible, QTextDocument
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.models.dates import branch_today
from app.models.formatting import amount_input_text
from app.models.staff import AuditModel
from app.services.accounts import Accounts
from app.services.billing_records import Allocation, InvoiceDetail, PaymentMethod
from app.services.session import PortalSession, open_assist, sign_in
from app.services.settings import AppSettings
from app.services.tasks import TaskRunner
from app.views.main_window import MainWindow
from app.views.pay_dialog import PayDialog
from app.views.payment_methods_dialog import AddPaymentMethodDialog, ManagePaymentsDialog
from tests.client import company
from tests.client.live_server import LivePortal, running_portal
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving

pytestmark = pytest.mark.gui

VISA = "4242424242424242"
DECLINED = "4000000000000002"
TIMEOUT_MS = 15000
QUOTE_WAIT_MS = 600  # twice the pay dialog's quote delay


@pytest.fixture(scope="module")
def pay_server_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's server keeps its SQLite database (see expire_card)."""
    return tmp_path_factory.mktemp("pay-server")


@pytest.fixture(scope="module")
def pay_portal(pay_server_folder: Path) -> Iterator[LivePortal]:
    document = company.build(date.today())
    west = next(b for b in document["branches"] if b["slug"] == "west")
    west["config"] = {**west["config"], "partial_payments": False}
    with running_portal(pay_server_folder, document) as portal:
        yield portal


def session_for(portal_url: str, email: str = company.MORGAN) -> PortalSession:
    return sign_in(portal_url, email, company.PASSWORD)


def card(number: str = VISA) -> dict[str, object]:
    return {
        "type": "card",
        "card_number": number,
        "exp_month": 12,
        "exp_year": date.today().year + 2,
        "cvc": "123",
        "holder_name": "Morgan Many",
        "postal_code": "10001",
    }


def detail(session: PortalSession, number: str) -> InvoiceDetail:
    page = session.client.invoices("all", limit=500)
    return session.client.invoice(next(i.id for i in page.items if i.number == number))


@pytest.fixture
def runner(qtbot: QtBot) -> TaskRunner:
    return TaskRunner()


def open_pay(qtbot: QtBot, session: PortalSession, runner: TaskRunner, invoices: list[InvoiceDetail]) -> PayDialog:
    dialog = PayDialog(session, runner, invoices)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.method_combo.count() > 0 and not runner.busy, timeout=TIMEOUT_MS)
    return dialog


def choose_method(dialog: PayDialog, method: PaymentMethod) -> None:
    index = dialog.method_combo.findData(method.id)
    dialog.method_combo.setCurrentIndex(index)
    dialog.method_combo.activated.emit(index)


def wait_quote(qtbot: QtBot, dialog: PayDialog) -> None:
    qtbot.waitUntil(lambda: dialog.continue_button.isEnabled(), timeout=TIMEOUT_MS)


def test_pay_flow_shows_fee_before_confirming_then_a_receipt(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6, IN-7
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10001")  # 101.00 due
    dialog = open_pay(qtbot, session, runner, [invoice])
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    assert dialog.full_radio.isChecked()
    assert dialog.other_radio.isVisible(), "East takes partial payments"
    assert dialog.fee_label.text() == "$2.93"  # 2.90 % of 101.00 = 2.929, half-up
    assert dialog.total_label.text() == "$103.93"
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert dialog.stack.currentIndex() == PayDialog.PAGE_CONFIRM
    assert "$103.93" in dialog.confirm_label.text()
    assert dialog.pay_button.text() == "Pay $103.93"
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    assert dialog.stack.currentIndex() == PayDialog.PAGE_DONE
    assert "Total charged: $103.93" in dialog.receipt_label.text()
    assert "Visa ending 4242" in dialog.receipt_label.text()
    assert session.client.invoice(invoice.id).balance == Decimal("0.00")


def test_the_done_page_and_the_invoice_show_the_receipts_reference(
    qtbot: QtBot, pay_portal: LivePortal, pay_server_folder: Path, runner: TaskRunner
) -> None:  # PM-5, SA-3
    """A customer calling back quotes the receipt: the done page said "Reference: 37" (a row id), the
    receipt a 32-digit group id, and the invoice's payments no reference at all."""
    from app.views.invoice_detail import InvoiceDetailDialog

    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    receipts_before = session.client.email_receipts().enabled
    session.client.set_email_receipts(True)
    mail_folder = pay_server_folder / "mail"
    mails_before = set(mail_folder.glob("*.eml"))
    try:
        invoice = detail(session, "INV-10041")
        dialog = open_pay(qtbot, session, runner, [invoice])
        choose_method(dialog, visa)
        wait_quote(qtbot, dialog)
        qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
            qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    finally:
        session.client.set_email_receipts(receipts_before)
    [receipt] = set(mail_folder.glob("*.eml")) - mails_before
    quoted = re.search(r"^Reference: (\S+)$", receipt.read_text(), re.MULTILINE)
    assert quoted is not None and quoted.group(1).startswith("PAY-")
    reference = quoted.group(1)
    done = QTextDocument()
    done.setHtml(dialog.receipt_label.text())
    assert f"Reference: {reference}" in done.toPlainText()

    window = InvoiceDetailDialog(session, runner, detail(session, "INV-10041"))
    qtbot.addWidget(window)
    window.show()
    assert "REFERENCE" in window.browser.toPlainText(), "the Payments list has a Reference column"
    assert reference in window.browser.toPlainText()


def test_activity_names_an_assisted_payment_by_its_reference(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # SA-3
    """The audit's target was the raw group id, shown nowhere else: staff could not match the entry
    to the receipt the customer reads out."""
    from app.views.staff_views import AuditDialog

    url = pay_portal.portal_url("east")
    staff = sign_in(url, company.OFFICE, company.PASSWORD)
    contact = next(c for c in staff.client.staff_contacts(company.MORGAN).items if c.email == company.MORGAN)
    assisted = open_assist(staff, contact, "Customer paying on the phone")
    try:
        invoice = detail(assisted, "INV-10043")
        visa = assisted.client.add_payment_method(card())
        paid = assisted.client.pay([Allocation(invoice.id, invoice.balance)], visa.id, f"reference-test-{invoice.id}")
        assert paid.reference is not None
        [listed] = [p.reference for p in assisted.client.invoice(invoice.id).payments]
        assert listed == paid.reference
        dialog = AuditDialog(staff, runner, contact)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=TIMEOUT_MS)
        newest = dialog.model.entry(0)
        assert newest.action == "payment.create"
        shown = dialog.model.data(dialog.model.index(0, dialog.model.column_index("detail")))
        assert shown.startswith(f"Reference {paid.reference} · INV-10043 $"), shown
    finally:
        assisted.client.close()
        staff.client.close()


def test_fee_rows_say_what_they_wait_for(qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner) -> None:  # IN-7
    from app.views.pay_dialog import CHOOSE_METHOD_HINT, ENTER_AMOUNT_HINT

    session = session_for(pay_portal.portal_url("east"))
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-20001")])
    dialog._show_methods((), None)  # a contact with nothing on file: no method is chosen yet
    assert dialog.method_combo.currentText() == "Choose how to pay"
    # The total waits as quietly as the fee: a large bold "—" read as an amount.
    assert (dialog.fee_label.text(), dialog.total_label.text()) == (
        CHOOSE_METHOD_HINT,
        "Choose how to pay to see the total",
    )
    assert dialog.total_label.objectName() == dialog.fee_label.objectName() == "DialogSubtitle"
    qtbot.wait(QUOTE_WAIT_MS)
    assert dialog.fee_label.text() == CHOOSE_METHOD_HINT, "no quote without a method"
    dialog.other_radio.setChecked(True)
    qtbot.wait(QUOTE_WAIT_MS)
    assert dialog.fee_label.text() == ENTER_AMOUNT_HINT
    assert dialog.total_label.text() == "Enter the amount to see the total"
    assert not dialog.amount_error.isVisible(), "an empty field is not an error yet"
    assert not dialog.continue_button.isEnabled()


def test_other_amount_is_quoted_as_typed(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6, IN-7
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10003")  # 103.00 due
    dialog = open_pay(qtbot, session, runner, [invoice])
    choose_method(dialog, visa)
    dialog.other_radio.setChecked(True)
    qtbot.keyClicks(dialog.other_edit, "200")
    qtbot.waitUntil(lambda: dialog.amount_error.isVisible(), timeout=TIMEOUT_MS)
    assert "cannot be more than the balance" in dialog.amount_error.text()
    assert not dialog.continue_button.isEnabled()
    dialog.other_edit.setText("15.00")
    wait_quote(qtbot, dialog)
    assert (dialog.fee_label.text(), dialog.total_label.text()) == ("$0.44", "$15.44")  # 0.435 rounds up
    assert dialog.total_label.objectName() == "DialogTitle", "large and bold once known"


def test_amounts_are_typed_with_the_locales_decimal_mark(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6
    """Money is shown in the user's locale; typed amounts were read the en-US way only, so "25,50"
    in Germany became 2550.00 and the table offered "119.00" to a payer who writes 119,00."""
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10019")])  # 119.00 due
        choose_method(dialog, visa)
        dialog.other_radio.setChecked(True)
        assert dialog.other_edit.placeholderText() == "0,00"
        qtbot.keyClicks(dialog.other_edit, "25,50")
        wait_quote(qtbot, dialog)
        assert dialog.quote is not None and dialog.quote.amount == Decimal("25.50")
        dialog.other_edit.setText("25.50")  # the other convention's mark: refused, never 2550
        qtbot.waitUntil(lambda: dialog.amount_error.isVisible(), timeout=TIMEOUT_MS)
        assert dialog.amount_error.text() == "Enter an amount such as 25,00."
        several = open_pay(qtbot, session, runner, [detail(session, "INV-10019"), detail(session, "INV-10021")])
        assert several.table is not None
        assert [several.table.item(row, 3).text() for row in range(2)] == ["119,00", "121,00"]
        choose_method(several, visa)
        wait_quote(qtbot, several)
        assert several.quote is not None and several.quote.amount == Decimal("240.00")
        qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    finally:
        QLocale.setDefault(before)


def test_partial_payments_off_offers_the_full_balance_only(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6, IN-8
    session = session_for(pay_portal.portal_url("west"))
    session.client.add_payment_method(card())
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-30001")])
    wait_quote(qtbot, dialog)
    assert dialog.full_radio.isChecked()
    assert dialog.full_radio.text() == "Full balance  $75.00"
    assert not dialog.other_radio.isVisible()
    assert not dialog.other_edit.isVisible()


def test_decline_keeps_the_form_and_says_why(qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner) -> None:  # IN-9
    session = session_for(pay_portal.portal_url("east"))
    declined = session.client.add_payment_method(card(DECLINED))
    invoice = detail(session, "INV-10005")
    dialog = open_pay(qtbot, session, runner, [invoice])
    choose_method(dialog, declined)
    dialog.other_radio.setChecked(True)
    dialog.other_edit.setText("10.00")
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form_error.isVisible(), timeout=TIMEOUT_MS)
    assert dialog.isVisible()
    assert dialog.stack.currentIndex() == PayDialog.PAGE_FORM
    assert dialog.form_error.text().startswith("Payment declined. The card was declined by the card issuer.")
    assert dialog.other_edit.text() == "10.00"
    assert dialog.selected_method() == declined
    assert dialog.idempotency_key is None, "the next try is a new payment"
    assert session.client.invoice(invoice.id).balance == invoice.balance


class DropFirstPayment(Proxy):
    """A proxy in front of the portal that forwards everything but loses the answer to the first
    payment: the portal charges, the client sees the connection drop (the lost-answer case)."""

    def __init__(self, upstream: str) -> None:
        self.payment_keys: list[str] = []
        super().__init__(upstream, ProxyHandler)


class ProxyHandler(QuietHandler):
    server: DropFirstPayment

    def _forward(self) -> None:
        answer = relay(self, self.server.upstream)
        if self.command == "POST" and self.path.endswith("/payments"):
            self.server.payment_keys.append(self.headers.get("Idempotency-Key", ""))
            if len(self.server.payment_keys) == 1:
                self.close_connection = True
                return  # the portal took the payment; the answer never reaches the client
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815


@pytest.fixture
def proxy(pay_portal: LivePortal) -> Iterator[DropFirstPayment]:
    with serving(DropFirstPayment(pay_portal.origin)) as server:
        yield server


def test_retry_after_a_lost_answer_pays_once(
    qtbot: QtBot, pay_portal: LivePortal, proxy: DropFirstPayment, runner: TaskRunner
) -> None:  # IN-8
    session = session_for(f"{proxy.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10007")
    dialog = open_pay(qtbot, session, runner, [invoice])
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pay_button.text() == "Try again", timeout=TIMEOUT_MS)
    assert "you will not be charged twice" in dialog.confirm_status.text()
    assert session.client.invoice(invoice.id).balance == Decimal("0.00"), "the portal did take it"
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
        assert not dialog.close_button.isEnabled(), "no way out while the retry is out"
    assert len(proxy.payment_keys) == 2
    assert proxy.payment_keys[0] == proxy.payment_keys[1], "the retry reused the key"
    payments = session.client.invoice(invoice.id).payments
    assert [p.amount for p in payments] == [invoice.balance], "paid exactly once"
    assert dialog.payment is not None
    assert dialog.payment.reference is not None and dialog.payment.reference == payments[0].reference


def test_a_lost_answer_offers_close_which_has_the_invoice_checked_again(
    qtbot: QtBot, proxy: DropFirstPayment, runner: TaskRunner
) -> None:  # IN-8
    """After a lost answer only Escape or the close box got out of the confirm page: no button
    said how to leave, nor that leaving has the balance asked for again."""
    session = session_for(f"{proxy.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10023")])
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert dialog.back_button.isVisible() and not dialog.close_button.isVisible(), "Back is the way out here"
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pay_button.text() == "Try again", timeout=TIMEOUT_MS)
    assert dialog.close_button.isVisible() and dialog.close_button.isEnabled()
    assert dialog.close_button.text() == "Close"
    assert not dialog.back_button.isVisible(), "Back would make it another payment"
    assert dialog.pay_button.isDefault() and not dialog.close_button.isDefault()
    status = dialog.confirm_status.text()
    assert "Or press Close: as the payment may have gone through, the invoice is checked again" in status
    with qtbot.waitSignal(dialog.closed_unconfirmed, timeout=TIMEOUT_MS):  # the owner reloads on it
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert len(proxy.payment_keys) == 1, "closing sends nothing"


def test_pay_selected_pays_several_invoices_in_one_charge(
    qtbot: QtBot, pay_portal: LivePortal, settings_store: QSettings
) -> None:  # IN-10
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    session.client.set_default_payment_method(visa.id)
    window = MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(window)
    window.show()
    tab = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(tab)
    tab.search_edit.setText("INV-1001")  # INV-10011, INV-10013, ... in the loaded rows
    tab.apply_search()
    qtbot.waitUntil(lambda: tab.proxy.rowCount() > 2 and not window.runner.busy, timeout=TIMEOUT_MS)
    wanted = {"INV-10011", "INV-10013"}
    selection = tab.table.selectionModel()
    for row in range(tab.proxy.rowCount()):
        if tab.proxy.index(row, 0).data() in wanted:
            selection.select(
                tab.proxy.index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
    assert window.invoice_actions.pay_selected_button.text() == "Pay selected (2)"
    qtbot.mouseClick(window.invoice_actions.pay_selected_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(PayDialog) is not None, timeout=TIMEOUT_MS)
    dialog = window.findChild(PayDialog)
    assert isinstance(dialog, PayDialog)
    assert dialog.table is not None
    assert dialog.table.rowCount() == 2
    wait_quote(qtbot, dialog)
    assert dialog.total_label.text() == "$230.50"  # 111 + 113 = 224.00 and one fee: 6.496 -> 6.50
    dialog.review()
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    assert dialog.payment is not None
    assert len(dialog.payment.allocations) == 2
    for number in wanted:
        assert detail(session, number).balance == Decimal("0.00")


def test_manage_payments_add_default_remove_and_receipts(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # PM-1, PM-5
    session = session_for(pay_portal.portal_url("east"), company.LEAVER)
    manager = ManagePaymentsDialog(session, runner)
    qtbot.addWidget(manager)
    manager.show()
    assert manager.empty.title.text() == "Loading payment methods…"
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    assert not manager.receipts_check.isEnabled(), "receipts need a method on file"
    assert manager.receipts_hint.isVisible()
    # Nothing saved yet: an empty state says why, with the next step as the default button.
    assert manager.stack.currentWidget() is manager.empty
    assert manager.empty.title.text() == "No payment methods yet"
    assert manager.empty.message.text().startswith("Save a card or a bank account to pay invoices")
    assert manager.empty_add_card_button.isVisible() and manager.empty_add_card_button.isDefault()
    assert manager.empty_add_bank_button.isVisible()
    assert not manager.actions_row.isVisible(), "nothing to make default or remove"
    message = manager.empty.message
    assert message.height() >= message.heightForWidth(message.width()), "its second line shows"
    for number in (VISA, "5555555555554444"):
        adder = AddPaymentMethodDialog(session, runner, "card", manager)
        qtbot.addWidget(adder)
        qtbot.keyClicks(adder.number_edit, number)
        assert adder.brand_label.text() in ("Visa", "Mastercard")
        assert adder.number_edit.text().count(" ") == 3, "grouped as on the card"
        qtbot.keyClicks(adder.cvc_edit, "123")
        qtbot.keyClicks(adder.name_edit, "Lou Leaver")
        qtbot.keyClicks(adder.postal_edit, "10001")
        with qtbot.waitSignal(adder.accepted, timeout=TIMEOUT_MS):
            qtbot.mouseClick(adder.save_button, Qt.MouseButton.LeftButton)
        assert adder.number_edit.text() == "", "the number left the widget once sent"
        assert adder.cvc_edit.text() == ""
    manager.reload()
    qtbot.waitUntil(lambda: len(manager.methods) == 2 and not runner.busy, timeout=TIMEOUT_MS)
    assert [m.is_default for m in manager.methods] == [True, False]
    assert manager.stack.currentWidget() is manager.list_widget
    assert manager.actions_row.isVisible() and manager.close_button.isDefault()
    assert manager.receipts_check.isEnabled()
    manager.list_widget.setCurrentRow(1)
    qtbot.mouseClick(manager.default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: manager.methods[0].label == "Mastercard ending 4444", timeout=TIMEOUT_MS)
    manager.receipts_check.setChecked(True)
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    assert session.client.email_receipts().enabled is True
    manager.list_widget.setCurrentRow(0)
    manager.remove_selected(confirmed=True)
    qtbot.waitUntil(lambda: len(manager.methods) == 1 and not runner.busy, timeout=TIMEOUT_MS)
    assert manager.methods[0].label == "Visa ending 4242"
    assert manager.methods[0].is_default


@pytest.mark.parametrize(
    ("electronic", "accepted", "title", "message", "steps"),
    [
        (True, ("ach",), "No payment methods yet", "Save a bank account to pay invoices", ["Add bank account…"]),
        (False, ("card", "ach"), "No payment methods", "West does not take payments in the portal.", []),
    ],
)
def test_manage_payments_empty_state_offers_only_what_the_branch_takes(
    qtbot: QtBot,
    pay_portal: LivePortal,
    runner: TaskRunner,
    electronic: bool,
    accepted: tuple[str, ...],
    title: str,
    message: str,
    steps: list[str],
) -> None:  # PM-1
    session = session_for(pay_portal.portal_url("east"), company.LOCKOUT)  # never saves a method here
    config = dataclasses.replace(
        session.config,
        electronic_payments=electronic,
        accepted_payment_types=accepted,
        branch=dataclasses.replace(session.config.branch, name="West"),
    )
    manager = ManagePaymentsDialog(dataclasses.replace(session, config=config), runner)
    qtbot.addWidget(manager)
    manager.show()
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    assert manager.stack.currentWidget() is manager.empty
    assert manager.empty.title.text() == title
    assert manager.empty.message.text().startswith(message)
    shown = [b.text() for b in manager.empty.findChildren(QPushButton) if b.isVisible()]
    assert shown == steps
    assert not manager.notice.isVisible(), "the empty state says it already"
    assert manager.close_button.isDefault() == (not steps)


class FlakyMethods(Proxy):
    """A proxy in front of the portal whose list of payment methods fails with a 500 while
    `failing` is set and otherwise waits for `answer` before it is forwarded (so a test sees the
    dialog while a load is out); everything else is forwarded as it comes."""

    DETAIL = "The portal ran into a problem. Please try again later."

    def __init__(self, upstream: str) -> None:
        self.failing = True
        self.answer = threading.Event()
        self.loads = 0
        super().__init__(upstream, _FlakyMethodsHandler)


class _FlakyMethodsHandler(QuietHandler):
    server: FlakyMethods

    def _forward(self) -> None:
        if self.command == "GET" and self.path.split("?")[0].endswith("/payment-methods"):
            self.server.loads += 1
            if self.server.failing:
                problem = {"type": "about:blank", "title": "Internal error", "status": 500}
                problem |= {"code": "internal", "detail": FlakyMethods.DETAIL}
                reply(self, 500, {"Content-Type": "application/problem+json"}, json.dumps(problem).encode())
                return
            self.server.answer.wait(timeout=30)
        answer = relay(self, self.server.upstream)
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815


@pytest.fixture
def flaky(pay_portal: LivePortal) -> Iterator[FlakyMethods]:
    with serving(FlakyMethods(pay_portal.origin)) as server:
        yield server
        server.answer.set()  # a load still held back ends before the proxy does


def test_try_again_after_a_failed_first_load_shows_it_loading_and_loads_once(
    qtbot: QtBot, flaky: FlakyMethods, runner: TaskRunner
) -> None:  # PM-1
    session = session_for(f"{flaky.origin}/portal/east", company.LOCKOUT)  # never saves a method here
    manager = ManagePaymentsDialog(session, runner)
    qtbot.addWidget(manager)
    manager.show()
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    assert manager.empty.title.text() == "Could not load payment methods"
    assert manager.empty.message.text() == FlakyMethods.DETAIL
    assert manager.empty_retry_button.isVisible()
    flaky.failing = False
    # The failure and its button give way to the loading state while the portal is asked again.
    qtbot.mouseClick(manager.empty_retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: flaky.loads == 2, timeout=TIMEOUT_MS)
    assert manager.empty.title.text() == "Loading payment methods…"
    assert manager.empty.message.text() == ""
    assert not manager.empty_retry_button.isVisible()
    # A second click that was already on its way (delivered to the button though it is hidden now)
    # asks nothing more while that load is out.
    qtbot.mouseClick(manager.empty_retry_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)
    assert flaky.loads == 2
    flaky.answer.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    assert flaky.loads == 2
    assert manager.empty.title.text() == "No payment methods yet"
    assert manager.empty_add_card_button.isVisible() and not manager.empty_retry_button.isVisible()


def test_ach_field_errors_are_shown_on_the_field(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # PM-3
    session = session_for(pay_portal.portal_url("east"), company.LEAVER)
    adder = AddPaymentMethodDialog(session, runner, "ach")
    qtbot.addWidget(adder)
    adder.show()
    row = adder.rows["routing_account"]
    qtbot.keyClicks(adder.routing_edit, "011000015 /")
    assert row.error.isVisible()
    assert row.error.text().startswith("Use digits and one '/', no spaces")
    adder.routing_edit.setText("011000016/000123456789")
    qtbot.keyClicks(adder.name_edit, "Lou Leaver")
    qtbot.mouseClick(adder.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.error.isVisible() and not runner.busy, timeout=TIMEOUT_MS)
    assert row.error.text().startswith("Routing number 011000016 fails its checksum")
    assert not adder.error_label.isVisible(), "the message sits on its field, not in a banner"
    assert adder.result() == 0, "still open"


def test_a_saved_card_past_its_expiry_says_expired(pay_portal: LivePortal) -> None:  # PM-2
    """ "expires 11/2026" on a card that expired last month read as if it still worked."""
    from app.models.saved_methods import method_text

    client = session_for(pay_portal.portal_url("east"), company.MORGAN).client
    saved = client.add_payment_method(card())
    try:
        year = saved.exp_year
        assert year is not None and saved.exp_month == 12
        assert method_text(saved, date(year, 12, 31)) == f"{saved.label} · expires 12/{year}" + (
            " · default" if saved.is_default else ""
        )
        text = method_text(saved, date(year + 1, 1, 1))
        assert text.startswith(f"{saved.label} · expired 12/{year}")
    finally:
        client.remove_payment_method(saved.id)


def expire_card(server_folder: Path, method: PaymentMethod) -> int:
    """Moves a saved card's expiry to December of last year, in the server's own database: the portal
    refuses to save a card that has already expired (PM-2), so this is how a card saved while valid
    looks once its month has passed. Returns that year."""
    year = date.today().year - 1
    with closing(sqlite3.connect(server_folder / "portal.sqlite3")) as database, database:
        database.execute("UPDATE payment_methods SET exp_month = 12, exp_year = ? WHERE id = ?", (year, method.id))
    return year


def test_the_pay_window_marks_an_expired_card_and_never_charges_it(
    qtbot: QtBot, pay_portal: LivePortal, pay_server_folder: Path, runner: TaskRunner, tmp_path: Path
) -> None:  # PM-2, IN-7
    """The pay window listed a default card past its expiry like any other and chose it: the payer
    found out when the charge was refused. It is listed as expired (worded as in Manage payments),
    is not chosen for them, and choosing it says why it cannot pay before any fee or charge."""
    session = session_for(pay_portal.portal_url("east"))
    client = session.client
    before = client.payment_methods()
    good, old = client.add_payment_method(card()), client.add_payment_method(card("5555555555554444"))
    client.set_default_payment_method(old.id)
    year = expire_card(pay_server_folder, old)
    try:
        dialog = open_pay(qtbot, session, runner, [detail(session, "INV-20001")])
        listed = dialog.method_combo.itemText(dialog.method_combo.findData(old.id))
        assert listed == f"{old.label} · expired 12/{year} · default"
        assert dialog.method_combo.currentText() == "Choose how to pay", "the expired default is not chosen"
        assert not dialog.method_note.isVisible()

        choose_method(dialog, next(m for m in dialog.methods if m.id == old.id))
        assert dialog.method_note.isVisible()
        assert dialog.method_note.text() == (
            f"{old.label} expired at the end of 12/{year}. Choose another way to pay, or add a new card."
        )
        qtbot.wait(QUOTE_WAIT_MS)
        qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
        assert dialog.quote is None, "no fee is worked out for a card that cannot pay"
        assert dialog.fee_label.text() == "Choose a card that has not expired to see the fee"
        assert not dialog.continue_button.isEnabled()
        dialog.grab().save(str(tmp_path / "pay-expired-card.png"))

        choose_method(dialog, good)
        assert not dialog.method_note.isVisible()
        wait_quote(qtbot, dialog)
        assert dialog.quote is not None
    finally:
        for method in (good, old):
            client.remove_payment_method(method.id)
        for method in before:
            if method.is_default:
                client.set_default_payment_method(method.id)


@pytest.mark.parametrize("kind", ["card", "ach"])
def test_every_input_of_a_new_method_has_a_name_for_screen_readers(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner, kind: str
) -> None:  # PM-1
    """Each input sits in a row with its error line, which the form label names instead: a screen
    reader announced the card number, the expiry month and year and the rest as a bare "edit"."""
    dialog = AddPaymentMethodDialog(session_for(pay_portal.portal_url("east")), runner, kind)
    qtbot.addWidget(dialog)
    dialog.show()
    inputs: list[QWidget] = [
        edit for edit in dialog.findChildren(QLineEdit) if not isinstance(edit.parent(), QAbstractSpinBox)
    ]
    inputs += dialog.findChildren(QAbstractSpinBox) + dialog.findChildren(QComboBox)
    assert len(inputs) == (6 if kind == "card" else 3)
    names = []
    for widget in inputs:
        accessible = QAccessible.queryAccessibleInterface(widget)
        assert accessible is not None
        names.append(accessible.text(QAccessible.Text.Name))
    assert all(names) and len(set(names)) == len(names), names


def test_escape_while_a_card_is_saved_waits_for_the_portal(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # PM-1
    """Escape during "Saving…" had closed the dialog as cancelled: the portal kept the card, yet
    the pay window and the methods list never showed it."""
    session = session_for(pay_portal.portal_url("east"), company.LEAVER)
    dialog = AddPaymentMethodDialog(session, runner, "card")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.number_edit, VISA)
    dialog.cvc_edit.setText("123")
    dialog.name_edit.setText("Lee Leaver")
    dialog.postal_edit.setText("10001")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert dialog.save_button.text() == "Saving…"
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible(), "the dialog waits for the portal's answer"
    assert dialog.method is not None and dialog.method.last4 == "4242"
    assert dialog.method.id in [m.id for m in session.client.payment_methods()]
    session.client.remove_payment_method(dialog.method.id)


def test_invoice_detail_and_pdf(qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner) -> None:  # IN-4
    from app.views.invoice_detail import InvoiceDetailDialog, invoice_html

    session = session_for(pay_portal.portal_url("east"))
    invoice = detail(session, "INV-20001")  # Birch: Morgan is its billing contact
    text = invoice_html(invoice, "USD", branch_today(session.config.branch.time_zone), "UTC")
    for expected in ("Invoice INV-20001", "Balance due: <b>$480.00</b>", "Birch Office Park", "Riley Rep", "Mowing"):
        assert expected in text
    assert "<td align='right'>$480.00</td>" in text, "amounts are right-aligned"
    assert "PROPOSAL" not in text and "font-size:18pt" in text, "the proposal page's header style"
    dialog = InvoiceDetailDialog(session, runner, invoice)
    qtbot.addWidget(dialog)
    assert dialog.pay_button.isEnabled()
    assert session.client.invoice_pdf(invoice.id).startswith(b"%PDF")
    paid = InvoiceDetailDialog(session, runner, detail(session, "INV-10000"))
    qtbot.addWidget(paid)
    assert not paid.pay_button.isEnabled()
    assert paid.status_label.text() == "Invoice INV-10000 is already paid in full."


def test_invoice_credits_read_as_taken_off_the_total(pay_portal: LivePortal) -> None:  # IN-4, PF-3
    """The total is before credits: the page said "Total $480.00 after $25.00 in credits", as if
    $480.00 were what was left once the credits were taken off."""
    from app.views.invoice_detail import invoice_html

    session = session_for(pay_portal.portal_url("east"))
    invoice = detail(session, "INV-20001")
    credited = dataclasses.replace(
        invoice, applied_credits=Decimal("25.00"), balance=invoice.balance - Decimal("25.00")
    )
    document = QTextDocument()
    document.setHtml(invoice_html(credited, "USD", branch_today(session.config.branch.time_zone), "UTC"))
    text = " ".join(document.toPlainText().split())  # one space for every run of (non-breaking) spaces
    assert "Balance due: $455.00 of $480.00" in text
    assert "Total $480.00 Less $25.00 in credits applied" in text
    assert "after" not in text


def test_invoice_past_its_due_date_reads_overdue_as_in_the_list(pay_portal: LivePortal) -> None:  # IN-2, IN-3
    """The list marks it "Overdue" in red; its page said a calm "Due" with an information note."""
    from app.views.document_page import chip
    from app.views.invoice_detail import invoice_html

    session = session_for(pay_portal.portal_url("east"))
    late = detail(session, "INV-10031")  # 31 days old on 30-day terms, unpaid
    today = branch_today(session.config.branch.time_zone)
    assert late.status == "due" and late.due_date < today
    text = invoice_html(late, "USD", today, "UTC")
    assert chip("overdue") in text and chip("due") not in text
    assert page_note_background("warning") in text
    on_time = invoice_html(detail(session, "INV-20001"), "USD", today, "UTC")
    assert chip("due") in on_time and page_note_background("info") in on_time


def test_a_payment_is_dated_by_the_branch_s_day(pay_portal: LivePortal, computer_zone: Callable[[str], None]) -> None:
    """A payment taken at 23:30 in New York is the 27th's, as the branch's records say; on a
    computer set to UTC or Tokyo the invoice page said the 28th."""
    from app.views.invoice_detail import invoice_html

    session = session_for(pay_portal.portal_url("east"))
    paid = detail(session, "INV-10000")
    assert paid.payments
    late = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)  # 23:30 on Nov 27 in New York
    evening = dataclasses.replace(paid, payments=(dataclasses.replace(paid.payments[0], paid_at=late),))
    for zone in ("UTC", "Asia/Tokyo"):
        computer_zone(zone)
        document = QTextDocument()
        document.setHtml(invoice_html(evening, "USD", date(2026, 11, 27), "America/New_York"))
        # The payments alone: the test company's own dates (issued today) may be the 28th too.
        payments = document.toPlainText().split("\nPayments\n", 1)[1].split("\nService contact\n", 1)[0]
        assert "Nov 27, 2026" in payments and "Nov 28, 2026" not in payments, payments


def page_note_background(tone: str) -> str:
    from app.views.document_page import note

    return note("", tone).split("<tr>")[0]


def test_view_invoice_opens_the_embedded_viewer_with_pay_invoice(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner, tmp_path: Path
) -> None:  # IN-4: "After reviewing the Invoice, they can click Pay Invoice on this screen"
    from app.views.invoice_detail import InvoiceDetailDialog

    session = session_for(pay_portal.portal_url("east"))
    dialog = InvoiceDetailDialog(session, runner, detail(session, "INV-20001"))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.view_pdf()
    qtbot.waitUntil(lambda: dialog.pdf_window is not None, timeout=TIMEOUT_MS)
    window = dialog.pdf_window
    assert window is not None
    qtbot.waitUntil(lambda: window.viewer._shown, timeout=TIMEOUT_MS)
    assert window.windowTitle() == "Invoice INV-20001"
    assert window.viewer.page_count >= 1
    copy = window.viewer.save_copy(str(tmp_path / "copy.pdf"))  # "Save a copy" keeps the exact bytes
    assert copy is not None and copy.read_bytes() == window.viewer.data
    pay = next(b for b in window.findChildren(QPushButton) if b.text() == "Pay invoice")
    assert pay.isEnabled()
    with qtbot.waitSignal(dialog.pay_requested, timeout=TIMEOUT_MS) as asked:
        qtbot.mouseClick(pay, Qt.MouseButton.LeftButton)
    assert asked.args[0].number == "INV-20001"
    assert asked.args[1] is window, "the pay dialog opens over the invoice being read"
    with qtbot.waitSignal(dialog.pay_requested, timeout=TIMEOUT_MS) as asked:
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    assert asked.args[1] is dialog, "the page's own button, the PDF open or not"
    closing = window
    closing.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(closing), timeout=TIMEOUT_MS)
    assert dialog.pdf_window is None

    paid = InvoiceDetailDialog(session, runner, detail(session, "INV-10000"))
    qtbot.addWidget(paid)
    paid.view_pdf()
    qtbot.waitUntil(lambda: paid.pdf_window is not None, timeout=TIMEOUT_MS)
    assert paid.pdf_window is not None
    qtbot.waitUntil(lambda: paid.pdf_window is not None and paid.pdf_window.viewer._shown, timeout=TIMEOUT_MS)
    pay = next(b for b in paid.pdf_window.findChildren(QPushButton) if b.text() == "Pay invoice")
    assert not pay.isEnabled()
    assert pay.toolTip() == "Invoice INV-10000 is already paid in full."
    # Let the window's deferred delete run before the (Python-owned) dialog goes away with the test.
    closing = paid.pdf_window
    closing.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(closing), timeout=TIMEOUT_MS)


def test_pay_invoice_opens_over_the_window_it_was_clicked_in(
    qtbot: QtBot, pay_portal: LivePortal, settings_store: QSettings
) -> None:  # IN-4
    """With the invoice's PDF open, "Pay invoice" on the invoice page put the pay window over the
    PDF window, wherever that was, and left the page it was clicked in usable behind it."""
    session = session_for(pay_portal.portal_url("east"))
    window = MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    page = window.invoice_actions.show_detail(detail(session, "INV-20001"))
    qtbot.waitExposed(page)
    page.view_pdf()
    qtbot.waitUntil(lambda: page.pdf_window is not None and page.pdf_window.viewer._shown, timeout=TIMEOUT_MS)
    viewer = page.pdf_window
    assert viewer is not None and viewer.isVisible()

    def pay_from(button: QPushButton) -> PayDialog:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        dialog = window.invoice_actions.pay_dialog
        assert dialog is not None
        qtbot.waitExposed(dialog)
        assert QApplication.activeModalWidget() is dialog
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)  # its methods, before it closes
        return dialog

    on_page = pay_from(page.pay_button)
    assert on_page.parentWidget() is page, "over the invoice page, where Pay was clicked"
    on_page.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(on_page), timeout=TIMEOUT_MS)
    on_pdf = pay_from(next(b for b in viewer.findChildren(QPushButton) if b.text() == "Pay invoice"))
    assert on_pdf.parentWidget() is viewer, "over the PDF, where Pay was clicked"
    on_pdf.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(on_pdf), timeout=TIMEOUT_MS)
    viewer.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(viewer), timeout=TIMEOUT_MS)
    page.close()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)


class HoldAnswers(Proxy):
    """A proxy in front of the portal that keeps the answers to the requests `holds` picks (by method
    and path) until `release` is set, and notes each of them; everything else is forwarded as it comes."""

    def __init__(self, upstream: str, holds: Callable[[str, str], bool]) -> None:
        self.holds = holds
        self.release = threading.Event()
        self.held = threading.Event()
        self.requests: list[str] = []
        super().__init__(upstream, _HoldAnswersHandler)


class _HoldAnswersHandler(QuietHandler):
    server: HoldAnswers

    def _forward(self) -> None:
        answer = relay(self, self.server.upstream)
        if self.server.holds(self.command, self.path):
            self.server.requests.append(f"{self.command} {self.path}")
            self.server.held.set()
            self.server.release.wait(timeout=30)
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815


def is_payment(method: str, path: str) -> bool:
    return method == "POST" and path.endswith("/payments")


def method_changes(hold: HoldAnswers) -> list[str]:
    """The held changes as "POST 12/default" or "DELETE 12"."""
    changes = []
    for request in hold.requests:
        method, path = request.split(" ", 1)
        changes.append(f"{method} {path.split('/payment-methods/', 1)[1]}")
    return changes


def is_method_change(method: str, path: str) -> bool:
    """Make default (POST .../payment-methods/{id}/default) and remove (DELETE .../payment-methods/{id})."""
    return method in ("POST", "DELETE") and "/payment-methods/" in path


@pytest.fixture
def holding(pay_portal: LivePortal) -> Iterator[HoldAnswers]:
    with serving(HoldAnswers(pay_portal.origin, is_payment)) as server:
        yield server
        server.release.set()


def test_the_pay_window_stays_until_the_payment_is_answered(
    qtbot: QtBot, holding: HoldAnswers, runner: TaskRunner
) -> None:  # IN-8
    """Escape or the close box while "Paying…" had closed the window and dropped the answer: the
    charge went through with no receipt, and the invoice still offered "Pay invoice"."""
    session = session_for(f"{holding.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10015")])
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(holding.held.is_set, timeout=TIMEOUT_MS)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.close()
    assert dialog.isVisible(), "the window waits for the payment's answer"
    assert dialog.pay_button.text() == "Paying…"
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        holding.release.set()
    assert dialog.stack.currentIndex() == PayDialog.PAGE_DONE
    assert "Total charged:" in dialog.receipt_label.text()


def test_one_pay_window_at_a_time_and_closing_it_unsure_shows_the_portals_balance(
    qtbot: QtBot, proxy: DropFirstPayment, settings_store: QSettings
) -> None:  # IN-6, IN-8
    session = session_for(f"{proxy.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    session.client.set_default_payment_method(visa.id)
    window = MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    page = window.invoice_actions.show_detail(detail(session, "INV-10017"))
    qtbot.waitExposed(page)
    qtbot.mouseClick(page.pay_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.pay_button, Qt.MouseButton.LeftButton)
    dialogs = window.findChildren(PayDialog)
    assert len(dialogs) == 1, "a second click must not start a second payment of the same balance"
    dialog = dialogs[0]
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pay_button.text() == "Try again", timeout=TIMEOUT_MS)
    # The customer gives up on the lost answer; the portal did take the payment.
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.invoice.balance == Decimal("0.00"), timeout=TIMEOUT_MS)
    assert not page.pay_button.isEnabled(), "no second payment is offered for what was paid"
    page.close()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)  # the lists' reload, before teardown


def test_an_invoice_or_proposal_opened_again_brings_its_open_window_forward(
    qtbot: QtBot, pay_portal: LivePortal, settings_store: QSettings
) -> None:
    """Two windows of one invoice could each offer "Pay invoice" from what they last read, two of one
    proposal "Sign…": a second double-click shows the open one, and a closed one opens anew."""
    from app.views.invoice_detail import InvoiceDetailDialog
    from app.views.proposal_detail import ProposalWindow

    session = session_for(pay_portal.portal_url("east"))
    window = MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    actions = window.invoice_actions
    invoices = window.tabs["invoices"].model
    first, second = invoices.record(0), invoices.record(1)

    actions.open_invoice(first)
    qtbot.waitUntil(lambda: actions.details.get(first.id) is not None, timeout=TIMEOUT_MS)
    opened = actions.details.get(first.id)
    assert opened is not None
    actions.open_invoice(second)
    qtbot.waitUntil(lambda: actions.details.get(second.id) is not None, timeout=TIMEOUT_MS)
    actions.open_invoice(first)
    assert not window.runner.busy, "the open window is shown as it is, without asking the portal again"
    assert actions.details.get(first.id) is opened
    assert len([d for d in window.findChildren(InvoiceDetailDialog) if d.isVisible()]) == 2
    qtbot.waitUntil(lambda: QApplication.activeWindow() is opened, timeout=TIMEOUT_MS)

    opened.close()
    qtbot.waitUntil(lambda: actions.details.get(first.id) is None, timeout=TIMEOUT_MS)  # deleted on close
    actions.open_invoice(first)
    qtbot.waitUntil(lambda: actions.details.get(first.id) is not None, timeout=TIMEOUT_MS)

    proposal_id = window.tabs["proposals"].model.record(0).id
    proposal = window.open_proposal(proposal_id)
    assert window.open_proposal(proposal_id) is proposal
    assert len(window.findChildren(ProposalWindow)) == 1
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)  # the windows' loads, before teardown
    for dialog in (*window.findChildren(InvoiceDetailDialog), proposal):
        dialog.close()


def test_make_default_and_remove_show_progress_and_are_sent_once(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # PM-1
    """ "Make default" and "Remove…" stayed clickable with no sign of progress while their request
    was out: a double click sent it twice, and the second removal ended in an error line."""
    with serving(HoldAnswers(pay_portal.origin, is_method_change)) as hold:
        session = session_for(f"{hold.origin}/portal/east", company.REQUESTER)  # no other test pays as Robin
        direct = session_for(pay_portal.portal_url("east"), company.REQUESTER)
        first, second, third = (session.client.add_payment_method(card(n)) for n in (VISA, "5555555555554444", VISA))
        try:
            manager = ManagePaymentsDialog(session, runner)
            qtbot.addWidget(manager)
            manager.show()
            qtbot.waitUntil(lambda: len(manager.methods) == 3 and not runner.busy, timeout=TIMEOUT_MS)
            acting = (manager.default_button, manager.remove_button, manager.add_card_button, manager.add_bank_button)

            def select(method: PaymentMethod) -> None:
                manager.list_widget.setCurrentRow([m.id for m in manager.methods].index(method.id))

            select(second)
            qtbot.mouseClick(manager.default_button, Qt.MouseButton.LeftButton)
            qtbot.mouseClick(manager.default_button, Qt.MouseButton.LeftButton)  # the double click's second
            qtbot.waitUntil(hold.held.is_set, timeout=TIMEOUT_MS)
            assert manager.default_button.text() == "Saving…"
            assert not any(button.isEnabled() for button in acting)
            select(third)
            assert not any(button.isEnabled() for button in acting), "another row brings nothing back"
            hold.release.set()
            qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
            assert method_changes(hold) == [f"POST {second.id}/default"]
            assert [m.id for m in manager.methods if m.is_default] == [second.id], "the list was reloaded"
            assert manager.default_button.text() == "Make default"
            assert all(button.isEnabled() for button in acting)
            assert not manager.status_label.isVisible()

            hold.held.clear()
            hold.release.clear()
            manager.remove_selected(confirmed=True)  # third
            qtbot.waitUntil(hold.held.is_set, timeout=TIMEOUT_MS)
            assert manager.remove_button.text() == "Removing…"
            assert not any(button.isEnabled() for button in acting)
            qtbot.mouseClick(manager.remove_button, Qt.MouseButton.LeftButton)
            manager.remove_selected(confirmed=True)  # a click already on its way when the button went grey
            hold.release.set()
            qtbot.waitUntil(lambda: len(manager.methods) == 2 and not runner.busy, timeout=TIMEOUT_MS)
            assert method_changes(hold)[1:] == [f"DELETE {third.id}"]
            assert manager.remove_button.text() == "Remove…"
            assert not manager.status_label.isVisible(), "no error line from a second removal"
            assert manager.add_card_button.isEnabled()

            # Removed from elsewhere meanwhile: the portal's sentence, and the list as the portal has it.
            direct.client.remove_payment_method(first.id)
            select(first)
            manager.remove_selected(confirmed=True)
            qtbot.waitUntil(lambda: manager.status_label.isVisible() and not runner.busy, timeout=TIMEOUT_MS)
            assert manager.status_label.text() == "That payment method was not found."
            assert [m.id for m in manager.methods] == [second.id]
            assert manager.remove_button.text() == "Remove…"
            assert manager.add_card_button.isEnabled()
        finally:
            hold.release.set()
            for method in direct.client.payment_methods():
                direct.client.remove_payment_method(method.id)


def test_dialog_headings_say_what_the_window_title_does_not(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-4, PM-1
    """The pay and payment-method dialogs repeated their window title as the heading. As in the sign
    dialog, the heading now says what the title does not: the property, whose methods."""
    from app.models.formatting import date_text

    session = session_for(pay_portal.portal_url("east"))
    birch = detail(session, "INV-20001")
    dialog = open_pay(qtbot, session, runner, [birch])
    assert dialog.windowTitle() == "Pay invoice INV-20001"
    assert dialog.heading.text() == "Birch Office Park"
    services = ", ".join(birch.services)
    assert dialog.summary.text() == f"Invoice INV-20001 · {services} · due {date_text(birch.due_date)}"

    maple, paid = detail(session, "INV-10025"), detail(session, "INV-10000")
    several = open_pay(qtbot, session, runner, [maple, birch, paid])
    assert several.windowTitle() == "Pay 3 invoices"
    assert several.heading.text() == f"{maple.property.name}, Birch Office Park"
    due = maple.balance + birch.balance
    assert several.summary.text() == f"3 invoices · ${due:,.2f} due on the 2 that can be paid here"

    manager = ManagePaymentsDialog(session, runner)
    qtbot.addWidget(manager)
    assert manager.windowTitle() == "Manage payments"
    assert manager.heading.text() == f"Payment methods for {session.user.name}"
    for kind, title, heading in (("card", "Add a card", "New card"), ("ach", "Add a bank account", "New bank account")):
        adder = AddPaymentMethodDialog(session, runner, kind, manager)
        assert adder.windowTitle() == title
        assert adder.heading.text() == f"{heading} for {session.user.name}"
        assert "the portal keeps the name" in adder.kept_note.text()
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)  # the loads, before teardown


def test_pay_selected_shows_whole_invoice_numbers(qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner) -> None:
    """The Invoice column kept Qt's default width and cut long numbers ("INV-2611…", any of a
    month's invoices); it now fits its numbers, and the property's name gives way instead."""
    session = session_for(pay_portal.portal_url("east"))
    numbers = ("INV-2026-11-000125", "INV-2026-11-000127")
    invoices = [
        dataclasses.replace(detail(session, real), number=number)
        for real, number in zip(("INV-10025", "INV-10027"), numbers, strict=True)
    ]
    dialog = open_pay(qtbot, session, runner, invoices)
    table = dialog.table
    assert table is not None
    qtbot.waitExposed(dialog)
    assert [table.item(row, 0).text() for row in range(table.rowCount())] == list(numbers)
    widest = max(table.fontMetrics().horizontalAdvance(number) for number in numbers)
    assert table.columnWidth(0) >= table.sizeHintForColumn(0) >= widest, "each number shows whole"
    for column in (2, 3):  # the money too
        assert table.columnWidth(column) >= table.sizeHintForColumn(column)
    assert table.horizontalScrollBar().maximum() == 0, "the property column gave way, no scrolling"
    assert table.item(0, 1).toolTip() == invoices[0].property.name, "the whole name when it is cut"


def test_each_pay_page_gives_the_focus_to_what_it_is_for(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-7
    """When the confirm page replaced the form the focus fell on its first button, Back, whose ring
    then stood out next to Pay. Each page now focuses its own step, as the sign dialog does."""
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10029")])
    qtbot.waitActive(dialog)
    assert QApplication.focusWidget() is dialog.full_radio, "the form: what to pay"
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert dialog.stack.currentIndex() == PayDialog.PAGE_CONFIRM
    assert QApplication.focusWidget() is dialog.pay_button, "confirm: Pay, not Back"
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert dialog.stack.currentIndex() == PayDialog.PAGE_FORM
    assert QApplication.focusWidget() is dialog.full_radio
    qtbot.mouseClick(dialog.other_radio, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.other_edit, amount_input_text(Decimal("10.00")))
    wait_quote(qtbot, dialog)
    assert dialog.continue_button.isDefault(), "Pay, the confirm page's default, did not keep Enter"
    qtbot.keyClick(dialog.other_edit, Qt.Key.Key_Return)  # Enter goes through Continue
    assert dialog.stack.currentIndex() == PayDialog.PAGE_CONFIRM
    assert QApplication.focusWidget() is dialog.pay_button
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is dialog.other_edit, "back to the amount that was typed"
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)  # Pay, pressed from the keyboard
    assert dialog.stack.currentIndex() == PayDialog.PAGE_DONE
    assert QApplication.focusWidget() is dialog.done_button, "the receipt: Done"


def test_a_lost_answer_gives_the_focus_to_try_again(
    qtbot: QtBot, proxy: DropFirstPayment, runner: TaskRunner
) -> None:  # IN-8
    """Pay went grey while paying and the focus went on; Try again, the step offered first, gets it back."""
    session = session_for(f"{proxy.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10031")])
    qtbot.waitActive(dialog)
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pay_button.text() == "Try again", timeout=TIMEOUT_MS)
    assert QApplication.focusWidget() is dialog.pay_button
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)


def is_any_change(method: str, path: str) -> bool:
    """A payment-method change or the receipts switch (PATCH .../me/preferences)."""
    return is_method_change(method, path) or (method == "PATCH" and path.endswith("/me/preferences"))


def test_the_receipts_box_waits_for_every_change_and_its_own(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # PM-5
    """The box stayed clickable while Make default or Remove… was out (receipts turned on as the
    last method went were refused), and its own change sent no sign of progress."""
    with serving(HoldAnswers(pay_portal.origin, is_any_change)) as hold:
        session = session_for(f"{hold.origin}/portal/east", company.REQUESTER)  # no other test pays as Robin
        direct = session_for(pay_portal.portal_url("east"), company.REQUESTER)
        only = direct.client.add_payment_method(card())
        direct.client.set_email_receipts(False)
        try:
            manager = ManagePaymentsDialog(session, runner)
            qtbot.addWidget(manager)
            manager.show()
            qtbot.waitUntil(lambda: len(manager.methods) == 1 and not runner.busy, timeout=TIMEOUT_MS)
            manager.list_widget.setCurrentRow(0)
            controls = (manager.receipts_check, manager.remove_button, manager.add_card_button)
            assert all(control.isEnabled() for control in controls)
            assert not manager.receipts_check.isChecked()

            # Its own change: sent once, everything waits, then the box shows what the portal has.
            manager.receipts_check.click()
            qtbot.waitUntil(hold.held.is_set, timeout=TIMEOUT_MS)
            assert not any(control.isEnabled() for control in controls)
            assert manager.receipts_check.text() == "Email me payment receipts (saving…)"
            manager.receipts_check.click()  # greyed out: nothing more is sent
            hold.release.set()
            qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
            assert [request.split(" ")[0] for request in hold.requests] == ["PATCH"], "sent once"
            assert direct.client.email_receipts().enabled is True
            assert manager.receipts_check.isChecked() and manager.receipts_check.isEnabled()
            assert manager.receipts_check.text() == "Email me payment receipts"

            # Another change out: the box waits for it too.
            hold.held.clear()
            hold.release.clear()
            manager.remove_selected(confirmed=True)
            qtbot.waitUntil(hold.held.is_set, timeout=TIMEOUT_MS)
            assert not manager.receipts_check.isEnabled(), "not while the last method is being removed"
            hold.release.set()
            qtbot.waitUntil(lambda: not manager.methods and not runner.busy, timeout=TIMEOUT_MS)

            # Refused (no method on file, e.g. removed elsewhere meanwhile): the portal's sentence,
            # and the box as the portal has it.
            hold.release.clear()
            only = direct.client.add_payment_method(card())
            direct.client.set_email_receipts(False)
            manager.reload()
            qtbot.waitUntil(lambda: len(manager.methods) == 1 and not runner.busy, timeout=TIMEOUT_MS)
            direct.client.remove_payment_method(only.id)
            hold.release.set()
            manager.receipts_check.click()
            qtbot.waitUntil(lambda: manager.status_label.isVisible() and not runner.busy, timeout=TIMEOUT_MS)
            assert manager.status_label.text() == "Add a payment method first; receipts are sent for portal payments."
            assert not manager.receipts_check.isChecked(), "the box shows what the portal has"
            assert not manager.methods and manager.receipts_hint.isVisible()
        finally:
            hold.release.set()
            for method in direct.client.payment_methods():
                direct.client.remove_payment_method(method.id)


def test_what_office_staff_changed_in_an_assist_is_marked_where_the_customer_sees_it(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner, tmp_path: Path
) -> None:  # SA-3, PM-1, PM-5
    """A method office staff added, and the receipts switch they turned on, looked like the
    customer's own in Manage payments and the pay window: audited, but unmarked for the customer."""
    url = pay_portal.portal_url("east")
    staff = sign_in(url, company.OFFICE, company.PASSWORD)
    contact = next(c for c in staff.client.staff_contacts(company.MORGAN).items if c.email == company.MORGAN)
    assisted = open_assist(staff, contact, "Customer on the phone")
    session = session_for(url)
    client = session.client
    before = client.payment_methods()
    receipts_before = client.email_receipts().enabled
    added = assisted.client.add_payment_method(card("5555555555554444"))
    own = client.add_payment_method(card())
    try:
        assert added.captured_by is not None and added.captured_by.name == "Olive Office"
        assert assisted.client.set_email_receipts(True).changed_by == added.captured_by
        manager = ManagePaymentsDialog(session, runner)
        qtbot.addWidget(manager)
        manager.show()
        qtbot.waitUntil(lambda: bool(manager.methods) and not runner.busy, timeout=TIMEOUT_MS)
        rows = {
            manager.list_widget.item(i).data(Qt.ItemDataRole.UserRole): manager.list_widget.item(i).text()
            for i in range(manager.list_widget.count())
        }
        assert rows[added.id].endswith(" · captured by office staff (Olive Office)")
        assert "office staff" not in rows[own.id]
        assert manager.receipts_check.isChecked()
        assert manager.receipts_marker.isVisible()
        assert manager.receipts_marker.text().startswith("Turned on by office staff (Olive Office) on ")
        manager.grab().save(str(tmp_path / "manage-payments-assisted.png"))
        # The customer's own change makes the setting theirs again: the mark goes.
        manager.receipts_check.setChecked(False)
        qtbot.waitUntil(lambda: not runner.busy and manager.receipts_check.isEnabled(), timeout=TIMEOUT_MS)
        assert not manager.receipts_check.isChecked()
        assert not manager.receipts_marker.isVisible()
        manager.close()

        dialog = open_pay(qtbot, session, runner, [detail(session, "INV-20001")])
        listed = dialog.method_combo.itemText(dialog.method_combo.findData(added.id))
        assert listed.endswith(" · captured by office staff (Olive Office)"), "worded as in Manage payments"
        assert "office staff" not in dialog.method_combo.itemText(dialog.method_combo.findData(own.id))
        dialog.reject()
    finally:
        for method in (added, own):
            client.remove_payment_method(method.id)
        for method in before:
            if method.is_default:
                client.set_default_payment_method(method.id)
        if before:
            client.set_email_receipts(receipts_before)
        assisted.client.close()
        staff.client.close()


def test_a_payment_taken_in_an_assist_names_the_customer_and_where_the_receipt_went(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # SA-2, IN-7, PM-5
    """Office staff read "Pay $206.89 with Visa ending 4242?" and "A receipt was emailed to you."
    while charging the customer's card: neither said whose card, nor that the receipt went to them."""
    url = pay_portal.portal_url("east")
    staff = sign_in(url, company.OFFICE, company.PASSWORD)
    contact = next(c for c in staff.client.staff_contacts(company.MORGAN).items if c.email == company.MORGAN)
    assisted = open_assist(staff, contact, "Customer on the phone")
    client = assisted.client
    receipts_before = client.email_receipts().enabled
    visa = client.add_payment_method(card())
    try:
        for number, receipts, sentence in (
            ("INV-10101", True, "Receipt emailed to morgan@example.com."),
            ("INV-10103", False, "No receipt email (receipts are turned off)."),
        ):
            client.set_email_receipts(receipts)
            dialog = open_pay(qtbot, assisted, runner, [detail(assisted, number)])
            choose_method(dialog, visa)
            wait_quote(qtbot, dialog)
            qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
            total = dialog.total_label.text()
            question = QTextDocument()
            question.setHtml(dialog.confirm_label.text())
            assert question.toPlainText().startswith(f"Charge Morgan Many's Visa ending 4242 — {total}?"), number
            with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
                qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
            receipt = dialog.receipt_label.text()
            assert sentence in receipt and "to you" not in receipt, number
            dialog.accept()
        # The Activity list words the payment with its amounts as money (SA-3).
        activity = AuditModel("UTC", "USD", per_customer=True)
        activity.set_page(staff.client.staff_audit(contact.id))
        assert activity.data(activity.index(0, activity.column_index("action"))) == "Took a payment"
        reference = activity.entry(0).reference
        assert reference is not None and reference.startswith("PAY-")
        assert activity.data(activity.index(0, activity.column_index("detail"))) == (
            f"Reference {reference} · INV-10103 $203.00 · fee $5.89 · card ending 4242"
        )
    finally:
        client.remove_payment_method(visa.id)
        client.set_email_receipts(receipts_before)
        client.close()
        staff.client.close()
