"""Reporting a problem (RQ-2): property, subject, description and files in one small form."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models.comments import AttachmentDraft, text_too_long
from app.models.draft_keys import DraftKey
from app.services.portal_client import PortalClient
from app.services.records import Property
from app.services.tasks import OwnedRunner, TaskRunner
from app.services.work_records import RequestDetail
from app.views.attachment_picker import AttachmentPicker
from app.views.detail_support import error_sentence
from app.views.item_windows import ask_to_discard
from app.views.theme import named

MAX_SUBJECT = 300  # the server's limit; saying so while typing beats a 422 after sending
CHOOSE_PROPERTY = "Choose the property this request is about."


def ask_discard(parent: QWidget) -> bool:
    """True when the customer chooses to throw the unsent request away; Keep editing is the default."""
    return ask_to_discard(
        parent,
        "Discard request",
        "Discard this request? What you wrote and the files you attached are not sent.",
        "",
        "Keep editing",
    )


class NewRequestDialog(QDialog):
    # Tests replace this to answer the question.
    confirm_discard: Callable[[QWidget], bool] = staticmethod(ask_discard)

    def __init__(
        self,
        client: PortalClient,
        runner: TaskRunner,
        properties: Sequence[Property],
        company_name: str,
        parent: QWidget | None = None,
        *,
        preselected: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = OwnedRunner(runner, self)
        self.created: RequestDetail | None = None
        self.sending = False
        self.write_key = DraftKey()  # one per draft content, kept across failed sends
        self.setWindowTitle("New request")
        self.setMinimumWidth(600)

        # As in the pay and sign dialogs, the window title says what the window does and the heading
        # what it does not: who gets the request, and the line under it which properties it can be about.
        self.heading = named(QLabel(f"To {company_name}"), "DialogTitle")
        self.heading.setWordWrap(True)
        self.subtitle = named(
            QLabel(f"What needs attention at {_places(properties)}? They are notified right away."),
            "DialogSubtitle",
        )
        self.subtitle.setWordWrap(True)
        self.property_combo = _property_combo(properties, preselected)
        self.subject_edit = QLineEdit(placeholderText="For example: Broken sprinkler head by the entrance")
        self.subject_edit.setMaxLength(MAX_SUBJECT)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText("What happened, where, and anything the crew should know.")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setMinimumHeight(130)
        self.draft = AttachmentDraft(self)
        self.picker = AttachmentPicker(self.draft)
        self.picker.watch_drops_on(self.description_edit)
        self.error_label = named(QLabel(""), "FormError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        form = QFormLayout()
        form.setVerticalSpacing(12)
        form.setHorizontalSpacing(14)
        form.addRow("Property", self.property_combo)
        form.addRow("Subject", self.subject_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("Files", self.picker)

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.send_button = QPushButton("Send request")
        self.send_button.setDefault(True)
        self.send_button.setToolTip("Send (Ctrl+Enter)")
        # Why Send is greyed: a request filed against the wrong property emails the wrong account
        # owner (RQ-3) and cannot be moved once sent, so the property is never guessed.
        self.send_hint = named(QLabel(CHOOSE_PROPERTY), "Hint")
        self.send_hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_hint, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(self.heading)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.error_label)
        layout.addLayout(form)
        layout.addLayout(buttons)

        self.cancel_button.clicked.connect(self.reject)
        self.send_button.clicked.connect(self.send)
        # As in the reply box; through the button, which is greyed while the request is out.
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.send_button.click)
        self.subject_edit.textChanged.connect(self.error_label.hide)
        self.description_edit.textChanged.connect(self._description_changed)
        self.draft.changed.connect(self.error_label.hide)  # e.g. the file the portal refused was removed
        self.property_combo.currentTextChanged.connect(self._update_send)
        if self.property_combo.count() == 1:
            self.property_combo.setEnabled(False)
        self._update_send()
        (self.subject_edit if self.chosen_property() is not None else self.property_combo).setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the subject goes on to the description: as the dialog's default key it sent the
        request before the description was written, and a sent request cannot be changed."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.subject_edit.hasFocus():
            self.description_edit.setFocus(Qt.FocusReason.TabFocusReason)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.property_combo.hasFocus():
            self.subject_edit.setFocus(Qt.FocusReason.TabFocusReason)  # the property typed: on to the subject
            return
        super().keyPressEvent(event)

    def chosen_property(self) -> int | None:
        """The property whose whole line is in the box; a part typed to search by chooses none."""
        combo = self.property_combo
        typed = combo.currentText().strip()
        index = combo.currentIndex()  # the line picked, even where two properties read alike
        if index < 0 or combo.itemText(index).casefold() != typed.casefold():
            index = combo.findText(typed, Qt.MatchFlag.MatchFixedString)
        return combo.itemData(index) if index >= 0 else None

    def _update_send(self) -> None:
        chosen = self.chosen_property() is not None
        self.send_button.setEnabled(chosen and not self.sending)
        self.send_hint.setVisible(not chosen and not self.sending)
        if chosen and self.error_label.text() == CHOOSE_PROPERTY:
            self.error_label.hide()

    def send(self) -> None:
        subject = " ".join(self.subject_edit.text().split())
        if not subject:
            self.show_error("Please give the request a subject.")
            self.subject_edit.setFocus()
            return
        property_id = self.chosen_property()
        if property_id is None:
            self.show_error(CHOOSE_PROPERTY)
            self.property_combo.setFocus()
            return
        too_long = self._description_too_long()
        if too_long:
            self.show_error(too_long)
            self.description_edit.setFocus()
            return
        description = self.description_edit.toPlainText().strip()
        files = self.draft.files
        client = self.client
        # Send again after a lost answer: the same key, so the portal hands back the request it made.
        key = self.write_key.for_content((property_id, subject, description, tuple((f.path, f.size) for f in files)))
        self._set_sending(True)

        def created(detail: RequestDetail) -> None:
            self.write_key.sent()
            self._set_sending(False)
            self.created = detail
            self.accept()

        def failed(error: Exception) -> None:
            # Everything typed and chosen stays, so the customer can fix one thing and send again.
            self.write_key.failed(error)
            self._set_sending(False)
            self.show_error(error_sentence(error))

        self.runner.run(
            lambda: client.create_request(int(property_id), subject, description, files, idempotency_key=key),
            created,
            failed,
        )

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _description_too_long(self) -> str | None:
        return text_too_long(self.description_edit.toPlainText(), "The description")

    def _description_changed(self) -> None:
        """Too long for the portal: said at once. Back within its limit: that message goes (only
        that one; a refusal of the last send stays until the subject or the files change)."""
        problem = self._description_too_long()
        if problem:
            self.show_error(problem)
        elif self.error_label.text().startswith("The description is "):
            self.error_label.hide()

    def has_draft(self) -> bool:
        return bool(self.subject_edit.text().strip() or self.description_edit.toPlainText().strip() or self.draft.files)

    @property
    def waiting_for_portal(self) -> bool:
        """The request is out: the portal may already have made it, and only its answer says which
        number it got or why it was refused. Quit, Sign out and Switch branch wait for it, as they
        wait for a payment: closed now, a refusal and everything typed went with the form."""
        return self.sending

    def reject(self) -> None:
        """Not while sending: the request may already exist and the answer says which number it got.
        Not unasked once something is written or attached: Escape and the close box (which come
        here too) are easily hit by accident, and closed, the form is gone with all it held."""
        if self.sending:
            return
        if self.has_draft() and not self.confirm_discard(self):
            return
        super().reject()

    def _set_sending(self, sending: bool) -> None:
        self.sending = sending
        self._update_send()
        self.send_button.setText("Sending…" if sending else "Send request")
        for widget in (self.property_combo, self.subject_edit, self.cancel_button):
            widget.setEnabled(not sending)
        self.description_edit.setReadOnly(sending)
        self.picker.set_enabled_for_sending(not sending)
        if not sending and self.property_combo.count() == 1:
            self.property_combo.setEnabled(False)


def _places(properties: Sequence[Property]) -> str:
    """Up to three properties by name (the ones checked in the sidebar, or all), else how many."""
    names = [p.name for p in properties]
    if not names:
        return "your property"
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return f"{', '.join(names[:-1])} or {names[-1]}"
    return f"any of your {len(names)} properties"


def _property_combo(properties: Sequence[Property], preselected: int | None) -> QComboBox:
    """The properties, searchable by any part of a name or address: with a thousand whose names
    share their start, the first letters found nothing and the list was a long scroll. Typing
    filters a popup (contains, any case); only a whole line chosen from it counts. Nothing is
    chosen unless the caller knows which property is meant (`preselected`) or there is one."""
    combo = QComboBox()
    line = QLineEdit(placeholderText="Choose a property…")
    line.setAccessibleName("Property")
    combo.setLineEdit(line)  # editable: the search box
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(24)
    for prop in properties:
        combo.addItem(f"{prop.name}  ·  {prop.address}", prop.id)
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    completer.setMaxVisibleItems(12)
    combo.setCompleter(completer)
    chosen = preselected if preselected is not None else (properties[0].id if len(properties) == 1 else None)
    combo.setCurrentIndex(combo.findData(chosen) if chosen is not None else -1)
    return combo
