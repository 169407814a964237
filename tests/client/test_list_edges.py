"""A list's rows reach the right edge of their card, on a short list as on a long one: the scroll
bar lies over them (app/views/overlay_scroll_bar.py) instead of keeping a strip of its own, and
the viewport keeps one width whatever the row count (a width that changed with it laid out and
painted every such page twice)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollBar, QStyle, QStyleOptionSlider
from pytestqt.qtbot import QtBot

from app.models.paged_table import Column, PagedTableModel
from app.services.records import Page
from app.services.tasks import TaskRunner
from app.views import theme
from app.views.list_tab import ListTab, TabSpec

pytestmark = pytest.mark.gui


@dataclass(frozen=True)
class Note:
    id: int
    number: str
    text: str


COLUMNS = (
    Column("text", "Text", lambda r: r.text, lambda r: r.text, elastic=True),
    Column("status", "Status", lambda r: "Open", lambda r: "open", status=lambda r: "open"),
    Column("number", "Number", lambda r: r.number, lambda r: r.number, numeric=True),
)


@pytest.fixture(autouse=True)
def themed() -> Iterator[None]:
    yield
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet("")
    app.setPalette(app.style().standardPalette())


def apply(scheme: theme.SchemeChoice) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(app, scheme)


def load(qtbot: QtBot, tab: ListTab, rows: int) -> None:
    page = Page(tuple(Note(n, f"N-{n}", f"Note {n}") for n in range(rows)), None, rows)
    tab.load(lambda cursor: page)
    qtbot.waitUntil(lambda: tab.model.rowCount() == rows and tab.table.isVisible(), timeout=10000)
    qtbot.wait(30)  # the columns fit on the next turn of the event loop


def shown_list(qtbot: QtBot, rows: int) -> ListTab:
    tab = ListTab(TabSpec("notes", "Notes", "notes", (), "text"), PagedTableModel(COLUMNS), TaskRunner())
    qtbot.addWidget(tab)
    tab.resize(900, 600)
    tab.show()
    qtbot.waitExposed(tab)
    load(qtbot, tab, rows)
    return tab


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_short_lists_rows_run_to_the_right_edge(qtbot: QtBot, scheme: theme.SchemeChoice) -> None:
    """The table's right-most pixels continue each row: its background, alternate colour,
    selection and row line, and the header's line; not the bare card of a kept scroll bar room."""
    apply(scheme)
    tab = shown_list(qtbot, 4)
    table = tab.table
    table.selectRow(2)
    qtbot.wait(30)
    assert not tab.scroll_bar.isVisible()
    image = table.grab().toImage()
    edge, top = table.width() - 1, table.viewport().y()
    colors = theme.colors()
    for row, background in enumerate((colors.surface, colors.surface_alt, colors.selection, colors.surface_alt)):
        y = top + table.rowViewportPosition(row)
        height = table.rowHeight(row)
        assert image.pixelColor(edge, y + height // 2).name() == background, (scheme, row)
        assert image.pixelColor(edge, y + height - 1).name() == colors.row_line, (scheme, row)
    header = table.horizontalHeader()
    assert image.pixelColor(edge, header.geometry().bottom()).name() == colors.border


def test_the_viewport_keeps_its_width_between_a_short_and_a_long_list(qtbot: QtBot) -> None:
    apply("light")
    tab = shown_list(qtbot, 4)
    table, bar = tab.table, tab.scroll_bar
    width = table.viewport().width()
    assert width == table.width(), "no room kept beside the rows"
    assert not bar.isVisible()
    load(qtbot, tab, 60)
    assert bar.isVisible() and table.viewport().width() == width
    header = table.horizontalHeader()
    assert header.width() == width
    assert sum(header.sectionSize(i) for i in range(header.count())) == width, "the header over its columns"
    load(qtbot, tab, 3)
    assert not bar.isVisible() and table.viewport().width() == width


def test_the_bar_over_a_long_list_scrolls_it(qtbot: QtBot) -> None:
    """Dragged, wheeled or following the keyboard, the bar on screen and the list move together."""
    apply("light")
    tab = shown_list(qtbot, 60)
    table, bar, model = tab.table, tab.scroll_bar, tab.table.verticalScrollBar()
    viewport = table.viewport().geometry()
    assert bar.isVisible() and bar.maximum() == model.maximum() > 0
    assert (bar.geometry().right(), bar.geometry().top(), bar.height()) == (
        viewport.right(),
        viewport.top(),
        viewport.height(),
    )
    # a drag of the handle (at the top of the track while the list is at its top)
    qtbot.mousePress(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() // 2, 10))
    for step in range(1, 5):
        qtbot.mouseMove(bar, QPoint(bar.width() // 2, 10 + 25 * step))
    qtbot.mouseRelease(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() // 2, 110))
    dragged = model.value()
    assert dragged > 0 and bar.value() == dragged
    # the wheel over the bar scrolls as over the rows
    at = QPointF(bar.width() / 2, 50)
    wheel = QWheelEvent(
        at,
        bar.mapToGlobal(at),
        QPoint(),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(bar, wheel)
    assert model.value() > dragged and bar.value() == model.value()
    # the keyboard moves the list, and the bar follows
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.value() == model.maximum(), timeout=5000)
    assert bar.value() == bar.maximum()


def handle_rect(bar: QScrollBar) -> QRect:
    option = QStyleOptionSlider()
    bar.initStyleOption(option)
    return bar.style().subControlRect(
        QStyle.ComplexControl.CC_ScrollBar, option, QStyle.SubControl.SC_ScrollBarSlider, bar
    )


def test_a_click_beside_the_handle_selects_the_row_under_the_bar(qtbot: QtBot) -> None:
    """The bar lies over the rows' right-most pixels, where the amounts are: only its handle takes
    the mouse, so a click on the bare track there selects the row, as anywhere else on it."""
    apply("light")
    tab = shown_list(qtbot, 60)
    table, bar = tab.table, tab.scroll_bar
    window = tab.window().windowHandle()
    handle_bottom = handle_rect(bar).bottom()
    assert bar.isVisible() and 0 < handle_bottom < bar.height() - 2 * table.rowHeight(0)
    row = table.rowAt(handle_bottom + table.rowHeight(0))  # a row beside the track, below the handle
    on_track = bar.mapTo(tab, QPoint(bar.width() - 2, table.rowViewportPosition(row) + table.rowHeight(row) // 2))
    assert bar.geometry().contains(bar.parentWidget().mapFrom(tab, on_track))
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, on_track)
    assert table.currentIndex().row() == row and table.selectionModel().isRowSelected(row)
    assert tab.table.verticalScrollBar().value() == 0, "the click did not page the list"
    # the handle still takes the mouse where it is
    on_handle = bar.mapTo(tab, QPoint(bar.width() // 2, handle_rect(bar).center().y()))
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, on_handle)
    QTest.mouseMove(window, on_handle + QPoint(0, 60))
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, on_handle + QPoint(0, 60))
    assert tab.table.verticalScrollBar().value() > 0 and handle_rect(bar).top() > 0


def test_the_bars_mouse_area_follows_its_handle_as_the_list_grows(qtbot: QtBot) -> None:
    """The bar mirrors the list's range with its own signals blocked: the area taking the mouse
    stayed the first page's long handle after more rows came, and a click under the new, shorter
    handle paged the list instead of selecting the row."""
    apply("light")
    tab = shown_list(qtbot, 40)
    bar = tab.scroll_bar
    assert bar.mask().boundingRect() == handle_rect(bar)
    load(qtbot, tab, 400)
    assert handle_rect(bar).height() < 60
    assert bar.mask().boundingRect() == handle_rect(bar)
