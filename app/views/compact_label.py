"""A one-line label that gives up width before the row it is in runs past the window's edge.

A list's toolbar is one row: with the portal unreachable, "Not up to date · as loaded at 6:44 PM"
beside "Pay selected (2)" and the search box held the main window at about 1230 px, wider than a
1366 x 768 laptop at 125 % offers. This label shows the longest of its forms that fits (the whole
text, then shorter wordings) and elides the shortest; `text()` stays the whole text, for screen
readers and for the tooltip of a shortened one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

LONGEST_KEPT = 120  # px: a shortest form up to this wide is never elided ("Not up to date", "28 invoices")


class CompactLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._shorter: tuple[str, ...] = ()
        self._own_tooltip = ""

    def set_text(self, text: str, *shorter: str) -> None:
        """`text`, and the shorter wordings (longest first) shown in turn where it does not fit."""
        self._shorter = shorter
        super().setText(text)
        self._update_tooltip()

    def setText(self, text: str) -> None:
        """A text with no shorter forms (elided where it does not fit)."""
        self.set_text(text)

    def setToolTip(self, tip: str) -> None:
        self._own_tooltip = tip
        self._update_tooltip()

    def minimumSizeHint(self) -> QSize:
        """Room for the shortest form ("Not up to date", "28 invoices"), or for a stub of a long one."""
        hint = super().minimumSizeHint()
        metrics = self.fontMetrics()
        shortest = self._shorter[-1] if self._shorter else self.text()
        room = min(metrics.horizontalAdvance(shortest), LONGEST_KEPT)  # a longer one is elided to this
        hint.setWidth(min(hint.width(), room + self._frame_width()))
        return hint

    def shown_text(self) -> str:
        """What fits the label's width now: the text, a shorter form, or the shortest elided."""
        room = self.contentsRect().width()
        metrics = self.fontMetrics()
        for form in (self.text(), *self._shorter):
            if metrics.horizontalAdvance(form) <= room:
                return form
        return metrics.elidedText(
            self._shorter[-1] if self._shorter else self.text(), Qt.TextElideMode.ElideRight, room
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        shown = self.shown_text()
        if shown == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        self.drawFrame(painter)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            shown,
            self.foregroundRole(),
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        """A shortened label has its whole text in the tooltip (after a tooltip of its own)."""
        whole = self.shown_text() == self.text() or not self.text()
        tip = (
            self._own_tooltip
            if whole or self.text() in self._own_tooltip
            else "\n".join(filter(None, [self.text(), self._own_tooltip]))
        )
        super().setToolTip(tip)

    def _frame_width(self) -> int:
        """Frame, padding and margins: what the label takes beyond its text (constant in its width)."""
        return self.rect().width() - self.contentsRect().width()
