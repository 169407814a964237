"""Whether the portal answers, and getting back to it by itself when it stopped answering.

The window's calls report what happened (TaskRunner's `unreachable` / `answered` / `slow_changed`);
once a call found the portal unreachable, the monitor probes `GET /version` (no sign-in needed,
tiny answer) with a growing pause between attempts, and announces `restored` as soon as anything
gets an answer again, so the window can reload what it shows. A "Retry" probes at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from app.services.errors import PortalError
from app.services.portal_client import PortalClient, Timeouts
from app.services.tasks import BackgroundOp, is_connection_problem

# Seconds between probes: quick at first (a blip), then no more than twice a minute.
PROBE_DELAYS = (2.0, 4.0, 8.0, 15.0, 30.0)
PROBE_TIMEOUTS = Timeouts(connect=3.0, read=5.0)

Probe = Callable[[], object]


def version_probe(portal_url: Callable[[], str]) -> Probe:
    """A probe of the current portal's /version with short timeouts and no retries of its own
    (the monitor's schedule is the retry); `portal_url` is read at each probe, so it follows a
    branch switch."""

    def probe() -> object:
        client = PortalClient(portal_url(), timeouts=PROBE_TIMEOUTS, retries=0)
        try:
            return client.version()
        finally:
            client.close()

    return probe


class ConnectionMonitor(QObject):
    changed = Signal()  # offline / slow / probing / countdown start changed: redraw the banner
    restored = Signal()  # answers again after being offline: reload what is on screen

    def __init__(self, probe: Probe, *, delays: Sequence[float] = PROBE_DELAYS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._probe = probe
        self._delays = tuple(delays)
        self._offline = False
        self._slow = False
        self._probing = False
        self._attempts = 0
        self._detail = ""
        self._since: datetime | None = None
        self._next_probe_at: float | None = None
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.retry_now)

    # -- state -----------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        return self._offline

    @property
    def slow(self) -> bool:
        return self._slow and not self._offline

    @property
    def probing(self) -> bool:
        return self._probing

    @property
    def detail(self) -> str:
        """The sentence of the failure that took the portal offline."""
        return self._detail

    @property
    def offline_since(self) -> datetime | None:
        return self._since

    def seconds_until_probe(self) -> int | None:
        if self._next_probe_at is None:
            return None
        return max(0, round(self._next_probe_at - time.monotonic()))

    # -- reports from the window's calls ---------------------------------------------

    def lost(self, error: Exception) -> None:
        """A call got no usable answer: go offline (once) and start probing."""
        if isinstance(error, PortalError):
            self._detail = error.detail
        if self._offline:
            return
        self._offline = True
        self._since = datetime.now()
        self._attempts = 0
        self._schedule()
        self.changed.emit()

    def answered(self) -> None:
        """Some call got an answer: whatever made the portal unreachable is over."""
        if self._offline:
            self._back_online()

    def set_slow(self, slow: bool) -> None:
        if slow != self._slow:
            self._slow = slow
            self.changed.emit()

    def retry_now(self) -> None:
        """Probes at once (the banner's Retry, or the scheduled attempt)."""
        if not self._offline or self._probing:
            return
        self._timer.stop()
        self._next_probe_at = None
        self._probing = True
        self.changed.emit()
        BackgroundOp(parent=self, op=self._probe, success=lambda _: self._probe_answered()).failure(
            self._probe_failed
        ).run_in_background()

    # -- probing ---------------------------------------------------------------------

    def _probe_answered(self) -> None:
        self._probing = False
        if self._offline:
            self._back_online()

    def _probe_failed(self, error: Exception) -> None:
        self._probing = False
        if not self._offline:
            return
        if isinstance(error, PortalError) and not is_connection_problem(error):
            self._back_online()  # it answered, if only to refuse: the portal is there
            return
        if isinstance(error, PortalError):
            self._detail = error.detail
        self._attempts += 1
        self._schedule()
        self.changed.emit()

    def _schedule(self) -> None:
        delay = self._delays[min(self._attempts, len(self._delays) - 1)]
        self._next_probe_at = time.monotonic() + delay
        self._timer.start(int(delay * 1000))

    def _back_online(self) -> None:
        self._offline = False
        self._timer.stop()
        self._next_probe_at = None
        self._since = None
        self._attempts = 0
        self.changed.emit()
        self.restored.emit()
