"""Lists inside a dialog that ask for room for a few rows only and scroll the rest within themselves.

A payment of a hundred invoices listed every one of them in the pay window, which grew to 1482 px:
Continue and Pay were below the bottom of a 768 px laptop's screen. Asking for a few rows keeps the
window's buttons on screen; a window the user makes taller still gives the list the room."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QTableWidget


class ShortTable(QTableWidget):
    """A table whose preferred height is its header and at most `rows` rows."""

    def __init__(self, rows: int, columns: int, shown_rows: int) -> None:
        super().__init__(rows, columns)
        self._shown_rows = shown_rows

    def _height_for(self, rows: int) -> int:
        header = self.horizontalHeader().sizeHint().height()
        scroll_bar = self.horizontalScrollBar().sizeHint().height()
        return header + rows * self.verticalHeader().defaultSectionSize() + 2 * self.frameWidth() + scroll_bar

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._height_for(min(self.rowCount(), self._shown_rows)))

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self._height_for(min(self.rowCount(), 2)))


class ShortText(QScrollArea):
    """A word-wrapped label in a frameless scroll area that asks for at most `lines` lines of height:
    its text may be as long as it needs (one line per invoice), the rest scrolls."""

    def __init__(self, label: QLabel, lines: int) -> None:
        super().__init__()
        self.label = label
        self._lines = lines
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The label's own background, not the scroll area's viewport colour, behind the text.
        self.viewport().setAutoFillBackground(False)
        label.setAutoFillBackground(False)
        label.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.label and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # new text: the window fits itself to the new height
        return False

    def _text_height(self) -> int:
        width = self.viewport().width() if self.isVisible() else self.width()
        width = max(width - self.verticalScrollBar().sizeHint().width(), 200)
        return self.label.heightForWidth(width) if self.label.hasHeightForWidth() else self.label.sizeHint().height()

    def sizeHint(self) -> QSize:
        cap = self.label.fontMetrics().lineSpacing() * self._lines
        return QSize(super().sizeHint().width(), min(self._text_height(), cap) + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        lines = self.label.fontMetrics().lineSpacing() * 2
        return QSize(super().minimumSizeHint().width(), min(self._text_height(), lines) + 2 * self.frameWidth())
