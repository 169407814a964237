"""Item views keep their pixels when their window is activated or deactivated (app/views/activation.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPaintEvent, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from pytestqt.qtbot import QtBot

from app.models.paged_table import Column, PagedTableModel
from app.services.records import Page
from app.services.tasks import TaskRunner
from app.views.activation import SteadyTableView
from app.views.list_tab import ListTab, TabSpec
from app.views.theme import apply_theme, colors

pytestmark = pytest.mark.gui


class PaintedArea(QObject):
    """The viewport's pixels repainted, summed over its paint events (each one's bounding rectangle)."""

    def __init__(self, watched: QWidget) -> None:
        super().__init__(watched)
        self.pixels = 0
        self.last_paint = time.monotonic()
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            painted = event.region().boundingRect()
            self.pixels += painted.width() * painted.height()
            self.last_paint = time.monotonic()
        return False

    def settle(self, qtbot: QtBot) -> None:
        """Waits out the paints already asked for (the window's first, the focus's), then counts from
        zero: on a loaded machine they come later than any fixed wait, and are no window switch's."""
        qtbot.waitUntil(lambda: time.monotonic() - self.last_paint >= QUIET_S, timeout=10_000)
        self.pixels = 0


# No paint for this long: whatever the set-up asked for has been painted.
QUIET_S = 0.25


def table(qtbot: QtBot, kind: type[QTableView]) -> QTableView:
    model = QStandardItemModel(30, 4)
    for row in range(30):
        for column in range(4):
            model.setItem(row, column, QStandardItem(f"{row}:{column}"))
    view = kind()
    view.setModel(model)
    view.setCurrentIndex(model.index(2, 1))
    model.setParent(view)
    qtbot.addWidget(view)
    return view


def repainted_over_a_window_switch(qtbot: QtBot, view: QTableView) -> int:
    """Shows `view`, activates another window and then `view`'s again; the viewport's pixels
    repainted meanwhile."""
    other = QWidget()
    qtbot.addWidget(other)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5000)
    painted = PaintedArea(view.viewport())
    painted.settle(qtbot)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(other.isActiveWindow, timeout=5000)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5000)
    qtbot.wait(20)
    return painted.pixels


def test_a_window_switch_repaints_no_list_whose_palette_looks_the_same(qtbot: QtBot) -> None:
    apply_theme(QApplication.instance())  # type: ignore[arg-type]
    plain = table(qtbot, QTableView)
    current = plain.visualRect(plain.currentIndex())
    item = current.width() * current.height()
    # Qt's own behaviour, which the mixin removes: the whole list, more than once
    assert repainted_over_a_window_switch(qtbot, plain) > 10 * item
    steady = table(qtbot, SteadyTableView)
    assert steady.palette().isEqual(QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)
    # at most the current item, whose focus look may change, on leaving and on return
    assert repainted_over_a_window_switch(qtbot, steady) <= 2 * item


def test_a_palette_that_greys_inactive_selections_still_repaints_the_list(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    sheet = app.styleSheet()
    app.setStyleSheet("")  # the app's sheet gives every group the same selection colour
    try:
        view = table(qtbot, SteadyTableView)
        palette = view.palette()
        palette.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight, QColor("#2060c0"))
        palette.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, QColor("#888888"))
        view.setPalette(palette)
        current = view.visualRect(view.currentIndex())
        assert repainted_over_a_window_switch(qtbot, view) > 10 * current.width() * current.height()
    finally:
        app.setStyleSheet(sheet)


@dataclass(frozen=True)
class Note:
    id: int
    text: str


def focused_list(qtbot: QtBot) -> ListTab:
    columns = (
        Column("text", "Text", lambda r: r.text, lambda r: r.text, elastic=True),
        Column("status", "Status", lambda r: "Open", lambda r: "open", status=lambda r: "open"),
    )
    tab = ListTab(TabSpec("notes", "Notes", "notes", (), "text"), PagedTableModel(columns), TaskRunner())
    qtbot.addWidget(tab)
    tab.resize(900, 600)
    tab.show()
    page = Page(tuple(Note(n, f"Note {n}") for n in range(40)), None, 40)
    tab.load(lambda cursor: page)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 40 and tab.table.isVisible(), timeout=5000)
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow, timeout=5000)
    tab.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(tab.table.hasFocus, timeout=5000)
    qtbot.wait(20)
    return tab


def ring_on_screen(tab: ListTab) -> str:
    """The colour on screen (the window's backing store, not a fresh rendering) of the card's
    second row of pixels, mid-width: the focus ring's inner line, or the card's background."""
    card = tab.card
    top = card.mapTo(tab, card.rect().topLeft())
    shot = tab.screen().grabWindow(tab.winId()).toImage()
    return shot.pixelColor(top.x() + card.width() // 2, top.y() + 1).name()


def activate(qtbot: QtBot, window: QWidget) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.wait(20)


def ring_as_drawn(tab: ListTab) -> str:
    """The same pixel in a fresh rendering of the card: what any later repaint would show."""
    return tab.card.grab().toImage().pixelColor(tab.card.width() // 2, 1).name()


def test_a_window_switch_repaints_a_focused_lists_ring_but_not_its_rows(qtbot: QtBot) -> None:
    """The card draws the table's focus ring, which goes with the focus to another window and
    comes back with it, as every focus look does; the rows meanwhile repaint no more than the
    current one (a repolish of the card repainted the whole list at both switches)."""
    apply_theme(QApplication.instance())  # type: ignore[arg-type]
    tab = focused_list(qtbot)
    table = tab.table
    current = table.visualRect(table.currentIndex())
    assert current.isValid()
    assert ring_on_screen(tab) == colors().focus
    painted = PaintedArea(table.viewport())
    painted.settle(qtbot)
    other = QWidget()
    qtbot.addWidget(other)
    activate(qtbot, other)
    assert ring_on_screen(tab) == colors().surface, "the ring stayed in a window without the focus"
    activate(qtbot, tab)
    assert table.hasFocus() and ring_on_screen(tab) == colors().focus
    assert painted.pixels <= 2 * current.width() * current.height()


def test_the_ring_follows_focus_given_while_the_window_was_inactive(qtbot: QtBot) -> None:
    """Focus given in an inactive window moves without focus events: the ring must not come back
    around a table that no longer has the focus, nor stay away from one that got it."""
    apply_theme(QApplication.instance())  # type: ignore[arg-type]
    tab = focused_list(qtbot)
    other = QWidget()
    qtbot.addWidget(other)
    activate(qtbot, other)
    tab.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    activate(qtbot, tab)
    assert tab.search_edit.hasFocus()
    assert ring_on_screen(tab) == ring_as_drawn(tab) == colors().surface
    activate(qtbot, other)
    tab.table.setFocus(Qt.FocusReason.OtherFocusReason)
    activate(qtbot, tab)
    assert tab.table.hasFocus()
    assert ring_on_screen(tab) == ring_as_drawn(tab) == colors().focus
