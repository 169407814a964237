"""A table in a card, as the main window's lists look (list_tab.py): tall rows without grid lines,
the keyboard focus shown as a ring on the card, and in place of the rows an empty state that says
what to do or what went wrong, with Try again. One component for the staff screens' tables (Find
customer's results, Activity), so that they do not each grow their own copy of that look."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QFrame,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.views.empty_state import EmptyState
from app.views.list_look import set_up_list_table


class TableCard(QFrame):
    """Takes `table` into the card and styles it; the owner sets its model, columns and content.
    `retry_button` ("Try again") shows only with an empty state that reports a failure."""

    def __init__(self, table: QTableView, retry_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ListCard")  # style.qss: the card, and its focus ring
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.stack)
        self.table = table
        self.stack.addWidget(table)
        set_up_list_table(table)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        table.installEventFilter(self)
        self.empty = EmptyState(parent=self.stack)
        self.stack.addWidget(self.empty)
        self.retry_button = self.empty.add_action(QPushButton("Try again"))
        self.retry_button.setAccessibleName(retry_name)
        self.failed = False  # the empty state on screen reports a failure

    def show_rows(self) -> None:
        self.failed = False
        self.stack.setCurrentWidget(self.table)

    def show_empty(self, title: str, message: str, *, failed: bool = False) -> None:
        """Nothing to list, or (`failed`) a load that did not go through: then the offline icon
        and Try again, which the owner connects to loading once more."""
        self.failed = failed
        self.empty.set_text(title, message)
        self.empty.icon.set_icon("offline" if failed else "empty")
        self.retry_button.setVisible(failed)
        self.stack.setCurrentWidget(self.empty)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The card draws the table's focus ring (#ListCard[focused="true"]:active), as the main
        window's lists do. A window switch leaves the ring to the style sheet's :active, without a
        repolish, which would repaint every row (see activation.py)."""
        kind = event.type()
        if watched is self.table and kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            assert isinstance(event, QFocusEvent)
            if event.reason() != Qt.FocusReason.ActiveWindowFocusReason:
                self.setProperty("focused", kind == QEvent.Type.FocusIn)
                self.style().unpolish(self)
                self.style().polish(self)
        return super().eventFilter(watched, event)
