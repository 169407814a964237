"""The pay window when answers cross the payer's edits, a payment fails, or the portal goes away
and comes back (IN-6..IN-9): what the confirm page shows is what is charged and named on the receipt,
a refusal's sentence stays until the payer acts on it, and no window that waits for a payment closes.

The module runs its own server process: payments change balances the other modules' tests assert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.billing_records import Allocation
from app.services.settings import AppSettings
from app.services.tasks import TaskRunner
from app.views.main_window import MainWindow
from app.views.pay_dialog import ADD_CARD, PayDialog
from app.views.payment_methods_dialog import AddPaymentMethodDialog
from tests.client import company
from tests.client.live_server import LivePortal, ServerProcess, running_portal
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving
from tests.client.test_payments_gui import (
    DECLINED,
    TIMEOUT_MS,
    HoldAnswers,
    card,
    choose_method,
    detail,
    is_payment,
    open_pay,
    session_for,
    wait_quote,
)

pytestmark = pytest.mark.gui

BANK = {
    "type": "ach",
    "routing_account": "011000015/000123456789",
    "holder_name": "Morgan Many",
    "account_type": "checking",
}


class HoldOneQuote(HoldAnswers):
    """Holds the answer to the first fee quote asked once `armed` is set, and only that one."""

    def __init__(self, upstream: str) -> None:
        self.armed = False
        super().__init__(upstream, self._first_quote)

    def _first_quote(self, method: str, path: str) -> bool:
        if self.armed and method == "POST" and path.endswith("/payment-quote"):
            self.armed = False
            return True
        return False


@pytest.fixture(scope="module")
def pay_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    folder: Path = tmp_path_factory.mktemp("pay-races-server")
    with running_portal(folder, company.build(date.today())) as portal:
        yield portal


@pytest.fixture
def runner(qtbot: QtBot) -> TaskRunner:
    return TaskRunner()


@pytest.fixture
def hold_quote(pay_portal: LivePortal) -> Iterator[HoldOneQuote]:
    with serving(HoldOneQuote(pay_portal.origin)) as server:
        yield server
        server.release.set()


@pytest.fixture
def hold_pay(pay_portal: LivePortal) -> Iterator[HoldAnswers]:
    with serving(HoldAnswers(pay_portal.origin, is_payment)) as server:
        yield server
        server.release.set()


def test_a_quote_for_an_earlier_amount_is_never_confirmed(
    qtbot: QtBot, hold_quote: HoldOneQuote, runner: TaskRunner
) -> None:  # IN-7
    """Typed 10.00, then 50.00 while the 10.00 quote was out: its answer enabled Continue, the confirm
    page said "Pay $10.29", and Pay charged $51.45."""
    session = session_for(f"{hold_quote.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10003")  # 103.00 due
    dialog = open_pay(qtbot, session, runner, [invoice])
    dialog._quote_timer.setInterval(1500)  # the 50.00 quote goes out well after the 10.00 answer
    hold_quote.armed = True
    choose_method(dialog, visa)
    dialog.other_radio.setChecked(True)
    dialog.other_edit.setText("10.00")
    qtbot.waitUntil(hold_quote.held.is_set, timeout=TIMEOUT_MS)
    dialog.other_edit.setText("50.00")
    hold_quote.release.set()
    qtbot.wait(500)  # the 10.00 answer is in, the 50.00 quote not yet asked
    assert not dialog.continue_button.isEnabled(), "Continue waits for the quote of what the form says"
    wait_quote(qtbot, dialog)
    assert dialog.total_label.text() == "$51.45"
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert "INV-10003: $50.00" in dialog.confirm_label.text()
    assert dialog.pay_button.text() == "Pay $51.45"
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS) as paid:
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    assert paid.args[0].total_charged == Decimal("51.45")
    assert "Total charged: $51.45" in dialog.receipt_label.text()


def test_the_method_confirmed_is_the_method_charged_and_named_on_the_receipt(
    qtbot: QtBot, hold_quote: HoldOneQuote, runner: TaskRunner
) -> None:  # IN-7
    """Visa, then the bank account while the card's quote was out: the confirm page and the receipt
    named the bank account and the card was charged."""
    session = session_for(f"{hold_quote.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    bank = session.client.add_payment_method(BANK)
    invoice = detail(session, "INV-10019")
    dialog = open_pay(qtbot, session, runner, [invoice])
    dialog._quote_timer.setInterval(1500)
    hold_quote.armed = True
    choose_method(dialog, visa)
    qtbot.waitUntil(hold_quote.held.is_set, timeout=TIMEOUT_MS)
    choose_method(dialog, bank)
    hold_quote.release.set()
    qtbot.wait(500)
    assert not dialog.continue_button.isEnabled()
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert bank.label in dialog.confirm_label.text()
    # Whatever the form says after Continue, Pay charges what was confirmed.
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData(visa.id))
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    assert f"Paid with: {bank.label}" in dialog.receipt_label.text()
    recorded = session.client.invoice(invoice.id).payments[-1]
    assert recorded.method_type == "ach"


def test_a_decline_s_reason_stays_until_the_payer_changes_something(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-9
    """A re-quote after the decline hid its sentence 0.3 s after it appeared."""
    session = session_for(pay_portal.portal_url("east"))
    declined = session.client.add_payment_method(card(DECLINED))
    visa = session.client.add_payment_method(card())
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10013")])
    choose_method(dialog, declined)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form_error.isVisible(), timeout=TIMEOUT_MS)
    sentence = dialog.form_error.text()
    assert sentence.startswith("Payment declined.")
    qtbot.wait(1500)
    assert dialog.form_error.isVisible() and dialog.form_error.text() == sentence
    assert not runner.busy, "no quote is asked again after a definite refusal"
    choose_method(dialog, visa)
    assert not dialog.form_error.isVisible(), "the payer acted on it: another card"
    wait_quote(qtbot, dialog)


def main_window(qtbot: QtBot, session_url: str, settings_store: QSettings) -> MainWindow:
    session = session_for(session_url)
    window = MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    return window


def start_paying(qtbot: QtBot, window: MainWindow, hold: HoldAnswers) -> PayDialog:
    """From the open pay window: Continue, Pay, and the payment's answer held by the proxy."""
    dialog = window.invoice_actions.pay_dialog
    assert dialog is not None
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(hold.held.is_set, timeout=TIMEOUT_MS)
    return dialog


def test_the_invoice_page_stays_open_while_a_payment_from_its_pdf_is_out(
    qtbot: QtBot, hold_pay: HoldAnswers, settings_store: QSettings
) -> None:  # IN-8
    """The pay window belongs to the PDF window, which belongs to the invoice page: closing the page
    mid-payment destroyed the pay window, and the answer (receipt, lists' reload) went nowhere."""
    window = main_window(qtbot, f"{hold_pay.origin}/portal/east", settings_store)
    session = window.session
    session.client.set_default_payment_method(session.client.add_payment_method(card()).id)
    reloads: list[int] = []
    window.invoice_actions._paid = lambda: reloads.append(1)
    page = window.invoice_actions.show_detail(detail(session, "INV-10009"))
    qtbot.waitExposed(page)
    page.view_pdf()
    qtbot.waitUntil(lambda: page.pdf_window is not None and page.pdf_window.viewer._shown, timeout=TIMEOUT_MS)
    viewer = page.pdf_window
    assert viewer is not None
    pay = next(b for b in viewer.findChildren(QPushButton) if b.text() == "Pay invoice")
    qtbot.mouseClick(pay, Qt.MouseButton.LeftButton)
    dialog = start_paying(qtbot, window, hold_pay)
    close = next(b for b in page.findChildren(QPushButton) if b.text() == "Close")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    qtbot.keyClick(page, Qt.Key.Key_Escape)
    viewer.close()
    assert page.isVisible() and viewer.isVisible() and dialog.isVisible()
    assert page.status_label.text() == f"This window stays open until “{dialog.windowTitle()}” has the portal's answer."
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        hold_pay.release.set()
    qtbot.waitUntil(lambda: bool(reloads), timeout=TIMEOUT_MS)
    qtbot.mouseClick(dialog.done_button, Qt.MouseButton.LeftButton)
    page.close()
    assert not page.isVisible(), "once the answer is in, the page closes"
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)


def test_a_payment_s_answer_reloads_the_lists_even_when_its_window_went_away(
    qtbot: QtBot, hold_pay: HoldAnswers, settings_store: QSettings
) -> None:  # IN-8
    window = main_window(qtbot, f"{hold_pay.origin}/portal/east", settings_store)
    session = window.session
    session.client.set_default_payment_method(session.client.add_payment_method(card()).id)
    reloads: list[int] = []
    window.invoice_actions._paid = lambda: reloads.append(1)
    window.invoice_actions.pay([detail(session, "INV-10007")])
    dialog = start_paying(qtbot, window, hold_pay)
    dialog.deleteLater()  # gone by a way no guard sees (its owner torn down)
    qtbot.waitUntil(lambda: not window.findChildren(PayDialog), timeout=TIMEOUT_MS)
    hold_pay.release.set()
    qtbot.waitUntil(lambda: bool(reloads), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)


def test_no_quit_sign_out_or_end_of_assist_while_a_payment_is_out(
    qtbot: QtBot, hold_pay: HoldAnswers, settings_store: QSettings
) -> None:  # IN-8
    """Only the branch switch asked: quitting, signing out or ending an assist dropped the answer."""
    window = main_window(qtbot, f"{hold_pay.origin}/portal/east", settings_store)
    session = window.session
    session.client.set_default_payment_method(session.client.add_payment_method(card()).id)
    signed_out: list[str] = []
    window.signed_out.connect(signed_out.append)
    window.invoice_actions.pay([detail(session, "INV-10011")])
    dialog = start_paying(qtbot, window, hold_pay)
    title = dialog.windowTitle()
    assert not window.close()
    assert window.statusBar().currentMessage() == f"“{title}” is waiting for the portal. Quit once it is done."
    window.sign_out()
    assert window.statusBar().currentMessage() == f"“{title}” is waiting for the portal. Sign out once it is done."
    window.end_assist()
    assert window.statusBar().currentMessage() == f"“{title}” is waiting for the portal. End assist once it is done."
    window.close_window()
    assert window.isVisible() and window.isEnabled() and not window._assist_over
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        hold_pay.release.set()
    qtbot.mouseClick(dialog.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert window.close(), "once the answer is in, the window closes"
    assert not signed_out


def test_a_balance_changed_elsewhere_is_read_again_and_offered(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6, IN-9
    """Paid in part elsewhere while the confirm page was up: Pay was refused, and the window kept
    offering the old balance with its old quote, refused the same way at every try."""
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10025")  # 125.00 due
    dialog = open_pay(qtbot, session, runner, [invoice])
    changed: list[bool] = []
    dialog.balances_changed.connect(lambda: changed.append(True))
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    session.client.pay((Allocation(invoice.id, Decimal("10.00")),), visa.id, str(uuid.uuid4()))  # the office
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form_error.isVisible(), timeout=TIMEOUT_MS)
    sentence = dialog.form_error.text()
    assert not dialog.continue_button.isEnabled(), "the old quote is gone"
    qtbot.waitUntil(lambda: dialog.full_radio.text() == "Full balance  $115.00", timeout=TIMEOUT_MS)
    wait_quote(qtbot, dialog)
    assert dialog.quote is not None and dialog.quote.amount == Decimal("115.00")
    assert dialog.form_error.isVisible() and dialog.form_error.text() == sentence, "the portal's sentence stays"
    assert changed, "the owner reloads its lists"
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.paid, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    assert session.client.invoice(invoice.id).balance == Decimal("0.00")


def test_amounts_typed_for_several_invoices_outlive_a_balance_changed_elsewhere(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6, IN-10
    """$1, $2 and $3 typed for three invoices, refused because the office took a payment meanwhile:
    every amount was reset to its whole balance, and Continue, Pay would have charged $429 for $6.
    Each typed amount stays while it fits; only the rows whose balance changed are marked."""
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    invoices = [detail(session, number) for number in ("INV-10041", "INV-10043", "INV-10045")]  # 141, 143, 145 due
    dialog = open_pay(qtbot, session, runner, invoices)
    table = dialog.table
    assert table is not None
    choose_method(dialog, visa)
    for row, amount in enumerate(("1.00", "2.00", "3.00")):
        cell = table.item(row, 3)
        assert cell is not None
        cell.setText(amount)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    office = (Allocation(invoices[0].id, Decimal("140.50")), Allocation(invoices[1].id, Decimal("10.00")))
    session.client.pay(office, visa.id, str(uuid.uuid4()))
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form_error.isVisible(), timeout=TIMEOUT_MS)
    refusal = dialog.form_error.text()
    qtbot.waitUntil(lambda: not runner.busy and dialog.continue_button.isEnabled(), timeout=TIMEOUT_MS)

    def column(index: int) -> list[str]:
        return [cell.text() if (cell := table.item(row, index)) else "" for row in range(table.rowCount())]

    assert column(3) == ["0.50", "2.00", "3.00"], "$1.00 no longer fits INV-10041: lowered to its $0.50"
    assert column(2) == ["$0.50 (was $141.00)", "$133.00 (was $143.00)", "$145.00"]
    bold = [
        [cell is not None and cell.font().bold() for cell in (table.item(r, 2), table.item(r, 3))] for r in range(3)
    ]
    assert bold == [[True, True], [True, True], [False, False]], "only the rows that changed are marked"
    assert dialog.form_error.text() == (
        f"{refusal} The balance of INV-10041 and INV-10043 changed (marked in the list); the amount for "
        "INV-10041 was lowered to the new balance; the other amounts are as you entered them."
    )
    assert dialog.quote is not None and dialog.quote.amount == Decimal("5.50")


def test_an_invoice_paid_elsewhere_is_no_longer_offered(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10027")
    dialog = open_pay(qtbot, session, runner, [invoice])
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    session.client.pay((Allocation(invoice.id, invoice.balance),), visa.id, str(uuid.uuid4()))
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.full_radio.isEnabled(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    qtbot.wait(500)
    assert dialog.form_error.text() == "Invoice INV-10027 is already paid in full."
    assert dialog.blocked_label.isVisible()
    assert dialog.blocked_label.text() == "Invoice INV-10027 is already paid in full.", "one invoice, no list heading"
    assert not dialog.continue_button.isEnabled() and not dialog.method_combo.isEnabled()


def test_what_cannot_be_paid_is_worded_for_one_invoice_or_several(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # IN-6
    """The window for one paid invoice said "Not included:" over it, a heading for a list left out
    of a payment of several, as if other invoices were being paid."""
    session = session_for(pay_portal.portal_url("east"))
    paid = detail(session, "INV-10002")
    one = open_pay(qtbot, session, runner, [paid])
    assert one.blocked_label.text() == "Invoice INV-10002 is already paid in full."
    several = open_pay(qtbot, session, runner, [detail(session, "INV-10001"), paid])
    assert several.blocked_label.text() == "Not included:\nINV-10002: Invoice INV-10002 is already paid in full."
    none = open_pay(qtbot, session, runner, [detail(session, "INV-10000"), paid])
    assert none.blocked_label.text().startswith("None of these invoices can be paid here:\nINV-10000: ")


class Outage(Proxy):
    """A proxy in front of the portal that drops the connection of every request about payment
    methods and fees while `down` is set (the portal unreachable); everything else goes through."""

    def __init__(self, upstream: str) -> None:
        self.down = False
        self.invoices_down = False  # the same for reading an invoice
        super().__init__(upstream, _OutageHandler)


class _OutageHandler(QuietHandler):
    server: Outage

    def _forward(self) -> None:
        path = self.path.split("?")[0]
        if self.server.down and (path.endswith("/payment-methods") or path.endswith("/payment-quote")):
            self.close_connection = True
            return
        if self.server.invoices_down and self.command == "GET" and "/invoices/" in path:
            self.close_connection = True
            return
        answer = relay(self, self.server.upstream)
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815


@pytest.fixture
def outage(pay_portal: LivePortal) -> Iterator[Outage]:
    with serving(Outage(pay_portal.origin)) as server:
        yield server


def test_a_pay_window_opened_during_an_outage_offers_try_again(
    qtbot: QtBot, outage: Outage, runner: TaskRunner
) -> None:  # IN-6
    """The methods were asked for only as the window opened: after an outage it stayed empty."""
    session = session_for(f"{outage.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    session.client.set_default_payment_method(visa.id)
    outage.down = True
    dialog = PayDialog(session, runner, [detail(session, "INV-10021")])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible(), timeout=TIMEOUT_MS)
    assert dialog.form_error.isVisible() and not dialog.continue_button.isEnabled()
    outage.down = False
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    wait_quote(qtbot, dialog)
    assert dialog.method_combo.currentData() == visa.id
    assert not dialog.form_error.isVisible() and not dialog.retry_button.isVisible()
    # The fee fails the same way, and is asked again once the portal answers.
    outage.down = True
    dialog.other_radio.setChecked(True)
    dialog.other_edit.setText("20.00")
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible(), timeout=TIMEOUT_MS)
    assert dialog.quote is None and not dialog.continue_button.isEnabled()
    outage.down = False
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    wait_quote(qtbot, dialog)
    assert dialog.quote is not None and dialog.quote.amount == Decimal("20.00")


def test_the_pay_window_loads_again_when_the_connection_is_restored(
    qtbot: QtBot, outage: Outage, settings_store: QSettings
) -> None:  # IN-6
    window = main_window(qtbot, f"{outage.origin}/portal/east", settings_store)
    session = window.session
    session.client.set_default_payment_method(session.client.add_payment_method(card()).id)
    outage.down = True
    dialog = window.invoice_actions.pay([detail(session, "INV-10023")])
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible(), timeout=TIMEOUT_MS)
    outage.down = False
    window.monitor.restored.emit()
    wait_quote(qtbot, dialog)
    assert not dialog.form_error.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)


def test_cancelling_a_new_card_goes_back_to_the_method_chosen(
    qtbot: QtBot, pay_portal: LivePortal, runner: TaskRunner
) -> None:  # PM-1
    session = session_for(pay_portal.portal_url("east"))
    visa = session.client.add_payment_method(card())
    session.client.set_default_payment_method(visa.id)
    bank = session.client.add_payment_method(BANK)
    dialog = open_pay(qtbot, session, runner, [detail(session, "INV-10029")])
    assert dialog.method_combo.currentData() == visa.id
    choose_method(dialog, bank)

    def cancel_adding() -> None:
        adding = dialog.findChildren(AddPaymentMethodDialog)
        if adding and adding[0].isVisible():
            adding[0].reject()
        else:
            QTimer.singleShot(50, cancel_adding)

    QTimer.singleShot(50, cancel_adding)
    index = dialog.method_combo.findData(ADD_CARD)
    dialog.method_combo.setCurrentIndex(index)
    dialog.method_combo.activated.emit(index)
    assert dialog.method_combo.currentData() == bank.id
    wait_quote(qtbot, dialog)
    assert dialog.quote is not None and dialog.quote.convenience_fee == Decimal("1.00")


def test_a_balance_that_cannot_be_checked_says_so_once_and_goes_when_it_can(
    qtbot: QtBot, outage: Outage, runner: TaskRunner
) -> None:  # IN-9
    """After a balance-changed refusal, each failed check (Try again, the connection restored) added
    its sentence to the last one ("… Cannot reach … Cannot reach …"), and a check that worked left
    the failed one's on screen."""
    session = session_for(f"{outage.origin}/portal/east")
    visa = session.client.add_payment_method(card())
    invoice = detail(session, "INV-10033")
    dialog = open_pay(qtbot, session, runner, [invoice])
    choose_method(dialog, visa)
    wait_quote(qtbot, dialog)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    session.client.pay((Allocation(invoice.id, Decimal("10.00")),), visa.id, str(uuid.uuid4()))
    outage.invoices_down = True
    qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible(), timeout=TIMEOUT_MS)
    first = dialog.form_error.text()
    refusal = first.split(" Cannot reach")[0]
    assert "Cannot reach" in first and refusal
    for _ in range(2):
        qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.retry_button.isVisible() and not runner.busy, timeout=TIMEOUT_MS)
        assert dialog.form_error.text() == first
    outage.invoices_down = False
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    wait_quote(qtbot, dialog)
    assert dialog.form_error.isVisible() and dialog.form_error.text() == refusal


def test_full_payments_only_a_changed_balance_is_offered_whole_after_the_refusal(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:  # IN-6, IN-10
    """A branch taking full payments only: the office corrected an invoice while the payer paid two.
    The reload put the old amount back into the cell the payer cannot edit, and every later try was
    refused the same way; the amounts are the new balances now."""
    document = company.build(date.today())
    east = next(b for b in document["branches"] if b["slug"] == "east")
    east["config"] = {**east["config"], "partial_payments": False}
    with running_portal(tmp_path / "portal", document) as portal:
        session = session_for(portal.portal_url("east"))
        visa = session.client.add_payment_method(card())
        invoices = [detail(session, number) for number in ("INV-10041", "INV-10043")]  # 141, 143 due
        dialog = open_pay(qtbot, session, runner, invoices)
        table = dialog.table
        assert table is not None
        choose_method(dialog, visa)
        wait_quote(qtbot, dialog)
        qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
        corrected = next(i for i in document["invoices"] if i["number"] == "INV-10043")
        corrected["lines"][0]["amount"] = "150.00"  # the back office's correction, imported meanwhile
        ServerProcess(tmp_path / "portal").load(document)
        qtbot.mouseClick(dialog.pay_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.form_error.isVisible(), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: not runner.busy and dialog.continue_button.isEnabled(), timeout=TIMEOUT_MS)
        amounts = [cell.text() if (cell := table.item(row, 3)) else "" for row in range(table.rowCount())]
        assert amounts == ["141.00", "150.00"]
        assert dialog.form_error.text().endswith(
            "The balance of INV-10043 changed (marked in the list); the amounts to pay are the new balances."
        )
        assert dialog.quote is not None and dialog.quote.amount == Decimal("291.00")
