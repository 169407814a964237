"""Keeps a dialog as tall as its content at its current width (the sign and pay windows).

Qt gives a top-level window with word-wrapping labels a minimum height measured at another width:
a line that appears later (an error, a note under a field) was squeezed into the rows around it,
or laid other widgets over each other, instead of the window growing to show it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.views.item_windows import FRAME_ALLOWANCE


class HeightFitter(QObject):
    """Watches `window` (its child, so it goes with it): after each layout change or resize, the
    window's minimum height is what its layout needs at the window's width (at most the free height
    of its screen), and it grows to that."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # e.g. an error line appeared
            QTimer.singleShot(0, self, self.fit)
        elif event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        window = self._window
        layout = window.layout()
        if layout is None:
            return
        needed = layout.totalHeightForWidth(window.width())
        # Never taller than the free area of the screen: the pay window of a hundred invoices grew
        # to 1482 px and its buttons fell off a laptop's screen. What is long scrolls within itself.
        screen = (window.parentWidget() or window).screen()
        if screen is not None:
            needed = min(needed, screen.availableGeometry().height() - FRAME_ALLOWANCE.height())
        if needed > 0 and needed != window.minimumHeight():
            window.setMinimumHeight(needed)
        if window.height() < needed:
            window.resize(window.width(), needed)
