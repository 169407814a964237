"""The branch's "today" for the lists and pages that word dates relative to it, and its turn at
midnight: a list left open overnight must not keep saying "Tomorrow" for a visit that is now today."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QObject, QTimer, Signal

from app.models.dates import Clock, branch_today, until_branch_midnight, utc_now

# A QTimer does not count while the computer sleeps: woken after the branch's midnight, the labels
# turn at the next look, at most this long after.
LOOK_AGAIN_MS = 60_000


class BranchDay(QObject):
    """One per window: "today" in the signed-in branch's time zone; `changed` when that day turns
    (the branch's midnight) or another branch with another zone is shown."""

    changed = Signal()

    def __init__(self, time_zone: str = "UTC", clock: Clock = utc_now, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._time_zone = time_zone
        self._clock = clock
        self._day = self.today()
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.check)
        self._arm()

    @property
    def time_zone(self) -> str:
        return self._time_zone

    @time_zone.setter
    def time_zone(self, time_zone: str) -> None:
        self._time_zone = time_zone
        self.check()

    def today(self) -> date:
        """Worked out on each call (cheap), so a label is right even before the timer has looked."""
        return branch_today(self._time_zone, self._clock())

    def check(self) -> None:
        """Emits `changed` when the branch's day is not the one last seen, and looks again at its
        next midnight."""
        day = self.today()
        if day != self._day:
            self._day = day
            self.changed.emit()
        self._arm()

    def _arm(self) -> None:
        wait = until_branch_midnight(self._time_zone, self._clock())
        self._timer.start(max(1, min(LOOK_AGAIN_MS, int(wait.total_seconds() * 1000) + 1)))
