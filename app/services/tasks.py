"""Running blocking work (HTTP, waiting for the demo server) off the GUI thread.

Modelled on Anki's QueryOp and Picard's run_task: the op runs on a pool thread and its result
or exception comes back to the GUI thread through a queued signal, so callbacks may touch
widgets. When the parent QObject is destroyed first, the callbacks are silently skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, SignalInstance, Slot

from app.services.errors import PortalError, UnauthorizedError

log = logging.getLogger(__name__)
T = TypeVar("T")

_pool = QThreadPool()
# Several lists load at once and one thread may be waiting for a slow server; two CPUs' worth
# of threads would queue the rest behind it.
_pool.setMaxThreadCount(8)

_in_flight: set[BackgroundOp[Any]] = set()


def thread_pool() -> QThreadPool:
    return _pool


class _Runner(QRunnable):
    def __init__(self, op: Callable[[], Any], done: SignalInstance) -> None:
        super().__init__()
        self._op = op
        self._done = done

    def run(self) -> None:
        try:
            result, error = self._op(), None
        except Exception as exc:
            result, error = None, exc
        try:
            self._done.emit(result, error)
        except RuntimeError:
            log.debug("background result dropped: its owner was destroyed")


class BackgroundOp(QObject, Generic[T]):
    """`BackgroundOp(parent=w, op=fn, success=cb).failure(eb).run_in_background()`."""

    _done = Signal(object, object)

    def __init__(self, *, parent: QObject, op: Callable[[], T], success: Callable[[T], None]) -> None:
        super().__init__(parent)
        self._op = op
        self._success = success
        self._failure: Callable[[Exception], None] = _log_failure
        self._done.connect(self._finish)

    def failure(self, callback: Callable[[Exception], None]) -> BackgroundOp[T]:
        self._failure = callback
        return self

    def run_in_background(self) -> None:
        _in_flight.add(self)
        self.destroyed.connect(lambda: _in_flight.discard(self))
        _pool.start(_Runner(self._op, self._done))

    @Slot(object, object)
    def _finish(self, result: Any, error: Exception | None) -> None:
        _in_flight.discard(self)
        self.deleteLater()
        if error is None:
            self._success(result)
        else:
            if not isinstance(error, PortalError):
                log.error("background operation failed", exc_info=error)
            self._failure(error)


def _log_failure(error: Exception) -> None:
    log.warning("background operation failed without a handler: %s", error)


UnauthorizedHandler = Callable[[Callable[[], None], Callable[[], None]], None]


class TaskRunner(QObject):
    """Runs the window's network calls: counts them for the busy indicator and, on a 401,
    hands a retry to the unauthorized handler (the re-sign-in prompt) instead of failing."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running = 0
        self._on_unauthorized: UnauthorizedHandler | None = None

    @property
    def busy(self) -> bool:
        return self._running > 0

    def set_unauthorized_handler(self, handler: UnauthorizedHandler | None) -> None:
        """`handler(retry, give_up)`: `retry()` after signing in again, `give_up()` if the user declines."""
        self._on_unauthorized = handler

    def run(
        self,
        op: Callable[[], T],
        success: Callable[[T], None],
        failure: Callable[[Exception], None] = _log_failure,
    ) -> None:
        self._change_running(+1)

        def succeeded(result: T) -> None:
            self._change_running(-1)
            success(result)

        def failed(error: Exception) -> None:
            self._change_running(-1)
            if isinstance(error, UnauthorizedError) and self._on_unauthorized is not None:
                self._on_unauthorized(lambda: self.run(op, success, failure), lambda: failure(error))
            else:
                failure(error)

        BackgroundOp(parent=self, op=op, success=succeeded).failure(failed).run_in_background()

    def _change_running(self, delta: int) -> None:
        was_busy = self.busy
        self._running += delta
        if was_busy != self.busy:
            self.busy_changed.emit(self.busy)
