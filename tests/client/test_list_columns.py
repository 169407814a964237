"""The lists' columns at the size office PCs run the app (1280 x 800): every header whole; numbers,
dates, money and statuses never elided, on the tabs that were hidden while their first page
arrived too; the user's own widths stand once they drag one, and are kept with the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.models.lists import RequestsModel
from app.models.roles import Role
from app.services.accounts import Accounts
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.services.tasks import TaskRunner
from app.views import theme
from app.views.list_tab import MIN_ELASTIC_WIDTH, ListTab, TabSpec, share_shortfall
from app.views.main_window import MainWindow
from tests.client import company
from tests.client.live_server import LivePortal, _server_available, running_portal

pytestmark = pytest.mark.gui

AVERY = "avery@example.com"
# As long as the demo company's: what used to push "Services" down to "Mowi…" at 1280 px.
PROPERTIES = {"riverside": "Riverside Office Park", "cedar-ridge": "Cedar Ridge Clubhouse"}
SERVICES = ["Mowing", "Edging & trimming"]


def _avery(doc: dict[str, Any], today: date) -> None:
    doc["contacts"].append(
        {"key": "avery", "branch": "east", "name": "Avery Wide", "email": AVERY, "phone": "555-0177"}
        | {"password": company.PASSWORD}
    )
    for key, name in PROPERTIES.items():
        doc["properties"].append(
            {
                "key": key,
                "branch": "east",
                "name": name,
                "address": f"1200 {name} Boulevard, Springfield",
                "account_owner": "rep",
                "sales_rep": "rep",
                "contacts": [{"contact": "avery", "role": "primary"}],
                "unapplied_credits": "0.00",
            }
        )
        for n in range(6):
            day = today - timedelta(days=30 * n)
            doc["invoices"].append(
                {
                    "key": f"{key}-inv-{n}",
                    "property": key,
                    "number": f"INV-26{11 - n}-{key[:3].upper()}",
                    "billing_contact": "avery",
                    "proposal": None,
                    "invoice_date": day.isoformat(),
                    "net_terms_days": 30,
                    "shared": True,
                    "applied_credits": "0.00",
                    "lines": [
                        {"service": service, "description": service, "visit": None, "amount": "2058.00"}
                        for service in SERVICES
                    ],
                    "payments": [],
                }
            )
            doc["visits"].append(
                {
                    "key": f"{key}-visit-{n}",
                    "property": key,
                    "date": (today + timedelta(days=3 + 7 * n)).isoformat(),
                    "status": "scheduled",
                    "services": SERVICES,
                    "notes": [],
                }
            )
        doc["proposals"].append(
            {
                "key": f"{key}-opp",
                "property": key,
                "number": f"OPP-N1099-{key[:3].upper()}-CO1",
                "title": "Change order: add drip line to the front beds and replace the controller",
                "opportunity_type": "work_order",
                "opportunity_status": "delivered",
                "shared_on": (today - timedelta(days=3)).isoformat(),
                "sales_rep": "rep",
                "change_order_of": None,
                "items": [
                    {
                        "key": f"{key}-opp-1",
                        "description": "Labour",
                        "quantity": "100",
                        "unit_price": "1234.56",
                        "optional": False,
                    }
                ],
            }
        )
        doc["requests"].append(
            {
                "key": f"{key}-req",
                "property": key,
                "number": f"REQ-{key[:3].upper()}-1034",
                "subject": "Question about the fall cleanup price and the extra mulch delivery",
                "description": "Please call me.",
                "include_client": True,
                "status": "open",
                "comments": [{"author": "rep", "body": "We will call you.", "public": True}],
            }
        )


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    if not _server_available():
        pytest.skip("the portal server is not in this checkout yet")
    today = date.today()
    document = company.build(today)
    _avery(document, today)
    with running_portal(tmp_path_factory.mktemp("columns-portal"), document) as live:
        yield live


@pytest.fixture
def session(portal: LivePortal) -> Iterator[PortalSession]:
    opened = sign_in(portal.portal_url("east"), AVERY, company.PASSWORD)
    yield opened
    opened.client.close()


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    return Accounts(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))


@pytest.fixture(autouse=True)
def themed() -> Iterator[None]:
    """Column widths depend on the style sheet's fonts and paddings: measure what users see."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(app, "light")
    yield
    app.setStyleSheet("")
    app.setPalette(app.style().standardPalette())


def open_window(qtbot: QtBot, session: PortalSession, accounts: Accounts) -> MainWindow:
    window = MainWindow(session, accounts)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    return window


def show_tab(qtbot: QtBot, window: MainWindow, key: str) -> ListTab:
    tab = window.tabs[key]
    window.tab_widget.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.table.isVisible() and tab.model.rowCount() > 0, timeout=10000)
    qtbot.wait(30)  # the fit runs on the next turn of the event loop after the table shows
    return tab


def clipped_columns(tab: ListTab) -> list[str]:
    """Columns whose header is cut, or whose cells are cut though they are not descriptive text.
    Qt's own measure (what "resize to contents" would give) and the text's width are both checked."""
    table, header = tab.table, tab.table.horizontalHeader()
    metrics = table.fontMetrics()
    problems = []
    for index, column in enumerate(tab.model.columns):
        width = header.sectionSize(index)
        if width < header.sectionSizeHint(index):
            problems.append(f"{column.key}: header needs {header.sectionSizeHint(index)}, has {width}")
        if column.elastic:
            continue
        short = column.short if index in tab.cells.short_columns else None  # painted "12/16/26"
        if short is None and width < table.sizeHintForColumn(index):
            problems.append(f"{column.key}: cells need {table.sizeHintForColumn(index)}, have {width}")
        for row in range(tab.proxy.rowCount()):
            text = str(tab.proxy.index(row, index).data() or "")
            if short is not None:
                text = short(tab.proxy.index(row, index).data(Role.RECORD))
            if column.status is None and metrics.horizontalAdvance(text) + 16 > width:  # 8 px padding a side
                problems.append(f"{column.key}: {text!r} is cut at {width} px")
                break
    return problems


def test_every_tab_at_1280_shows_whole_headers_and_never_cuts_numbers_dates_or_money(
    qtbot: QtBot, session: PortalSession, accounts: Accounts
) -> None:
    window = open_window(qtbot, session, accounts)
    # Every tab loaded its first page at start-up, while only the first one was showing.
    for key in window._visible_tab_keys():
        tab = show_tab(qtbot, window, key)
        assert clipped_columns(tab) == [], key
        header = tab.table.horizontalHeader()
        assert sum(header.sectionSize(i) for i in range(header.count())) <= tab.table.viewport().width(), key
        for index, column in enumerate(tab.model.columns):
            if column.elastic:  # descriptive text may be elided, but keeps a readable width
                assert header.sectionSize(index) >= MIN_ELASTIC_WIDTH, (key, column.key)
    # Where descriptive text is cut, no column was cut to a stub for another's sake: an invoice's
    # property and its services, a request's subject and its property, share the shortfall.
    for key, pair in (("invoices", ("property", "services")), ("requests", ("subject", "property"))):
        tab = window.tabs[key]
        header = tab.table.horizontalHeader()
        for column_key in pair:
            index = tab.model.column_index(column_key)
            if header.sectionSize(index) < tab.table.sizeHintForColumn(index):
                assert header.sectionSize(index) > MIN_ELASTIC_WIDTH + 20, (key, column_key)
    requests = window.tabs["requests"]
    subject = requests.model.column_index("subject")
    assert requests.table.horizontalHeader().sectionSize(subject) < requests.table.sizeHintForColumn(subject), (
        "the test data's subjects are longer than 1280 px leave room for"
    )


def test_a_shortfall_is_taken_from_the_widest_column_first_down_to_the_next() -> None:
    # {column: (width, floor)}: 60 px to find; the 250 px column gives them all and is still wider.
    assert share_shortfall(60, {1: (250, 100), 2: (150, 100)}) == {1: 60}
    # A title hundreds of pixels wide gives before a property's name loses a letter.
    assert share_shortfall(150, {1: (600, 100), 2: (180, 120)}) == {1: 150}
    # Once level, both give alike: 600 -> 180 costs 420, the last 80 are split.
    assert share_shortfall(500, {1: (600, 100), 2: (180, 100)}) == {1: 460, 2: 40}
    assert share_shortfall(0, {1: (250, 100)}) == {}
    # Never below a floor: only what there is above them is given, however short the room.
    assert share_shortfall(500, {1: (250, 100), 2: (100, 100), 3: (130, 100)}) == {1: 150, 3: 30}
    cuts = share_shortfall(7, {1: (200, 100), 2: (200, 100), 3: (200, 100)})
    assert sum(cuts.values()) == 7 and max(cuts.values()) - min(cuts.values()) <= 1


def test_the_scroll_bar_shows_only_when_there_is_something_to_scroll(
    qtbot: QtBot, session: PortalSession, accounts: Accounts
) -> None:
    """It lies over the rows, taking no room (a viewport that changed width with the row count
    laid out and painted every such page twice), and a short list shows no empty track."""
    window = open_window(qtbot, session, accounts)
    tab = show_tab(qtbot, window, "invoices")
    bar = tab.scroll_bar
    assert bar.maximum() == 0 and not bar.isVisible()
    width = tab.table.viewport().width()
    window.resize(1280, 480)
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5000)
    assert bar.isVisible()
    assert tab.table.viewport().width() == width
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: bar.maximum() == 0, timeout=5000)
    assert not bar.isVisible()
    assert tab.table.viewport().width() == width


def test_a_list_short_from_the_start_shows_no_scroll_bar(qtbot: QtBot, session: PortalSession) -> None:
    """The bar hid only when `rangeChanged` fired. A table laid out at its full size before its
    rows arrive keeps the range 0..0 throughout, so the signal never fires and an empty track
    showed beside a short list. (In the tabs the table is a page of a stack that is not sized
    while hidden, which happened to hide the bug.) No resize here: the test above has them."""
    tab = ListTab(TabSpec("requests", "Requests", "requests", (), "subject"), RequestsModel(), TaskRunner())
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.stack.setCurrentWidget(tab.table)
    tab.show()
    qtbot.waitExposed(tab)
    bar = tab.scroll_bar
    assert tab.table.isVisible() and (bar.minimum(), bar.maximum()) == (0, 0)
    assert not bar.isVisible(), "an empty track beside an empty table"
    client = session.client
    tab.load(lambda cursor: client.requests(cursor=cursor))
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2 and tab.table.isVisible(), timeout=10000)
    qtbot.wait(30)
    assert (bar.minimum(), bar.maximum()) == (0, 0)
    assert not bar.isVisible(), "an empty track beside a two-row list"


def test_columns_fit_again_when_the_window_changes_width(
    qtbot: QtBot, session: PortalSession, accounts: Accounts
) -> None:
    window = open_window(qtbot, session, accounts)
    tab = show_tab(qtbot, window, "invoices")
    header = tab.table.horizontalHeader()
    services = tab.model.column_index("services")
    wide = header.sectionSize(services)
    window.resize(1100, 800)
    qtbot.waitUntil(lambda: header.sectionSize(services) < wide, timeout=5000)
    qtbot.wait(30)
    assert clipped_columns(tab) == []
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: header.sectionSize(services) >= wide, timeout=5000)


def drag_handle(qtbot: QtBot, tab: ListTab, index: int, by: int) -> None:
    """A real drag on the handle at the right edge of column `index`."""
    header = tab.table.horizontalHeader()
    edge = header.sectionViewportPosition(index) + header.sectionSize(index) - 1
    y = header.height() // 2
    viewport = header.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=QPoint(edge, y))
    for step in range(1, 5):
        qtbot.mouseMove(viewport, QPoint(edge + by * step // 4, y))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(edge + by, y))


def test_the_users_column_widths_stand_and_are_kept_with_the_window(
    qtbot: QtBot, session: PortalSession, accounts: Accounts
) -> None:
    window = open_window(qtbot, session, accounts)
    tab = show_tab(qtbot, window, "invoices")
    header = tab.table.horizontalHeader()
    number = tab.model.column_index("number")
    assert tab.column_widths() == [], "fitted widths are not saved: they would stop fitting another window size"
    before = header.sectionSize(number)
    drag_handle(qtbot, tab, number, 40)
    assert tab.columns_sized_by_user
    dragged = header.sectionSize(number)
    assert dragged > before
    window.resize(1150, 800)
    qtbot.wait(100)
    assert header.sectionSize(number) == dragged, "a resize does not undo what the user set"
    window.close()
    assert accounts.settings.column_widths("invoices")[number] == dragged

    again = open_window(qtbot, session, accounts)
    restored = show_tab(qtbot, again, "invoices")
    assert restored.columns_sized_by_user
    assert restored.table.horizontalHeader().sectionSize(number) == dragged
    restored.reset_column_widths()  # "Fit columns to the window" on the header's menu
    qtbot.wait(30)
    assert not restored.columns_sized_by_user
    assert restored.table.horizontalHeader().sectionSize(number) < dragged
    assert clipped_columns(restored) == []


def ink_runs(tab: ListTab, index: int) -> list[tuple[int, int]]:
    """The runs of pixel columns in a header section where something is drawn (text, arrow)."""
    header = tab.table.horizontalHeader()
    header.viewport().repaint()
    image = header.viewport().grab().toImage()
    left = header.sectionViewportPosition(index)
    background = image.pixelColor(left + 2, 2).lightness()
    runs: list[tuple[int, int]] = []
    for x in range(left, left + header.sectionSize(index)):
        inked = any(abs(image.pixelColor(x, y).lightness() - background) > 60 for y in range(2, image.height() - 3))
        if inked and runs and runs[-1][1] == x - 1:
            runs[-1] = (runs[-1][0], x)
        elif inked:
            runs.append((x, x))
    return [(start - left, end - left) for start, end in runs]


def test_a_sorted_column_keeps_room_for_its_arrow_beside_the_text(
    qtbot: QtBot, session: PortalSession, accounts: Accounts
) -> None:
    """Qt draws the sort arrow at the section's right edge, where a right-aligned header's text
    (money, dates) ends: the two overlapped. The sorted header's text now ends before the arrow."""
    window = open_window(qtbot, session, accounts)
    tab = show_tab(qtbot, window, "invoices")
    header = tab.table.horizontalHeader()
    for key in ("balance", "due_date", "number"):
        index = tab.model.column_index(key)
        text = ink_runs(tab, index)  # unsorted: the whole label
        text_width = text[-1][1] - text[0][0]
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            tab.table.sortByColumn(index, order)  # what a click on the header does
            qtbot.wait(30)  # the columns fit again on the next turn of the event loop
            *label, arrow = ink_runs(tab, index)
            assert label[-1][1] - label[0][0] == text_width, f"{key}: the label is whole"
            assert arrow[0] - label[-1][1] > 3, f"{key}: a gap between the label and the arrow"
            assert arrow[1] - arrow[0] <= 10, f"{key}: one arrow"
            assert header.sectionSize(index) - arrow[1] >= 8, f"{key}: the arrow stays inside its section"
        assert clipped_columns(tab) == []
