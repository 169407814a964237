"""A property manager with many properties and invoices, on a small laptop screen, against a real
portal (tests/client/big_company.py): the pay window of a hundred invoices, "Pay selected" at that
scale, the balance in the millions, names that differ at their end, rapid property clicks, the
keyboard in the properties pane."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem, QWidget
from pytestqt.qtbot import QtBot

from app.models.formatting import money_text
from app.services.accounts import Accounts
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views.invoice_actions import MAX_SELECTED, PREPARE_AT_ONCE
from app.views.list_tab import ListTab
from app.views.main_window import RELOAD_COALESCE_MS, MainWindow
from app.views.pay_dialog import PayDialog
from tests.client import big_company
from tests.client.big_company import big_portal  # noqa: F401  (the module's portal)
from tests.client.live_server import LivePortal
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving
from tests.client.test_platform_fit import (
    SMALL_SCREEN,
    misfits,
    open_window,
    themed,  # noqa: F401  (the app as users see it: its style sheet)
)

pytestmark = pytest.mark.gui

WAIT_MS = 20000
LIST_PATHS = ("/balance", "/proposals", "/visits", "/invoices", "/requests")
DETAIL = re.compile(r"/invoices/(\d+)$")


class Watching(Proxy):
    """Forwards everything to the portal after `delay` seconds (a portal farther away than this
    computer), noting each request's path and how many invoice reads were out at once. The invoice
    `missing` (an id) is asked for as one the portal does not have: its real refusal comes back."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        self.delay = delay
        self.missing: int | None = None
        self.paths: list[str] = []
        self.lock = threading.Lock()
        self.reads_out = 0
        self.most_reads_out = 0
        super().__init__(upstream, _WatchingHandler)

    def list_requests(self) -> list[str]:
        """The lists' and the balance's requests so far (not sign-in, version or invoice reads)."""
        with self.lock:
            paths = [p.split("?", 1)[0] for p in self.paths]
        return [p for p in paths if p.endswith(LIST_PATHS)]

    def invoice_reads(self) -> list[int]:
        with self.lock:
            return [int(m.group(1)) for p in self.paths if (m := DETAIL.search(p.split("?", 1)[0]))]


class _WatchingHandler(QuietHandler):
    server: Watching

    def _forward(self) -> None:
        proxy = self.server
        read = DETAIL.search(self.path.split("?", 1)[0])
        with proxy.lock:
            proxy.paths.append(self.path)
            if read:
                proxy.reads_out += 1
                proxy.most_reads_out = max(proxy.most_reads_out, proxy.reads_out)
        try:
            time.sleep(proxy.delay)
            if read and int(read.group(1)) == proxy.missing:
                self.path = self.path.replace(f"/invoices/{proxy.missing}", "/invoices/987654321")
            answer = relay(self, proxy.upstream)
        finally:
            # Before the answer goes out: the client's next read may come in as soon as it has it.
            with proxy.lock:
                proxy.reads_out -= int(bool(read))
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    return Accounts(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))


def manager_session(origin: str) -> PortalSession:
    return sign_in(LivePortal(origin).portal_url(big_company.SLUG), big_company.MANAGER, big_company.PASSWORD)


@pytest.fixture
def watching(big_portal: LivePortal) -> Iterator[Watching]:  # noqa: F811
    with serving(Watching(big_portal.origin)) as proxy:
        yield proxy


def small_window(qtbot: QtBot, session: PortalSession, accounts: Accounts) -> MainWindow:
    """The window at 1000 x 600 (a 1366 x 768 laptop at 125 %), its lists loaded."""
    window = open_window(qtbot, session, accounts)
    window.resize(SMALL_SCREEN)
    qtbot.waitUntil(lambda: window.size() == SMALL_SCREEN, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    return window


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)


def due_invoices_tab(qtbot: QtBot, window: MainWindow, rows: int) -> ListTab:
    """The invoices tab showing the invoices due, at least `rows` of them loaded."""
    tab = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(tab)
    tab.show_combo.setCurrentIndex(tab.show_combo.findText("Due"))
    wait_idle(qtbot, window)
    while tab.proxy.rowCount() < rows:
        assert tab.feed.has_more
        tab.feed.load_more()
        wait_idle(qtbot, window)
    return tab


def select(tab: ListTab, rows: int) -> None:
    model = tab.table.selectionModel()
    model.clearSelection()
    for row in range(rows):
        model.select(tab.proxy.index(row, 0), model.SelectionFlag.Select | model.SelectionFlag.Rows)


def inside(widget: QWidget, window: QWidget) -> bool:
    """Shown whole within `window`'s area (not below its bottom edge)."""
    top_left = widget.mapTo(window, QPoint(0, 0))
    return widget.isVisible() and window.rect().contains(QRect(top_left, widget.size()))


# -- the pay window -----------------------------------------------------------------------


def test_the_pay_window_of_a_hundred_invoices_keeps_its_buttons_on_a_small_screen(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:
    """Every property's name in the heading and one line per invoice on the confirm page made the
    window 1482 px tall for a hundred invoices: Continue and Pay fell off a 768 px laptop's screen."""
    session = manager_session(watching.origin)
    window = small_window(qtbot, session, accounts)
    summaries = session.client.invoices("due", limit=MAX_SELECTED).items
    details = [session.client.invoice(s.id) for s in summaries]
    assert len({d.property.name for d in details}) == MAX_SELECTED
    dialog = window.invoice_actions.pay(details)
    qtbot.waitUntil(lambda: dialog.method_combo.count() > 1, timeout=WAIT_MS)
    assert misfits({"the pay window": dialog}) == []
    assert inside(dialog.continue_button, dialog) and inside(dialog.cancel_button, dialog)
    assert dialog.heading.text() == f"{MAX_SELECTED} invoices at {MAX_SELECTED} properties"
    card = session.client.add_payment_method(
        {
            "type": "card",
            "card_number": "4242424242424242",
            "exp_month": 12,
            "exp_year": date.today().year + 2,
            "cvc": "123",
            "holder_name": "Harbor Property Management",
            "postal_code": "10001",
        }
    )
    dialog._load_methods(card.id)
    qtbot.waitUntil(dialog.continue_button.isEnabled, timeout=WAIT_MS)
    qtbot.mouseClick(dialog.continue_button, Qt.MouseButton.LeftButton)
    assert dialog.stack.currentIndex() == dialog.PAGE_CONFIRM
    assert details[-1].number in dialog.confirm_label.text(), "every invoice is listed (it scrolls)"
    assert misfits({"the pay window": dialog}) == []
    assert inside(dialog.pay_button, dialog) and inside(dialog.back_button, dialog)
    dialog.reject()
    session.client.remove_payment_method(card.id)


# -- Pay selected -------------------------------------------------------------------------


def test_pay_selected_reads_a_hundred_invoices_a_few_at_a_time_once(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:
    """One after another a hundred reads took about 10 s at 100 ms from the portal, and the button
    stayed enabled meanwhile: a second press read them all again."""
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    tab = due_invoices_tab(qtbot, window, MAX_SELECTED)
    select(tab, MAX_SELECTED)
    button = window.invoice_actions.pay_selected_button
    assert button.text() == f"Pay selected ({MAX_SELECTED})"
    watching.delay = 0.05
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not button.isEnabled() and button.text() == "Preparing…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # a second press does nothing
    window.invoice_actions.pay_selected()
    qtbot.waitUntil(lambda: window.invoice_actions.pay_dialog is not None, timeout=WAIT_MS)
    dialog = window.invoice_actions.pay_dialog
    assert isinstance(dialog, PayDialog)
    selected = [i.id for i in window.invoice_actions.selected_invoices()]
    assert sorted(watching.invoice_reads()) == sorted(selected), "each invoice read once"
    assert 1 < watching.most_reads_out <= PREPARE_AT_ONCE
    table = dialog.table
    assert table is not None
    numbers = [tab.model.record(tab.proxy.mapToSource(tab.proxy.index(r, 0)).row()).number for r in range(MAX_SELECTED)]
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == numbers, "in the list's order"
    assert button.text() == f"Pay selected ({MAX_SELECTED})"
    dialog.reject()


def test_an_invoice_that_cannot_be_read_is_named_and_the_selection_kept(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:
    """One failed read ended it all with the portal's bare sentence (which invoice?), and the
    answers of the other reads still out came in afterwards."""
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    tab = due_invoices_tab(qtbot, window, 12)
    select(tab, 12)
    chosen = window.invoice_actions.selected_invoices()
    failing = chosen[5]
    watching.missing = failing.id
    watching.delay = 0.03
    qtbot.mouseClick(window.invoice_actions.pay_selected_button, Qt.MouseButton.LeftButton)
    button = window.invoice_actions.pay_selected_button
    qtbot.waitUntil(button.isEnabled, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert failing.number in message
    assert "not found" in message.lower(), "the portal's own reason"
    assert "try again" in message.lower()
    assert window.invoice_actions.pay_dialog is None
    assert [i.id for i in window.invoice_actions.selected_invoices()] == [i.id for i in chosen]
    assert button.text() == "Pay selected (12)"
    watching.missing = None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.invoice_actions.pay_dialog is not None, timeout=WAIT_MS)
    dialog = window.invoice_actions.pay_dialog
    assert isinstance(dialog, PayDialog) and len(dialog.payable) == 12
    dialog.reject()


def test_more_invoices_than_a_payment_holds_says_why_pay_selected_is_off(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:  # IN-10
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    tab = due_invoices_tab(qtbot, window, MAX_SELECTED + 1)
    select(tab, MAX_SELECTED + 1)
    button = window.invoice_actions.pay_selected_button
    assert not button.isEnabled()
    assert button.text() == f"Pay selected ({MAX_SELECTED + 1})"
    assert f"at most {MAX_SELECTED} invoices" in button.toolTip()
    assert f"at most {MAX_SELECTED} invoices" in window.statusBar().currentMessage()
    select(tab, MAX_SELECTED + 2)
    assert f"{MAX_SELECTED + 2} with a balance are selected" in window.statusBar().currentMessage()
    select(tab, MAX_SELECTED)
    assert button.isEnabled() and f"at most {MAX_SELECTED}" not in button.toolTip()
    assert f"at most {MAX_SELECTED}" not in window.statusBar().currentMessage(), "no longer true"


# -- the properties pane -------------------------------------------------------------------


def ink_columns(widget: QWidget) -> list[int]:
    """The x of each pixel column where `widget` draws something besides its background."""
    image = widget.grab().toImage()
    background = QColor(image.pixel(0, 0))
    columns = []
    for x in range(image.width()):
        for y in range(image.height()):
            if abs(QColor(image.pixel(x, y)).lightness() - background.lightness()) > 60:
                columns.append(x)
                break
    return columns


def test_the_balance_in_the_millions_shows_whole_in_a_narrow_pane(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:  # PF-3
    """At 1000 px the sidebar is 235 px wide: $12,345,678.90 read "$12,345,67", a wrong amount."""
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    sidebar = window.sidebar
    label = sidebar.balance_label
    exact = money_text(big_company.BALANCE, "USD")
    assert label.text() == exact
    assert sidebar.width() < 250
    card = sidebar.balance_card
    assert card.contentsRect().contains(QRect(label.mapTo(card, QPoint()), label.size())), "cut by the card's edge"
    columns = ink_columns(label)
    assert columns, "the amount is drawn"
    # Cut off by the label's own edge, the last digit runs into it; whole, it ends before it.
    assert max(columns) < label.contentsRect().right() - 1
    for line in (sidebar.balance_detail, sidebar.credits_label):
        if line.isVisible():
            assert line.height() >= line.heightForWidth(line.width()), f"{line.text()!r} is cut at the bottom"
            assert card.contentsRect().contains(QRect(line.mapTo(card, QPoint()), line.size()))
    assert sidebar.rect().contains(QRect(card.mapTo(sidebar, QPoint()), card.size()))
    assert exact in label.toolTip()
    assert exact in label.accessibleName()


class RecordingPainter(QPainter):
    """Notes the texts a delegate draws."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args: object) -> None:  # type: ignore[override]
        self.texts.extend(a for a in args if isinstance(a, str))
        super().drawText(*args)  # type: ignore[call-overload]


def test_property_names_keep_the_end_that_tells_them_apart(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:
    """Cut at the end, six rows read "Aspen Camp…": the number that tells them apart was the part lost."""
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    view = window.sidebar.list_view
    index = view.model().index(46, 0)
    name = big_company.property_name(47)
    assert index.data() == name
    assert name in index.data(Qt.ItemDataRole.ToolTipRole)
    view.scrollTo(index)
    rect = view.visualRect(index)
    image = QImage(rect.size(), QImage.Format.Format_ARGB32)
    painter = RecordingPainter(image)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = QRect(QPoint(0, 0), rect.size())
    view.itemDelegate().paint(painter, option, index)
    painter.end()
    shown = painter.texts[-2] if len(painter.texts) >= 2 else ""
    assert shown != name and "…" in shown, "the long name is shortened"
    assert shown.endswith("0047") and shown.startswith("Asp")
    assert 0 < rect.width() <= view.viewport().width(), "a row is as wide as the pane, no wider"


# -- property clicks ----------------------------------------------------------------------


def test_rapid_property_clicks_reload_the_lists_once_more_not_for_each(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:
    """Ten quick clicks sent some fifty requests (a balance and four lists each), all but the last
    five for properties no longer asked for. The first click still reloads at once."""
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    watching.delay = 0.5  # a slow portal: the lists still load for the first click at the last
    view = window.sidebar.list_view
    rows = [view.visualRect(view.model().index(row, 0)) for row in range(6)]
    assert all(view.viewport().rect().contains(rect.center()) for rect in rows)
    before = len(watching.list_requests())
    reload_size = len(window._visible_tab_keys()) + 1
    for number, row in enumerate([0, 1, 2, 3, 4, 5, 0, 1, 2, 3]):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rows[row].center())
        if number == 0:
            assert window.runner.busy, "the first click reloads at once"
        qtbot.wait(20)
    assert len(window.properties_model.selected_ids()) == big_company.PROPERTIES - 2
    qtbot.wait(RELOAD_COALESCE_MS + 100)
    wait_idle(qtbot, window)
    sent = len(watching.list_requests()) - before
    assert sent == 2 * reload_size, f"{sent} requests: the first click's and one reload for the other nine"
    assert window.sidebar.balance_detail.text().endswith(
        f"{big_company.PROPERTIES - 2} of {big_company.PROPERTIES} properties"
    )
    # Once the lists have their answers, the next click again reloads at once.
    watching.delay = 0.0
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rows[4].center())
    assert window.runner.busy
    wait_idle(qtbot, window)
    assert len(watching.list_requests()) - before == 3 * reload_size


# -- keyboard ------------------------------------------------------------------------------


def test_the_property_search_has_its_own_key_down_and_enter(
    qtbot: QtBot, watching: Watching, accounts: Accounts
) -> None:
    """Ctrl+F finds in the list; nothing reached the property search. In it, Down goes on to the
    properties found and Enter shows only those."""
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    sidebar = window.sidebar
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is sidebar.search_edit
    assert "Ctrl+Shift+F" in sidebar.search_edit.toolTip()
    qtbot.keyClicks(sidebar.search_edit, "0047")
    qtbot.keyClick(sidebar.search_edit, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is sidebar.list_view
    assert sidebar.list_view.currentIndex().data() == big_company.property_name(47)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is sidebar.search_edit
    assert sidebar.search_edit.selectedText() == "0047", "typed over next"
    qtbot.keyClick(sidebar.search_edit, Qt.Key.Key_Return)
    only = [p.name for p in window.properties_model.properties if p.id in window.properties_model.selected_ids()]
    assert only == [big_company.property_name(47)]
    assert window.runner.busy, "the lists reload for it"
    wait_idle(qtbot, window)
    invoices = window.tabs["invoices"]
    assert invoices.count_label.text() == f"{1 + big_company.PAID_EACH} invoices"


def test_the_invoice_count_groups_thousands(qtbot: QtBot, watching: Watching, accounts: Accounts) -> None:
    window = small_window(qtbot, manager_session(watching.origin), accounts)
    invoices = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(invoices)
    wait_idle(qtbot, window)
    assert invoices.count_label.text() == f"{big_company.INVOICES:,} invoices"
