"""A vertical scroll bar that lies over a scroll area's viewport instead of taking room beside it.

A list's scroll bar that came and went with its row count resized the viewport, and every such
page was laid out and painted twice; one that always kept its room left a strip beside a short
list where the rows, their alternate colour, the selection and the row lines stopped short of the
card's edge. This bar takes no layout room at all: the viewport keeps the area's full width
whatever the row count, and the rows run to the edge. The track is transparent (style.qss), so
on a long list the rows show through it and only the handle covers their right padding.

The area's own bar stays its model: the item view sets its range, page step and value as before
(scrollTo, the keyboard, the wheel over the rows), and this one mirrors them and hands back what
the user does to it.

Only the handle takes the mouse (the widget is masked to it): a click on the bare track beside it
reaches the row underneath, whose right-most pixels hold the amounts people click on. Paging by
clicking the track is gone with that; the wheel, the keyboard and the handle all still scroll."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt
from PySide6.QtGui import QRegion, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QScrollBar, QStyle, QStyleOptionSlider


class OverlayScrollBar(QScrollBar):
    """Replaces `area`'s vertical scroll bar on screen; shown only while there is something to scroll."""

    def __init__(self, area: QAbstractScrollArea) -> None:
        super().__init__(Qt.Orientation.Vertical, area)
        self._area = area
        self._source = source = area.verticalScrollBar()
        area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        source.rangeChanged.connect(self._follow_range)
        source.valueChanged.connect(self.setValue)
        self.valueChanged.connect(source.setValue)
        # Set once here: a list that never overflows keeps the range 0..0, so `rangeChanged` never fires.
        self._follow_range(source.minimum(), source.maximum())
        area.viewport().installEventFilter(self)
        self.valueChanged.connect(self._mask_to_handle)
        self.rangeChanged.connect(self._mask_to_handle)
        self._place()

    def _follow_range(self, low: int, high: int) -> None:
        """The item view sets the page step before the range; the value follows on its own signal."""
        with QSignalBlocker(self):  # the source clamps its own value and says so
            self.setPageStep(self._source.pageStep())
            self.setRange(low, high)
            self.setValue(self._source.value())
        self.setVisible(high > low)
        self._mask_to_handle()  # the blocked signals did not: a longer list has a shorter handle

    def _place(self) -> None:
        """Along the viewport's right edge, from its top (below the header) to its bottom."""
        viewport = self._area.viewport().geometry()
        width = self.sizeHint().width()
        self.setGeometry(viewport.right() - width + 1, viewport.top(), width, viewport.height())
        self.raise_()

    def _mask_to_handle(self) -> None:
        """Mouse events reach a masked widget only inside its mask: the handle's rectangle."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        handle = self.style().subControlRect(
            QStyle.ComplexControl.CC_ScrollBar, option, QStyle.SubControl.SC_ScrollBarSlider, self
        )
        self.setMask(QRegion(handle))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._mask_to_handle()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._place()
        return False

    def wheelEvent(self, event: QWheelEvent) -> None:
        """The same steps as the wheel over the rows: the item view keeps the single step on its
        own bar (and changes it after the range, so a copy would lag)."""
        QApplication.sendEvent(self._source, event)
        event.accept()  # handled by the source bar: not passed on to the table behind this one
