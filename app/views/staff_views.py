"""Office staff's screens: find a customer (SA-1), say why before opening their portal (SA-2), and the
audit trail (SA-3).

Search runs as the staff member types: a short pause (debounce) so a fast typist sends one
request, not ten; the request runs off the GUI thread and an answer to an older query is dropped
(ListFeed generations), so the list never flickers back to stale results.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.staff import AuditModel, StaffContactsModel
from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.errors import PortalError
from app.services.feeds import ListFeed
from app.services.records import Page, StaffContact
from app.services.session import PortalSession
from app.services.tasks import TaskRunner
from app.views.activation import SteadyOnActivation, SteadyTableView
from app.views.detail_support import error_sentence
from app.views.empty_state import EmptyState
from app.views.session_end import ask_to_sign_in_again, revoke_then_leave
from app.views.sign_in_dialog import SignInDialog
from app.views.theme import icon, named

SEARCH_DELAY_MS = 250
MIN_QUERY = 2
RECENT_LIMIT = 8
RECENT_WIDTH = 260
COMMON_REASONS = (
    "Customer on the phone",
    "Customer at the counter",
    "Taking a payment for the customer",
    "Helping with a proposal",
    "Following up on a request",
)


class _ResultsTable(SteadyOnActivation, QTableView):
    """Enter opens the current row (double-click does too, through `activated`)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class SearchEdit(QLineEdit):
    """The search box: Down moves into the results, so the keyboard alone finds and opens a customer."""

    arrow_down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.arrow_down.emit()
            return
        super().keyPressEvent(event)


class ReasonDialog(QDialog):
    """Asks why the staff member opens this customer's portal; the reason goes into the audit trail."""

    def __init__(self, contact: StaffContact, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open customer portal")
        self.setMinimumWidth(440)
        self.reason_combo = QComboBox()
        self.reason_combo.setEditable(True)
        self.reason_combo.addItems(COMMON_REASONS)
        # No reason chosen, not the first one with its text cleared: from there Down skipped
        # straight to the second reason.
        self.reason_combo.setCurrentIndex(-1)
        line = self.reason_combo.lineEdit()
        assert line is not None
        line.setPlaceholderText("Why are you opening this portal?")
        self.open_button = QPushButton("Open portal", default=True)
        self.open_button.setEnabled(False)
        cancel = QPushButton("Cancel", autoDefault=False)
        self.reason_combo.currentTextChanged.connect(lambda text: self.open_button.setEnabled(bool(text.strip())))
        self.open_button.clicked.connect(self.accept)
        cancel.clicked.connect(self.reject)

        # Escaped: a name from the back office such as "Lakeside <HOA>" lost its "<HOA>" as a tag.
        summary = QLabel(f"<b>{escape(contact.name)}</b><br>{escape(contact.email)}<br>{escape(contact.summary())}")
        summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label = summary
        note = QLabel(
            "You will see exactly what this customer sees and can act only as their roles allow. "
            "Everything you change is recorded with your name."
        )
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(named(QLabel("Open this customer's portal?"), "DialogTitle"))
        layout.addWidget(summary)
        layout.addWidget(note)
        layout.addWidget(QLabel("Reason"))
        layout.addWidget(self.reason_combo)
        layout.addLayout(buttons)

    @property
    def reason(self) -> str:
        return " ".join(self.reason_combo.currentText().split())


class AuditDialog(QDialog):
    """The audit trail of the branch, or of one customer ("Activity"), newest first."""

    def __init__(
        self,
        staff: PortalSession,
        runner: TaskRunner,
        contact: StaffContact | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Activity — {contact.name}" if contact else "Activity — all customers")
        self.resize(900, 520)
        self.model = AuditModel(self)
        self.table = SteadyTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.status_label = QLabel("Loading…")
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        title = f"What staff did for {contact.name}" if contact else "What staff did for customers"
        layout.addWidget(named(QLabel(title), "DialogTitle"))
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        self.feed = ListFeed(runner, self)
        self.feed.reset.connect(self._shown)
        self.feed.appended.connect(self._more)
        self.feed.failed.connect(lambda error: self.status_label.setText(error_sentence(error)))
        self.model.more_requested.connect(self.feed.load_more)
        client, contact_id = staff.client, contact.id if contact else None
        self.feed.load(lambda cursor: client.staff_audit(contact_id, cursor))

    def _shown(self, page: Page[object]) -> None:
        self.model.set_page(page)
        self._count()
        self.table.resizeColumnsToContents()

    def _more(self, page: Page[object]) -> None:
        self.model.append_page(page)
        self._count()

    def _count(self) -> None:
        total = self.model.total
        self.status_label.setText(
            "Nothing recorded yet" if total == 0 else "1 entry" if total == 1 else f"{total} entries"
        )


class FindCustomerWindow(QMainWindow):
    """What a staff member sees after signing in: search, recent customers, the audit trail."""

    assist_opened = Signal(object)  # PortalSession of the assist
    signed_out = Signal()

    def __init__(
        self,
        session: PortalSession,
        *,
        accounts: Accounts,
        remember_password: bool = False,
        runner: TaskRunner | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.accounts = accounts
        # "Remember me" as ticked at sign-in; signing in again after the session ended keeps it.
        self.remember_password = remember_password
        self.runner = runner or TaskRunner(self)
        self.runner.set_unauthorized_handler(self._session_expired)
        self.settings = settings = accounts.settings
        self.reauth_dialog: SignInDialog | None = None
        self._pending_retries: list[tuple[Callable[[], None], Callable[[], None]]] = []
        # Bumped by every successful sign-in again: tells an assist that ended with the staff
        # member's own session apart from one ended on its own.
        self._renewals = 0
        self.recent: list[StaffContact] = []
        self.reason_dialog: ReasonDialog | None = None
        self.audit_dialog: AuditDialog | None = None
        self._opening = False
        branch = session.config.branch.name
        self.setWindowTitle(f"Find customer — {branch} — Portal Desk")
        self.setWindowIcon(icon("app"))
        # Staff keep this window open all day: it comes back at the size and place they gave it.
        geometry = settings.find_window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 700)

        header = named(QFrame(), "HeaderBar")
        title = named(QLabel(f"Find customer · {branch}"), "AppTitle")
        self.activity_button = QPushButton("Activity")
        self.activity_button.setToolTip("What staff did for customers (audit trail)")
        self.sign_out_button = QPushButton("Sign out")
        who = QLabel(session.user.name)  # white on the header bar, by the style sheet
        head = QHBoxLayout(header)
        head.setContentsMargins(16, 8, 12, 8)
        head.addWidget(title)
        head.addStretch()
        head.addWidget(who)
        head.addWidget(self.activity_button)
        head.addWidget(self.sign_out_button)

        self.search_edit = SearchEdit()
        self.search_edit.setPlaceholderText("Name, email, phone, property, address, invoice or proposal number")
        self.search_edit.setClearButtonEnabled(True)
        self.model = StaffContactsModel(self)
        self.table = _ResultsTable()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 280)
        self.table.setColumnWidth(2, 300)
        self.status_label = QLabel("Type at least two characters to search.")
        self.status_label.setWordWrap(True)
        # In a card like the tabs' lists, with an empty state until the first portal is opened.
        self.recent_card = named(QFrame(), "ListCard")
        self.recent_card.setFixedWidth(RECENT_WIDTH)
        self.recent_stack = QStackedWidget(self.recent_card)
        card_layout = QVBoxLayout(self.recent_card)
        card_layout.setContentsMargins(2, 2, 2, 2)
        card_layout.addWidget(self.recent_stack)
        self.recent_list = named(QListWidget(self.recent_stack), "RecentList")
        # A long summary is elided (whole in the tooltip) rather than scrolled sideways.
        self.recent_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.recent_list.setAccessibleName("Recent customers")
        self.recent_empty = EmptyState(icon_size=56, text_width=RECENT_WIDTH - 40, parent=self.recent_stack)
        self.recent_empty.set_text(
            "No recent customers", "Customers whose portal you open show up here, so you can go back to them quickly."
        )
        self.recent_stack.addWidget(self.recent_list)
        self.recent_stack.addWidget(self.recent_empty)
        self.recent_stack.setCurrentWidget(self.recent_empty)

        left = QVBoxLayout()
        left.addWidget(self.search_edit)
        left.addWidget(self.status_label)
        left.addWidget(self.table, 1)
        right = QVBoxLayout()
        # Alt+R: the keyboard's way to the list (while it has entries; the search box has none).
        self.recent_title = QLabel("&Recent customers")
        self.recent_title.setBuddy(self.recent_list)
        right.addWidget(self.recent_title)
        right.addWidget(self.recent_card, 1)
        body = QHBoxLayout()
        body.setContentsMargins(16, 12, 16, 12)
        body.addLayout(left, 1)
        body.addLayout(right)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(header)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        self.feed = ListFeed(self.runner, self)
        self.feed.reset.connect(self._results)
        self.feed.appended.connect(self.model.append_page)
        self.feed.failed.connect(self._search_failed)
        self.model.more_requested.connect(self.feed.load_more)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.search_now)
        self.search_edit.textChanged.connect(self._text_changed)
        self.search_edit.returnPressed.connect(self._open_first)
        self.search_edit.arrow_down.connect(self.table.setFocus)
        self.table.activated.connect(self._open_index)
        self.recent_list.itemActivated.connect(self._open_recent)
        self.activity_button.clicked.connect(lambda: self.show_activity(None))
        self.sign_out_button.clicked.connect(self.sign_out)
        self.search_edit.setFocus()

    # -- searching -------------------------------------------------------------------

    def _text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def search_now(self) -> None:
        self._search_timer.stop()
        query = self.search_edit.text().strip()
        if len(query) < MIN_QUERY:
            self.feed.clear()
            self.model.clear()
            self.status_label.setText("Type at least two characters to search.")
            return
        client = self.session.client
        self.status_label.setText("Searching…")
        self.feed.load(lambda cursor: client.staff_contacts(query, cursor, 50))

    def _results(self, page: Page[StaffContact]) -> None:
        self.model.set_page(page)
        if page.total == 0:
            self.status_label.setText(f"No customer matches “{self.search_edit.text().strip()}”.")
        else:
            shown = "1 customer" if page.total == 1 else f"{page.total} customers"
            self.status_label.setText(f"{shown} — press Enter or double-click to open the portal.")
            self.table.selectRow(0)

    def _search_failed(self, error: Exception) -> None:
        self.status_label.setText(error_sentence(error))

    # -- opening an assist -----------------------------------------------------------

    def _open_first(self) -> None:
        if self._search_timer.isActive() or self.feed.loading:
            # Enter right after typing: search first, then open the best match.
            self.search_now()
            self.feed.reset.connect(self._open_after_search, Qt.ConnectionType.SingleShotConnection)
            return
        index = self.table.currentIndex()
        if self.model.rowCount():
            self.open_contact(self.model.contact(index.row() if index.isValid() else 0))

    def _open_after_search(self, page: Page[StaffContact]) -> None:
        if page.items:
            self.open_contact(page.items[0])

    def _open_index(self, index: QModelIndex | QPersistentModelIndex) -> None:
        if index.isValid():
            self.open_contact(self.model.contact(index.row()))

    def _open_recent(self, item: QListWidgetItem) -> None:
        contact = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(contact, StaffContact):
            self.open_contact(contact)

    def open_contact(self, contact: StaffContact) -> None:
        """Asks for the reason, then opens the assist session off the GUI thread."""
        if self._opening:
            return
        dialog = ReasonDialog(contact, self)
        self.reason_dialog = dialog
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        self.reason_dialog = None
        if accepted:
            self.start_assist(contact, dialog.reason)

    def start_assist(self, contact: StaffContact, reason: str) -> None:
        self._opening = True
        self.status_label.setText(f"Opening {contact.name}'s portal…")
        staff = self.session

        def opened(assisted: PortalSession) -> None:
            self._opening = False
            assert assisted.assisting is not None
            self.remember(assisted.assisting.contact)
            self.status_label.setText(f"Assisting {contact.name}.")
            self.assist_opened.emit(assisted)

        def failed(error: Exception) -> None:
            self._opening = False
            self.status_label.setText(error_sentence(error))

        self.runner.run(lambda: sessions.open_assist(staff, contact, reason), opened, failed)

    def remember(self, contact: StaffContact) -> None:
        self.recent = [contact, *(c for c in self.recent if c.id != contact.id)][:RECENT_LIMIT]
        self.recent_list.clear()
        for recent in self.recent:
            item = QListWidgetItem(f"{recent.name}\n{recent.summary()}")
            item.setToolTip(f"{recent.name}\n{recent.email}\n{recent.summary()}")
            item.setData(Qt.ItemDataRole.UserRole, recent)
            self.recent_list.addItem(item)
        self.recent_stack.setCurrentWidget(self.recent_list if self.recent else self.recent_empty)

    def assist_ended(self, message: str | None = None) -> None:
        """Back from a customer's portal: ready for the next call."""
        self.show()
        self.raise_()
        self.activateWindow()
        self.search_edit.setFocus()
        self.search_edit.selectAll()
        self.status_label.setText(message or "Assist ended. Find the next customer.")

    # -- audit and sign-out -----------------------------------------------------------

    def show_activity(self, contact: StaffContact | None) -> AuditDialog:
        dialog = AuditDialog(self.session, self.runner, contact, self)
        self.audit_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def assist_token_refused(self, error: PortalError) -> None:
        """Back from a customer's portal whose assist token the server refused: says why. The
        server names the assist when it ended on its own (idle, SA-4); otherwise the assist went
        with the staff member's own session (signed out elsewhere, revoked or expired), which only
        asking the portal with that session tells: a 401 there brings up the sign-in prompt."""
        self.assist_ended("The assist session ended. Checking your own sign-in…")
        renewals = self._renewals

        def checked(_: object) -> None:
            if self._renewals != renewals:
                self.status_label.setText(
                    "The assist ended because your own session had ended. You are signed in again: "
                    "open the customer's portal again."
                )
            elif "assist" in error.detail.lower():
                self.status_label.setText(error.detail)
            else:
                self.status_label.setText("The assist session was ended on the portal. Open it again.")

        def failed(check_error: Exception) -> None:
            self.status_label.setText(error_sentence(check_error))

        self.runner.run(self.session.client.me, checked, failed)

    # -- token expiry ----------------------------------------------------------------

    def _session_expired(self, retry: Callable[[], None], give_up: Callable[[], None], _error: PortalError) -> None:
        """The staff member's own session ended: the password once, over this window, then every
        call that got a 401 runs again, so the search they typed carries on where it was."""
        self._pending_retries.append((retry, give_up))
        if self.reauth_dialog is not None:
            return
        self.status_label.setText("Your session has ended. Sign in again to carry on.")
        self.reauth_dialog = ask_to_sign_in_again(
            self, self.accounts, self.session, self._reauth_finished, remember=self.remember_password
        )

    def _reauth_finished(self, dialog: SignInDialog) -> None:
        self.reauth_dialog = None
        dialog.deleteLater()
        pending, self._pending_retries = self._pending_retries, []
        renewed = dialog.session
        if renewed is None:
            for _, give_up in pending:
                give_up()
            self.status_label.setText("Your session has ended. Sign out, then sign in again to find customers.")
            return
        self._renewals += 1
        self.session.client.token = renewed.token
        self.session.password = renewed.password
        renewed.client.close()
        self.remember_password = dialog.remember
        self.accounts.signed_in(self.session, remember_password=dialog.remember)
        self.status_label.setText("Signed in again.")
        for retry, _ in pending:
            retry()

    # -- sign-out ----------------------------------------------------------------------

    def sign_out(self) -> None:
        """Signing staff out also ends every assist session they opened (server side, SA-4). The
        token is forgotten on this computer at once; a portal that hangs is waited for only
        `session_end.SIGN_OUT_WAIT_MS`, with "Signing out…" on screen, instead of the client's 20 s timeout."""
        self.accounts.signed_out(self.session)
        self.sign_out_button.setText("Signing out…")
        self.status_label.setText("Signing out…")
        self.setEnabled(False)
        revoke_then_leave(self, self.runner, self.session, self.signed_out.emit)

    def save_layout(self) -> None:
        self.settings.set_find_window_geometry(self.saveGeometry())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._search_timer.stop()
        self.save_layout()
        super().closeEvent(event)
