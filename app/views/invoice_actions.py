"""The invoice and payment commands of the main window: open an invoice, pay one or several
("Pay selected", IN-10), manage payment methods. Kept out of main_window.py so that file stays the shell."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QPushButton, QWidget

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

MAX_SELECTED = 100
T = TypeVar("T")


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
        self.pay_selected_button.setToolTip("Select invoices (Ctrl or Shift + click) and pay them in one charge")
        self.pay_selected_button.setEnabled(False)
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
        config = self._session().config
        self.pay_selected_button.setVisible(config.electronic_payments)
        self.pay_selected_button.setEnabled(0 < len(due) <= MAX_SELECTED)
        self.pay_selected_button.setText(f"Pay selected ({len(due)})" if due else "Pay selected")

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
        due = [i for i in self.selected_invoices() if i.balance > 0][:MAX_SELECTED]
        if not due:
            return
        session = self._session()
        client = session.client
        # Fresh details: current balances and whether each one may be paid by this contact (IN-5).
        self._runner.run(
            lambda: [client.invoice(i.id) for i in due],
            self._if_current(session, self.pay),
            self._if_current(session, self._failed),
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
