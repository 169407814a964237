"""The client's copy of the portal's idle rule for assist sessions (SA-4), so the window stops
looking active when the portal has ended the assist, not at the next click.

The portal says its limit in the assist's answer (`idle_seconds`, PORTAL_ASSIST_IDLE_SECONDS); from
a portal that does not, the clock runs on the limit SA-4 names. The portal stays the truth: a call
refused with `assist_idle` ends the assist in the window whatever this clock says."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

ASSIST_IDLE_SECONDS = 30 * 60  # SA-4
WARN_BEFORE_SECONDS = 60


def idle_sentence(seconds: float) -> str:
    """As the portal says it ("30 minutes", "90 seconds"): the staff member reads the same words
    whether the clock or the portal ended the assist."""
    whole = round(seconds)
    for unit, size in (("hour", 3600), ("minute", 60)):
        if whole >= size and whole % size == 0:
            count = whole // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{whole} second{'' if whole == 1 else 's'}"


class AssistIdleClock(QObject):
    """Restarted by every answer from the portal (each request counts as activity there);
    `warning` a minute before the limit, `expired` at it. Stopped, it says nothing more."""

    warning = Signal()
    expired = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._warn = QTimer(self, singleShot=True)
        self._end = QTimer(self, singleShot=True)
        self._warn.timeout.connect(self.warning)
        self._end.timeout.connect(self.expired)
        self.limit_s = self.warn_before_s = 0.0
        self.set_limit(ASSIST_IDLE_SECONDS, WARN_BEFORE_SECONDS)

    def set_limit(self, limit_s: float, warn_before_s: float) -> None:
        """Takes effect from the next touch."""
        self.limit_s, self.warn_before_s = limit_s, warn_before_s
        self._warn.setInterval(int(max(0.0, limit_s - warn_before_s) * 1000))
        self._end.setInterval(int(limit_s * 1000))

    def follow(self, portal_limit_s: int | None) -> None:
        """The portal's own limit when it gave one (SA-4's otherwise); the warning a minute before,
        or halfway on a limit shorter than two minutes."""
        limit = float(portal_limit_s) if portal_limit_s else float(ASSIST_IDLE_SECONDS)
        self.set_limit(limit, min(float(WARN_BEFORE_SECONDS), limit / 2))

    def touch(self) -> None:
        self._warn.start()
        self._end.start()

    def stop(self) -> None:
        self._warn.stop()
        self._end.stop()

    @property
    def running(self) -> bool:
        return self._end.isActive()
