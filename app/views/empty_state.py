"""What a list shows when it has nothing to show, in the same shape everywhere (the tabs' lists,
Recent customers, Manage payments): an icon, a short title, one muted sentence that says why and,
where there is one, the next action as a button underneath."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.icon_label import IconLabel
from app.views.theme import named


class EmptyState(QWidget):
    def __init__(
        self, icon: str = "empty", icon_size: int = 84, text_width: int = 460, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        layout = QVBoxLayout(self)
        self.icon = IconLabel(icon, icon_size, self)
        self.title = named(QLabel("", self), "EmptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.message = named(QLabel("", self), "EmptyMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMaximumWidth(text_width)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(8)
        self.action_row.addStretch()
        self.action_row.addStretch()
        layout.addStretch(2)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(8)
        layout.addWidget(self.title)
        # Centred by stretches, not by an alignment flag: a word-wrapping label placed with an
        # alignment gets the height of its one-line width and clips the second line.
        message_row = QHBoxLayout()
        message_row.addStretch()
        message_row.addWidget(self.message, 1)
        message_row.addStretch()
        layout.addLayout(message_row)
        layout.addSpacing(8)
        layout.addLayout(self.action_row)
        layout.addStretch(3)

    def set_text(self, title: str, message: str) -> None:
        self.title.setText(title)
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def add_action(self, button: QPushButton) -> QPushButton:
        """A button for the next step, centred under the message (several sit side by side)."""
        button.setParent(self)
        button.setAutoDefault(False)
        self.action_row.insertWidget(self.action_row.count() - 1, button)
        return button
