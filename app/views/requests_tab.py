"""The Requests tab: the list plus "New request…" (RQ-2)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
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
        self.new_button.setToolTip("Report a problem or ask your service company something (Ctrl+N)")
        self.toolbar.addSpacing(4)
        self.toolbar.addWidget(self.new_button)
        self.new_button.clicked.connect(self.new_request_requested)
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.New), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.new_request_requested)
