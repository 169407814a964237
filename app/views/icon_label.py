"""An icon drawn from its SVG at the screen's own pixel density.

A QLabel with `icon.pixmap(n)` keeps the pixels of one device pixel ratio, which blurs on a 150 %
or 200 % screen (or after moving the window to one); painting the QIcon each time renders the
SVG for the ratio of the screen the widget is on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.views.theme import icon


class IconLabel(QWidget):
    def __init__(self, name: str, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self._name = name
        self._icon = icon(name)
        self.setFixedSize(size, size)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)

    @property
    def name(self) -> str:
        return self._name

    def set_icon(self, name: str) -> None:
        if name != self._name:
            self._name = name
            self._icon = icon(name)
            self.update()

    def changeEvent(self, event: QEvent) -> None:
        """A light/dark switch may change which drawing of the icon applies."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._icon = icon(self._name)
        super().changeEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(self._size, self._size)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._icon.paint(painter, self.rect())
