"""The reply box under a request's thread: text, files, Send.

It holds the draft but never sends it: the dialog does, and calls `clear()` only once the server
has the comment, so a refused or failed send leaves text and files exactly as they were.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.models.comments import AttachmentDraft, text_too_long
from app.services.uploads import ChosenFile
from app.views.attachment_picker import AttachmentPicker
from app.views.theme import named


class CommentComposer(QFrame):
    send_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Composer")
        self.sending = False  # a reply is out: its text and files are no draft to discard
        self.draft = AttachmentDraft(self)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("Write a reply…")
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setFixedHeight(84)
        self.picker = AttachmentPicker(self.draft)
        self.picker.watch_drops_on(self.text_edit)
        self.error_label = named(QLabel(""), "FormError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.send_button = named(QPushButton("Send reply"), "PrimaryButton")
        self.send_button.setAutoDefault(False)
        self.send_button.setToolTip("Send (Ctrl+Enter)")

        bottom = QHBoxLayout()
        bottom.setSpacing(12)
        bottom.addWidget(self.picker, 1)
        bottom.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        layout.addWidget(self.error_label)
        layout.addWidget(self.text_edit)
        layout.addLayout(bottom)

        self.send_button.clicked.connect(self.send_requested)
        # Through the button, which is disabled while a reply is out: a second Ctrl+Enter then
        # does nothing instead of posting the same reply (and its files) twice.
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.text_edit, self.send_button.click)
        # The message is about the draft (empty, or a file the portal refused): it goes once that
        # changes, unless the text is too long for the portal, which is then said at once.
        self.text_edit.textChanged.connect(self._text_changed)
        self.draft.changed.connect(self.error_label.hide)

    @property
    def body(self) -> str:
        return self.text_edit.toPlainText().strip()

    @property
    def files(self) -> tuple[ChosenFile, ...]:
        return self.draft.files

    def is_empty(self) -> bool:
        return not self.body and not self.files

    def too_long(self) -> str | None:
        return text_too_long(self.text_edit.toPlainText(), "Your reply")

    def _text_changed(self) -> None:
        problem = self.too_long()
        if problem:
            self.show_error(problem)
        else:
            self.error_label.hide()

    def set_sending(self, sending: bool) -> None:
        self.sending = sending
        self.send_button.setEnabled(not sending)
        self.send_button.setText("Sending…" if sending else "Send reply")
        self.text_edit.setReadOnly(sending)
        self.picker.set_enabled_for_sending(not sending)

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def clear(self) -> None:
        """After the server took the comment: the draft is done."""
        self.text_edit.clear()
        self.draft.clear()
        self.picker.clear_refusals()
        self.error_label.hide()
