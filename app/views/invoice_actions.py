"""The invoice and payment commands of the main window: open an invoice, pay one or several
("Pay selected", IN-10), manage payment methods. Kept out of main_window.py so that file stays the shell."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QPushButton, QWidget

from app.models.formatting import count_text
from app.models.roles import Role
from app.services.billing_records import InvoiceDetail
from app.services.errors import PortalError
from app.services.records import InvoiceSummary
from app.services.session import PortalSession
from app.services.tasks import OwnedRunner, TaskRunner
from app.views.item_windows import ItemWindows, present
from app.views.list_tab import ListTab
from app.views.pdf_viewer import preload_pdf_engine

if TYPE_CHECKING:  # imported when first opened, or in the background once the app is idle
    from app.views.invoice_detail import InvoiceDetailDialog
    from app.views.pay_dialog import PayDialog
    from app.views.payment_methods_dialog import ManagePaymentsDialog

MAX_SELECTED = 100  # IN-10: one payment covers 1 to 100 invoices
# Invoices read at once for "Pay selected": one after another, a hundred took 1.2 s from a local portal
# and about 10 s at 100 ms from the portal. A few at a time, so the lists' own calls (the network
# lane has 8 threads) are not queued behind them.
PREPARE_AT_ONCE = 4
PAY_SELECTED_TIP = "Select invoices (Ctrl or Shift + click) and pay them in one charge"
T = TypeVar("T")


def over_limit_sentence(count: int) -> str:
    return (
        f"One payment covers at most {MAX_SELECTED} invoices and {count_text(count)} with a balance are selected: "
        f"select {MAX_SELECTED} or fewer to pay them."
    )


@dataclass
class _Preparation:
    """One press of "Pay selected": the invoices to read afresh, and those read so far."""

    session: PortalSession
    invoices: list[InvoiceSummary]
    details: dict[int, InvoiceDetail] = field(default_factory=dict)
    asked: int = 0


class InvoiceActions(QObject):
    def __init__(
        self,
        window: QWidget,
        runner: TaskRunner,
        session: Callable[[], PortalSession],
        tab: ListTab,
        paid: Callable[[], None],
        open_proposal: Callable[[int], object],
        notify: Callable[[str], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._runner = OwnedRunner(runner, self)
        self._session = session
        self._paid = paid
        self._open_proposal = open_proposal
        self._notify = notify
        self.tab = tab
        self.detail: InvoiceDetailDialog | None = None  # the one opened last
        self.details: ItemWindows[InvoiceDetailDialog] = ItemWindows()
        self.pay_dialog: PayDialog | None = None
        tab.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.pay_selected_button = QPushButton("Pay selected")
        self.pay_selected_button.setAutoDefault(False)
        self.pay_selected_button.setToolTip(PAY_SELECTED_TIP)
        self.pay_selected_button.setEnabled(False)
        self.preparing: _Preparation | None = None  # the invoices of "Pay selected" being read
        self._over_limit = 0  # how many were selected when the status bar last said it is too many
        tab.toolbar.insertWidget(tab.toolbar.count() - 1, self.pay_selected_button)
        tab.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        tab.model.modelReset.connect(self._selection_changed)
        tab.item_activated.connect(self.open_invoice)
        self.pay_selected_button.clicked.connect(self.pay_selected)

    def selected_invoices(self) -> list[InvoiceSummary]:
        rows = self.tab.table.selectionModel().selectedRows()
        records = [index.data(Role.RECORD) for index in rows]
        return [r for r in records if isinstance(r, InvoiceSummary)]

    def _selection_changed(self) -> None:
        due = [i for i in self.selected_invoices() if i.balance > 0]
        button = self.pay_selected_button
        config = self._session().config
        button.setVisible(config.electronic_payments)
        if self.preparing is not None and self.preparing.session is not self._session():
            self.preparing = None  # another branch: its answers are dropped as they come
        over = len(due) > MAX_SELECTED
        if self.preparing is not None:
            # Disabled while the invoices are read: a second press read them all a second time.
            button.setEnabled(False)
            button.setText("Preparing…")
            tip = f"Reading the {len(self.preparing.invoices)} invoices' balances from the portal…"
        else:
            button.setEnabled(0 < len(due) <= MAX_SELECTED)
            button.setText(f"Pay selected ({count_text(len(due))})" if due else "Pay selected")
            # Disabled with no reason given, "Pay selected (150)" looked broken.
            tip = over_limit_sentence(len(due)) if over else PAY_SELECTED_TIP
        button.setToolTip(tip)
        button.setAccessibleDescription(tip)
        if over and len(due) != self._over_limit:
            self._notify(over_limit_sentence(len(due)))
        elif not over and self._over_limit:
            self._notify("")  # no longer true: the status bar shows what it showed before
        self._over_limit = len(due) if over else 0

    # -- commands ----------------------------------------------------------------------

    def open_invoice(self, record: object) -> None:
        if not isinstance(record, InvoiceSummary):
            return
        opened = self.details.get(record.id)
        if opened is not None:
            present(opened)
            return
        # While the detail's request is out, the PDF render child starts ("View invoice" is likely
        # next), unless the app was idle long enough to start it already.
        preload_pdf_engine()
        session = self._session()
        client = session.client
        self._runner.run(
            lambda: client.invoice(record.id),
            self._if_current(session, self.show_detail),
            self._if_current(session, self._failed),
        )

    def _if_current(self, session: PortalSession, handle: Callable[[T], object]) -> Callable[[T], None]:
        """`handle` for an answer asked for on `session`, dropped once another session is shown: an
        invoice asked for before a branch switch opened after it, the old branch's invoice in a
        window (and a pay window) working on the new branch's session."""

        def deliver(outcome: T) -> None:
            if session is self._session():
                handle(outcome)

        return deliver

    def show_detail(self, invoice: InvoiceDetail) -> InvoiceDetailDialog:
        from app.views.invoice_detail import InvoiceDetailDialog

        opened = self.details.get(invoice.id)
        if opened is not None:  # asked twice before the first answer came
            present(opened)
            return opened
        dialog = InvoiceDetailDialog(self._session(), self._runner.runner, invoice, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.pay_requested.connect(lambda detail, over: self.pay([detail], over))
        dialog.proposal_requested.connect(self._proposal_from(dialog))
        self.detail = dialog
        self.details.add(invoice.id, dialog)
        dialog.show()
        return dialog

    def _proposal_from(self, dialog: InvoiceDetailDialog) -> Callable[[int], None]:
        def open_it(proposal_id: int) -> None:
            dialog.close()
            self._open_proposal(proposal_id)

        return open_it

    def pay_selected(self) -> None:
        """Reads the selected invoices afresh (current balances, and whether this contact may pay
        each: IN-5), a few at once, then opens the pay window with them in the list's order."""
        due = [i for i in self.selected_invoices() if i.balance > 0]
        if self.preparing is not None or not 0 < len(due) <= MAX_SELECTED:
            return
        preparation = _Preparation(self._session(), due)
        self.preparing = preparation
        self._selection_changed()
        for _ in range(min(PREPARE_AT_ONCE, len(due))):
            self._read_next(preparation)

    def _read_next(self, preparation: _Preparation) -> None:
        if preparation.asked >= len(preparation.invoices):
            return
        invoice = preparation.invoices[preparation.asked]
        preparation.asked += 1
        client = preparation.session.client
        self._runner.run(
            lambda: client.invoice(invoice.id),
            partial(self._read, preparation),
            partial(self._read_failed, preparation, invoice),
        )

    def _read(self, preparation: _Preparation, invoice: InvoiceDetail) -> None:
        if preparation is not self.preparing or preparation.session is not self._session():
            return  # superseded: a failure ended it, or another branch is shown
        preparation.details[invoice.id] = invoice
        if len(preparation.details) < len(preparation.invoices):
            self._read_next(preparation)
            return
        self.preparing = None
        self._selection_changed()
        self.pay([preparation.details[i.id] for i in preparation.invoices])

    def _read_failed(self, preparation: _Preparation, invoice: InvoiceSummary, error: Exception) -> None:
        """One invoice that cannot be read ends the preparation (a payment without it is not what was
        asked for); the sentence names it and says why, and the selection stays for another try."""
        if preparation is not self.preparing or preparation.session is not self._session():
            return
        self.preparing = None
        self._selection_changed()
        reason = error.detail if isinstance(error, PortalError) else "It could not be read."
        self._notify(
            f"Invoice {invoice.number} could not be read, so nothing was paid: {reason} Press Pay selected to try again."
        )

    def pay(self, invoices: Sequence[InvoiceDetail], parent: QWidget | None = None) -> PayDialog:
        """One payment at a time: while a pay window is open, asking again brings that one forward."""
        from app.views.pay_dialog import PayDialog

        if self.pay_dialog is not None and shiboken6.isValid(self.pay_dialog) and self.pay_dialog.isVisible():
            present(self.pay_dialog)
            return self.pay_dialog
        dialog = PayDialog(self._session(), self._runner.runner, invoices, parent or self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.paid.connect(lambda _: self._after_payment())
        dialog.closed_unconfirmed.connect(self._after_payment)
        dialog.balances_changed.connect(self._after_payment)
        dialog.answered_after_close = self._answered_after_close
        # Window-modal, as signing is: a second "Pay invoice" click could open a second payment of
        # the same balance, and closing the invoice under it would drop the payment's answer.
        self.pay_dialog = dialog
        dialog.open()
        return dialog

    def _after_payment(self) -> None:
        for detail in self.details.open():  # "Pay selected" may have paid several open ones
            if detail.isVisible():
                detail.reload()
        self._paid()

    def connection_restored(self) -> None:
        """An open pay window asks again for what failed while the portal could not be reached."""
        if self.pay_dialog is not None and shiboken6.isValid(self.pay_dialog) and self.pay_dialog.isVisible():
            self.pay_dialog.portal_back()

    def _answered_after_close(self) -> None:
        """A payment's answer came after its window went away: the lists still show what it changed."""
        if shiboken6.isValid(self):
            self._after_payment()

    def manage_payments(self) -> ManagePaymentsDialog:
        from app.views.payment_methods_dialog import ManagePaymentsDialog

        dialog = ManagePaymentsDialog(self._session(), self._runner.runner, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _failed(self, error: Exception) -> None:
        self._notify(error.detail if isinstance(error, PortalError) else "The invoice could not be opened.")
