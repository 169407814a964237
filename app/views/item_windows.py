"""One window per item: opening an invoice or a proposal whose window is open brings that window forward.

Two windows of one proposal could each offer "Sign…" from what they last read, and two of one invoice
"Pay invoice"; office staff double-clicking a row again on the phone mean "show me that one"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.views.theme import icon

W = TypeVar("W", bound=QWidget)


# What a window's frame (title bar, borders) takes beyond its client area, kept free when fitting.
FRAME_ALLOWANCE = QSize(16, 40)


def fit_to_screen(window: QWidget, size: QSize) -> None:
    """Resizes `window` to `size`, or to the free area of its screen where that is smaller: a PDF's
    900 x 980 or a request's 680 x 780 ran off the bottom of a 1366 x 768 laptop's screen, with
    Sign…, Pay invoice and Send reply out of reach. The screen is the parent's (the window it was
    opened from) when there is one, as the new window has none until it shows."""
    anchor = window.parentWidget() or window
    screen = anchor.screen()
    if screen is not None:
        room = screen.availableGeometry().size() - FRAME_ALLOWANCE
        size = size.boundedTo(room).expandedTo(window.minimumSize())
    window.resize(size)


def present(window: QWidget) -> None:
    """Shown, on top and active, whether it was hidden, behind another window or minimised."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


def close_with_standard_key(window: QDialog) -> None:
    """Ctrl+W (Cmd+W on macOS; on Windows also Ctrl+F4) closes `window` as Escape does. The main
    window's "Close window" is a shortcut of the main window only: in a proposal, invoice, visit,
    request or document window the key did nothing."""
    QShortcut(QKeySequence.StandardKey.Close, window, window.reject)


def reload_with_standard_key(window: QDialog, reload: Callable[[], object]) -> None:
    """F5 (or Ctrl+R / Cmd+R, as the platform has it) loads `window`'s item again, as it refreshes
    the main window's lists: in a request or visit window, where staff's replies and notes arrive,
    the key did nothing, and only closing and reopening the window showed them."""
    QShortcut(QKeySequence.StandardKey.Refresh, window).activated.connect(reload)


def set_up_document_window(window: QDialog, title: str) -> None:
    """What a window showing one document (a PDF, a picture) is: titled by it, with the app's icon,
    maximizable, closed by the standard key and deleted once closed."""
    close_with_standard_key(window)
    window.setWindowTitle(title)
    window.setWindowIcon(icon("app"))
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint)


def window_waiting_for_portal(owner: QWidget) -> QDialog | None:
    """The first window opened from `owner` that waits for the portal's answer to something it sent
    (its `waiting_for_portal`: a payment, a signature, a request or a reply): it refuses to close
    until the answer is in. Hidden ones count: a request window closed right after Send keeps its
    reply going, and its answer (or the refusal, with the reply) still has to reach it."""
    for window in owner.findChildren(QDialog):
        if window.isWindow() and getattr(window, "waiting_for_portal", False):
            return window
    return None


def refuses_to_close(window: QWidget) -> str | None:
    """Why `window` stays open, or None: a window opened from it (at any depth: the pay window over
    an invoice's PDF) still waits for the portal's answer. Closed, `window` would take that one with
    it and the answer would go nowhere (no receipt, no reload). The waiting window is brought forward."""
    busy = window_waiting_for_portal(window)
    if busy is None:
        return None
    present(busy)
    return f"This window stays open until “{busy.windowTitle()}” has the portal's answer."


def close_opened_windows(owner: QWidget) -> QDialog | None:
    """Closes every window opened from `owner` at any depth (details, their PDF and picture windows,
    sign and pay windows), each before the one it came from, so each shuts down as its own close
    does (a PDF window stops its renderer; deleted with its parent instead, it never would).
    Returns the first that refuses because it still waits for the portal (a payment, a signature
    being sent); it and the windows it came from then stay open."""
    windows = [dialog for dialog in owner.findChildren(QDialog) if dialog.isWindow()]
    for window in reversed(windows):  # findChildren lists a window before those opened from it
        if not shiboken6.isValid(window):
            continue
        window.close()
        if window.isVisible():
            return window
    return None


class ItemWindows(Generic[W]):
    """The open windows of one kind by item id; each is forgotten when Qt deletes it (WA_DeleteOnClose)."""

    def __init__(self) -> None:
        self._windows: dict[int, W] = {}

    def get(self, item_id: int) -> W | None:
        window = self._windows.get(item_id)
        return window if window is not None and shiboken6.isValid(window) else None

    def add(self, item_id: int, window: W) -> None:
        self._windows[item_id] = window
        window.destroyed.connect(partial(self._forget, item_id, window))

    def open(self) -> list[W]:
        return [window for window in self._windows.values() if shiboken6.isValid(window)]

    def _forget(self, item_id: int, window: W, *_: object) -> None:
        if self._windows.get(item_id) is window:
            del self._windows[item_id]


def ask_to_discard(parent: QWidget, title: str, question: str, consequence: str, keep: str) -> bool:
    """True when the user chooses to throw away what they made here. The keep button is the default and
    Escape's, as what was typed or drawn cannot be had back."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, QMessageBox.StandardButton.NoButton, parent)
    if consequence:
        box.setInformativeText(consequence)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    keep_button = box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep_button)
    box.setEscapeButton(keep_button)
    box.exec()
    return box.clickedButton() is discard
