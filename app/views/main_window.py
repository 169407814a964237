"""The signed-in window: header (branch switcher, busy indicator, profile menu), property
sidebar with the balance, and the four list tabs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEventLoop, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.models.assist_idle import AssistIdleClock, idle_sentence
from app.models.branch_day import BranchDay
from app.models.lists import InvoicesModel, ProposalsModel, RequestsModel, VisitsModel
from app.models.paged_table import PagedTableModel
from app.models.properties import PropertiesModel
from app.services.accounts import Accounts
from app.services.connection import PROBE_DELAYS, ConnectionMonitor, version_probe
from app.services.errors import PortalError
from app.services.feeds import SizedPageFetcher
from app.services.property_filter import PropertyFilter
from app.services.records import Assist, Balance, Branch, ProposalSummary
from app.services.session import PortalSession
from app.services.tasks import SLOW_AFTER_S, TaskRunner
from app.views.assist_titles import CustomerTitles
from app.views.branch_switch import BranchSwitch, set_header_text
from app.views.connection_banner import ConnectionBanner
from app.views.empty_state import EmptyState
from app.views.icon_label import IconLabel
from app.views.invoice_actions import InvoiceActions
from app.views.item_windows import (
    ItemWindows,
    close_opened_windows,
    fit_to_screen,
    present,
    window_waiting_for_portal,
)
from app.views.list_tab import ListTab, ShowOption, TabSpec
from app.views.pdf_viewer import preload_pdf_engine
from app.views.property_sidebar import FIND_PROPERTY_KEYS, PropertySidebar
from app.views.requests_tab import RequestsTab
from app.views.session_end import (
    ASK_AN_ADMINISTRATOR,
    KEYRING_PROBLEM_MS,
    access_removed,
    ask_to_sign_in_again,
    refusal_of,
    sign_out_then_leave,
)
from app.views.sign_in_dialog import SignInDialog
from app.views.theme import SCHEME_CHOICES, SchemeChoice, apply_theme, icon, named, scheme_choice
from app.views.visits_tab import VisitsTab
from app.views.work_screens import WorkScreens, ask_discard_drafts

if TYPE_CHECKING:
    from app.views.account_dialogs import AboutDialog
    from app.views.proposal_detail import ProposalWindow

# The PDF render child starts once no request has been in flight for this long (the user is
# reading), or when a document's detail opens: spawning it and its 0.2-0.4 s of loading PyMuPDF
# compete with repopulating lists for the CPU, which showed as stalls of the user's first clicks.
PDF_ENGINE_IDLE_MS = 1000

# The properties pane's first width: its longest names and role chips fit, and at 1280 px the lists
# keep "Cedar Ridge Clubhouse" whole beside an invoice's dates and amounts (at 316 it was cut).
SIDEBAR_WIDTH = 306
# Narrow windows (a 1366 x 768 laptop at 125 % offers about 1093 x 614, less the title bar; 1280 x 720
# at 125 % less) keep the lists' room: the sidebar starts narrower there and may be dragged to this.
SIDEBAR_MIN_WIDTH = 230
# Below this the lists are too cramped to use; it fits those screens with the title bar and taskbar,
# and the window's parts' own minimums add up to less, in every state (test_platform_fit).
MINIMUM_SIZE = QSize(960, 540)
# Property changes that come while the lists still load for the last one are gathered into one
# reload this long after the last of them (ten quick clicks sent some fifty requests).
RELOAD_COALESCE_MS = 300

TAB_SPECS = (
    TabSpec(
        "proposals",
        "Proposals",
        "proposals",
        (
            ShowOption(
                "all", "All", "No proposals yet", "Proposals appear here once your service company shares them."
            ),
            ShowOption(
                "pending", "Pending", "Nothing waiting for you", "No proposal for these properties awaits a signature."
            ),
            ShowOption(
                "accepted", "Accepted", "No accepted proposals", "Proposals you sign or approve are listed here."
            ),
            ShowOption("rejected", "Rejected", "No rejected proposals", "Declined proposals would be listed here."),
        ),
        "title",
    ),
    TabSpec(
        "visits",
        "Visits",
        "visits",
        (
            ShowOption(
                "upcoming",
                "Upcoming",
                "No visits in the next 30 days",
                "Scheduled visits for the next 30 days show here.",
            ),
            ShowOption(
                "completed",
                "Completed",
                "No visits in the last 30 days",
                "Visits completed in the past 30 days show here.",
            ),
        ),
        "services",
    ),
    TabSpec(
        "invoices",
        "Invoices",
        "invoices",
        (
            ShowOption("all", "All", "No invoices yet", "Invoices appear here once your service company shares them."),
            ShowOption("due", "Due", "You are all paid up", "No invoice for these properties has a balance due."),
            ShowOption("paid", "Paid", "No paid invoices", "Invoices you have paid in full are listed here."),
        ),
        "services",
    ),
    TabSpec("requests", "Requests", "requests", (), "subject"),
)
TAB_CLASSES: dict[str, type[ListTab]] = {"visits": VisitsTab, "requests": RequestsTab}
NO_PROPERTY = ("No property selected", "Choose one or more properties on the left to see their {noun}.")


def _let_events_through() -> None:
    """Runs what is due on the GUI thread (timers, paints of other windows, answers that
    arrived) between the window's construction steps: built in one go it held the GUI thread for
    50-60 ms of CPU, 150-200 ms on a loaded machine. Not user input: nothing may reach a
    half-built window, and no request is sent before `set_session` at the end."""
    QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)


def sidebar_width(window_width: int) -> int:
    """The sidebar's width in a window of `window_width` until the user drags it: SIDEBAR_WIDTH at
    1280 px and wider; narrower windows take a quarter of the difference from it, so the lists
    keep most of their room and property names stay mostly whole."""
    return max(SIDEBAR_MIN_WIDTH, SIDEBAR_WIDTH - max(0, 1280 - window_width) // 4)


class BannerLabel(QLabel):
    """A word-wrapping label beside buttons, as tall as its text at its width: Qt measured it at
    another width, and in a narrow window the banner's third line (with the idle warning and four
    buttons beside it) was cut off top and bottom."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        # Measured by the font, and fixed: QLabel.heightForWidth answered five lines for three under
        # the style sheet's font, and the layout otherwise gave it its size hint's height, measured
        # at yet another width (bands of empty orange above and below the text).
        margins = self.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        if width <= 0:
            return
        text = self.fontMetrics().boundingRect(0, 0, width, 10000, Qt.TextFlag.TextWordWrap, self.text())
        needed = text.height() + margins.top() + margins.bottom()
        if needed != self.minimumHeight() or needed != self.maximumHeight():
            self.setFixedHeight(needed)


class MainWindow(QMainWindow):
    # Tests replace this to answer the question.
    confirm_discard_drafts: Callable[[QWidget, list[str], str], bool] = staticmethod(ask_discard_drafts)
    signed_out = Signal(str)  # "" or what the sign-in screen should say (the keyring could not forget)
    assist_ended = Signal(str)  # why, for the Find customer screen
    reopen_assist_requested = Signal()  # the portal ended the assist: a new one for this window, please

    def __init__(
        self,
        session: PortalSession,
        accounts: Accounts,
        *,
        remember_password: bool = False,
        probe_delays: Sequence[float] = PROBE_DELAYS,
        slow_after: float = SLOW_AFTER_S,
    ) -> None:
        super().__init__()
        self.session = session
        self.accounts = accounts
        self.remember_password = remember_password
        self.runner = TaskRunner(self, slow_after=slow_after)
        self.runner.set_unauthorized_handler(self._session_expired)
        self.monitor = ConnectionMonitor(
            version_probe(lambda: self.session.portal_url), delays=probe_delays, parent=self
        )
        self.runner.unreachable.connect(self.monitor.lost)
        self.runner.answered.connect(self.monitor.answered)
        self.runner.slow_changed.connect(self.monitor.set_slow)
        self._pdf_engine_timer = QTimer(self, singleShot=True, interval=PDF_ENGINE_IDLE_MS)
        self._pdf_engine_timer.timeout.connect(self._preload_pdf_engine)
        self.runner.busy_changed.connect(self._pdf_engine_timer_busy)
        self.monitor.restored.connect(self._connection_restored)
        self.reauth_dialog: SignInDialog | None = None
        self.audit_dialog: QWidget | None = None
        self._pending_retries: list[tuple[Callable[[], None], Callable[[], None]]] = []
        self._balance_generation = 0
        self._balance_loading = False
        self._reload_pending = False
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_COALESCE_MS)
        self._reload_timer.timeout.connect(self._reload_gathered)
        # The property filter the balance on screen was loaded for, and when (for "as of").
        self._balance_query: Hashable | None = None
        self._balance_loaded_at: datetime | None = None
        self.setWindowTitle("Portal Desk")
        self.setWindowIcon(icon("app"))
        self.setMinimumSize(MINIMUM_SIZE)
        self._sidebar_by_user = False  # see _restore_layout

        # Built top-down: each container is in the window before its children are made, so the
        # app's style sheet resolves every widget about once. Built bottom-up (children first,
        # then each finished subtree added to the next), every reparenting restyled the whole
        # subtree again: two thirds of the window's 150-200 ms of construction on the GUI thread.
        central = QWidget(self)
        self.setCentralWidget(central)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_header())
        layout.addWidget(self._build_assist_banner())
        self.banner = ConnectionBanner(self.monitor, session.portal_url, session.config.branch.name)
        self.banner.retry_requested.connect(self.retry_connection)
        layout.addWidget(self.banner)
        self.splitter = splitter = QSplitter(central)
        layout.addWidget(splitter, 1)
        # In place of the customer's lists and balance while their assist is ended (SA-4).
        self.assist_ended_state = EmptyState(parent=central)
        self.assist_ended_state.hide()
        layout.addWidget(self.assist_ended_state, 1)

        self.properties_model = PropertiesModel(self)
        self.proposal_windows: ItemWindows[ProposalWindow] = ItemWindows()
        _let_events_through()
        self.sidebar = PropertySidebar(self.properties_model, splitter)
        self.sidebar.setMinimumWidth(SIDEBAR_MIN_WIDTH)
        self.sidebar.setMaximumWidth(440)
        splitter.addWidget(self.sidebar)
        currency = session.config.currency
        self.branch_day = BranchDay(session.config.branch.time_zone, parent=self)  # "today" is the branch's
        models: dict[str, PagedTableModel] = {
            "proposals": ProposalsModel(currency, self),
            "visits": VisitsModel(self.branch_day, self),
            "invoices": InvoicesModel(currency, self.branch_day, self),
            "requests": RequestsModel(self.branch_day, self),
        }
        self.tab_widget = QTabWidget(splitter)
        self.tab_widget.setDocumentMode(True)
        self.tab_widget.setAccessibleName("Lists")
        self.tab_widget.tabBar().setAccessibleName("Lists")
        splitter.addWidget(self.tab_widget)
        self.tabs: dict[str, ListTab] = {}
        # Each tab is made inside the tab widget's own page stack, where addTab puts it anyway:
        # made anywhere else, the move restyles the whole tab a second time.
        tab_pages = self.tab_widget.findChild(QStackedWidget, "qt_tabwidget_stackedwidget") or self.tab_widget
        for spec in TAB_SPECS:
            _let_events_through()
            tab = TAB_CLASSES.get(spec.key, ListTab)(spec, models[spec.key], self.runner, tab_pages)
            tab.filter_changed.connect(lambda key=spec.key: self.load_tab(key))
            tab.item_activated.connect(lambda record, key=spec.key: self.open_item(key, record))
            self.tabs[spec.key] = tab
            self.tab_widget.addTab(tab, spec.title)
        self.work_screens = WorkScreens(self)  # visit and request windows (issue 6)

        splitter.setStretchFactor(1, 1)
        splitter.setSizes([SIDEBAR_WIDTH, 1280 - SIDEBAR_WIDTH])
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(1)
        splitter.setAccessibleName("Properties and lists")

        self.status_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().setSizeGripEnabled(False)

        self._setting_session = False
        # Set once the staff member ends the assist: the window may then close for good.
        self._assist_over = False
        # Why the portal ended the assist (its sentence, or why opening it again failed), while the
        # window stays with everything open in it until it is opened again or ended; None while on.
        self._assist_ended_why: str | None = None
        self._reopening = False
        # The staff member was taken off the branch (401 branch_access_removed): no Open again.
        self._access_removed = False
        self.assist_prompt: QMessageBox | None = None
        self.end_prompt: QMessageBox | None = None  # "End the assist for …?" (Ctrl+W, the close box)
        # The portal's idle rule, kept here too: an idle assist stops looking active (SA-4).
        self.idle_clock = AssistIdleClock(self)
        self.idle_clock.warning.connect(self._idle_warning)
        self.idle_clock.expired.connect(self._idle_expired)
        self.runner.answered.connect(self._portal_answered)
        self._idle_warned = False
        self._ended_by_clock = False
        self.customer_titles: CustomerTitles | None = None  # during an assist only
        self.about_dialog: AboutDialog | None = None
        self.properties_model.selection_changed.connect(self._selection_changed)
        self.branch_day.changed.connect(self._branch_day_turned)
        self.runner.busy_changed.connect(self.busy_bar.setVisible)
        self.invoice_actions = InvoiceActions(
            self,
            self.runner,
            lambda: self.session,
            self.tabs["invoices"],
            paid=self.reload_all,
            open_proposal=self.open_proposal,
            notify=lambda text: self.statusBar().showMessage(text, 8000),
        )
        self.manage_payments_action.triggered.connect(self.invoice_actions.manage_payments)
        self._install_shortcuts()
        self._restore_layout()
        _let_events_through()
        self.set_session(session)
        # Keyboard users start in the current list's search box, not on the first header button
        # (the table itself is hidden behind "Loading…" until its first page arrives).
        self.current_tab().search_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- construction ----------------------------------------------------------------

    def _build_header(self) -> QWidget:
        bar = named(QFrame(), "HeaderBar")
        logo = IconLabel("app", 28)
        title = named(QLabel("Portal Desk"), "AppTitle")
        self.branch_switch = BranchSwitch(
            self,
            self.runner,
            self.accounts,
            session=lambda: self.session,
            remember=lambda: self.remember_password,
            enter=self._enter_branch,
            stay=self._show_who,
            say=lambda text: self.status_label.setText(text),  # made after the header
            may_switch=lambda: not self._waiting_for_portal(),
        )
        self.branch_button, self.branch_menu = self.branch_switch.button, self.branch_switch.menu
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedWidth(110)
        self.busy_bar.setAccessibleName("Loading")
        self.busy_bar.hide()
        self.profile_button = QToolButton()
        self.profile_button.setAccessibleDescription("Change password, about, sign out")
        self.profile_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.profile_menu = QMenu(self.profile_button)
        self.profile_button.setMenu(self.profile_menu)
        self.manage_payments_action = QAction("Manage payments…", self)
        self.change_password_action = QAction("Change password…", self)
        self.about_action = QAction("About Portal Desk…", self)
        self.sign_out_action = QAction("Sign out", self)
        self.sign_out_action.setMenuRole(QAction.MenuRole.NoRole)
        self.change_password_action.triggered.connect(self.change_password)
        self.about_action.triggered.connect(self.show_about)
        self.sign_out_action.triggered.connect(self.sign_out)
        self.appearance_menu = self._build_appearance_menu()

        layout = QHBoxLayout(bar)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(10)
        layout.addWidget(logo)
        layout.addWidget(title)
        divider = named(QLabel("|"), "HeaderDivider")
        layout.addWidget(divider)
        layout.addWidget(self.branch_button)
        layout.addStretch()
        layout.addWidget(self.busy_bar)
        layout.addSpacing(8)
        layout.addWidget(self.profile_button)
        return bar

    def _build_appearance_menu(self) -> QMenu:
        """System / Light / Dark: office PCs often run a light desktop while staff prefer a dark app,
        or the reverse. The choice is kept in the settings and applies to every window at once."""
        menu = QMenu("Appearance", self.profile_menu)
        group = QActionGroup(menu)
        group.setExclusive(True)
        self.appearance_actions: dict[SchemeChoice, QAction] = {}
        for choice, label in SCHEME_CHOICES:
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(choice == scheme_choice())
            action.triggered.connect(lambda _=False, c=choice: self.set_appearance(c))
            group.addAction(action)
            self.appearance_actions[choice] = action
        menu.menuAction().setMenuRole(QAction.MenuRole.NoRole)
        return menu

    def set_appearance(self, choice: SchemeChoice) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, choice)
        self.appearance_actions[choice].setChecked(True)
        self.accounts.settings.set_appearance(choice)
        self.accounts.settings.sync()

    def _build_assist_banner(self) -> QWidget:
        """Shown on every tab while staff act for a customer (SA-2): impossible to overlook."""
        banner = named(QFrame(), "AssistBanner")  # its colours: style.qss, assist_* of the palette
        self.assist_label = BannerLabel("")
        self.assist_label.setWordWrap(True)
        self.assist_activity_button = QPushButton("Activity")
        self.assist_activity_button.setToolTip("What staff did for this customer")
        self.open_again_button = QPushButton("Open again")
        self.open_again_button.setToolTip("Open a new assist session for this customer, with the same reason")
        self.open_again_button.hide()
        self.keep_open_button = QPushButton("Keep open")
        self.keep_open_button.setToolTip("The portal ends an assist left without activity; this counts as activity")
        self.keep_open_button.hide()
        self.keep_open_button.clicked.connect(self.keep_assist_open)
        self.end_assist_button = QPushButton("End assist")
        # Find customer is hidden behind the assist: a caller asking about someone else needed
        # End assist first, a step nobody found.
        self.find_another_button = QPushButton("Find another customer")
        self.find_another_button.setToolTip("End this assist and search for another customer")
        self.find_another_button.clicked.connect(lambda: self.end_assist("Find another customer"))
        self.assist_activity_button.clicked.connect(self.show_assist_activity)
        self.open_again_button.clicked.connect(self.reopen_assist)
        self.end_assist_button.clicked.connect(lambda: self.end_assist())
        layout = QHBoxLayout(banner)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.addWidget(self.assist_label, 1)
        layout.addWidget(self.assist_activity_button)
        layout.addWidget(self.open_again_button)
        layout.addWidget(self.keep_open_button)
        layout.addWidget(self.find_another_button)
        layout.addWidget(self.end_assist_button)
        banner.hide()
        self.assist_banner = banner
        return banner

    def _install_shortcuts(self) -> None:
        """The platform's own keys (QKeySequence standard keys: F5 or Ctrl+R / Cmd+R, Ctrl+F /
        Cmd+F, Ctrl+W / Cmd+W, Ctrl+Q / Cmd+Q) where the platform has one; Ctrl+1..4 become
        Cmd+1..4 on macOS by Qt's own mapping, as Ctrl+Shift+F (the property search) does."""
        for number in range(1, 5):
            QShortcut(QKeySequence(f"Ctrl+{number}"), self, lambda n=number: self.show_tab_number(n))
        keys = QKeySequence.StandardKey
        self.refresh_action = self._window_action("Refresh", keys.Refresh, self.refresh)
        self.find_action = self._window_action("Find…", keys.Find, self.focus_search)
        self.find_property_action = QAction("Find a property…", self)
        self.find_property_action.setShortcut(FIND_PROPERTY_KEYS)
        self.find_property_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.find_property_action.triggered.connect(lambda _=False: self.sidebar.focus_search())
        self.addAction(self.find_property_action)
        self.close_action = self._window_action("Close window", keys.Close, self.close_window)
        # Windows has no standard Quit key (Alt+F4 closes the window, which quits).
        self.quit_action = self._window_action("Quit Portal Desk", keys.Quit, QApplication.quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.profile_menu_tail = [self.refresh_action, self.quit_action]
        if sys.platform == "darwin":
            self._build_mac_menu_bar()

    def _window_action(self, text: str, key: QKeySequence.StandardKey, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcuts(key)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_mac_menu_bar(self) -> None:
        """macOS shows the menu bar at the top of the screen, where Quit, About and the window
        commands are expected; Qt moves Quit and About into the application menu by their roles."""
        bar = self.menuBar()
        file_menu = bar.addMenu("File")
        file_menu.addActions([self.close_action, self.quit_action])
        view_menu = bar.addMenu("View")
        view_menu.addActions([self.refresh_action, self.find_action, self.find_property_action])
        view_menu.addSeparator()
        view_menu.addMenu(self.appearance_menu)
        account_menu = bar.addMenu("Account")
        account_menu.addActions([self.change_password_action, self.sign_out_action])
        bar.addMenu("Help").addAction(self.about_action)

    # -- session ---------------------------------------------------------------------

    def set_session(self, session: PortalSession) -> None:
        """Shows `session` (first sign-in or another branch) and loads everything for it."""
        if session is not self.session:
            self.session.client.close()
        self.session = session
        config = session.config
        self.setWindowTitle(f"{config.branch.name} — Portal Desk")
        assisting = session.assisting
        self.assist_banner.setVisible(assisting is not None)
        self.change_password_action.setVisible(assisting is None)  # only the customer sets their password
        self.sign_out_action.setText("End assist" if assisting else "Sign out")
        if assisting is not None:
            self._show_assist_state()
            self.setWindowTitle(f"{assisting.banner()} — Portal Desk")
            self.runner.set_unauthorized_handler(self._assist_expired)
            self.idle_clock.follow(assisting.idle_seconds)
            self.idle_clock.touch()
            if self.customer_titles is None:
                self.customer_titles = CustomerTitles(self, self._assisted_name)
        self.branch_switch.show_branches(session)
        set_header_text(self.profile_button, session.user.name, "", True)
        self.profile_button.setAccessibleName(f"Account: {session.user.name}")
        self.profile_menu.clear()
        who = self.profile_menu.addAction(f"{session.user.name}\n{session.email}")
        who.setEnabled(False)
        self.profile_menu.addSeparator()
        self.profile_menu.addActions([self.manage_payments_action, self.change_password_action])
        if sys.platform != "darwin":  # there it is in the View menu of the menu bar
            self.profile_menu.addMenu(self.appearance_menu)
        self.profile_menu.addAction(self.about_action)
        self.profile_menu.addSeparator()
        self.profile_menu.addAction(self.sign_out_action)
        if sys.platform != "darwin":
            self.profile_menu.addSeparator()
            self.profile_menu.addActions(self.profile_menu_tail)
        for key in ("proposals", "invoices"):
            model = self.tabs[key].model
            assert isinstance(model, ProposalsModel | InvoicesModel)
            model.currency = config.currency
        requests_index = self.tab_widget.indexOf(self.tabs["requests"])
        self.tab_widget.setTabVisible(requests_index, config.requests_enabled)  # RQ-5
        self._show_who()
        self.banner.set_portal(session.portal_url, config.branch.name)
        self.sidebar.search_edit.clear()
        self._setting_session = True  # one reload below, not a second one for the new selection or day
        try:
            self.branch_day.time_zone = config.branch.time_zone
            self.properties_model.set_properties(session.properties)
        finally:
            self._setting_session = False
        self.reload_all()

    def _pdf_engine_timer_busy(self, busy: bool) -> None:
        if busy:
            self._pdf_engine_timer.stop()
        else:
            self._pdf_engine_timer.start()

    def _preload_pdf_engine(self) -> None:
        self.runner.busy_changed.disconnect(self._pdf_engine_timer_busy)
        preload_pdf_engine()

    def _visible_tab_keys(self) -> list[str]:
        return [key for key, tab in self.tabs.items() if self.tab_widget.isTabVisible(self.tab_widget.indexOf(tab))]

    def _branch_day_turned(self) -> None:
        """Upcoming visits are a window of the branch's days, as the server counts them: at the
        branch's midnight yesterday's visits leave it and a new day's come in, so the list is asked
        again (its wording has already turned). A new session reloads everything by itself."""
        if not self._setting_session:
            self.load_tab("visits")

    def _selection_changed(self) -> None:
        """A click on a property (or All / None) applies at once when the lists have their answers
        for the last one: the requests go out before the sidebar even repaints (no delay: the bench
        holds a filter change to 150 ms). One that comes while they still load would only make
        those answers stale: it and any others within RELOAD_COALESCE_MS of each other are
        gathered into one reload once the clicking pauses."""
        if self._setting_session:
            return
        if not self._lists_loading():
            self.reload_all()
            return
        self._reload_pending = True
        self.sidebar.show_balance_loading()
        self._reload_timer.start()  # restarted by each further change: one reload after the last

    def _lists_loading(self) -> bool:
        """The balance or a shown list still waits for its answer to the last reload."""
        tabs = (self.tabs[key] for key in self._visible_tab_keys())
        return self._balance_loading or any(tab.feed.loading for tab in tabs)

    def _reload_gathered(self) -> None:
        if self._reload_pending:
            self.reload_all()

    def reload_all(self) -> None:
        self._reload_pending = False  # this reload is for the properties checked now
        self.load_balance()
        for key in self._visible_tab_keys():
            self.load_tab(key)

    def _property_filter(self) -> PropertyFilter | None:
        model = self.properties_model
        return PropertyFilter.choosing(model.selected_ids(), [p.id for p in model.properties])

    def load_balance(self) -> None:
        self._balance_generation += 1
        generation = self._balance_generation
        if not self.properties_model.selected_ids():
            self._balance_loading = False
            self.sidebar.show_no_selection()
            return
        client, properties, currency = self.session.client, self._property_filter(), self.session.config.currency
        query = (self.session.portal_url, properties)

        def shown(balance: Balance) -> None:
            if generation == self._balance_generation:
                self._balance_loading = False
                self._balance_query, self._balance_loaded_at = query, datetime.now()
                self.sidebar.show_balance(balance, currency)

        def failed(error: Exception) -> None:
            if generation != self._balance_generation:
                return
            self._balance_loading = False
            reason = error.detail if isinstance(error, PortalError) else "Not available."
            if query == self._balance_query and self._balance_loaded_at is not None:
                self.sidebar.mark_balance_stale(self._balance_loaded_at, reason)
            else:
                self._balance_query = None
                self.sidebar.show_balance_error(reason)

        self.sidebar.show_balance_loading()
        self._balance_loading = True
        self.runner.run(lambda: client.balance(properties), shown, failed)

    def load_tab(self, key: str) -> None:
        tab = self.tabs[key]
        if not self.properties_model.selected_ids():
            title, message = NO_PROPERTY
            if self.properties_model.rowCount() == 0:
                title, message = "No properties on this branch", "Your account has no properties on this portal yet."
            tab.show_reason(title, message.format(noun=tab.spec.noun))
            return
        properties = self._property_filter()
        # The visits' day window belongs to the query: a "Show older" that fails must not keep the
        # 30 days' rows as if they were the wider window's (their label says the new range).
        days = tab.completed_days() if isinstance(tab, VisitsTab) else None
        query = (self.session.portal_url, tab.filter_value, properties, days)
        fetch = self._fetcher(key, tab.filter_value)
        tab.load(lambda cursor: fetch(cursor, None), query, fetch)

    def _fetcher(self, key: str, show: str) -> SizedPageFetcher:
        client, properties = self.session.client, self._property_filter()
        if key == "proposals":
            return lambda cursor, limit: client.proposals(show, properties, cursor, limit)
        if key == "visits":
            visits_tab = self.tabs["visits"]
            days = visits_tab.completed_days() if isinstance(visits_tab, VisitsTab) else None
            return lambda cursor, limit: client.visits(show, properties, cursor, limit, days=days)
        if key == "invoices":
            return lambda cursor, limit: client.invoices(show, properties, cursor, limit)
        return lambda cursor, limit: client.requests(properties, cursor, limit)

    # -- commands --------------------------------------------------------------------

    def open_item(self, key: str, record: object) -> None:
        """Opens an item's detail; each feature adds its own kind here."""
        if key == "proposals" and isinstance(record, ProposalSummary):
            self.open_proposal(record.id)

    def open_proposal(self, proposal_id: int) -> ProposalWindow:
        from app.views.proposal_detail import ProposalWindow

        opened = self.proposal_windows.get(proposal_id)
        if opened is not None:
            present(opened)
            return opened
        preload_pdf_engine()  # "View PDF" is likely next; the detail's request gives it a head start
        window = ProposalWindow(self.session, self.runner, proposal_id, self)
        window.signed.connect(lambda _: self.load_tab("proposals"))
        window.changed.connect(lambda _: self.load_tab("proposals"))
        window.proposal_requested.connect(self.open_proposal)
        self.proposal_windows.add(proposal_id, window)
        window.show()
        return window

    def show_tab_number(self, number: int) -> None:
        keys = self._visible_tab_keys()
        if 1 <= number <= len(keys):
            self.tab_widget.setCurrentWidget(self.tabs[keys[number - 1]])

    def current_tab(self) -> ListTab:
        widget = self.tab_widget.currentWidget()
        assert isinstance(widget, ListTab)
        return widget

    def refresh(self) -> None:
        self.reload_all()

    def retry_connection(self) -> None:
        """The banner's Retry: probe at once when offline; when merely slow, ask again."""
        if self.monitor.offline:
            self.monitor.retry_now()
        else:
            self.refresh()

    def _connection_restored(self) -> None:
        self.statusBar().showMessage("Connected to the portal again; the lists were refreshed.", 6000)
        self.reload_all()
        self.invoice_actions.connection_restored()

    def focus_search(self) -> None:
        self.current_tab().focus_search()

    def change_password(self) -> None:
        from app.views.account_dialogs import ChangePasswordDialog

        dialog = ChangePasswordDialog(self.session, self.runner, self)
        accepted, new_password = dialog.exec(), dialog.new_password
        dialog.deleteLater()  # a child of this window: kept, every change would leave one behind
        if accepted and new_password:
            self.session.password = new_password
            self.statusBar().showMessage("Your password was changed.", 6000)
            self._keep_sign_in(self.session, self.remember_password)

    def show_about(self) -> None:
        """One About window: chosen again while it is open (the macOS application menu stays
        usable), it is brought forward. Window-modal and deleted on close, so none is left behind."""
        from app.views.account_dialogs import AboutDialog

        if self.about_dialog is not None and shiboken6.isValid(self.about_dialog) and self.about_dialog.isVisible():
            present(self.about_dialog)
            return
        self.about_dialog = AboutDialog(self.session, self.runner, self)
        self.about_dialog.open()

    def sign_out(self) -> None:
        """Revokes the token on the server, then forgets it here even if the server is gone. During an
        assist it ends the assist, which first gives up calls held since the portal ended it (they
        wait for Open again, not for the portal) and then checks what the portal still has to answer."""
        if self.session.assisting is not None:
            self.end_assist()
            return
        if self._waiting_for_portal("Sign out"):
            return
        if not self.drafts_may_go("Sign out"):
            return
        self.branch_switch.cancel()
        self.setEnabled(False)
        self.statusBar().showMessage("Signing out…")
        sign_out_then_leave(self, self.runner, self.accounts, self.session, self.signed_out.emit)

    # -- staff assistance (SA-2, SA-3, SA-4) ---------------------------------------------

    def end_assist(self, action: str = "End assist") -> None:
        """Ends the assist session on the server (audited) and hands back to the Find customer screen.
        Calls held since the portal ended it fail first (a signature being sent becomes a drawn one
        again), so the drafts question that follows names everything that would be lost; a call the
        portal still has to answer (a payment) keeps the assist until it is answered."""
        if self._assist_over or self._reopening:
            return
        self._close_assist_prompt()
        self._give_up_pending()
        if self._waiting_for_portal(action):
            return
        if not self.drafts_may_go(action):
            return
        self._assist_over = True
        self.idle_clock.stop()
        client, why = self.session.client, self._assist_ended_why or ""
        self.setEnabled(False)
        self.runner.set_unauthorized_handler(None)

        def finished(_: object) -> None:
            self.assist_ended.emit(why)

        self.runner.run(client.logout, finished, finished)

    def _give_up_pending(self) -> None:
        """The calls held for an assist opened again fail now, each saying so in its window."""
        pending, self._pending_retries = self._pending_retries, []
        for _, give_up in pending:
            give_up()

    def _assist_expired(self, retry: Callable[[], None], give_up: Callable[[], None], error: PortalError) -> None:
        """An assist has no password to re-enter, and its end (30 idle minutes, or the staff member's
        own session ended and took it along: SA-4) must cost nothing typed or drawn here. So the
        window stays as it is, every call refused is held (as signing in again holds them), and the
        staff member is asked, over the window, to open the assist again, which replays them, or end
        it, which asks about the drafts as closing does."""
        if self._assist_over:
            give_up()
            return
        refusal = refusal_of(error, self.session)
        if refusal != "current":
            (retry if refusal == "replaced" else give_up)()
            return
        self._pending_retries.append((retry, give_up))
        self.idle_clock.stop()
        if self._reopening:
            return  # replayed with the new token
        if access_removed(error):
            if self._access_removed and self.assist_prompt is not None:
                return
            self.access_was_removed(error.detail)
            return
        if self.assist_prompt is not None:
            return  # already being asked
        if self._assist_ended_why is None:
            self._assist_ended_why = error.detail
            self._show_assist_state()
        # Asked again for what is tried after "Not now": a reply sent then would wait unexplained.
        self._ask_to_reopen_assist()

    def access_was_removed(self, sentence: str) -> None:
        """The staff member was taken off the branch: opening the assist again (or signing in) can
        only be refused, so neither is offered; what is left is ending it, after the drafts question."""
        self._reopening = False
        self._access_removed = True
        self._assist_ended_why = f"{sentence} {ASK_AN_ADMINISTRATOR}"
        self._show_assist_state()
        self._ask_to_reopen_assist()

    def _ask_to_reopen_assist(self) -> None:
        """Window-modal, as the sign-in-again prompt: a New request form or a sign window open over
        the window would otherwise keep the banner's buttons out of reach."""
        self._close_assist_prompt()
        box = QMessageBox(QMessageBox.Icon.Information, "Assist ended", self._assist_ended_why or "", parent=self)
        if self._access_removed:
            box.setInformativeText("Nothing you typed or drew here is lost until you end the assist.")
        else:
            box.setInformativeText(
                "Nothing you typed or drew here is lost. Open the portal again to carry on where you left off "
                "(what was being sent is sent then), or end the assist."
            )
        default = box.addButton("End assist", QMessageBox.ButtonRole.DestructiveRole)
        if not self._access_removed:
            default = box.addButton("Open again", QMessageBox.ButtonRole.AcceptRole)
        later = box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(default)
        box.setEscapeButton(later)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _: self._assist_prompt_answered(box))
        self.assist_prompt = box
        box.open()

    def _assist_prompt_answered(self, box: QMessageBox) -> None:
        if self.assist_prompt is not box:
            return  # closed by the window itself (opened again, ended)
        self.assist_prompt = None
        box.deleteLater()
        role = box.buttonRole(box.clickedButton()) if box.clickedButton() is not None else None
        if role == QMessageBox.ButtonRole.AcceptRole:
            self.reopen_assist()
        elif role == QMessageBox.ButtonRole.DestructiveRole:
            self.end_assist()
        # "Not now": the banner keeps Open again and End assist.

    def _close_assist_prompt(self) -> None:
        box, self.assist_prompt = self.assist_prompt, None
        if box is not None:
            box.close()
            box.deleteLater()

    def reopen_assist(self) -> None:
        """Opens a new assist session for the same customer and reason (the shell asks Find
        customer, whose staff session it needs); this window keeps everything open in it."""
        if self._assist_ended_why is None or self._reopening or self._assist_over or self._access_removed:
            return
        self._close_assist_prompt()
        self._reopening = True
        self._show_assist_state()
        self.reopen_assist_requested.emit()

    def assist_reopened(self, ticket: Assist) -> None:
        """The new assist token replaces the refused one in this window's client (as signing in
        again replaces a token), and the calls held since are sent with it."""
        assisting = self.session.assisting
        if assisting is None:
            return
        self._reopening = False
        self._assist_ended_why = None
        self.session.client.use_token(ticket.token)
        self.session.assisting = replace(assisting, contact=ticket.contact, idle_seconds=ticket.idle_seconds)
        self.idle_clock.follow(ticket.idle_seconds)
        self.idle_clock.touch()
        self._show_assist_state()
        if self._ended_by_clock:  # nothing was refused meanwhile to load again: the figures are old
            self._ended_by_clock = False
            self.reload_all()
        self.statusBar().showMessage(
            f"{ticket.contact.name}'s portal is open again: carry on where you left off.", 8000
        )
        pending, self._pending_retries = self._pending_retries, []
        for retry, _ in pending:
            retry()

    def assist_reopen_failed(self, sentence: str, gone: bool, removed: bool) -> None:
        """The banner and the prompt say why, for another try; a customer the portal no longer
        shows (`gone`) cannot be opened again, so ending is what is left: the drafts are asked
        about as closing asks, and Keep editing stays here with them. A staff member taken off the
        branch (`removed`) is told so and offered only the end."""
        if self.session.assisting is None:
            return
        if removed:
            self.access_was_removed(sentence)
            return
        self._reopening = False
        self._assist_ended_why = sentence
        self._show_assist_state()
        if gone:
            self.end_assist()
        else:
            self._ask_to_reopen_assist()

    def _assisted_name(self) -> str | None:
        assisting = self.session.assisting
        return assisting.contact.name if assisting is not None else None

    def _portal_answered(self) -> None:
        """Every request counts as activity on the portal (its last_used_at), so every answer
        restarts the clock; not once the assist has ended (a refusal is an answer too)."""
        if self.session.assisting is None or self._assist_ended_why is not None or self._assist_over:
            return
        self.idle_clock.touch()
        if self._idle_warned:
            self._idle_warned = False
            self._show_assist_state()

    def _idle_warning(self) -> None:
        self._idle_warned = True
        self._show_assist_state()

    def keep_assist_open(self) -> None:
        """One request, which is activity to the portal: its answer restarts the clock."""
        self.runner.run(self.session.client.me, lambda _: None, lambda _: None)

    def _idle_expired(self) -> None:
        """The portal has ended the assist by now: the banner says so, in the portal's words, and
        the customer's figures go behind the ended state; windows and drafts stay as they are."""
        if self.session.assisting is None or self._assist_ended_why is not None or self._assist_over:
            return
        self._idle_warned = False
        self._ended_by_clock = True
        self._assist_ended_why = (
            f"The assist session ended after {idle_sentence(self.idle_clock.limit_s)} without activity. Open it again."
        )
        self._show_assist_state()

    def _show_assist_state(self) -> None:
        assisting = self.session.assisting
        if assisting is None:
            return
        why = self._assist_ended_why
        # What the ended assist showed stays out of sight (SA-4) until it is open again.
        self.splitter.setVisible(why is None)
        self.assist_ended_state.setVisible(why is not None)
        self.assist_ended_state.set_text(
            f"{assisting.contact.name}'s portal is closed",
            "End the assist to go back to Find customer."
            if self._access_removed
            else "Open it again to see their lists and balance.",
        )
        warned = why is None and self._idle_warned
        self.keep_open_button.setVisible(warned)
        self.assist_activity_button.setVisible(why is None)
        self.open_again_button.setVisible(why is not None and not self._access_removed)
        self.open_again_button.setEnabled(not self._reopening)
        self.open_again_button.setText("Opening again…" if self._reopening else "Open again")
        self.end_assist_button.setEnabled(not self._reopening)
        self.find_another_button.setEnabled(not self._reopening)
        if warned:
            self.assist_label.setText(
                f"{assisting.banner()} — the assist ends in {idle_sentence(self.idle_clock.warn_before_s)} without activity"
            )
        elif why is None:
            self.assist_label.setText(f"{assisting.banner()} — actions are recorded with your name")
        else:
            self.assist_label.setText(f"{why} Nothing you typed or drew here is lost.")

    def show_assist_activity(self) -> None:
        assisting = self.session.assisting
        if assisting is None:
            return
        from app.views.staff_views import AuditDialog

        dialog = AuditDialog(assisting.staff, self.runner, assisting.contact, self)
        self.audit_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    # -- branch switching (AC-2) -----------------------------------------------------

    def switch_branch(self, branch: Branch) -> None:
        """The last branch chosen wins (see BranchSwitch); the branch signed in, `_enter_branch` asks
        about drafts before the old branch's windows close."""
        self.branch_switch.switch(branch)

    def _show_who(self) -> None:
        """Who and which branch, in the customer's words: the raw portal address meant nothing to
        them. Support and the office still need the address, so it is the tooltip."""
        session, assisting = self.session, self.session.assisting
        who = f"{assisting.staff.user.name} assisting" if assisting is not None else "Signed in as"
        self.status_label.setText(f"{who} {session.email} · {session.config.branch.name}")
        self.status_label.setToolTip(f"Portal address: {session.portal_url}")

    def _waiting_for_portal(self, action: str = "Switch branch") -> bool:
        """A window still waiting for the portal (a payment, a signature being sent) cannot close, and
        closed its answer would go nowhere: no `action` (switch, sign-out, end of an assist, quit)
        then, and nothing asked or thrown away first."""
        busy = window_waiting_for_portal(self)
        if busy is not None:
            present(busy)
            message = f"“{busy.windowTitle()}” is waiting for the portal. {action} once it is done."
            self.statusBar().showMessage(message, 8000)
        return busy is not None

    def _enter_branch(self, session: PortalSession, remember: bool) -> None:
        """The other branch is signed in: only now are unsent drafts asked about and the old branch's
        windows closed (as on sign-out: left open, they showed the old branch's records under the
        new one). A sign-in that failed or was cancelled so costs no draft, and a window opened while
        it was signing in closes too. Staying ("Keep editing"), the new session is signed out."""
        if self._waiting_for_portal() or not self.drafts_may_go("Switch branch") or close_opened_windows(self):
            self.branch_switch.drop(session)
            self._show_who()
            return
        self.work_screens.drop_windows()
        self.remember_password = remember
        self._keep_sign_in(session, remember)
        self.set_session(session)

    # -- token expiry ----------------------------------------------------------------

    def _session_expired(self, retry: Callable[[], None], give_up: Callable[[], None], error: PortalError) -> None:
        """Asks for the password once, over the window, then replays every call that got a 401."""
        refusal = refusal_of(error, self.session)
        if refusal != "current":
            (retry if refusal == "replaced" else give_up)()
            return
        self._pending_retries.append((retry, give_up))
        if self.reauth_dialog is not None:
            return
        self.reauth_dialog = ask_to_sign_in_again(
            self, self.accounts, self.session, self._reauth_finished, remember=self.remember_password, reason=error
        )

    def _reauth_finished(self, dialog: SignInDialog) -> None:
        self.reauth_dialog = None
        dialog.deleteLater()  # given up or signed in, it is done with
        pending, self._pending_retries = self._pending_retries, []
        renewed = dialog.session
        if renewed is None:
            for _, give_up in pending:
                give_up()
            return
        self.session.client.use_token(renewed.token)
        self.session.password = renewed.password
        renewed.client.close()
        self.remember_password = dialog.remember
        self._keep_sign_in(self.session, dialog.remember)
        for retry, _ in pending:
            retry()

    def _keep_sign_in(self, session: PortalSession, remember: bool) -> None:
        """Stores or forgets the secrets as "Remember me" says, in the background; a keyring that
        fails leaves the user signed in for this run and says so."""
        self.accounts.signed_in(
            session, remember_password=remember, runner=self.runner, failed=self.show_keyring_problem
        )

    def show_keyring_problem(self, sentence: str) -> None:
        """What the keyring could not do, shown long enough to be read: the user stays signed in."""
        self.statusBar().showMessage(sentence, KEYRING_PROBLEM_MS)

    # -- window state ----------------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = self.accounts.settings
        geometry = settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            fit_to_screen(self, QSize(1280, 800))
        splitter_state = settings.splitter_state()
        # A width the user dragged the sidebar to stands (and is kept); until then it follows the window.
        self._sidebar_by_user = splitter_state is not None
        if splitter_state is not None:
            self.splitter.restoreState(splitter_state)
        else:
            self._fit_sidebar(self.width())
        self.splitter.splitterMoved.connect(self._sidebar_dragged)
        for key, tab in self.tabs.items():
            tab.restore_column_widths(settings.column_widths(key))
        last = settings.last_tab()
        if last in self.tabs:
            self.tab_widget.setCurrentWidget(self.tabs[last])

    def _fit_sidebar(self, window_width: int) -> None:
        if not self._sidebar_by_user:
            sidebar = sidebar_width(window_width)
            self.splitter.setSizes([sidebar, max(0, window_width - sidebar)])

    def _sidebar_dragged(self) -> None:
        self._sidebar_by_user = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Before the splitter lays out at the new width: the sidebar narrows with a narrow window."""
        self._fit_sidebar(event.size().width())
        super().resizeEvent(event)

    def save_layout(self) -> None:
        settings = self.accounts.settings
        settings.set_window_geometry(self.saveGeometry())
        if self._sidebar_by_user:  # saved, a width that followed the window would stop following it
            settings.set_splitter_state(self.splitter.saveState())
        for key, tab in self.tabs.items():
            settings.set_column_widths(key, tab.column_widths())
        settings.set_last_tab(self.current_tab().spec.key)
        settings.sync()

    def close_window(self) -> None:
        """Ctrl+W. During an assist it asks whether to end the assist, as the close box does;
        otherwise closeEvent refuses while a payment or signature is out."""
        if self.session.assisting is not None:
            self.ask_to_end_assist()
        else:
            self.close()

    def ask_to_end_assist(self) -> None:
        """Ctrl+W or the close box meant for a pop-up ended the call's assist at once (audited, the
        customer's portal gone). One question first: the drafts question where there are drafts (it
        names them, and ends the assist), else this one; Enter ends, Esc stays. A payment or a
        signature still out is said by end_assist, with nothing asked."""
        assisting = self.session.assisting
        if assisting is None or self._assist_over or self._reopening or self.end_prompt is not None:
            return
        if window_waiting_for_portal(self) is not None or self.work_screens.unsent_drafts():
            self.end_assist()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question, "End assist", f"End the assist for {assisting.contact.name}?", parent=self
        )
        box.setInformativeText("Their portal closes and you are back at Find customer.")
        end = box.addButton("End assist", QMessageBox.ButtonRole.AcceptRole)
        box.setEscapeButton(box.addButton("Stay", QMessageBox.ButtonRole.RejectRole))
        box.setDefaultButton(end)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered() -> None:
            self.end_prompt = None
            box.deleteLater()
            if box.clickedButton() is end:
                self.end_assist()

        box.finished.connect(lambda _: answered())
        self.end_prompt = box
        box.open()

    @property
    def assist_over(self) -> bool:
        """The assist was ended here (its end is recorded, or on its way): nothing left to end at quit."""
        return self._assist_over

    def drafts_may_go(self, action: str) -> bool:
        """Asks before `action` throws away replies, a new request or a signature not sent (request
        windows keep theirs while hidden, so closing one never asked): Keep editing, the default,
        cancels the action and shows the first draft. Kept over a quit on disk they would outlive a
        sign-out on a shared office computer, so the user decides here, like New request asks.
        Discarded, they are emptied: the close that follows the action finds nothing to ask about."""
        drafts = self.work_screens.unsent_drafts()
        if not drafts:
            return True
        if not self.confirm_discard_drafts(self, [name for name, _ in drafts], action):
            present(drafts[0][1])
            return False
        self.work_screens.discard_drafts()
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing a customer's window during an assist with its close box (or Alt+F4) asks, then ends the
        assist: the staff member is back at Find customer, and the session is revoked, not left
        running for 30 minutes. Closed plainly, the hidden Find customer window was left with no
        window showing, and the app quit under them. Only the user's own close (spontaneous) is
        turned into that: Quit closes every window without one, and must still quit. A second click
        while the assist is ending is ignored too: hidden before Find customer shows, the window
        would be the last one closed, which quits."""
        if event.spontaneous() and self.session.assisting is not None:
            event.ignore()
            self.ask_to_end_assist()  # nothing more once it is being ended
            return
        # Quit (its close events cancel quitting when ignored) or this window's close box (the app
        # quits with it); not once the assist has ended, which leaves nothing to keep.
        if not self._assist_over:
            if self.session.assisting is not None:
                self._give_up_pending()  # a signature held for an assist opened again is a draft again
            # A payment or signature still out: quitting would drop its answer (and its receipt).
            if self._waiting_for_portal("Quit"):
                event.ignore()
                return
            if not self.drafts_may_go("Quit"):
                event.ignore()
                return
        self.branch_switch.cancel()
        self.save_layout()
        super().closeEvent(event)
