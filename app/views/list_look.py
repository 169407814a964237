"""How every list table behaves and looks, the main window's lists (list_tab.py) and the staff
screens' tables (table_card.py) alike: whole rows selected one at a time, tall rows, no grid, one
line of text cut with "…", and Tab leaving the table (the arrow keys move within it), so keyboard
users are never trapped."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView

ROW_HEIGHT = 40


def set_up_list_table(table: QTableView) -> None:
    table.setTabKeyNavigation(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
