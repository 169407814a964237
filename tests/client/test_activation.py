"""Item views keep their pixels when their window is activated or deactivated (app/views/activation.py)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPaintEvent, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from pytestqt.qtbot import QtBot

from app.views.activation import SteadyTableView
from app.views.theme import apply_theme

pytestmark = pytest.mark.gui


class PaintedArea(QObject):
    """The viewport's pixels repainted, summed over its paint events (each one's bounding rectangle)."""

    def __init__(self, watched: QWidget) -> None:
        super().__init__(watched)
        self.pixels = 0
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            painted = event.region().boundingRect()
            self.pixels += painted.width() * painted.height()
        return False


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
    qtbot.wait(20)
    painted = PaintedArea(view.viewport())
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
