"""Office staff's screens: find a customer (SA-1), say why before opening their portal (SA-2), and the
audit trail (SA-3).

Search runs as the staff member types: a short pause (debounce) so a fast typist sends one
request, not ten; the request runs off the GUI thread and an answer to an older query is dropped
(ListFeed generations), so the list never flickers back to stale results.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
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
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.staff import AuditModel, StaffContactsModel, property_lines
from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.errors import NotFoundError, PortalError
from app.services.feeds import ListFeed
from app.services.records import Assist, Branch, Page, StaffContact
from app.services.session import AssistContext, PortalSession
from app.services.settings import RECENT_CUSTOMERS_KEPT, RecentCustomer
from app.services.tasks import TaskRunner
from app.views.activation import SteadyOnActivation, SteadyTableView
from app.views.branch_switch import BranchSwitch
from app.views.delegates import ContactDelegate
from app.views.detail_support import error_sentence
from app.views.empty_state import EmptyState
from app.views.item_windows import fit_to_screen
from app.views.session_end import (
    KEYRING_PROBLEM_MS,
    access_removed,
    ask_to_sign_in_again,
    ended_sentence,
    refusal_of,
    sign_out_then_leave,
)
from app.views.sign_in_dialog import SignInDialog, sign_in_to_branch
from app.views.table_card import TableCard
from app.views.theme import icon, named

SEARCH_DELAY_MS = 250
NO_SIGN_IN_HELPS = "Signing in again cannot give it back."
MIN_QUERY = 2
REASON_LENGTH = 500  # the longest reason the portal takes (AssistIn.reason)
RECENT_WIDTH = 260
RECENT_ITEM_PADDING = 10  # #RecentList::item's left padding in style.qss: the title lines up with it
NAME_WIDTH = 240  # the widest the name and contact columns are fitted to; a longer text is
CONTACT_WIDTH = 300  # elided, whole in its tooltip
SEARCH_HINT = "Search by name, email, phone, property name or address, invoice or proposal number."
NO_MATCH_HINT = (
    "Check the spelling, or ask the caller for another detail: their email, phone, a property's "
    "name or address, an invoice or proposal number."
)
COMMON_REASONS = (
    "Customer on the phone",
    "Customer at the counter",
    "Taking a payment for the customer",
    "Helping with a proposal",
    "Following up on a request",
)


class _ResultsTable(SteadyOnActivation, QTableView):
    """Enter opens the current row (double-click does too, through `activated`). Esc, or Up on
    the first row, goes back to the search box, so the next try is typed without the mouse."""

    back_to_search = Signal()
    scrolled_down = Signal()  # by the staff member: the wheel, the scroll bar, Down, Page Down, End

    def __init__(self) -> None:
        super().__init__()
        self.verticalScrollBar().actionTriggered.connect(lambda _: self.scrolled_down.emit())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated.emit(self.currentIndex())
            return
        if key == Qt.Key.Key_Escape or (key == Qt.Key.Key_Up and self.currentIndex().row() <= 0):
            self.back_to_search.emit()
            return
        super().keyPressEvent(event)
        if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown, Qt.Key.Key_End):
            self.scrolled_down.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Also when the rows fit and there is nothing to scroll: "Scroll down to try again"."""
        super().wheelEvent(event)
        if event.angleDelta().y() < 0:
            self.scrolled_down.emit()


class SearchEdit(QLineEdit):
    """The search box: Down moves into the results, so the keyboard alone finds and opens a
    customer; Esc clears it for the next caller (as the clear button does)."""

    arrow_down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.arrow_down.emit()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class ReasonDialog(QDialog):
    """Asks why the staff member opens this customer's portal; the reason goes into the audit trail.

    It stays open while the assist opens (`open_requested`): a failure is said in it, under the
    reason as typed, and Open portal tries again. Closed first, a refused open lost the reason typed
    and said a raw field message in the status line behind it."""

    open_requested = Signal(str)  # the reason

    def __init__(self, contact: StaffContact, parent: QWidget | None = None, *, reason: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Open customer portal")
        self.setMinimumWidth(440)
        self.opening = False
        self.reason_combo = QComboBox()
        self.reason_combo.setEditable(True)
        self.reason_combo.addItems(COMMON_REASONS)
        # No reason chosen, not the first one with its text cleared: from there Down skipped
        # straight to the second reason.
        self.reason_combo.setCurrentIndex(-1)
        line = self.reason_combo.lineEdit()
        assert line is not None
        line.setPlaceholderText("Why are you opening this portal?")
        line.setMaxLength(REASON_LENGTH)  # the portal's limit: typing stops there instead of a refusal later
        self.open_button = QPushButton("Open portal", default=True)
        self.open_button.setEnabled(False)
        self.cancel_button = cancel = QPushButton("Cancel", autoDefault=False)
        self.problem_label = named(QLabel(""), "FormError")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        self.reason_combo.currentTextChanged.connect(self._update)
        self.open_button.clicked.connect(self._open)
        cancel.clicked.connect(self.reject)
        if reason:
            self.reason_combo.setCurrentText(reason)

        # Escaped: a name from the back office such as "Lakeside <HOA>" lost its "<HOA>" as a tag.
        # Every property with the contact's role there: the results row has room for three names,
        # and the caller may be calling about the fourth.
        # A recent customer kept from an earlier run has no properties with it (only its name and
        # email are kept): no "0 properties" then; the assist shows them.
        reach = " · ".join(filter(None, [contact.email, contact.phone]))
        count = len(contact.properties)
        heading = f"{count} {'property' if count == 1 else 'properties'}"
        properties = f"<p><b>{heading}</b><br>{'<br>'.join(map(escape, property_lines(contact)))}</p>" if count else ""
        summary = QLabel(f"<b>{escape(contact.name)}</b><br>{escape(reach)}{properties}")
        summary.setTextFormat(Qt.TextFormat.RichText)
        summary.setWordWrap(True)  # a long name or email wrapped nowhere and widened the dialog
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
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)

    @property
    def reason(self) -> str:
        return " ".join(self.reason_combo.currentText().split())

    def _update(self) -> None:
        self.open_button.setEnabled(bool(self.reason) and not self.opening)

    def _open(self) -> None:
        if not self.reason or self.opening:
            return
        self.set_opening(True)
        self.open_requested.emit(self.reason)

    def set_opening(self, opening: bool) -> None:
        """While the portal opens nothing can be changed or cancelled: an assist opened on the
        portal after Cancel would run unseen (and unended) for its 30 minutes."""
        self.opening = opening
        self.reason_combo.setEnabled(not opening)
        self.cancel_button.setEnabled(not opening)
        self.open_button.setText("Opening…" if opening else "Open portal")
        if opening:
            self.problem_label.hide()
        self._update()

    def show_problem(self, sentence: str) -> None:
        """The assist did not open: why, under the reason kept as typed, ready to try again."""
        self.set_opening(False)
        self.problem_label.setText(sentence)
        self.problem_label.show()
        self.reason_combo.setFocus()

    def reject(self) -> None:
        if not self.opening:
            super().reject()


class AuditDialog(QDialog):
    """The audit trail of the branch, or of one customer ("Activity"), newest first: in a card
    like the other lists, and a load that failed says why, with Try again."""

    def __init__(
        self,
        staff: PortalSession,
        runner: TaskRunner,
        contact: StaffContact | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Activity — {contact.name}" if contact else "Activity — all customers")
        # Within the free area of its screen, as the item windows are: 900 px ran off an 800 px one.
        fit_to_screen(self, QSize(900, 520))
        config = staff.config
        self.model = AuditModel(config.branch.time_zone, config.currency, self, per_customer=contact is not None)
        self.table = SteadyTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Activity")
        # The detail (the reason given) takes the width the others leave; the stretched last
        # section stopped short of the card's edge once the columns were fitted to the first page.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(self.model.column_index("detail"), QHeaderView.ResizeMode.Stretch)
        self.card = TableCard(self.table, "Load the activity again")
        self.status_label = QLabel("Loading…")
        self.status_label.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        title = f"What staff did for {contact.name}" if contact else "What staff did for customers"
        layout.addWidget(named(QLabel(title), "DialogTitle"))
        layout.addWidget(self.card, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        self.feed = ListFeed(runner, self)
        self.feed.started.connect(self._loading)
        self.feed.reset.connect(self._shown)
        self.feed.appended.connect(self._more)
        self.feed.failed.connect(self._failed)
        self.feed.more_failed.connect(self._more_failed)
        self.model.more_requested.connect(self.feed.load_more)
        self.card.retry_button.clicked.connect(self.feed.reload)
        client, contact_id = staff.client, contact.id if contact else None
        self.feed.load(lambda cursor: client.staff_audit(contact_id, cursor))

    def _loading(self) -> None:
        if self.model.rowCount() == 0:  # a further page loads under the rows already shown
            self.status_label.setText("Loading…")
            self.card.show_empty("Loading activity…", "")

    def _shown(self, page: Page[object]) -> None:
        self.model.set_page(page)
        self._count()
        if self.model.total == 0:
            self.card.show_empty("Nothing recorded yet", "What staff do in a customer's portal is listed here.")
        else:
            self.card.show_rows()
            for column in range(self.model.column_index("detail")):  # the detail, last, stretches
                self.table.resizeColumnToContents(column)

    def _more(self, page: Page[object]) -> None:
        self.model.append_page(page)
        self._count()

    def _failed(self, error: Exception) -> None:
        sentence = error_sentence(error)
        self.model.clear()
        self.status_label.setText(sentence)
        self.card.show_empty("The activity could not be loaded", sentence, failed=True)

    def _more_failed(self, error: Exception) -> None:
        """The entries shown stay; scrolling down asks for the rest again (as Find customer's results)."""
        self.model.more_failed()
        self.status_label.setText(f"Could not load more entries: {error_sentence(error)} Scroll down to try again.")

    def _count(self) -> None:
        total = self.model.total
        self.status_label.setText(
            "Nothing recorded yet" if total == 0 else "1 entry" if total == 1 else f"{total} entries"
        )


class FindCustomerWindow(QMainWindow):
    """What a staff member sees after signing in: search, recent customers, the audit trail."""

    assist_opened = Signal(object)  # PortalSession of the assist
    branch_opened = Signal(object)  # PortalSession of staff on another branch, after this one's access was removed
    branch_switched = Signal(object)  # PortalSession of staff on the branch they picked in the header
    signed_out = Signal(str)  # "" or what the sign-in screen should say (the keyring could not forget)

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
        # The portal's sentence once the staff member was taken off this branch (no sign-in helps).
        self.access_lost: str | None = None
        self.access_prompt: QMessageBox | None = None
        self._pending_retries: list[tuple[Callable[[], None], Callable[[], None]]] = []
        # Newest first. Kept in settings for this branch and this staff member (id, name and email
        # only): after a restart a customer comes back without phone or properties until opened.
        self.recent: list[StaffContact] = [
            StaffContact(kept.id, kept.name, kept.email, None, ())
            for kept in settings.recent_customers(session.portal_url, session.email)
        ]
        self.reason_dialog: ReasonDialog | None = None
        self.audit_dialog: AuditDialog | None = None
        self._opening = False
        self._query = ""  # the search the results on screen answer
        # Enter pressed before the results were in: the search (its query) whose first result then
        # opens. Cleared by any change of the text, a search that fails or is too short, and when
        # it opens; one flag, so Enter pressed twice arms it once.
        self._open_when_found: str | None = None
        # A reason typed for a customer whose portal then failed to open, for the next try.
        self._kept_reasons: dict[int, str] = {}
        # The customer's window of the assist open now: the staff sign-in prompt goes over it
        # while this window is hidden behind it.
        self.assist_window: QWidget | None = None
        self._sized_by_user: set[int] = set()  # columns whose width the staff member set
        self._more_waits_for_scroll = False  # a further page failed: asked again by a scroll only
        self._fitting = False
        branch = session.config.branch.name
        self.setWindowTitle(f"Find customer — {branch} — Portal Desk")
        self.setWindowIcon(icon("app"))
        # Staff keep this window open all day: it comes back at the size and place they gave it.
        geometry = settings.find_window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            fit_to_screen(self, QSize(1100, 700))

        header = named(QFrame(), "HeaderBar")
        # Staff of several branches pick theirs where customers do, on the header (SA-1); others
        # see the branch in the title, as there is nothing to pick.
        self.branch_switch: BranchSwitch | None = None
        if len(session.branches) > 1:
            self.branch_switch = BranchSwitch(
                self,
                self.runner,
                accounts,
                session=lambda: self.session,
                remember=lambda: self.remember_password,
                enter=self._enter_branch,
                stay=self._stay_on_branch,
                say=lambda text: self.status_label.setText(text),  # made after the header
                may_switch=self._may_switch_branch,
            )
        title = named(QLabel("Find customer" if self.branch_switch else f"Find customer · {branch}"), "AppTitle")
        self.activity_button = QPushButton("Activity")
        self.activity_button.setToolTip("What staff did for customers (audit trail)")
        self.sign_out_button = QPushButton("Sign out")
        who = QLabel(session.user.name)  # white on the header bar, by the style sheet
        head = QHBoxLayout(header)
        head.setContentsMargins(16, 8, 12, 8)
        head.setSpacing(10)
        head.addWidget(title)
        if self.branch_switch is not None:
            head.addWidget(named(QLabel("|"), "HeaderDivider"))
            head.addWidget(self.branch_switch.button)
            self.branch_switch.show_branches(session)
        head.addStretch()
        head.addWidget(who)
        head.addWidget(self.activity_button)
        head.addWidget(self.sign_out_button)

        self.search_edit = SearchEdit()
        self.search_edit.setPlaceholderText("Name, email, phone, property, address, invoice or proposal number")
        self.search_edit.setClearButtonEnabled(True)
        self.model = StaffContactsModel(self)
        self.status_label = QLabel("Type at least two characters to search.")
        self.status_label.setWordWrap(True)
        self._build_results()
        # In a card like the tabs' lists, its title inside with the entries' left edge, and with
        # an empty state until the first portal is opened.
        self.recent_card = named(QFrame(), "ListCard")
        self.recent_card.setFixedWidth(RECENT_WIDTH)
        self.recent_stack = QStackedWidget(self.recent_card)
        card_layout = QVBoxLayout(self.recent_card)
        card_layout.setContentsMargins(2, 2, 2, 2)
        card_layout.setSpacing(0)
        # Alt+R: the keyboard's way to the list (while it has entries; the search box has none).
        self.recent_title = named(QLabel("&Recent customers"), "SidebarTitle")
        card_layout.addWidget(self.recent_title)
        card_layout.addWidget(self.recent_stack)
        self.recent_list = named(QListWidget(self.recent_stack), "RecentList")
        # A long summary is elided (whole in the tooltip) rather than scrolled sideways.
        self.recent_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.recent_list.setAccessibleName("Recent customers")
        self.recent_list.setItemDelegate(ContactDelegate(self.recent_list))
        self.recent_empty = EmptyState(icon_size=56, text_width=RECENT_WIDTH - 40, parent=self.recent_stack)
        self.recent_empty.set_text(
            "No recent customers", "Customers whose portal you open show up here, so you can go back to them quickly."
        )
        self.recent_stack.addWidget(self.recent_list)
        self.recent_stack.addWidget(self.recent_empty)
        self.recent_stack.setCurrentWidget(self.recent_empty)

        self.recent_title.setBuddy(self.recent_list)
        # Qt keeps a focus-frame margin inside an item's text rectangle, beyond the padding.
        text_left = (
            RECENT_ITEM_PADDING + self.recent_list.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1
        )
        self.recent_title.setContentsMargins(text_left, 10, text_left, 4)

        left = QVBoxLayout()
        left.addWidget(self.search_edit)
        left.addWidget(self.status_label)
        left.addWidget(self.results_card, 1)
        body = QHBoxLayout()
        body.setContentsMargins(16, 12, 16, 12)
        body.setSpacing(16)
        body.addLayout(left, 1)
        body.addWidget(self.recent_card)
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
        self.feed.more_failed.connect(self._more_failed)
        self.model.more_requested.connect(self._more_wanted)
        self.table.scrolled_down.connect(self._scrolled_down)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.search_now)
        self.search_edit.textChanged.connect(self._text_changed)
        self.search_edit.returnPressed.connect(self._open_first)
        self.search_edit.arrow_down.connect(self.table.setFocus)
        self.table.back_to_search.connect(self._back_to_search)
        self.table.activated.connect(self._open_index)
        self.retry_button.clicked.connect(self.search_now)
        self.recent_list.itemActivated.connect(self._open_recent)
        self.activity_button.clicked.connect(lambda: self.show_activity(None))
        self.sign_out_button.clicked.connect(self.sign_out)
        self._show_recent()
        self.search_edit.setFocus()

    def _build_results(self) -> None:
        """The results as the main window's lists look (TableCard), with an empty state that says
        what to do or what went wrong."""
        table = self.table = _ResultsTable()
        table.setModel(self.model)
        table.setAccessibleName("Customers found")
        self.results_card = TableCard(table, "Search again")
        self.results_stack = self.results_card.stack
        self.results_empty = self.results_card.empty
        self.retry_button = self.results_card.retry_button
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The roles take what they need; the properties, the row's longest text, the rest.
        header.setSectionResizeMode(self.model.column_index("roles"), QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.setColumnWidth(self.model.column_index("name"), NAME_WIDTH)
        table.setColumnWidth(self.model.column_index("contact"), CONTACT_WIDTH)
        header.sectionResized.connect(self._column_resized)
        self.results_card.show_empty("Find a customer", SEARCH_HINT)

    def _back_to_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    # -- searching -------------------------------------------------------------------

    def _text_changed(self, text: str) -> None:
        self._open_when_found = None  # Enter armed it for the text that was there
        if text:
            self._search_timer.start()
        else:  # cleared (Esc, the clear button): ready for the next caller at once
            self.search_now()

    def search_now(self) -> None:
        self._search_timer.stop()
        query = self.search_edit.text().strip()
        if len(query) < MIN_QUERY:
            self._open_when_found = None
            self.feed.clear()
            self.model.clear()
            self.status_label.setText("Type at least two characters to search.")
            self.results_card.show_empty("Find a customer", SEARCH_HINT)
            return
        client = self.session.client
        self._query = query
        self.status_label.setText("Searching…")
        self.feed.load(lambda cursor: client.staff_contacts(query, cursor, 50))

    def _results(self, page: Page[StaffContact]) -> None:
        armed, self._open_when_found = self._open_when_found, None
        self._more_waits_for_scroll = False
        self.model.query = self._query
        self.model.set_page(page)
        if page.total == 0:
            self.status_label.setText(f"No customer matches “{self._query}”.")
            self.results_card.show_empty(f"No customer matches “{self._query}”", NO_MATCH_HINT)
        else:
            shown = "1 customer" if page.total == 1 else f"{page.total} customers"
            self.status_label.setText(f"{shown} — press Enter or double-click to open the portal.")
            self.results_card.show_rows()
            self._fit_columns()
            self.table.selectRow(0)
            if armed == self._query:
                self.open_contact(page.items[0])

    def _fit_columns(self) -> None:
        """Name and contact as wide as the rows found need, within limits, so the properties
        (the caller's "I'm calling about Oak Plaza") keep the room they are not using; but not a
        column whose width the staff member dragged: every search put it back."""
        self._fitting = True
        try:
            for key, widest in (("name", NAME_WIDTH), ("contact", CONTACT_WIDTH)):
                column = self.model.column_index(key)
                if column in self._sized_by_user:
                    continue
                header = self.table.horizontalHeader()
                needed = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
                self.table.setColumnWidth(column, min(needed, widest))
        finally:
            self._fitting = False

    def _column_resized(self, column: int, _old: int, _new: int) -> None:
        """A width set other than by _fit_columns is the staff member's (a drag, a double-click
        on the handle): kept for the rest of the window's life."""
        if not self._fitting and column in (self.model.column_index("name"), self.model.column_index("contact")):
            self._sized_by_user.add(column)

    def _search_failed(self, error: Exception) -> None:
        """The rows of the previous search go: Enter must not open a customer the search on
        screen did not find. Try again asks once more."""
        self._open_when_found = None
        sentence = error_sentence(error)
        if isinstance(error, PortalError) and access_removed(error):
            sentence = f"{sentence} {NO_SIGN_IN_HELPS}"
        self.model.clear()
        self.status_label.setText(sentence)
        self.results_card.show_empty("The search did not go through", sentence, failed=True)

    def _more_failed(self, error: Exception) -> None:
        """A further page that failed left the list waiting for it for good: the customers
        beyond the first 50 could not be reached. Scrolling down asks again."""
        self.model.more_failed()
        self._more_waits_for_scroll = True
        self.status_label.setText(f"Could not load more customers: {error_sentence(error)} Scroll down to try again.")

    def _more_wanted(self) -> None:
        """Qt asks for the next page whenever the list is laid out with its last row in view: in a
        narrow window the failure's own sentence, wrapping onto a second line, did that, and the
        page was asked for again at once. After a failure only the staff member's scroll asks."""
        if self._more_waits_for_scroll:
            self.model.more_failed()  # not asked: the model may be asked again
        else:
            self.feed.load_more()

    def _scrolled_down(self) -> None:
        if self._more_waits_for_scroll:
            self._more_waits_for_scroll = False
            if self.model.canFetchMore(QModelIndex()):
                self.model.fetchMore(QModelIndex())

    # -- opening an assist -----------------------------------------------------------

    def _open_first(self) -> None:
        if self.results_card.failed and not self._search_timer.isActive():
            self.search_now()  # Enter after a failed search tries it again, as Try again does
            return
        if self._search_timer.isActive() or self.feed.loading:
            # Enter right after typing: search first (once), then open the best match of that search.
            if self._search_timer.isActive():
                self.search_now()
            if len(self.search_edit.text().strip()) >= MIN_QUERY:
                self._open_when_found = self._query
            return
        index = self.table.currentIndex()
        if self.model.rowCount():
            self.open_contact(self.model.contact(index.row() if index.isValid() else 0))

    def _open_index(self, index: QModelIndex | QPersistentModelIndex) -> None:
        if index.isValid():
            self.open_contact(self.model.contact(index.row()))

    def _open_recent(self, item: QListWidgetItem) -> None:
        contact = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(contact, StaffContact):
            self.open_contact(contact)

    def open_contact(self, contact: StaffContact) -> None:
        """Asks for the reason; the dialog stays open while the assist opens off the GUI thread,
        and closes once the customer's portal is there."""
        if self._opening or self.reason_dialog is not None:
            return
        dialog = ReasonDialog(contact, self, reason=self._kept_reasons.get(contact.id, ""))
        dialog.open_requested.connect(lambda reason: self.start_assist(contact, reason, dialog))
        self.reason_dialog = dialog
        dialog.exec()
        self.reason_dialog = None
        dialog.deleteLater()

    def start_assist(self, contact: StaffContact, reason: str, dialog: ReasonDialog | None = None) -> None:
        self._opening = True
        self.status_label.setText(f"Opening {contact.name}'s portal…")
        staff = self.session

        def opened(assisted: PortalSession) -> None:
            self._opening = False
            self._kept_reasons.pop(contact.id, None)
            assert assisted.assisting is not None
            self.remember(assisted.assisting.contact)
            self.status_label.setText(f"Assisting {contact.name}.")
            if dialog is not None:
                dialog.set_opening(False)
                dialog.accept()
            self.assist_opened.emit(assisted)

        def failed(error: Exception) -> None:
            self._opening = False
            sentence = self.open_failed_sentence(contact, error)
            self.status_label.setText(sentence)
            if isinstance(error, NotFoundError):  # gone: no other try can open them
                if dialog is not None:
                    dialog.set_opening(False)
                    dialog.reject()
                return
            self._kept_reasons[contact.id] = reason
            if dialog is not None:
                dialog.show_problem(sentence)

        self.runner.run(lambda: sessions.open_assist(staff, contact, reason), opened, failed)

    def open_failed_sentence(self, contact: StaffContact, error: Exception) -> str:
        """Why `contact`'s portal did not open; one the portal no longer shows this staff member
        (404: removed, or moved to another branch) also leaves Recent customers."""
        if not isinstance(error, NotFoundError):
            return f"{contact.name}'s portal could not be opened. {error_sentence(error)}"
        if any(c.id == contact.id for c in self.recent):
            self._keep_recent([c for c in self.recent if c.id != contact.id])
            return (
                f"{contact.name} is no longer a customer of this branch you can open, "
                "so they were taken off Recent customers."
            )
        return f"{contact.name} is no longer a customer of this branch you can open."

    def reopen_assist(
        self,
        assisting: AssistContext,
        opened: Callable[[Assist], None],
        failed: Callable[[str, bool, bool], None],
    ) -> None:
        """A new assist session for the customer of one the portal ended (idle, revoked), with the
        same reason, for the window still showing them: only its token changes, so the windows and
        drafts open in it carry on. Run with this window's runner: when the staff member's own
        session has ended too, they sign in again first (over the customer's window), then it opens.
        `failed` gets the sentence, whether the customer is gone (404: opening again cannot work) and
        whether the staff member was taken off the branch (nothing opens it again)."""
        contact, client = assisting.contact, self.session.client

        def done(ticket: Assist) -> None:
            self.remember(ticket.contact)
            opened(ticket)

        def refused(error: Exception) -> None:
            if isinstance(error, PortalError) and access_removed(error):
                failed(ended_sentence(error), False, True)
                return
            failed(self.open_failed_sentence(contact, error), isinstance(error, NotFoundError), False)

        self.runner.run(lambda: client.open_assist(contact.id, assisting.reason), done, refused)

    def remember(self, contact: StaffContact) -> None:
        """Newest first, in the list and in settings (a restart keeps them)."""
        self._keep_recent([contact, *(c for c in self.recent if c.id != contact.id)])

    def _keep_recent(self, contacts: list[StaffContact]) -> None:
        self.recent = contacts[:RECENT_CUSTOMERS_KEPT]
        kept = [RecentCustomer(c.id, c.name, c.email) for c in self.recent]
        self.settings.set_recent_customers(self.session.portal_url, self.session.email, kept)
        self._show_recent()

    def _show_recent(self) -> None:
        self.recent_list.clear()
        for recent in self.recent:
            # The phone and email under the name: what a call back needs, and what tells two
            # customers of one name apart. Roles and properties are in the tooltip.
            reach = [text for text in (recent.phone, recent.email) if text]
            item = QListWidgetItem("\n".join([recent.name, *reach]))
            item.setToolTip("\n".join([recent.name, *reach, *property_lines(recent)]))
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
        self.ask_about_lost_access()

    # -- audit and sign-out -----------------------------------------------------------

    def show_activity(self, contact: StaffContact | None) -> AuditDialog:
        dialog = AuditDialog(self.session, self.runner, contact, self)
        self.audit_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    # -- token expiry ----------------------------------------------------------------

    def _session_expired(self, retry: Callable[[], None], give_up: Callable[[], None], error: PortalError) -> None:
        """The staff member's own session ended: the password once, over this window, then every
        call that got a 401 runs again, so the search they typed carries on where it was."""
        refusal = refusal_of(error, self.session)
        if refusal != "current":
            (retry if refusal == "replaced" else give_up)()
            return
        if access_removed(error):
            self._lose_access(error, give_up)
            return
        self._pending_retries.append((retry, give_up))
        if self.reauth_dialog is not None:
            return
        self.status_label.setText(f"{ended_sentence(error)} Sign in again to carry on.")
        shown = self.assist_window if self.assist_window is not None and not self.isVisible() else self
        self.reauth_dialog = ask_to_sign_in_again(
            shown, self.accounts, self.session, self._reauth_finished, remember=self.remember_password, reason=error
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
        self.session.client.use_token(renewed.token)
        self.session.password = renewed.password
        renewed.client.close()
        self.remember_password = dialog.remember
        self.status_label.setText("Signed in again.")
        self.accounts.signed_in(
            self.session, remember_password=dialog.remember, runner=self.runner, failed=self.show_keyring_problem
        )
        for retry, _ in pending:
            retry()

    # -- taken off the branch ------------------------------------------------------------

    def _lose_access(self, error: PortalError, give_up: Callable[[], None]) -> None:
        """Taken off the branch, the staff member's password still signs in, but not here: the
        sign-in prompt said the session had ended, then that the right password did not match. So
        every call waiting fails now (an assist being opened again says why in its window), and
        this window says who can help and offers the branches they still have."""
        pending, self._pending_retries = self._pending_retries, []
        first = self.access_lost is None
        self.access_lost = error.detail
        self.status_label.setText(f"{error.detail} {NO_SIGN_IN_HELPS}")
        give_up()
        for _, other in pending:
            other()
        if first and self.isVisible():
            self.ask_about_lost_access()

    def other_branches(self) -> list[Branch]:
        return [b for b in self.session.branches if b.portal_url != self.session.portal_url]

    def ask_about_lost_access(self) -> None:
        """Window-modal, Close leaves the window as it is (its status line keeps saying why)."""
        if self.access_lost is None or self.access_prompt is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Access removed", self.access_lost, parent=self)
        others = self.other_branches()
        names = ", ".join(b.name for b in others)
        box.setInformativeText(NO_SIGN_IN_HELPS + (f" You can still open {names}." if others else ""))
        choices = {box.addButton(f"Open {b.name}", QMessageBox.ButtonRole.AcceptRole): b for b in others}
        sign_out = box.addButton("Sign out", QMessageBox.ButtonRole.DestructiveRole)
        box.setEscapeButton(box.addButton("Close", QMessageBox.ButtonRole.RejectRole))
        box.setDefaultButton(next(iter(choices), sign_out))
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered() -> None:
            self.access_prompt = None
            box.deleteLater()
            clicked = box.clickedButton()
            if clicked is sign_out:
                self.sign_out()
            elif clicked in choices:
                self.open_branch(choices[clicked])

        box.finished.connect(lambda _: answered())
        self.access_prompt = box
        box.open()

    def open_branch(self, branch: Branch) -> None:
        """Find customer on `branch`, signed in with the password kept in memory for this run, or
        asked for when there is none (signed in by a stored token) or it is refused there."""
        self.status_label.setText(f"Opening {branch.name}…")
        password, email = self.session.password, self.session.email

        def ask(error: Exception | None) -> None:
            dialog = sign_in_to_branch(self, self.accounts, branch, email, self.remember_password, error)
            if dialog is not None and dialog.session is not None:
                self.branch_opened.emit(dialog.session)
            else:
                self.status_label.setText(f"{self.access_lost or ''} {NO_SIGN_IN_HELPS}".strip())

        if password is None:
            ask(None)
            return
        self.runner.run(lambda: sessions.sign_in(branch.portal_url, email, password), self.branch_opened.emit, ask)

    # -- switching branch (SA-1) -----------------------------------------------------------

    def switch_branch(self, branch: Branch) -> None:
        """Find customer for `branch`, as the header's branch menu picks it (see BranchSwitch)."""
        if self.branch_switch is not None:
            self.branch_switch.switch(branch)

    def _busy_with_a_customer(self) -> bool:
        """An assist open or opening, or its reason being asked: this window stays (replaced, it
        took the assist window and the reason typed with it)."""
        return self.assist_window is not None or self._opening or self.reason_dialog is not None

    def _may_switch_branch(self) -> bool:
        if self._busy_with_a_customer():
            self.status_label.setText("Finish with this customer first, then switch branch.")
            return False
        if self.reauth_dialog is not None:  # the calls it will run again belong to this branch
            self.status_label.setText("Sign in again first, then switch branch.")
            return False
        return True

    def _enter_branch(self, session: PortalSession, remember: bool) -> None:
        """The picked branch is signed in; its Find customer replaces this one (the shell logs this
        branch's session out). A customer's portal opened while it signed in, or a sign-in-again prompt
        (its calls belong to this branch, and replaced it would vanish under the user's typing), keeps
        this branch: the new session is logged out again instead."""
        if self._busy_with_a_customer() or self.reauth_dialog is not None:
            assert self.branch_switch is not None
            self.branch_switch.drop(session)
            why = "a customer's portal was open" if self.reauth_dialog is None else "this branch asked to sign in again"
            self.status_label.setText(f"{session.config.branch.name} was not opened: {why}. Switch branch again.")
            return
        self.remember_password = remember
        self.branch_switched.emit(session)

    def _stay_on_branch(self) -> None:
        self.status_label.setText(f"Still in {self.session.config.branch.name}.")

    # -- sign-out ----------------------------------------------------------------------

    def sign_out(self) -> None:
        """Signing staff out also ends every assist session they opened (server side, SA-4). The
        token is forgotten on this computer at once; a portal that hangs is waited for only
        `session_end.SIGN_OUT_WAIT_MS`, with "Signing out…" on screen, instead of the client's 20 s timeout."""
        if self.branch_switch is not None:
            self.branch_switch.cancel()
        self.sign_out_button.setText("Signing out…")
        self.status_label.setText("Signing out…")
        self.setEnabled(False)
        sign_out_then_leave(self, self.runner, self.accounts, self.session, self.signed_out.emit)

    def show_keyring_problem(self, sentence: str) -> None:
        """What the keyring could not do: the staff member stays signed in for this run. In the status
        bar, where the search's own messages (which replace the status line's) leave it be."""
        self.statusBar().showMessage(sentence, KEYRING_PROBLEM_MS)

    def save_layout(self) -> None:
        self.settings.set_find_window_geometry(self.saveGeometry())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.branch_switch is not None:
            self.branch_switch.cancel()
        self._search_timer.stop()
        self.save_layout()
        super().closeEvent(event)
