"""Profile menu "Manage payments": saved methods, add card / bank account, default, remove (PM-1..PM-3),
and the emailed receipts switch (PM-5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.models.payment_input import (
    card_brand,
    card_number_problem,
    cvc_problem,
    digits_only,
    expiry_problem,
    format_card_number,
    routing_account_problem,
)
from app.models.saved_methods import method_text, receipts_marker
from app.services.billing_records import PaymentMethod, ReceiptsSetting
from app.services.errors import PortalError, ValidationError
from app.services.session import PortalSession
from app.services.tasks import OwnedRunner, TaskRunner
from app.views.detail_support import error_sentence
from app.views.empty_state import EmptyState
from app.views.theme import named

TYPE_LABELS = {"card": "Card", "ach": "Bank account (ACH)"}


class _FieldRow(QWidget):
    """An input with its own error line underneath, so a message sits on the field it is about."""

    def __init__(self, editor: QWidget) -> None:
        super().__init__()
        self.editor = editor
        self.error = named(QLabel(""), "FormError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error)

    def show_error(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))


class AddPaymentMethodDialog(QDialog):
    """Adds one card or bank account. Numbers are sent once and then cleared from the widgets."""

    def __init__(self, session: PortalSession, runner: TaskRunner, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._runner = OwnedRunner(runner, self)
        self.kind = kind
        self.method: PaymentMethod | None = None
        self.saving = False
        self.setWindowTitle("Add a card" if kind == "card" else "Add a bank account")
        self.setMinimumWidth(440)
        # The window title says what the window does; the heading says whose method it becomes (staff
        # on the phone add it to the customer they assist) and the line under it what is kept of it.
        self.heading = named(
            QLabel(f"{'New card' if kind == 'card' else 'New bank account'} for {session.user.name}"), "DialogTitle"
        )
        kept = "brand, last 4 digits and expiry" if kind == "card" else "account type and last 4 digits"
        self.kept_note = named(
            QLabel(f"The full numbers go to the payment processor only; the portal keeps the name, {kept}."),
            "DialogSubtitle",
        )
        self.kept_note.setWordWrap(True)
        today = date.today()
        self.rows: dict[str, _FieldRow] = {}
        form = QFormLayout()
        form.setVerticalSpacing(8)
        if kind == "card":
            self.number_edit = QLineEdit(placeholderText="1234 5678 9012 3456")
            self.number_edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
            self.brand_label = named(QLabel(""), "DialogSubtitle")
            self.month_spin = QSpinBox(minimum=1, maximum=12, value=today.month)
            self.year_spin = QSpinBox(minimum=today.year, maximum=today.year + 20, value=today.year + 2)
            self.cvc_edit = QLineEdit(
                echoMode=QLineEdit.EchoMode.Password, maxLength=4, placeholderText="3 or 4 digits"
            )
            self.name_edit = QLineEdit(placeholderText="As printed on the card")
            self.postal_edit = QLineEdit(maxLength=10)
            expiry = QWidget()
            expiry_layout = QHBoxLayout(expiry)
            expiry_layout.setContentsMargins(0, 0, 0, 0)
            expiry_layout.addWidget(self.month_spin)
            expiry_layout.addWidget(QLabel("/"))
            expiry_layout.addWidget(self.year_spin)
            expiry_layout.addStretch()
            number = QWidget()
            number_layout = QHBoxLayout(number)
            number_layout.setContentsMargins(0, 0, 0, 0)
            number_layout.addWidget(self.number_edit, 1)
            number_layout.addWidget(self.brand_label)
            for key, label, widget in (
                ("card_number", "Card number", number),
                ("exp_year", "Expires", expiry),
                ("cvc", "Security code", self.cvc_edit),
                ("holder_name", "Name on card", self.name_edit),
                ("postal_code", "Billing postal code", self.postal_edit),
            ):
                self.rows[key] = _FieldRow(widget)
                form.addRow(label, self.rows[key])
            self.rows["exp_month"] = self.rows["exp_year"]
            self.number_edit.textEdited.connect(self._format_number)
            # A form label names only the widget in its row, here a row holding the input and its error
            # line: without names of their own a screen reader announced each input as a bare "edit".
            for editor, name in (
                (self.number_edit, "Card number"),
                (self.month_spin, "Expiry month"),
                (self.year_spin, "Expiry year"),
                (self.cvc_edit, "Security code"),
                (self.name_edit, "Name on card"),
                (self.postal_edit, "Billing postal code"),
            ):
                editor.setAccessibleName(name)
        else:
            self.routing_edit = QLineEdit(placeholderText="011000015/000123456789")
            self.account_type_combo = QComboBox()
            self.account_type_combo.addItem("Checking", "checking")
            self.account_type_combo.addItem("Savings", "savings")
            self.name_edit = QLineEdit(placeholderText="Account holder")
            hint = named(QLabel("Routing number, then '/', then the account number. No spaces."), "DialogSubtitle")
            hint.setWordWrap(True)
            for key, label, widget in (
                ("routing_account", "Routing/Account number", self.routing_edit),
                ("account_type", "Account type", self.account_type_combo),
                ("holder_name", "Account holder", self.name_edit),
            ):
                self.rows[key] = _FieldRow(widget)
                form.addRow(label, self.rows[key])
            form.addRow("", hint)
            for field, name in (
                (self.routing_edit, "Routing number / account number"),
                (self.account_type_combo, "Account type"),
                (self.name_edit, "Account holder"),
            ):
                field.setAccessibleName(name)  # as for a card's inputs above
            self.routing_edit.textEdited.connect(
                lambda text: self.rows["routing_account"].show_error(routing_account_problem(text))
            )
        self.error_label = named(QLabel(""), "FormError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.save_button = QPushButton("Save", default=True)
        cancel = QPushButton("Cancel", autoDefault=False)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.heading)
        layout.addWidget(self.kept_note)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addStretch()  # room the wrapped note was measured for goes above the buttons
        layout.addLayout(buttons)
        cancel.clicked.connect(self.reject)
        self.save_button.clicked.connect(self.submit)

    def _format_number(self, text: str) -> None:
        formatted = format_card_number(text)
        if formatted != text:
            self.number_edit.setText(formatted)
        self.brand_label.setText(card_brand(digits_only(formatted)) or "")

    def _details(self) -> dict[str, Any] | None:
        """The request body, or None after showing the problems the portal would also report."""
        for row in self.rows.values():
            row.show_error(None)
        if self.kind == "card":
            problems = {
                "card_number": card_number_problem(self.number_edit.text()),
                "exp_year": expiry_problem(self.month_spin.value(), self.year_spin.value(), date.today()),
                "cvc": cvc_problem(self.cvc_edit.text()),
                "holder_name": None if self.name_edit.text().strip() else "Enter the name on the card.",
                "postal_code": None if self.postal_edit.text().strip() else "Enter the billing postal code.",
            }
            body: dict[str, Any] = {
                "type": "card",
                "card_number": digits_only(self.number_edit.text()),
                "exp_month": self.month_spin.value(),
                "exp_year": self.year_spin.value(),
                "cvc": self.cvc_edit.text(),
                "holder_name": self.name_edit.text().strip(),
                "postal_code": self.postal_edit.text().strip(),
            }
        else:
            text = self.routing_edit.text()
            problems = {
                "routing_account": routing_account_problem(text) or (None if text else "Enter the numbers."),
                "holder_name": None if self.name_edit.text().strip() else "Enter the account holder's name.",
            }
            body = {
                "type": "ach",
                "routing_account": text,
                "account_type": self.account_type_combo.currentData(),
                "holder_name": self.name_edit.text().strip(),
            }
        found = {key: text for key, text in problems.items() if text}
        for key, text in found.items():
            self.rows[key].show_error(text)
        return None if found else body

    def submit(self) -> None:
        body = self._details()
        if body is None:
            return
        self.error_label.hide()
        self.saving = True
        self.save_button.setEnabled(False)
        self.save_button.setText("Saving…")
        # The op holds the only reference to the numbers; it is dropped once sent.
        self._runner.run(partial(self._session.client.add_payment_method, body), self._saved, self._failed)

    def _clear_secrets(self) -> None:
        """PM-4 on this side too: once sent, the numbers leave the widgets."""
        if self.kind == "card":
            self.number_edit.clear()
            self.cvc_edit.clear()
            self.brand_label.clear()
        else:
            self.routing_edit.clear()

    def reject(self) -> None:
        """Not while saving: the portal may already keep the method, and only its answer lets the
        payment methods list and the pay window show and select it."""
        if not self.saving:
            super().reject()

    def _saved(self, method: PaymentMethod) -> None:
        self.saving = False
        self._clear_secrets()
        self.method = method
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        self.save_button.setText("Save")
        if isinstance(error, ValidationError) and error.field_errors:
            unplaced = []
            for field_error in error.field_errors:
                row = self.rows.get(field_error.field)
                if row is None:
                    unplaced.append(field_error.message)
                else:
                    row.show_error(field_error.message)
            if unplaced:
                self._error(" ".join(unplaced))
            return
        self._error(error.detail if isinstance(error, PortalError) else "The payment method was not saved.")

    def _error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()


class ManagePaymentsDialog(QDialog):
    """Lists the contact's methods; every change goes to the portal, then the list is reloaded from it."""

    def __init__(self, session: PortalSession, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._runner = OwnedRunner(runner, self)
        self.methods: tuple[PaymentMethod, ...] = ()
        config = session.config
        self.setWindowTitle("Manage payments")
        self.setMinimumSize(680, 420)
        self._loaded = False
        self._loads_out = 0  # loads asked for and not answered yet
        # "Make default", "Remove…" or the receipts box while its change, and the reload after it, are out.
        self._acting: QAbstractButton | None = None
        self._idle_text = ""
        self._acting_had_focus = False
        self._receipts = False  # the emailed receipts setting as the portal last said
        accepted = self._accepted = config.accepted_payment_types if config.electronic_payments else ()
        # The list and, while there is nothing in it, its empty state share a card like the tabs' lists.
        self.list_card = named(QFrame(), "ListCard")
        self.stack = QStackedWidget(self.list_card)
        card_layout = QVBoxLayout(self.list_card)
        card_layout.setContentsMargins(2, 2, 2, 2)
        card_layout.addWidget(self.stack)
        self.list_widget = QListWidget(self.stack)
        self.list_widget.setFrameShape(QFrame.Shape.NoFrame)
        self.list_widget.setAlternatingRowColors(True)
        self.list_widget.setAccessibleName("Payment methods")
        self.empty = EmptyState("card", 64, 400, self.stack)
        self.empty_add_card_button = self.empty.add_action(QPushButton("Add card…"))
        self.empty_add_bank_button = self.empty.add_action(QPushButton("Add bank account…"))
        # The first way to pay the branch takes is the empty state's primary action.
        self._first_step = self.empty_add_card_button if "card" in accepted else self.empty_add_bank_button
        self._first_step.setObjectName("PrimaryButton")
        self.empty_retry_button = self.empty.add_action(QPushButton("Try again"))
        self.stack.addWidget(self.list_widget)
        self.stack.addWidget(self.empty)
        self.add_card_button = QPushButton("Add card…", autoDefault=False)
        self.add_bank_button = QPushButton("Add bank account…", autoDefault=False)
        self.default_button = QPushButton("Make default", autoDefault=False)
        self.remove_button = QPushButton("Remove…", autoDefault=False)
        self.add_card_button.setVisible("card" in accepted)
        self.add_bank_button.setVisible("ach" in accepted)
        assisting = session.assisting
        # In an assist "me" would be the staff member: the receipts go to the customer.
        self.receipts_check = QCheckBox(
            "Email me payment receipts"
            if assisting is None
            else f"Email {next(iter(assisting.contact.name.split()), 'the customer')} payment receipts"
        )
        self.receipts_hint = named(QLabel("Add a payment method to turn receipts on."), "DialogSubtitle")
        # Who changed the setting for the customer in an assist session (SA-3), as requests mark it.
        self.receipts_marker = named(QLabel(""), "AssistMarker")
        self.receipts_marker.setWordWrap(True)
        self.receipts_marker.hide()
        self.status_label = named(QLabel(""), "FormError")
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        self.notice = named(QLabel(""), "DialogSubtitle")
        if not config.electronic_payments:
            self.notice.setText(f"{config.branch.name} does not take payments in the portal.")
        self.notice.hide()
        self.close_button = QPushButton("Close", default=True)

        # The actions on a listed method; while the list is empty its empty state offers the next step.
        self.actions_row = QWidget()
        actions = QHBoxLayout(self.actions_row)
        actions.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_card_button, self.add_bank_button):
            actions.addWidget(button)
        actions.addStretch()
        actions.addWidget(self.default_button)
        actions.addWidget(self.remove_button)
        self.actions_row.hide()
        bottom = QHBoxLayout()
        bottom.addStretch()
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        # The window title says what the window is for; the heading whose methods these are (staff
        # assisting a customer change that customer's methods).
        self.heading = named(QLabel(f"Payment methods for {session.user.name}"), "DialogTitle")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        layout.addWidget(self.notice)
        layout.addWidget(self.list_card, 1)
        layout.addWidget(self.actions_row)
        layout.addWidget(self.receipts_check)
        layout.addWidget(self.receipts_marker)
        layout.addWidget(self.receipts_hint)
        layout.addWidget(self.status_label)
        layout.addLayout(bottom)

        self.close_button.clicked.connect(self.accept)
        for button, kind in (
            (self.add_card_button, "card"),
            (self.empty_add_card_button, "card"),
            (self.add_bank_button, "ach"),
            (self.empty_add_bank_button, "ach"),
        ):
            button.clicked.connect(partial(self.add, kind))
        self.empty_retry_button.clicked.connect(self._try_again)
        self.default_button.clicked.connect(self.make_default)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list_widget.currentRowChanged.connect(lambda _: self._update_buttons())
        self.receipts_check.toggled.connect(self._receipts_toggled)
        self._update_buttons()
        self.reload()

    def reload(self) -> None:
        """Until a first load succeeds, the empty state says one is under way: a failure left on
        screen with its "Try again" while the portal is asked again invited more clicks."""
        if not self._loaded:
            self._show_empty("Loading payment methods…", "", actions=False)
        self._loads_out += 1
        client = self._session.client
        self._runner.run(lambda: (client.payment_methods(), client.email_receipts()), self._show, self._load_failed)

    def _try_again(self) -> None:
        """A click that was already on its way when the button hid asks nothing more."""
        if not self._loads_out:
            self.reload()

    def _show(self, result: tuple[tuple[PaymentMethod, ...], ReceiptsSetting]) -> None:
        self._loads_out -= 1
        methods, receipts = result
        selected = self.selected()
        self.methods = methods
        self.list_widget.clear()
        for method in methods:
            item = QListWidgetItem(method_text(method))
            item.setData(Qt.ItemDataRole.UserRole, method.id)
            self.list_widget.addItem(item)
            if selected is not None and method.id == selected.id:
                self.list_widget.setCurrentItem(item)
        first_load = not self._loaded
        self._loaded = True
        if methods:
            self.stack.setCurrentWidget(self.list_widget)
            self._set_default(self.close_button)
            if first_load:
                # The list, not whatever took the focus while it loaded: a space bar or an arrow
                # key is meant for the methods.
                self.list_widget.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self._accepted:
            self._show_empty(
                "No payment methods yet",
                f"Save {self._kinds_text()} to pay invoices without typing its details each time.",
                actions=True,
            )
        else:
            self._show_empty("No payment methods", self.notice.text(), actions=False)
        self.notice.setVisible(bool(self.notice.text()) and bool(methods))
        self.actions_row.setVisible(bool(methods))
        self._receipts = receipts.enabled
        self._show_receipts()
        self.receipts_marker.setText(receipts_marker(receipts, self._session.config.branch.time_zone))
        self.receipts_marker.setVisible(bool(self.receipts_marker.text()))
        self.receipts_hint.setVisible(not methods)
        self._change_done()
        self._update_buttons()

    def _kinds_text(self) -> str:
        kinds = [text for kind, text in (("card", "a card"), ("ach", "a bank account")) if kind in self._accepted]
        return " or ".join(kinds)

    def _show_empty(self, title: str, message: str, actions: bool, retry: bool = False) -> None:
        """Nothing to list (yet): why, and the next step where there is one. That step (e.g.
        "Add card…") then takes over from Close as the default button and has the focus."""
        self.empty.set_text(title, message)
        self.empty_add_card_button.setVisible(actions and "card" in self._accepted)
        self.empty_add_bank_button.setVisible(actions and "ach" in self._accepted)
        self.empty_retry_button.setVisible(retry)
        self.stack.setCurrentWidget(self.empty)
        self._set_default(self._first_step if actions else self.close_button)

    def _set_default(self, button: QPushButton) -> None:
        for each in (self.close_button, self._first_step):
            each.setAutoDefault(each is button)
            each.setDefault(each is button)
        if button is self._first_step:
            button.setFocus()

    def selected(self) -> PaymentMethod | None:
        item = self.list_widget.currentItem()
        if item is None:
            return None
        wanted = item.data(Qt.ItemDataRole.UserRole)
        return next((m for m in self.methods if m.id == wanted), None)

    def _update_buttons(self) -> None:
        """While a change is out nothing else acts on the methods or the receipts: a second click
        sent it again (and a second removal of the same method failed), and receipts turned on while
        the last method was being removed were refused."""
        method = self.selected()
        idle = self._acting is None
        self.default_button.setEnabled(idle and method is not None and not method.is_default)
        self.remove_button.setEnabled(idle and method is not None)
        self.receipts_check.setEnabled(idle and bool(self.methods))
        for button in (
            self.add_card_button,
            self.add_bank_button,
            self.empty_add_card_button,
            self.empty_add_bank_button,
        ):
            button.setEnabled(idle)

    def add(self, kind: str) -> PaymentMethod | None:
        dialog = AddPaymentMethodDialog(self._session, self._runner.runner, kind, self)
        if dialog.exec() and dialog.method is not None:
            self.reload()
            return dialog.method
        return None

    def make_default(self) -> None:
        method = self.selected()
        if method is not None and self._acting is None:
            client = self._session.client
            self._change(self.default_button, "Saving…", lambda: client.set_default_payment_method(method.id))

    def remove_selected(self, confirmed: bool = False) -> None:
        method = self.selected()
        if method is None or self._acting is not None:
            return
        if not confirmed:
            answer = QMessageBox.question(
                self,
                "Remove payment method",
                f"Remove {method.label}? Past payments made with it are not affected.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        client = self._session.client
        self._change(self.remove_button, "Removing…", lambda: client.remove_payment_method(method.id))

    def _change(self, button: QAbstractButton, busy_text: str, op: Callable[[], object]) -> None:
        """Sends one change with `button` showing it is under way. The controls come back with the
        list and the receipts setting reloaded after the answer, so what they act on and show is
        what the portal now has."""
        self._acting, self._idle_text = button, button.text()
        self._acting_had_focus = button.hasFocus()
        button.setText(busy_text)
        self.status_label.hide()
        self._update_buttons()
        self._runner.run(op, lambda _: self.reload(), self._change_failed)

    def _change_failed(self, error: Exception) -> None:
        """The portal's sentence, and its list: e.g. a method removed elsewhere meanwhile goes.
        The receipts box goes back to what the portal said last until the reload says again."""
        self._failed(error)
        self._show_receipts()
        self.reload()

    def _change_done(self) -> None:
        """Called when a load is answered: the change in progress, if any, ends with the last one.
        A control the keyboard was on gets the focus back (disabling it had moved the focus on)."""
        if self._acting is not None and not self._loads_out:
            acting, self._acting = self._acting, None
            acting.setText(self._idle_text)
            self._update_buttons()
            if self._acting_had_focus and acting.isEnabled() and acting.isVisible():
                acting.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_receipts(self) -> None:
        """The box as the portal has it, without sending that back as a change."""
        self.receipts_check.blockSignals(True)
        self.receipts_check.setChecked(self._receipts)
        self.receipts_check.blockSignals(False)

    def _receipts_toggled(self, enabled: bool) -> None:
        """A change of its own, handled like Make default: the box had stayed clickable while Make
        default or Remove… was out (receipts turned on as the last method went were refused)."""
        if self._acting is not None:  # set while greyed out: nothing is sent, the box shows the portal's
            self._show_receipts()
            return
        client = self._session.client
        text = self.receipts_check.text()
        self._change(self.receipts_check, f"{text} (saving…)", lambda: client.set_email_receipts(enabled))

    def _load_failed(self, error: Exception) -> None:
        self._loads_out -= 1
        if self._loaded:
            self._failed(error)
        else:
            self._show_empty("Could not load payment methods", error_sentence(error), actions=False, retry=True)
        self._change_done()
        self._update_buttons()

    def _failed(self, error: Exception) -> None:
        self.status_label.setText(error_sentence(error))
        self.status_label.show()
