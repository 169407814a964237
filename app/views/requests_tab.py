"""The Requests tab: the list plus "New request…" (RQ-2)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget

from app.models.paged_table import PagedTableModel
from app.services.tasks import TaskRunner
from app.views.list_tab import ListTab, TabSpec
from app.views.theme import named


class RequestsTab(ListTab):
    new_request_requested = Signal()

    def __init__(
        self, spec: TabSpec, model: PagedTableModel, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, model, runner, parent)
        self.new_button = named(QPushButton("New request…"), "PrimaryButton")
        self.new_button.setAutoDefault(False)
        keys = QKeySequence(QKeySequence.StandardKey.New)
        self.new_button.setToolTip(
            "Report a problem or ask your service company something "
            f"({keys.toString(QKeySequence.SequenceFormat.NativeText)})"
        )
        self.toolbar.addSpacing(4)
        self.toolbar.addWidget(self.new_button)
        self.new_button.clicked.connect(self.new_request_requested)
        # The window's shortcut while this tab is shown (Qt skips hidden widgets' shortcuts): bound
        # to the tab's own children, the key did nothing right after picking the tab by its header
        # or with Ctrl+4, or from the property list, though the button beside it says it works.
        QShortcut(keys, self).activated.connect(self.new_request_requested)
