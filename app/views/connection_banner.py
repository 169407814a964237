"""The strip under the header that says the portal cannot be reached (or is slow), counts down
to the next automatic attempt, and offers "Retry". It never blocks the window: everything
loaded stays on screen, marked as possibly out of date by the lists themselves."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAccessible, QAccessibleEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.models.formatting import clock_text
from app.services.connection import ConnectionMonitor
from app.views.icon_label import IconLabel
from app.views.theme import named


class ConnectionBanner(QFrame):
    retry_requested = Signal()

    def __init__(
        self, monitor: ConnectionMonitor, portal_url: str, portal_name: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ConnectionBanner")
        self.setAccessibleName("Connection status")
        self._monitor = monitor
        self._portal_url = portal_url
        self._portal_name = portal_name
        self.icon_label = IconLabel("offline", 20)
        self.message_label = named(QLabel(""), "BannerMessage")
        self.message_label.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setAutoDefault(False)
        self.retry_button.setAccessibleName("Retry connecting to the portal")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(10)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.message_label, 1)
        layout.addWidget(self.retry_button)
        self._countdown = QTimer(self, interval=1000)
        self._countdown.timeout.connect(self._update_text)
        self.retry_button.clicked.connect(self.retry_requested)
        monitor.changed.connect(self.refresh)
        self.hide()

    def set_portal(self, portal_url: str, portal_name: str = "") -> None:
        """The portal now shown (another branch): `portal_name` is what the customer knows it by."""
        self._portal_url = portal_url
        self._portal_name = portal_name
        self._update_text()

    def portal_words(self) -> str:
        """The portal as the customer knows it: "the Greenleaf North portal" (the branch's name from
        sign-in), not "127.0.0.1:53211", which meant nothing to them; the address only when the
        name is not known. Support still reads the address in the status bar's tooltip."""
        name = " ".join(self._portal_name.split())
        return f"the {name} portal" if name else f"the portal at {urlsplit(self._portal_url).netloc}"

    def refresh(self) -> None:
        monitor = self._monitor
        showing = monitor.offline or monitor.slow
        if showing:
            self.icon_label.set_icon("offline" if monitor.offline else "slow")
            self._update_text()
            self.retry_button.setEnabled(not monitor.probing)
        if showing and not self.isVisible():
            self.show()
            QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.Alert))
        elif not showing and self.isVisible():
            self.hide()
        if monitor.offline:
            self._countdown.start()
        else:
            self._countdown.stop()

    def _update_text(self) -> None:
        monitor = self._monitor
        portal = self.portal_words()
        if monitor.offline:
            since = monitor.offline_since
            if monitor.probing:
                next_try = "Trying to reconnect…"
            else:
                seconds = monitor.seconds_until_probe()
                unit = "second" if seconds == 1 else "seconds"
                next_try = f"Trying again in {seconds} {unit}." if seconds is not None else ""
            headline = f"Cannot reach {portal}" + (f" since {clock_text(since)}" if since else "") + "."
            rest = f" What you see may be out of date; what you typed is kept. {next_try}"
        elif monitor.slow:
            headline, rest = f"{portal[0].upper()}{portal[1:]} is slow to answer.", " Still waiting…"
        else:
            headline, rest = "", ""
        self.message_label.setText(f"<b>{headline}</b>{rest}" if headline else "")
        # Screen readers get the sentence without markup.
        self.message_label.setAccessibleName(headline + rest)
