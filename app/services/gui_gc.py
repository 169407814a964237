"""Python's cycle collector, run on the GUI thread only.

Automatic collection runs in whichever thread happens to allocate when a threshold trips: often
a worker of the task pool or the PDF render thread. A collected cycle that holds a Qt widget then
destroys that widget off the GUI thread, which Qt does not allow; the style sheet's caches keep
the dead pointer and the next style change crashes the app (seen as a segfault in
QFusionStyle::polish when the appearance was switched). So automatic collection is turned off
and the same generational thresholds are checked here, on a GUI-thread timer."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Owned by the application object, so it lives as long as the GUI does."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        # Python's own rule for a full collection, which gc.collect(2) skips: only once the objects
        # moved into the oldest generation since the last one are a quarter of those it kept. With
        # 60,000 rows loaded a full pass takes 30-40 ms; run every tenth middle one, it came
        # every few seconds while the user sorted and searched.
        self._long_lived = 0  # objects in the oldest generation after the last full collection
        self._long_lived_pending = 0  # moved into it since
        gc.disable()
        # What start-up loaded lives as long as the app: out of every later collection's way, so a
        # full collection on the GUI thread walks only what was made since.
        gc.freeze()
        self._timer = QTimer(self, interval=CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        """Collects the generations whose counts passed their thresholds, as gc itself would."""
        young, middle, old = gc.get_count()
        if young > self._thresholds[0]:
            gc.collect(0)
            if middle > self._thresholds[1]:
                # What it moves on: the middle generation's objects (the young ones are in it now)
                # less those it found unreachable.
                middle_objects = len(gc.get_objects(generation=1))
                self._long_lived_pending += middle_objects - gc.collect(1)
                if old > self._thresholds[2] and self._long_lived_pending > self._long_lived // 4:
                    gc.collect(2)
                    self._long_lived = len(gc.get_objects(generation=2))
                    self._long_lived_pending = 0
