"""Sign-in: first start, adding a portal, the demo company, and re-signing in when a session
expired or another branch is opened (then the portal and email are fixed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import Qt, QTime, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models.formatting import display_locale
from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.credentials import preload_keyring
from app.services.demo_server import DEMO_EMAIL, DEMO_PASSWORD, DemoServer
from app.services.errors import (
    InvalidPortalUrlError,
    PortalError,
    SlowedDownError,
    UnauthorizedError,
)
from app.services.portal_client import PortalClient, normalize_portal_url
from app.services.records import Branch
from app.services.session import PortalSession
from app.services.settings import SavedPortal
from app.services.tasks import TaskRunner
from app.views.fit_height import HeightFitter
from app.views.icon_label import IconLabel
from app.views.theme import icon, named

DEMO = "demo"
OTHER = "other"

BAD_CREDENTIALS = (
    "That email and password do not match an account on this portal. Check both, or use “Forgot password?”."
)
# The demo has no "Forgot password?" (no mail goes out): its sign-in is spelled out just above.
BAD_DEMO_CREDENTIALS = "That email and password do not match the demo's sign-in, shown just above."


def describe_wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"


def slow_down_sentence(seconds: int, now: datetime | None = None) -> str:
    at = (now or datetime.now()) + timedelta(seconds=seconds)
    clock = display_locale().toString(QTime(at.hour, at.minute), "h:mm AP")
    return f"Too many sign-in attempts. You can try again in {describe_wait(seconds)} (at {clock})."


class SignInDialog(QDialog):
    def __init__(
        self,
        accounts: Accounts,
        *,
        demo: DemoServer | None = None,
        portal_url: str | None = None,
        email: str | None = None,
        locked: bool = False,
        remember: bool = False,
        message: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`remember` ticks "Remember me" at first: signing in again (a session that ended,
        another branch) keeps what the user chose when they signed in, instead of forgetting it."""
        super().__init__(parent)
        self._accounts = accounts
        # Its own runner: a 401 here means a wrong password, never "session expired".
        self._runner = TaskRunner(self)
        self._demo = demo
        self._locked = locked
        self.session: PortalSession | None = None
        self.remember = False
        self.setWindowTitle("Sign in — Portal Desk")
        self.setWindowIcon(icon("app"))
        self.setMinimumWidth(460)

        card = named(QFrame(), "SignInCard")
        logo = IconLabel("app", 48)
        title = named(QLabel("Sign in to your portal"), "DialogTitle")
        self.subtitle_label = subtitle = named(
            QLabel(message or "View proposals, visits, invoices and requests for your properties."), "DialogSubtitle"
        )
        subtitle.setWordWrap(True)

        self.portal_combo = QComboBox()
        self.url_edit = QLineEdit(placeholderText="https://yourcompany.example.com/portal/branch")
        self.email_edit = QLineEdit(placeholderText="you@example.com")
        self.password_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="Password")
        self.remember_check = QCheckBox("Remember me on this computer")
        self.forgot_button = named(QPushButton("Forgot password?", autoDefault=False), "LinkButton")
        self.forgot_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.hint_label = named(QLabel(), "Hint")
        self.hint_label.setWordWrap(True)
        self.error_label = named(QLabel(), "FormError")
        self.error_label.setWordWrap(True)
        self.info_label = named(QLabel(), "FormInfo")
        self.info_label.setWordWrap(True)
        self.sign_in_button = QPushButton("Sign in", default=True)
        self.cancel_button = QPushButton("Cancel" if locked else "Quit", autoDefault=False)
        self.portal_combo.setAccessibleName("Portal")
        self.url_edit.setAccessibleName("Portal address")
        self.email_edit.setAccessibleName("Email")
        self.password_edit.setAccessibleName("Password")

        self._form = form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(10)
        form.addRow("Portal", self.portal_combo)
        self._url_row_label = QLabel("")  # "Portal" once the list's row is hidden (signing in again)
        form.addRow(self._url_row_label, self.url_edit)
        form.addRow("Email", self.email_edit)
        form.addRow("Password", self.password_edit)
        # Alone on its row: "Forgot password?" beside it cut it to "Remember me on this comput".
        form.addRow("", self.remember_check)

        heading = QHBoxLayout()
        heading.setSpacing(14)
        heading.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(title)
        texts.addWidget(subtitle)
        heading.addLayout(texts, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.forgot_button)
        buttons.addStretch()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_in_button)

        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 26, 28, 24)
        inner.setSpacing(16)
        inner.addLayout(heading)
        inner.addLayout(form)
        inner.addWidget(self.hint_label)
        inner.addWidget(self.error_label)
        inner.addWidget(self.info_label)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 18, 18, 18)
        outer.addWidget(card)
        # A refusal ("That email and password do not match…") wraps over two lines: without this the
        # window kept its height and squeezed the form, the fields drawn over each other.
        HeightFitter(self)

        self.error_label.hide()
        self.info_label.hide()
        self._fill_portals(portal_url)
        if email:
            self.email_edit.setText(email)
        if remember:
            self.remember_check.setChecked(True)
        if locked:
            self.portal_combo.setEnabled(False)
            self.url_edit.setReadOnly(True)
            self.email_edit.setReadOnly(True)
        self._update_portal_fields()
        self.first_empty_field().setFocus()

        self.portal_combo.currentIndexChanged.connect(self._portal_chosen)
        self.sign_in_button.clicked.connect(self._submit)
        self.cancel_button.clicked.connect(self.reject)
        self.forgot_button.clicked.connect(self._forgot)

    # -- portal chooser --------------------------------------------------------------

    def _fill_portals(self, portal_url: str | None) -> None:
        saved = self._accounts.settings.portals()
        for portal in saved:
            self.portal_combo.addItem(f"{portal.branch_name}  —  {portal.email}", portal)
        if self._demo is not None:
            self.portal_combo.addItem("Demo company (runs on this computer)", DEMO)
        self.portal_combo.addItem("Another portal address…", OTHER)
        if portal_url:
            self.portal_combo.setCurrentIndex(self.portal_combo.findData(OTHER))
            self.url_edit.setText(portal_url)
        elif not saved and self._demo is not None:
            self.portal_combo.setCurrentIndex(self.portal_combo.findData(DEMO))
        self._portal_chosen()

    def try_stored_token(self) -> None:
        """Skips the password when the chosen saved portal still accepts the stored token.

        The keyring is read on its lane first, then the portal asked on the network's threads: the
        first read finds the backend (hundreds of ms scanning installed packages) and an OS keyring
        may answer slowly or ask to unlock. One that fails says so, and the form asks for the password."""
        choice = self.portal_combo.currentData()
        if not isinstance(choice, SavedPortal):
            return
        accounts = self._accounts

        def read() -> tuple[str, str] | None:
            token = accounts.stored_token(choice.url, choice.email)
            if token is None:
                return None
            password = accounts.remembered_password(choice.url, choice.email)
            if password is None:
                # A "Remember me" sign-in keeps its password beside the token. A token alone was
                # left by an unticked sign-in of an earlier version: unticked means asked again.
                accounts.forget(choice.url, choice.email)
                return None
            return token, password

        def found(secrets: tuple[str, str] | None) -> None:
            if secrets is None:
                self._set_busy(False)
                return
            token, password = secrets

            def resume() -> PortalSession:
                session = sessions.resume(choice.url, choice.email, token)
                session.password = password
                return session

            self._runner.run(resume, lambda session: self._signed_in(session, True), self._resume_failed)

        self._set_busy(True, "Signing in…")
        self._runner.run_keyring(read, found, self._resume_failed)

    def _resume_failed(self, error: Exception) -> None:
        self._set_busy(False)
        if not isinstance(error, UnauthorizedError) and isinstance(error, PortalError):
            self.show_error(error.detail)

    def _portal_chosen(self) -> None:
        choice = self.portal_combo.currentData()
        if isinstance(choice, SavedPortal):
            self.email_edit.setText(choice.email)
            self.password_edit.clear()
            self.remember_check.setChecked(False)
            self._fill_remembered_password(choice)
        elif choice == DEMO:
            self.email_edit.setText(DEMO_EMAIL)
            self.password_edit.setText(DEMO_PASSWORD)
        self._update_portal_fields()

    def _fill_remembered_password(self, choice: SavedPortal) -> None:
        """The keyring is read on a worker thread (finding its backend alone takes hundreds of
        ms, and an OS keyring may ask to unlock). The answer fills the form only if that portal
        is still the one chosen and nothing was typed meanwhile; a keyring that fails says so, unless
        the form already says something (the same sentence from the stored-token attempt, or why
        the last sign-out could not forget)."""
        accounts = self._accounts

        def still_chosen() -> bool:
            return self.portal_combo.currentData() == choice and not self.password_edit.text()

        def found(remembered: str | None) -> None:
            if remembered is not None and still_chosen():
                self.password_edit.setText(remembered)
                self.remember_check.setChecked(True)

        def unreadable(error: Exception) -> None:
            if isinstance(error, PortalError) and still_chosen() and self.error_label.isHidden():
                self.show_error(error.detail)

        self._runner.run_keyring(lambda: accounts.remembered_password(choice.url, choice.email), found, unreadable)

    def _update_portal_fields(self) -> None:
        choice = self.portal_combo.currentData()
        other = choice == OTHER
        self.url_edit.setVisible(other)
        self._url_row_label.setVisible(other)
        self.forgot_button.setVisible(choice != DEMO)
        self.hint_label.setVisible(choice == DEMO)
        self.hint_label.setText(
            "The demo company runs on this computer with sample data. "
            f"Sign in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}."
        )
        if self._locked:
            # Locked to an address (signing in again), the list's row goes, label and all, and the
            # address takes its label: the "Portal" label stood alone a row above its field.
            self._form.setRowVisible(self.portal_combo, not other)
            self._url_row_label.setText("Portal" if other else "")
        self.adjustSize()

    def first_empty_field(self) -> QLineEdit:
        """Where typing should go: the password once the portal and email are known. On the portal
        list, a returning user's password went into the list's type-ahead and changed the portal."""
        if self.portal_combo.currentData() == OTHER and not self.url_edit.text().strip():
            return self.url_edit
        if not self.email_edit.text().strip():
            return self.email_edit
        return self.password_edit

    def _portal_url(self) -> str:
        """Raises InvalidPortalUrlError; the demo's URL is known only once it started."""
        choice = self.portal_combo.currentData()
        if isinstance(choice, SavedPortal):
            return choice.url
        return normalize_portal_url(self.url_edit.text())

    # -- actions ---------------------------------------------------------------------

    def _submit(self) -> None:
        email = self.email_edit.text().strip()
        password = self.password_edit.text()
        self._clear_messages()
        demo = self.portal_combo.currentData() == DEMO and self._demo is not None
        try:
            url = "" if demo else self._portal_url()
        except InvalidPortalUrlError as error:
            self.show_error(error.detail)
            self.url_edit.setFocus()
            return
        if not email or "@" not in email:
            self.show_error("Enter the email address your portal invitation was sent to.")
            self.email_edit.setFocus()
            return
        if not password:
            self.show_error("Enter your password.")
            self.password_edit.setFocus()
            return
        self._set_busy(True, "Starting the demo…" if demo else "Signing in…")
        # The server takes a moment to check a password: the keyring, which stores the token
        # right after, loads meanwhile (off the GUI thread, not while the window is being built).
        preload_keyring()
        if demo and self._demo is not None:
            server = self._demo
            server.start()

            def op() -> PortalSession:
                server.wait_until_ready()
                return sessions.sign_in(server.portal_url, email, password)

        else:

            def op() -> PortalSession:
                return sessions.sign_in(url, email, password)

        self._runner.run(op, lambda session: self._signed_in(session, self.remember_check.isChecked()), self._failed)

    def _signed_in(self, session: PortalSession, remember: bool) -> None:
        """`remember`: the tick for a typed password; for a stored token, whether the keyring kept its
        password too (the tick is set by a read of its own that may not have answered yet)."""
        self._set_busy(False)
        self.session = session
        self.remember = remember
        self.accept()

    def _failed(self, error: Exception) -> None:
        self._set_busy(False)
        if isinstance(error, UnauthorizedError):
            self.show_error(BAD_DEMO_CREDENTIALS if self.forgot_button.isHidden() else BAD_CREDENTIALS)
            self.password_edit.selectAll()
            self.password_edit.setFocus()
        elif isinstance(error, SlowedDownError):
            self.show_error(slow_down_sentence(error.retry_after))
            self.sign_in_button.setEnabled(False)
            QTimer.singleShot(error.retry_after * 1000, self.sign_in_button, self._slow_down_over)
        elif isinstance(error, PortalError):
            self.show_error(error.detail)
        else:
            self.show_error("Something went wrong while signing in. Please try again.")

    def _slow_down_over(self) -> None:
        self.sign_in_button.setEnabled(True)

    def _forgot(self) -> None:
        self._clear_messages()
        email = self.email_edit.text().strip()
        try:
            url = self._portal_url()
        except InvalidPortalUrlError as error:
            self.show_error(error.detail)
            return
        if not email or "@" not in email:
            self.show_error("Enter your email address first; the reset link is sent there.")
            self.email_edit.setFocus()
            return
        self.forgot_button.setEnabled(False)

        def sent(_: None) -> None:
            self.forgot_button.setEnabled(True)
            self.show_info(
                f"If {email} has an account on this portal, an email with a link to choose a new password "
                "is on its way. Follow the link, then sign in here with the new password."
            )

        def failed(error: Exception) -> None:
            self.forgot_button.setEnabled(True)
            self.show_error(error.detail if isinstance(error, PortalError) else "The reset email could not be sent.")

        self._runner.run(lambda: PortalClient(url).request_password_reset(email), sent, failed)

    # -- feedback --------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.info_label.hide()
        self.error_label.setText(text)
        self.error_label.show()

    def show_info(self, text: str) -> None:
        self.error_label.hide()
        self.info_label.setText(text)
        self.info_label.show()

    def _clear_messages(self) -> None:
        self.error_label.hide()
        self.info_label.hide()

    def _set_busy(self, busy: bool, label: str = "") -> None:
        for widget in (self.portal_combo, self.url_edit, self.email_edit, self.password_edit, self.forgot_button):
            widget.setEnabled(not busy and not (self._locked and widget is self.portal_combo))
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText(label if busy else "Sign in")
        if not busy and not isinstance(self.focusWidget(), QLineEdit):
            # Greying the fields moved the focus on, to Quit (where Space quits): back to the form.
            self.first_empty_field().setFocus()


def sign_in_to_branch(
    parent: QWidget, accounts: Accounts, branch: Branch, email: str, remember: bool, error: Exception | None
) -> SignInDialog | None:
    """Asks for the password of `email` on another branch's portal (AC-2), the refusal that sent
    here shown; the accepted dialog (its session and Remember me), or None when the user gave up."""
    dialog = SignInDialog(
        accounts,
        portal_url=branch.portal_url,
        email=email,
        locked=True,
        remember=remember,
        message=f"Sign in to {branch.name} with your password.",
        parent=parent,
    )
    if isinstance(error, PortalError):
        dialog.show_error(error.detail)
    accepted = dialog.exec()
    dialog.deleteLater()  # a child of `parent`, like every sign-in it asked for
    return dialog if accepted and dialog.session is not None else None
