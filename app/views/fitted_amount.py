"""An amount of money that is never cut: drawn smaller, step by step, until it fits its width.

The sidebar's balance (PF-3) is in a large bold font; in the 235 px sidebar of a 1000 px window
$950,260.72 read "$950,260.7" and $12,345,678.90 "$12,345,67": a wrong amount, not merely a
shortened one. The style sheet chooses the largest size (so the theme still decides the look);
below it the label steps down, and its minimum width is the amount at the smallest step, so a
layout that cannot give even that makes the pane wider rather than cut a digit."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

STEP_PT = 1.0
SMALLEST_PT = 10.0


class FittedAmount(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def _sizes(self) -> list[float]:
        largest = self.font().pointSizeF()
        if largest <= 0:  # a font sized in pixels: as it is
            return [largest]
        sizes = [largest]
        while sizes[-1] - STEP_PT >= SMALLEST_PT:
            sizes.append(sizes[-1] - STEP_PT)
        return sizes

    def _font(self, size: float) -> QFont:
        font = QFont(self.font())
        if size > 0:
            font.setPointSizeF(size)
        return font

    def shown_font(self) -> QFont:
        """The largest step at which the whole text fits the label's width (else the smallest)."""
        width = self.contentsRect().width()
        sizes = self._sizes()
        for size in sizes:
            font = self._font(size)
            if QFontMetrics(font).horizontalAdvance(self.text()) <= width:
                return font
        return self._font(sizes[-1])

    def minimumSizeHint(self) -> QSize:
        smallest = QFontMetrics(self._font(self._sizes()[-1]))
        margins = self.contentsMargins()
        width = smallest.horizontalAdvance(self.text()) + margins.left() + margins.right()
        return QSize(width, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setFont(self.shown_font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.text())
