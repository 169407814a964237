"""Profile menu dialogs: change password (AC-3) and About (AC-6)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.services.errors import PortalError, ValidationError
from app.services.paths import data_dir, log_dir
from app.services.records import ServerVersion
from app.services.session import PortalSession
from app.services.tasks import OwnedRunner, TaskRunner, is_connection_problem
from app.views.detail_support import error_sentence
from app.views.fit_height import HeightFitter
from app.views.icon_label import IconLabel
from app.views.theme import named

MIN_PASSWORD = 12


class ChangePasswordDialog(QDialog):
    def __init__(self, session: PortalSession, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._runner = OwnedRunner(runner, self)
        self.new_password: str | None = None
        self.changing = False
        self.setWindowTitle("Change password")
        self.setMinimumWidth(420)
        self.current_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.new_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="At least 12 characters")
        self.confirm_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.current_edit.setAccessibleName("Current password")
        self.new_edit.setAccessibleName("New password")
        self.confirm_edit.setAccessibleName("Repeat new password")
        self.error_label = named(QLabel(""), "FormError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.save_button = QPushButton("Change password", default=True)
        self.cancel_button = cancel = QPushButton("Cancel", autoDefault=False)
        # The window title says what the window does; the heading whose password it is, and the line
        # under it where that password signs in (AC-2: one email and password for each of its branches)
        # and what changing it does to the other sign-ins (the portal ends them).
        self.heading = named(QLabel(session.email), "DialogTitle")
        self.heading.setWordWrap(True)
        branches = [b.name for b in session.branches] or [session.config.branch.name]
        where = branches[0] if len(branches) == 1 else f"{', '.join(branches[:-1])} and {branches[-1]}"
        self.subtitle = named(
            QLabel(
                f"Your password for {where}. Everywhere else this email is signed in, it is signed out; "
                "this window stays signed in."
            ),
            "DialogSubtitle",
        )
        self.subtitle.setWordWrap(True)

        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.addRow("Current password", self.current_edit)
        form.addRow("New password", self.new_edit)
        form.addRow("Repeat new password", self.confirm_edit)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(self.heading)
        layout.addWidget(self.subtitle)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        cancel.clicked.connect(self.reject)
        self.save_button.clicked.connect(self._submit)

    def _submit(self) -> None:
        current, new = self.current_edit.text(), self.new_edit.text()
        if len(new) < MIN_PASSWORD:
            self._error(f"The new password needs at least {MIN_PASSWORD} characters.")
        elif new != self.confirm_edit.text():
            self._error("The two new passwords are not the same.")
        elif new == current:
            self._error("Choose a password that differs from the current one.")
        else:
            self._set_changing(True)
            self._runner.run(
                lambda: self._session.client.change_password(current, new), lambda _: self._done(new), self._failed
            )

    def reject(self) -> None:
        """Not while the change is out (Escape, the close box and Cancel all come here): the portal
        may change the password anyway, and only the answer lets the window keep the new one for
        branch switches and "Remember me"; closed, the answer went nowhere and the old one stayed."""
        if not self.changing:
            super().reject()

    def _set_changing(self, changing: bool) -> None:
        self.changing = changing
        self.save_button.setEnabled(not changing)
        self.save_button.setText("Changing…" if changing else "Change password")
        self.cancel_button.setEnabled(not changing)
        for edit in (self.current_edit, self.new_edit, self.confirm_edit):
            edit.setReadOnly(changing)

    def _done(self, new: str) -> None:
        self._set_changing(False)
        self.new_password = new
        self.accept()

    def _failed(self, error: Exception) -> None:
        self._set_changing(False)
        if isinstance(error, ValidationError) and error.field_errors:
            self._error(" ".join(e.message for e in error.field_errors))
        else:
            self._error(error.detail if isinstance(error, PortalError) else "The password was not changed.")

    def _error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()


class AboutDialog(QDialog):
    """Deleted when closed: the main window makes a new one each time About is chosen, and each
    used to stay alive, hidden, until the main window closed."""

    def __init__(self, session: PortalSession, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._runner = OwnedRunner(runner, self)  # closed before the portal answers: the answer is dropped
        self.setWindowTitle("About Portal Desk")
        self.setMinimumWidth(460)
        logo = IconLabel("app", 64)
        self.server_label = _selectable("Checking…")  # plain text: the version is the server's string
        self.server_label.setWordWrap(True)
        form = QFormLayout()
        form.setVerticalSpacing(8)
        form.addRow("App version", QLabel(__version__))
        form.addRow("Portal server", self.server_label)
        form.addRow("Portal", _selectable(session.portal_url))
        form.addRow("Data folder", _folder_link(str(data_dir())))
        form.addRow("Log folder", _folder_link(str(log_dir())))
        heading = QHBoxLayout()
        heading.setSpacing(16)
        heading.addWidget(logo)
        titles = QVBoxLayout()
        titles.addWidget(named(QLabel("Portal Desk"), "DialogTitle"))
        subtitle = named(QLabel("Your landscaping company's customer portal, on your desktop."), "DialogSubtitle")
        subtitle.setWordWrap(True)  # the styled font came out wider than measured: its end was cut off
        titles.addWidget(subtitle)
        heading.addLayout(titles, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(16)
        layout.addLayout(heading)
        layout.addLayout(form)
        layout.addWidget(buttons)
        HeightFitter(self)  # the answer may be a sentence that wraps: the window grows to show it
        self._runner.run(session.client.version, self._show_version, self._version_failed)

    def _show_version(self, version: ServerVersion) -> None:
        self.server_label.setText(f"{version.server_version} (API {version.api_version})")

    def _version_failed(self, error: Exception) -> None:
        self.server_label.setText(version_failure_text(error))


def version_failure_text(error: Exception) -> str:
    """What the "Portal server" row says when the version could not be asked: a sentence with what
    to do, where it said "Unknown: no answer" or "Unknown: " glued to the client's error."""
    if is_connection_problem(error):
        return "Not known right now: the portal did not answer. Check your internet connection, then open About again."
    return f"Not known right now: the portal could not say which version it runs. {error_sentence(error)}"


def _selectable(text: str) -> QLabel:
    """Plain text, never rich text: Qt would otherwise render a "<" in it as markup."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _folder_link(path: str) -> QLabel:
    """The folder as a link that opens it. The path is escaped: a folder named "Tom & <Jerry>"
    was read as markup, shown wrong, and its link opened another folder."""
    url = QUrl.fromLocalFile(path).toString(QUrl.ComponentFormattingOption.FullyEncoded)
    label = QLabel(f'<a href="{html.escape(url)}">{html.escape(path)}</a>')
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    label.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))
    label.setWordWrap(True)
    return label
