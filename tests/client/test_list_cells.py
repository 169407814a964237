"""The lists' hand-painted cells (app/views/list_cells.py) look exactly as Qt paints an item with the
app's style sheet: same background, row line, padding, vertical centring, right alignment and
elision, pixel for pixel, in both themes and at any font size; status cells get their chip; a theme
switch or a font change is followed on the next paint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage
from PySide6.QtWidgets import QAbstractItemView, QApplication, QStyledItemDelegate
from pytestqt.qtbot import QtBot

from app.models.paged_table import Column, PagedTableModel
from app.services.records import Page
from app.views import theme
from app.views.activation import SteadyTableView
from app.views.list_cells import ListCellDelegate
from app.views.proxy import MultiDataProxy

pytestmark = pytest.mark.gui

ROW_HEIGHT = 40  # as list_tab sets it (the visits tab: 46)
TEXT_COLUMNS = 3  # the first columns hold plain text; the last one a status


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    amount: str
    day: date
    status: str


COLUMNS = (
    Column("name", "Name", lambda r: r.name, lambda r: r.name, elastic=True),
    Column("amount", "Amount", lambda r: r.amount, lambda r: r.amount, numeric=True),
    Column("day", "Day", lambda r: f"{r.day:%b %d, %Y}", lambda r: r.day),
    Column("status", "Status", lambda r: r.status.title(), lambda r: r.status, status=lambda r: r.status),
)
STATUSES = ("due", "paid", "overdue", "pending")
ROWS = tuple(
    Row(
        i,
        f"Riverside Office Park, building {i} (gjpqy)" * (1 + i % 2),  # every other name is elided
        f"${i * 1234.57:,.2f}",
        date(2026, 11, 1 + i),
        STATUSES[i % len(STATUSES)],
    )
    for i in range(9)
)


@pytest.fixture(autouse=True)
def light_theme_again(qapp: QApplication) -> Iterator[None]:
    yield
    theme.apply_theme(qapp, "light")


def make_table(qtbot: QtBot, hand_painted: bool, row_height: int = ROW_HEIGHT) -> SteadyTableView:
    """A table set up as list_tab sets up its tables, with Qt's delegate or the hand-painted one."""
    model = PagedTableModel(COLUMNS)
    model.set_page(Page(ROWS, None, len(ROWS)))
    proxy = MultiDataProxy()
    proxy.setSourceModel(model)
    table = SteadyTableView()
    qtbot.addWidget(table)
    table.setModel(proxy)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(row_height)
    if hand_painted:
        table.setItemDelegate(ListCellDelegate(proxy, model, table))
    else:
        table.setItemDelegate(QStyledItemDelegate(table))
    for column, width in enumerate((230, 130, 120, 120)):
        table.setColumnWidth(column, width)
    table.resize(640, row_height * 8)
    table.selectRow(2)
    table.show()
    qtbot.waitExposed(table)
    table._keep = (model, proxy)  # type: ignore[attr-defined]  # the view does not own them
    return table


def text_columns(table: SteadyTableView) -> QImage:
    width = sum(table.columnWidth(column) for column in range(TEXT_COLUMNS))
    image = table.viewport().grab().toImage()
    return image.copy(QRect(0, 0, width, image.height()))


def differing_pixels(first: QImage, second: QImage) -> int:
    assert first.size() == second.size()
    return sum(
        1 for y in range(first.height()) for x in range(first.width()) if first.pixel(x, y) != second.pixel(x, y)
    )


def has_color(image: QImage, rect: QRect, color: str) -> bool:
    wanted = QColor(color).rgb()
    return any(
        image.pixel(x, y) == wanted
        for y in range(rect.top(), rect.bottom() + 1)
        for x in range(rect.left(), rect.right())
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_cells_are_painted_as_qt_paints_them_with_the_style_sheet(
    qtbot: QtBot, qapp: QApplication, scheme: theme.SchemeChoice
) -> None:
    theme.apply_theme(qapp, scheme)
    qt_painted, hand_painted = make_table(qtbot, False), make_table(qtbot, True)
    assert differing_pixels(text_columns(qt_painted), text_columns(hand_painted)) == 0


@pytest.mark.parametrize(("point_size", "row_height"), [(8, 40), (11, 46), (13, 41)])
def test_text_stays_where_qt_puts_it_at_other_font_sizes_and_row_heights(
    qtbot: QtBot, qapp: QApplication, point_size: int, row_height: int
) -> None:
    """Qt centres the text line by halving the cell's and the line's heights separately; the
    hand-painted cells must round the same way or their text moves by a pixel at some sizes."""
    theme.apply_theme(qapp, "light")
    tables = [make_table(qtbot, hand, row_height) for hand in (False, True)]
    for table in tables:
        font = QFont(table.font())
        font.setPointSize(point_size)
        table.setFont(font)
    assert differing_pixels(*(text_columns(t) for t in tables)) == 0


def test_a_status_cell_shows_its_chip_in_the_status_colours(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply_theme(qapp, "light")
    table = make_table(qtbot, True)
    image = table.viewport().grab().toImage()
    for row in (0, 1):  # unselected rows: "due", "paid"
        cell = table.visualRect(table.model().index(row, TEXT_COLUMNS))
        background, foreground = theme.chip_colors(STATUSES[row])
        assert has_color(image, cell, background)
        assert has_color(image, cell, foreground)  # the chip's label
        assert not has_color(image, cell.adjusted(0, 0, 0, -1), theme.colors().text)  # no plain text behind it


def test_a_theme_switch_repaints_the_cells_in_the_new_colours(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply_theme(qapp, "light")
    table = make_table(qtbot, True)
    table.viewport().grab()  # painted once in light: the delegate has worked out its look
    theme.apply_theme(qapp, "dark")
    image = table.viewport().grab().toImage()
    selected = table.visualRect(table.model().index(2, 0))
    alternate = table.visualRect(table.model().index(1, 0))
    assert has_color(image, selected, theme.DARK.selection)
    assert has_color(image, alternate, theme.DARK.surface_alt)
    assert not has_color(image, alternate, theme.LIGHT.surface_alt)
    assert differing_pixels(text_columns(make_table(qtbot, False)), text_columns(table)) == 0


def test_first_second_and_later_paints_of_a_text_are_the_same_pixels(qtbot: QtBot, qapp: QApplication) -> None:
    """A text is drawn plainly the first time, laid out the second time and drawn from its layout
    after that; all three land on the same pixels as Qt's own. Repainting also shows that the
    delegate keeps copies of the option's font and palette colours: PySide hands out the option's
    own, which die with it (keeping those crashed the next paint)."""
    theme.apply_theme(qapp, "light")
    qt_painted = text_columns(make_table(qtbot, False))
    table = make_table(qtbot, True)
    model, proxy = table._keep  # type: ignore[attr-defined]
    table.setItemDelegate(ListCellDelegate(proxy, model, table))  # nothing measured or laid out yet
    for _ in range(3):
        assert differing_pixels(qt_painted, text_columns(table)) == 0
