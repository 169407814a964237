"""Item views that do not repaint when their window gains or loses focus.

At every activation change of its window, Qt repaints an item view's whole viewport twice over:
once so that the selection can take the palette's inactive colours, and once because the view
gains or loses keyboard focus (the current item's focus look). The app's palette gives both colour
groups the same colours (theme.qpalette), so the first repaint draws the very same pixels, and the
second need only redraw the current item. For a full list with the property sidebar the two held
the GUI thread 20-45 ms each time a detail, the PDF viewer or a dialog opened or closed over the
main window (measured by `python -m bench`).

Only for views whose frame does not show the focus: a ring drawn by the view itself (the property
sidebar's, style.qss) follows hasFocus(), which a window switch changes.

Where a palette does differ between the groups (a style that greys an inactive selection), Qt's
plain widget handling repaints the whole view at the switch anyway (tests/client/test_activation.py
checks that it still does), so dropping the item view's own repaints never leaves stale colours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView

if TYPE_CHECKING:
    _ItemView = QAbstractItemView
else:  # a plain mixin: PySide cannot combine two Qt classes as bases (it crashes)
    _ItemView = object

_ACTIVATION = (QEvent.Type.WindowActivate, QEvent.Type.WindowDeactivate)


class SteadyOnActivation(_ItemView):
    """Put before the Qt view class: `class SteadyTableView(SteadyOnActivation, QTableView)`."""

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() in _ACTIVATION:
            return False  # the viewport's own handling, without the item view's full repaint
        return super().viewportEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        current = self.currentIndex()
        if event.reason() == Qt.FocusReason.ActiveWindowFocusReason and current.isValid():
            editable = bool(current.flags() & Qt.ItemFlag.ItemIsEditable)
            self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, editable)  # as Qt's handler does
            self.viewport().update(self.visualRect(current))
            return
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        if event.reason() == Qt.FocusReason.ActiveWindowFocusReason:
            current = self.currentIndex()
            if current.isValid():
                self.viewport().update(self.visualRect(current))
            return
        super().focusOutEvent(event)


class SteadyTableView(SteadyOnActivation, QTableView):
    pass
