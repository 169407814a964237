"""During an assist every window opened from the customer's window says whose portal it is: the
invoice, proposal, request, pay and New request windows were titled as for the customer, and a
staff member with two calls' windows on screen could not tell them apart."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QChildEvent, QEvent, QObject
from PySide6.QtWidgets import QDialog, QWidget


class CustomerTitles(QObject):
    """Appends " — {customer}" to the title of every dialog opened from `owner` at any depth, also
    when the dialog titles itself again later (a proposal once loaded). Watching the windows
    themselves, not the application: only their own events pass through here."""

    def __init__(self, owner: QWidget, customer: Callable[[], str | None]) -> None:
        super().__init__(owner)
        self._customer = customer
        owner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        # Polished, not added: a dialog is added to its parent while still being constructed (no
        # QDialog yet to Python); it is polished at the latest as it shows, titled by then.
        if kind == QEvent.Type.ChildPolished and isinstance(event, QChildEvent):
            child = event.child()
            if isinstance(child, QDialog):  # watched once: installing again only moves it first
                child.installEventFilter(self)
                self._name(child)
        elif kind == QEvent.Type.WindowTitleChange and isinstance(watched, QDialog):
            self._name(watched)
        return False

    def _name(self, dialog: QDialog) -> None:
        customer = self._customer()
        title = dialog.windowTitle()
        if not customer or not title:
            return  # titled later (a dialog is added to its parent before its constructor titles it)
        suffix = f" — {customer}"
        if not title.endswith(suffix):
            dialog.setWindowTitle(title + suffix)
