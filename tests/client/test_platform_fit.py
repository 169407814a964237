"""Platform fit: keyboard reachability with visible focus, accessible names, the platform's
standard shortcuts, light/dark palettes, crisp icons, native file dialogs, window state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, QSize, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views import theme
from app.views.account_dialogs import AboutDialog, ChangePasswordDialog
from app.views.icon_label import IconLabel
from app.views.image_window import ImageWindow
from app.views.item_windows import FRAME_ALLOWANCE, fit_to_screen
from app.views.list_tab import ListTab
from app.views.main_window import (
    MINIMUM_SIZE,
    SIDEBAR_MIN_WIDTH,
    SIDEBAR_WIDTH,
    MainWindow,
    set_header_text,
    sidebar_width,
)
from app.views.sign_in_dialog import SignInDialog
from app.views.staff_views import FindCustomerWindow, ReasonDialog
from tests.client import company
from tests.client.live_server import ROOT, LivePortal, running_portal

pytestmark = pytest.mark.gui

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QTabBar)


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    return Accounts(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))


@pytest.fixture
def session(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.MORGAN, company.PASSWORD)


def open_window(qtbot: QtBot, session: PortalSession, accounts: Accounts) -> MainWindow:
    window = MainWindow(session, accounts)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.wait(10)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    return window


@pytest.fixture(autouse=True)
def themed() -> Iterator[None]:
    """These tests look at the app as users see it: with its style sheet and palette."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(app, "light")
    yield
    theme.apply_theme(app, "light")
    app.setStyleSheet("")
    app.setPalette(app.style().standardPalette())


@pytest.fixture
def window(qtbot: QtBot, session: PortalSession, accounts: Accounts) -> Iterator[MainWindow]:
    main = open_window(qtbot, session, accounts)
    yield main
    main.runner.set_unauthorized_handler(None)


def accessible_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None, widget
    return str(interface.text(QAccessible.Text.Name)).strip()


def focusable_controls(root: QWidget) -> list[QWidget]:
    """What a keyboard user must be able to reach: visible, enabled controls that take Tab focus."""
    return [
        widget
        for widget in root.findChildren(QWidget)
        if isinstance(widget, CONTROLS)
        and widget.isVisible()
        and widget.isEnabled()
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        and not isinstance(widget.parentWidget(), QLineEdit)  # the clear button inside a search box
    ]


def describe(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or accessible_name(widget)!r})"


# -- accessible names -------------------------------------------------------------------


def test_every_control_of_the_window_has_an_accessible_name(window: MainWindow) -> None:
    for key in window._visible_tab_keys():
        window.tab_widget.setCurrentWidget(window.tabs[key])
        nameless = [describe(w) for w in focusable_controls(window) if not accessible_name(w)]
        assert nameless == [], f"on the {key} tab"
    for widget in (window.sidebar.list_view, window.sidebar.search_edit, window.banner.retry_button):
        assert widget.accessibleName(), describe(widget)


def test_table_headers_have_accessible_names(window: MainWindow) -> None:
    for key in window._visible_tab_keys():
        tab = window.tabs[key]
        header = tab.table.horizontalHeader()
        assert header.accessibleName() == f"{tab.spec.title} columns"
        assert tab.table.accessibleName() == f"{tab.spec.title} list"
        model = tab.table.model()
        for section in range(header.count()):
            name = model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole.AccessibleTextRole)
            assert name and name == model.headerData(section, Qt.Orientation.Horizontal)
            assert model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole.AccessibleDescriptionRole)


def test_dialog_controls_have_accessible_names(qtbot: QtBot, window: MainWindow, accounts: Accounts) -> None:
    dialogs: list[QWidget] = [
        SignInDialog(accounts, portal_url=window.session.portal_url),
        ChangePasswordDialog(window.session, window.runner, window),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        nameless = [describe(w) for w in focusable_controls(dialog) if not accessible_name(w)]
        assert nameless == [], type(dialog).__name__
        dialog.close()


# -- keyboard ---------------------------------------------------------------------------


def walk_tab_chain(qtbot: QtBot, start: QWidget, key: Qt.Key = Qt.Key.Key_Tab, limit: int = 60) -> list[QWidget]:
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus, timeout=2000)
    visited = [start]
    for _ in range(limit):
        current = QApplication.focusWidget()
        assert current is not None
        qtbot.keyClick(current, key)
        landed = QApplication.focusWidget()
        assert landed is not None
        if landed is start:
            return visited
        visited.append(landed)
    raise AssertionError(f"Tab never came back to the start: {[describe(w) for w in visited]}")


def test_tab_reaches_every_control_and_leaves_the_table(qtbot: QtBot, window: MainWindow) -> None:
    for key in ("proposals", "invoices"):
        window.tab_widget.setCurrentWidget(window.tabs[key])
        visited = walk_tab_chain(qtbot, window.tabs[key].search_edit)
        missed = [describe(w) for w in focusable_controls(window) if w not in visited]
        assert missed == [], f"not reachable with Tab on the {key} tab"
        assert window.tabs[key].table in visited
        assert visited.count(window.tabs[key].table) == 1, "Tab moves out of the table instead of across cells"
        backwards = walk_tab_chain(qtbot, window.tabs[key].search_edit, Qt.Key.Key_Backtab)
        assert set(backwards) == set(visited), "Shift+Tab walks the same controls"


def test_banner_retry_is_in_the_tab_chain_when_shown(qtbot: QtBot, window: MainWindow) -> None:
    window.monitor.lost(RuntimeError("no answer"))
    qtbot.waitUntil(window.banner.isVisible, timeout=2000)
    visited = walk_tab_chain(qtbot, window.current_tab().search_edit)
    assert window.banner.retry_button in visited


def test_focus_is_visible_on_every_kind_of_control(qtbot: QtBot, window: MainWindow) -> None:
    """Each control looks different with the keyboard focus than without it."""
    window.monitor.lost(RuntimeError("no answer"))  # shows the banner's Retry button
    qtbot.waitUntil(window.banner.isVisible, timeout=2000)
    tab = window.current_tab()
    tab.table.setCurrentIndex(tab.proxy.index(2, 0))

    def looks(control: QWidget) -> QImage:
        # The table's focus ring is drawn by the card around it.
        return (tab.card if control is tab.table else control).grab().toImage()

    controls: list[QWidget] = [
        window.branch_button,
        window.profile_button,
        window.sidebar.select_none_button,
        window.sidebar.list_view,
        window.tab_widget.tabBar(),
        tab.show_combo,
        tab.search_edit,
        tab.table,
        window.banner.retry_button,
    ]
    for control in controls:
        window.profile_button.setFocus() if control is not window.profile_button else window.branch_button.setFocus()
        qtbot.wait(20)
        without = looks(control)
        control.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(control.hasFocus, timeout=2000)
        qtbot.wait(20)
        assert looks(control) != without, f"no visible focus on {describe(control)}"


def test_space_checks_a_property_from_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    view = window.sidebar.list_view
    view.setFocus(Qt.FocusReason.TabFocusReason)
    view.setCurrentIndex(view.model().index(0, 0))
    before = len(window.properties_model.selected_ids())
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert len(window.properties_model.selected_ids()) == before - 1
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert len(window.properties_model.selected_ids()) == before


def test_standard_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    keys = QKeySequence.StandardKey
    for action, key in (
        (window.refresh_action, keys.Refresh),
        (window.find_action, keys.Find),
        (window.close_action, keys.Close),
        (window.quit_action, keys.Quit),
    ):
        assert action.shortcuts() == QKeySequence.keyBindings(key), action.text()
    # On this platform: F5 refreshes, Ctrl+F finds, Ctrl+W closes.
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.runner.busy
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.current_tab().search_edit
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


# -- palette ----------------------------------------------------------------------------


@pytest.fixture
def restore_theme() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


def test_palette_follows_the_reported_color_scheme(restore_theme: QApplication) -> None:
    scheme = Qt.ColorScheme
    assert theme.scheme_for("system", scheme.Dark) == "dark"
    assert theme.scheme_for("system", scheme.Light) == "light"
    assert theme.scheme_for("system", scheme.Unknown) == "light"
    assert theme.scheme_for("light", scheme.Dark) == "light"
    assert theme.scheme_for("dark", scheme.Light) == "dark"
    app = restore_theme
    theme.apply_theme(app, "system")
    # The system switches to dark while the app runs (Windows, macOS and GNOME report it).
    app.styleHints().colorSchemeChanged.emit(scheme.Dark)
    assert theme.colors() is theme.DARK
    assert app.palette().color(app.palette().ColorRole.Window) == QColor(theme.DARK.window)
    assert theme.DARK.surface in app.styleSheet()
    app.styleHints().colorSchemeChanged.emit(scheme.Light)
    assert theme.colors() is theme.LIGHT
    # An explicit choice does not follow the system.
    theme.apply_theme(app, "dark")
    app.styleHints().colorSchemeChanged.emit(scheme.Light)
    assert theme.colors() is theme.DARK


def test_style_sheet_fills_every_token_in_both_palettes() -> None:
    for palette in (theme.LIGHT, theme.DARK):
        sheet = theme.style_sheet(palette)
        assert not re.findall(r"@\w+@", sheet), palette.scheme
    raw = (ROOT / "resources" / "style.qss").read_text(encoding="utf-8")
    hard_coded = set(re.findall(r"#[0-9a-fA-F]{6}\b", raw)) - {"#ffffff", "#b9e4c9"}  # text and bar on the green header
    assert hard_coded == set(), "colours belong in theme.Palette so the dark scheme gets its own"


def test_dark_palette_gives_dark_surfaces_and_readable_text(
    qtbot: QtBot, window: MainWindow, restore_theme: QApplication
) -> None:
    theme.apply_theme(restore_theme, "dark")
    qtbot.wait(20)
    image = window.grab().toImage()
    background = QColor(image.pixel(window.width() // 2, window.height() - 40))
    assert background.lightness() < 80, "the list area is dark"
    assert QColor(theme.DARK.text).lightness() - QColor(theme.DARK.surface).lightness() > 150
    assert theme.chip_colors("pending") == theme.CHIPS["dark"]["pending"]
    assert window.tabs["proposals"].empty_icon.name == "empty"
    assert Path(str(theme.resource_path("icons/empty-dark.svg"))).exists()


# -- icons, dialogs, window state -------------------------------------------------------


def test_icons_are_drawn_for_the_screen_pixel_ratio(qtbot: QtBot) -> None:
    label = IconLabel("app", 28)
    qtbot.addWidget(label)
    sharp = QPixmap(QSize(56, 56))
    sharp.setDevicePixelRatio(2.0)
    sharp.fill(Qt.GlobalColor.transparent)
    label.render(sharp)
    upscaled = theme.icon("app").pixmap(QSize(28, 28), 1.0).toImage().scaled(56, 56)
    rendered = sharp.toImage().convertToFormat(QImage.Format.Format_ARGB32)
    assert rendered.size() == QSize(56, 56)
    assert rendered != upscaled.convertToFormat(QImage.Format.Format_ARGB32), "SVG re-rendered, not scaled up"
    assert theme.icon("app").pixmap(QSize(28, 28), 2.0).size() == QSize(56, 56)


def test_file_dialogs_stay_native() -> None:
    """Nothing may opt out of the platform's own file dialogs (QFileDialog's static functions
    are native by default); a hand-built QFileDialog is the non-native Qt one."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if re.search(r"DontUseNativeDialog|QFileDialog\(", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def drag_sidebar_edge(qtbot: QtBot, window: MainWindow, by: int) -> None:
    """A real drag of the handle between the sidebar and the lists."""
    handle = window.splitter.handle(1)
    middle = handle.rect().center()
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=middle)
    for step in range(1, 5):
        qtbot.mouseMove(handle, middle + QPoint(by * step // 4, 0))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=middle + QPoint(by, 0))


def test_window_state_is_restored(qtbot: QtBot, session: PortalSession, accounts: Accounts) -> None:
    first = open_window(qtbot, session, accounts)
    # The offscreen screen is 800 px wide: Qt keeps a restored window's width at its minimum.
    first.resize(MINIMUM_SIZE.width(), 700)
    qtbot.waitUntil(lambda: first.splitter.sizes()[0] == sidebar_width(MINIMUM_SIZE.width()), timeout=2000)
    drag_sidebar_edge(qtbot, first, 40)  # stays within the 800 px offscreen screen with the lists at their minimum
    first.tab_widget.setCurrentWidget(first.tabs["invoices"])
    qtbot.wait(50)
    first.close()
    sizes = first.splitter.sizes()  # as saved: the splitter settles within its panes' minimum widths
    assert abs(sizes[0] - sidebar_width(MINIMUM_SIZE.width())) > 12, "moved away from the default"
    assert accounts.settings.window_geometry() == first.saveGeometry()
    second = open_window(qtbot, session, accounts)
    assert second.size() == QSize(MINIMUM_SIZE.width(), 700)
    # The restored splitter may settle a few pixels off once its panes lay out (seen: 300 vs 290 under load).
    assert abs(second.splitter.sizes()[0] - sizes[0]) <= 12
    assert second.current_tab().spec.key == "invoices"


def test_a_window_opens_no_larger_than_the_free_area_of_its_screen(qtbot: QtBot) -> None:
    """A PDF window's 900 x 980 (a request's 680 x 780) ran off the bottom of a 1366 x 768 laptop's
    screen, its Sign… and Send reply buttons out of reach; a window that fits keeps its size."""
    parent = QWidget()
    qtbot.addWidget(parent)
    screen = parent.screen()
    assert screen is not None
    room = screen.availableGeometry().size() - FRAME_ALLOWANCE
    dialog = QDialog(parent)
    fit_to_screen(dialog, room + QSize(100, 200))
    assert dialog.size() == room
    fit_to_screen(dialog, QSize(300, 200))
    assert dialog.size() == QSize(300, 200)
    dialog.setMinimumSize(room + QSize(10, 10))  # never below what the window needs to work
    fit_to_screen(dialog, QSize(5000, 5000))
    assert dialog.size() == dialog.minimumSize()


# -- small screens ----------------------------------------------------------------------

# Logical pixels office staff have: a 1366 x 768 laptop at 125 % offers about 1093 x 614, less
# the taskbar and title bar; 1280 x 720 screens exist too.
SMALL_SCREEN = QSize(1000, 600)


def least_size(window: QWidget) -> QSize:
    """The smallest the window can be made: its own minimum or its layout's, whichever is larger."""
    return window.minimumSize().expandedTo(window.minimumSizeHint())


def misfits(windows: dict[str, QWidget]) -> list[str]:
    """Windows that cannot be made as small as SMALL_SCREEN, or that opened larger than the free
    area of their screen (the offscreen one is 800 x 800) although they could be smaller."""
    problems = []
    for name, window in windows.items():
        QApplication.processEvents()
        least = least_size(window)
        if least.width() > SMALL_SCREEN.width() or least.height() > SMALL_SCREEN.height():
            problems.append(f"{name} needs at least {least.width()} x {least.height()}")
        screen = window.screen()
        assert screen is not None
        room = (screen.availableGeometry().size() - FRAME_ALLOWANCE).expandedTo(least)
        if window.width() > room.width() or window.height() > room.height():
            problems.append(f"{name} opened at {window.width()} x {window.height()}, beyond its screen's free area")
    return problems


def select_rows(tab: ListTab, rows: int) -> None:
    model = tab.table.selectionModel()
    for row in range(rows):
        model.select(tab.proxy.index(row, 0), model.SelectionFlag.Select | model.SelectionFlag.Rows)


def test_the_main_window_fits_a_small_laptop_screen(qtbot: QtBot, window: MainWindow) -> None:
    """It could not be made narrower than 1000 x 620; nor, with a long name on the header and
    "Pay selected (2)" on the invoices' toolbar, narrower than its parts."""
    invoices = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(invoices)
    qtbot.waitUntil(lambda: invoices.proxy.rowCount() >= 2, timeout=10000)
    select_rows(invoices, 2)
    assert invoices.toolbar.indexOf(window.invoice_actions.pay_selected_button) >= 0
    assert window.invoice_actions.pay_selected_button.text().startswith("Pay selected (")
    long_name = "Greenleaf Landscaping & Grounds Maintenance, Northern Commercial Division"
    set_header_text(window.branch_button, long_name, "Switch branch", True)
    set_header_text(window.profile_button, long_name, "", True)
    assert window.branch_button.toolTip() == f"{long_name}\nSwitch branch", "the whole name is in the tooltip"
    window.monitor.lost(RuntimeError("no answer"))
    qtbot.waitUntil(window.banner.isVisible, timeout=2000)
    assert misfits({"the main window": window}) == []
    window.resize(SMALL_SCREEN)
    qtbot.waitUntil(lambda: window.size() == SMALL_SCREEN, timeout=2000)
    assert toolbar_overlaps(invoices) == []
    assert window.sidebar.width() < SIDEBAR_WIDTH or window.splitter.sizes()[0] < SIDEBAR_WIDTH


def toolbar_overlaps(tab: ListTab) -> list[str]:
    """Toolbar widgets that overlap another or run past the tab's edge."""
    shown = [tab.toolbar.itemAt(i).widget() for i in range(tab.toolbar.count())]
    widgets = [w for w in shown if w is not None and w.isVisible()]
    problems = [describe(w) for w in widgets if not tab.rect().contains(w.geometry())]
    for first, second in pairwise(widgets):
        if first.geometry().intersects(second.geometry()):
            problems.append(f"{describe(first)} over {describe(second)}")
    return problems


def test_a_narrow_window_gives_the_lists_room(qtbot: QtBot, session: PortalSession, accounts: Accounts) -> None:
    """Until the user drags it, the sidebar of a window narrower than 1280 px starts narrower."""
    assert sidebar_width(1280) == sidebar_width(1600) == SIDEBAR_WIDTH
    assert SIDEBAR_MIN_WIDTH <= sidebar_width(1000) < SIDEBAR_WIDTH
    assert sidebar_width(600) == SIDEBAR_MIN_WIDTH
    window = open_window(qtbot, session, accounts)  # on the 800 px offscreen screen: at its minimum width
    assert window.splitter.sizes()[0] == sidebar_width(window.width())
    for width in (1280, 1000, 1400):
        window.resize(width, 700)
        qtbot.waitUntil(lambda width=width: window.splitter.sizes()[0] == sidebar_width(width), timeout=2000)
    drag_sidebar_edge(qtbot, window, -30)
    dragged = window.splitter.sizes()[0]
    assert dragged < SIDEBAR_WIDTH
    window.resize(1000, 700)
    qtbot.wait(50)
    assert window.splitter.sizes()[0] == dragged, "a width the user chose stands"


def test_every_window_of_a_customer_fits_a_small_laptop_screen(qtbot: QtBot, window: MainWindow) -> None:
    windows: dict[str, QWidget] = {"the main window": window}
    proposals = window.tabs["proposals"]
    qtbot.waitUntil(lambda: proposals.model.rowCount() > 0, timeout=10000)
    signable = next(
        record for row in range(proposals.model.rowCount()) if (record := proposals.model.record(row)).can_sign
    )
    proposal = window.open_proposal(signable.id)
    qtbot.waitUntil(lambda: proposal.detail is not None and proposal.sign_button.isEnabled(), timeout=10000)
    windows["a proposal"] = proposal
    proposal.open_sign_dialog()
    assert proposal.sign_dialog is not None
    windows["the sign window"] = proposal.sign_dialog
    client = window.session.client
    due = next(i for i in client.invoices("due", limit=50).items if i.balance > 0)
    invoice = client.invoice(due.id)
    windows["an invoice"] = detail = window.invoice_actions.show_detail(invoice)
    windows["the pay window"] = window.invoice_actions.pay([invoice], detail)
    windows["Manage payments"] = window.invoice_actions.manage_payments()
    visits = window.tabs["visits"]
    qtbot.waitUntil(lambda: visits.model.rowCount() > 0, timeout=10000)
    windows["a visit"] = window.work_screens.open_visit(visits.model.record(0))
    requests_tab = window.tabs["requests"]
    qtbot.waitUntil(lambda: requests_tab.model.rowCount() > 0, timeout=10000)
    windows["a request"] = window.work_screens.open_request(requests_tab.model.record(0))
    windows["a new request"] = window.work_screens.new_request()
    photo = QImage(4000, 3000, QImage.Format.Format_RGB32)
    photo.fill(QColor("seagreen"))
    windows["a photo"] = ImageWindow("IMG_0001.jpg", photo, window)
    windows["Change password"] = ChangePasswordDialog(window.session, window.runner, window)
    windows["About"] = AboutDialog(window.session, window.runner, window)
    windows["Sign in"] = SignInDialog(window.accounts, portal_url=window.session.portal_url)
    for opened in windows.values():
        if opened.parentWidget() is None:
            qtbot.addWidget(opened)
        opened.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    assert misfits(windows) == []
    for name in ("the sign window", "the pay window", "a new request", "Change password", "About", "Sign in"):
        windows[name].hide()  # no "discard?" questions at teardown


def test_the_pay_window_of_a_hundred_invoices_fits_a_small_laptop_screen(qtbot: QtBot, window: MainWindow) -> None:
    """IN-10's most invoices in one payment: with one line per invoice (and every property named in
    its heading) the window grew past the screen, Continue and Pay below its bottom edge."""
    client = window.session.client
    due = client.invoices("due", limit=100).items
    assert len(due) == 100
    invoices = [client.invoice(i.id) for i in due]
    card = client.add_payment_method(
        {
            "type": "card",
            "card_number": "4242424242424242",
            "exp_month": 12,
            "exp_year": date.today().year + 2,
            "cvc": "123",
            "holder_name": "Morgan Many",
            "postal_code": "10001",
        }
    )
    try:
        pay = window.invoice_actions.pay(invoices)
        qtbot.waitUntil(lambda: pay.method_combo.findData(card.id) >= 0, timeout=15000)
        pay.method_combo.setCurrentIndex(pay.method_combo.findData(card.id))
        pay.method_combo.activated.emit(pay.method_combo.currentIndex())
        assert misfits({"the pay window of 100 invoices": pay}) == []
        qtbot.waitUntil(pay.continue_button.isEnabled, timeout=15000)
        pay.continue_button.click()
        assert pay.stack.currentIndex() == pay.PAGE_CONFIRM
        assert misfits({"the confirm page of 100 invoices": pay}) == []
        pay.hide()
    finally:
        client.remove_payment_method(card.id)


def test_every_window_of_office_staff_fits_a_small_laptop_screen(
    qtbot: QtBot, live_portal: LivePortal, accounts: Accounts
) -> None:
    """The Activity window opened 900 px wide whatever the screen (the offscreen one is 800)."""
    staff = sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    find = FindCustomerWindow(staff, accounts=accounts)
    qtbot.addWidget(find)
    find.show()
    find.search_edit.setText("morgan")
    find.search_now()
    qtbot.waitUntil(lambda: not find.feed.loading and find.model.rowCount() > 0, timeout=10000)
    reason = ReasonDialog(find.model.contact(0), find)
    reason.show()
    activity = find.show_activity(None)
    qtbot.waitUntil(lambda: not activity.feed.loading, timeout=10000)
    assert misfits({"Find customer": find, "the reason asked": reason, "Activity": activity}) == []
    reason.reject()
    activity.close()
    find.runner.set_unauthorized_handler(None)


DANA = "dana@example.com"
# As a large customer's list reads (the benchmark company): long property names, several services,
# six-digit numbers, five-figure amounts and the widest status chips.
DENSE_PROPERTIES = ("Harborview Commons Office Park", "Riverside Medical Campus Hall", "Maple Court Residences")
DENSE_SERVICES = ["Shrub pruning", "Irrigation check", "Leaf cleanup", "Snow removal"]


def _dense(doc: dict[str, Any], today: date) -> None:
    doc["contacts"].append(
        {"key": "dana", "branch": "east", "name": "Dana Dense", "email": DANA, "password": company.PASSWORD}
    )
    for p, name in enumerate(DENSE_PROPERTIES):
        key = f"dense-{p}"
        doc["properties"].append(
            {
                "key": key,
                "branch": "east",
                "name": name,
                "address": f"{1200 + p} {name} Boulevard, Springfield",
                "account_owner": "rep",
                "sales_rep": "rep",
                "contacts": [{"contact": "dana", "role": "primary"}],
                "unapplied_credits": "0.00",
            }
        )
        for n in range(4):
            day = today - timedelta(days=40 * n + 13)  # "Dec 16, 2026"-wide dates, overdue ones too
            doc["invoices"].append(
                {
                    "key": f"{key}-inv-{n}",
                    "property": key,
                    "number": f"INV-10{p}9{n}8",
                    "billing_contact": "dana",
                    "invoice_date": day.isoformat(),
                    "net_terms_days": 30,
                    "lines": [{"service": s, "amount": "3086.42"} for s in DENSE_SERVICES[:3]]
                    + [{"service": DENSE_SERVICES[3], "amount": "3086.41"}],  # $12,345.67
                    "payments": [{"amount": "0.01", "paid_on": day.isoformat()}] if n % 2 else [],
                }
            )
            doc["visits"].append(
                {
                    "key": f"{key}-visit-{n}",
                    "property": key,
                    "date": (today + timedelta(days=3 + 7 * n)).isoformat(),
                    "status": "scheduled",
                    "services": DENSE_SERVICES,
                    "notes": [],
                }
            )
        doc["proposals"].append(
            {
                "key": f"{key}-opp",
                "property": key,
                "number": f"OPP-10{p}234",
                "title": "Spring enhancement: new mulch beds, drip irrigation and seasonal colour",
                "opportunity_type": "work_order",
                "opportunity_status": "in_production",
                "shared_on": (today - timedelta(days=45)).isoformat(),
                "sales_rep": "rep",
                "items": [{"key": f"{key}-opp-1", "description": "Labour", "quantity": "1", "unit_price": "12345.67"}],
            }
        )
        doc["requests"].append(
            {
                "key": f"{key}-req",
                "property": key,
                "number": f"REQ-30{p}041",
                "subject": "Question about the fall cleanup price and the extra mulch delivery",
                "description": "Please call me.",
                "status": "waiting_on_client",
                "comments": [{"author": "rep", "body": f"Reply {c}", "public": True} for c in range(12)],
            }
        )


@pytest.fixture(scope="module")
def dense_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    document = company.build(date.today())
    _dense(document, date.today())
    with running_portal(tmp_path_factory.mktemp("dense-portal"), document) as live:
        yield live


def test_no_list_scrolls_sideways_at_1000_px_with_a_large_customers_data(
    qtbot: QtBot, dense_portal: LivePortal, accounts: Accounts
) -> None:
    """At 1000 x 600 the invoices scrolled sideways by up to 90 px, the Balance column (money owed)
    out of sight, and the requests' Comments header was cut to "C". Every column now fits, the
    descriptive ones giving up more (elided, whole in their tooltips); money and the other headers
    stay whole. Where a list still has to scroll, it scrolls by pixels, not by whole columns."""
    session = sign_in(dense_portal.portal_url("east"), DANA, company.PASSWORD)
    window = open_window(qtbot, session, accounts)
    window.resize(SMALL_SCREEN)
    qtbot.waitUntil(lambda: window.size() == SMALL_SCREEN, timeout=2000)
    assert window.splitter.sizes()[0] == sidebar_width(SMALL_SCREEN.width())
    for key in window._visible_tab_keys():
        tab = window.tabs[key]
        window.tab_widget.setCurrentWidget(tab)
        qtbot.waitUntil(lambda tab=tab: tab.table.isVisible() and tab.model.rowCount() > 0, timeout=10000)
        qtbot.wait(30)  # the fit runs on the next turn of the event loop after the table shows
        table, header = tab.table, tab.table.horizontalHeader()
        widths = {column.key: header.sectionSize(i) for i, column in enumerate(tab.model.columns)}
        assert header.length() <= table.viewport().width(), (key, table.viewport().width(), widths)
        assert table.horizontalScrollBar().maximum() == 0, key
        metrics = table.fontMetrics()
        for index, column in enumerate(tab.model.columns):
            assert header.sectionSize(index) >= header.sectionSizeHint(index), (key, column.key, "header cut")
            if column.elastic:
                continue
            for row in range(tab.model.rowCount()):  # money, numbers, statuses and dates whole
                text = tab.model.text(row, index)
                if column.short is not None and metrics.horizontalAdvance(text) + 16 > header.sectionSize(index):
                    text = column.short(tab.model.record(row))  # "12/16/26": painted in its place
                assert metrics.horizontalAdvance(text) + 16 <= header.sectionSize(index), (key, text, widths)
        # Where a list must scroll (a user's wide columns), by pixels, never a whole column at a time.
        assert table.horizontalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerPixel, key
    window.runner.set_unauthorized_handler(None)
    session.client.close()


def test_signing_in_again_shows_every_word_and_the_portal_on_its_row(qtbot: QtBot, accounts: Accounts) -> None:
    """The re-sign-in window cut "Remember me on this computer" to "…this comput" under "Forgot
    password?", and its "Portal" label stood a row above the address it named."""
    dialog = SignInDialog(
        accounts,
        portal_url="http://127.0.0.1:8000/portal/north",
        email=company.OFFICE,
        locked=True,
        message="Your session has ended. Sign in again to carry on where you left off.",
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    check, forgot = dialog.remember_check, dialog.forgot_button
    assert check.width() >= check.sizeHint().width(), "the box's text whole"
    assert not check.geometry().intersects(forgot.geometry())
    label = dialog._form.labelForField(dialog.url_edit)
    assert isinstance(label, QLabel) and label.text() == "Portal" and label.isVisible()
    assert abs(label.geometry().center().y() - dialog.url_edit.geometry().center().y()) <= 3
    assert not dialog.portal_combo.isVisible()
    combo_label = dialog._form.labelForField(dialog.portal_combo)
    assert combo_label is None or not combo_label.isVisible(), "no label left without its field"
    assert misfits({"Sign in again": dialog}) == []
