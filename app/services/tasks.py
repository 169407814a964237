"""Running blocking work (HTTP, the OS keyring, waiting for the demo server) off the GUI thread.

Modelled on Anki's QueryOp and Picard's run_task: the op runs on a worker thread of a lane (see
_Lane) and its result or exception comes back to the GUI thread, so callbacks may touch widgets.
When the parent QObject is destroyed first, the callbacks are silently skipped.
"""

from __future__ import annotations

import collections
import functools
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot

from app.services.errors import PortalError, ServerError, UnauthorizedError, UnreachableError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Several lists load at once and one thread may be waiting for a slow server; two CPUs' worth
# of threads would queue the rest behind it.
NETWORK_THREADS = 8
# How often the GUI thread collects finished calls while any is out: well under what a network or
# keyring call itself takes, and nothing at all while none is.
COLLECT_MS = 10


def keyring_lane_done(wait_ms: int) -> bool:
    """At quit: waits up to `wait_ms` for keyring calls still queued (a forget that "Remember me"
    unticked asked for must reach the keyring before the process ends). False if some did not finish."""
    return _keyring_lane.wait_done(wait_ms)


def network_calls_done(wait_ms: int) -> bool:
    """At quit, once the portal clients were aborted: waits up to `wait_ms` for the network calls
    still out to come back (with their aborted error, which nothing delivers any more), so their threads
    are not frozen halfway at the interpreter's exit. False if some did not; those are abandoned."""
    return _network_lane.wait_done(wait_ms)


@dataclass(frozen=True)
class _Outcome:
    result: Any
    error: Exception | None


class _Call:
    """One call and, once run, its outcome: plain Python (no QRunnable), so nothing of Qt's is
    made or destroyed for it on the lane's thread."""

    __slots__ = ("deliver", "op", "outcome")

    def __init__(self, op: Callable[[], Any], deliver: Callable[[_Outcome], None]) -> None:
        self.op = op
        self.deliver = deliver
        self.outcome: _Outcome | None = None

    def run(self) -> None:
        try:
            self.outcome = _Outcome(self.op(), None)
        except Exception as exc:
            self.outcome = _Outcome(None, exc)
        except BaseException as exc:
            # A SystemExit or KeyboardInterrupt raised inside an op would end the lane's thread for good
            # (the keyring's has one: every later keyring call would wait forever); it fails this call only.
            self.outcome = _Outcome(None, RuntimeError(f"the background call was interrupted ({exc!r})"))


class _Lane:
    """Worker threads for blocking calls: the network's (several at once) and the OS keyring's.

    The keyring's lane has one thread, so its calls run one at a time in the order they were asked
    (a sign-out's forget lands before the next sign-in dialog reads the password; a backend such as
    Secret Service is not called from two threads at once), and a keyring waiting on an "allow
    access" prompt holds only that lane, never the network's threads.

    Daemon threads, so that a call still waiting at quit (a keyring prompt nobody will see now, a
    portal or proxy that took the connection and never answers) is abandoned instead of keeping the
    process alive: a QThreadPool's destructor waits for its running task without limit, which kept
    a windowless app alive until the call's timeouts and retries ran out. A thread never calls into
    Qt, not even to post an answer: a daemon thread is frozen wherever it is at exit, and a QRunnable
    once released on it destroyed a QObject there, which waited for the GIL while holding a lock of
    Qt's that the GUI thread wanted. So the calls are plain Python, a GUI-thread timer collects the
    finished ones while any is out, and each is handed over under the lock with no reference left on
    the lane's side: whatever a call holds (its callbacks, their widgets, an exception's traceback)
    is released on the GUI thread."""

    def __init__(self, name: str, threads: int) -> None:
        self._name = name
        self._max_threads = threads
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Condition()
        self._finished: collections.deque[_Call] = collections.deque()  # under _lock
        self._running = 0  # asked and not yet run to the end, under _lock
        self._threads = 0  # started (they never end), under _lock
        self._collector: QTimer | None = None
        self._out = 0  # asked and not yet delivered; GUI thread only

    def start(self, op: Callable[[], Any], deliver: Callable[[_Outcome], None]) -> None:
        """On the GUI thread: `deliver` gets the outcome there."""
        if self._collector is None:
            # The application's child: gone with it, never torn down after it at the interpreter's exit.
            self._collector = QTimer(QCoreApplication.instance(), interval=COLLECT_MS)
            self._collector.timeout.connect(self._deliver_finished)
        with self._lock:
            self._running += 1
            # Every started thread busy with a call of its own: this one needs another, up to the limit.
            spawn = self._running > self._threads < self._max_threads
            if spawn:
                self._threads += 1
        if spawn:
            threading.Thread(target=self._work, name=f"{self._name} {self._threads}", daemon=True).start()
        self._out += 1
        self._calls.put(_Call(op, deliver))
        if not self._collector.isActive():
            self._collector.start()

    def wait_done(self, wait_ms: int) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._running == 0, timeout=wait_ms / 1000)

    def _work(self) -> None:
        while True:
            call = self._calls.get()
            call.run()
            with self._lock:  # the GUI thread takes the call only after this thread has let go of it
                self._finished.append(call)
                del call
                self._running -= 1
                self._lock.notify_all()

    def _deliver_finished(self) -> None:
        """Posts each answer (through the dispatcher's queued signal, from this GUI thread) instead of
        delivering it here: an answer may open a modal dialog, and while this timer's slot runs, Qt does
        not fire the timer again, which would hold every later answer (the dialog's own
        password read among them) until that dialog closed."""
        dispatcher = _gui_dispatcher()
        while True:
            with self._lock:
                if not self._finished:
                    break
                call = self._finished.popleft()
            self._out -= 1
            # Taken off the call first: an exception's traceback holds the frame that holds the call.
            outcome, call.outcome = call.outcome, None
            assert outcome is not None
            dispatcher.deliver.emit(functools.partial(call.deliver, outcome))
        if self._out == 0 and self._collector is not None:
            self._collector.stop()


_keyring_lane = _Lane("keyring lane", 1)
_network_lane = _Lane("network", NETWORK_THREADS)


class _Dispatcher(QObject):
    """Lives as long as the app, in the GUI thread: workers post outcomes through it, so a
    worker never touches a QObject the GUI thread may be deleting at the same moment."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._call, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _call(self, callback: Callable[[], None]) -> None:
        callback()


_dispatcher: _Dispatcher | None = None


def _gui_dispatcher() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    return _dispatcher


class BackgroundOp(Generic[T]):
    """`BackgroundOp(parent=w, op=fn, success=cb).failure(eb).run_in_background()`.

    Deliberately not a QObject: nothing Qt has to be made or deleted for it on a worker thread, and
    the parent is only checked for being alive when the outcome arrives."""

    def __init__(self, *, parent: QObject, op: Callable[[], T], success: Callable[[T], None]) -> None:
        self._parent = parent
        self._op = op
        self._success = success
        self._failure: Callable[[Exception], None] = _log_failure
        self._orphaned: Callable[[T], None] | None = None

    def failure(self, callback: Callable[[Exception], None]) -> BackgroundOp[T]:
        self._failure = callback
        return self

    def orphaned(self, callback: Callable[[T], None] | None) -> BackgroundOp[T]:
        """`callback` gets a result that arrives after the parent is gone, on the GUI thread: for a
        result that holds something to give back (a session that must be logged out), where dropping
        it would leave that behind."""
        self._orphaned = callback
        return self

    def run_in_background(self, *, keyring: bool = False) -> None:
        """`keyring`: on the keyring's own lane (one call at a time, in order) instead of the network's."""
        (_keyring_lane if keyring else _network_lane).start(self._op, self._finish)

    def _finish(self, outcome: _Outcome) -> None:
        if not shiboken6.isValid(self._parent):
            if self._orphaned is not None and outcome.error is None:
                self._orphaned(outcome.result)
            else:
                log.debug("background result dropped: its owner was destroyed")
            return
        error = outcome.error
        if error is None:
            self._success(outcome.result)
        else:
            if not isinstance(error, PortalError):
                log.error("background operation failed", exc_info=error)
            self._failure(error)


def _log_failure(error: Exception) -> None:
    log.warning("background operation failed without a handler: %s", error)


# handler(retry, give_up, error): the error says why the session ended (expired, revoked, assist idle).
UnauthorizedHandler = Callable[[Callable[[], None], Callable[[], None], PortalError], None]

# A gateway in front of the portal answering 502/503/504 (after the client's own retries) means
# the portal itself is down, just like no answer at all; such an answer carries none of the portal's
# problem codes (the client names it "http_503").
_GATEWAY_STATUS = frozenset({502, 503, 504})
# How long a call may take before the window says the portal is slow.
SLOW_AFTER_S = 4.0


def is_connection_problem(error: Exception) -> bool:
    """No usable answer from the portal: worth a "Cannot reach" banner and a later retry, as
    opposed to an answer that refuses the request (which retrying will not change)."""
    if isinstance(error, UnreachableError):
        return True
    # A problem carrying the portal's own code is the portal answering, whatever its status: a 503
    # "payment_pending" says the card processor did not confirm, not that the portal is gone.
    return isinstance(error, ServerError) and error.status in _GATEWAY_STATUS and error.code == f"http_{error.status}"


class TaskRunner(QObject):
    """Runs the window's network calls: counts them for the busy indicator, on a 401 hands a
    retry to the unauthorized handler (the re-sign-in prompt) instead of failing, and reports
    how the connection is doing (`unreachable`, `answered`, `slow_changed`) for the banner.

    Only the op that failed is retried after signing in again; an op that failed because the
    portal was unreachable is *not* retried here (a POST may have reached the server), so the
    form that started it keeps its input and offers to send it again."""

    busy_changed = Signal(bool)
    unreachable = Signal(object)  # the PortalError of a call that got no usable answer
    answered = Signal()  # a call got an answer from the portal (success or a refusal)
    slow_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, slow_after: float = SLOW_AFTER_S) -> None:
        super().__init__(parent)
        self._running = 0
        self._on_unauthorized: UnauthorizedHandler | None = None
        self._slow_after = slow_after
        self._started: dict[int, float] = {}
        self._ids = itertools.count()
        self._slow = False
        self._slow_timer = QTimer(self, interval=max(50, int(slow_after * 250)))
        self._slow_timer.timeout.connect(self._check_slow)

    @property
    def busy(self) -> bool:
        return self._running > 0

    @property
    def slow(self) -> bool:
        """A call has been waiting longer than `slow_after` seconds."""
        return self._slow

    def set_unauthorized_handler(self, handler: UnauthorizedHandler | None) -> None:
        """`handler(retry, give_up, error)`: `retry()` after signing in again, `give_up()` if the user
        declines; `error` carries the server's sentence, which says why the session ended."""
        self._on_unauthorized = handler

    def run(
        self,
        op: Callable[[], T],
        success: Callable[[T], None],
        failure: Callable[[Exception], None] = _log_failure,
        *,
        orphaned: Callable[[T], None] | None = None,
    ) -> None:
        """`orphaned`: see BackgroundOp.orphaned (this runner gone with its window)."""
        call = next(self._ids)
        self._started[call] = time.monotonic()
        self._change_running(+1)

        def succeeded(result: T) -> None:
            self._finished(call)
            self.answered.emit()
            success(result)

        def failed(error: Exception) -> None:
            self._finished(call)
            if is_connection_problem(error):
                self.unreachable.emit(error)
            elif isinstance(error, PortalError):
                self.answered.emit()
            # Only a refused token is a session that ended: a 401 to a call that carried none is a
            # sign-in's wrong password (switching branch with a stale one asked to sign in again here).
            handler = self._on_unauthorized
            if isinstance(error, UnauthorizedError) and error.refused_token is not None and handler is not None:
                handler(lambda: self.run(op, success, failure), lambda: failure(error), error)
            else:
                failure(error)

        BackgroundOp(parent=self, op=op, success=succeeded).failure(failed).orphaned(orphaned).run_in_background()

    def run_keyring(
        self,
        op: Callable[[], T],
        success: Callable[[T], None],
        failure: Callable[[Exception], None] = _log_failure,
    ) -> None:
        """A keyring call, on the keyring's lane: it counts for the busy indicator like a network call,
        but a keyring that is slow (waiting to be unlocked) says nothing about the portal's connection,
        so it is kept out of the slow and unreachable reports, and a 401 cannot come from it."""
        self._change_running(+1)

        def succeeded(result: T) -> None:
            self._change_running(-1)
            success(result)

        def failed(error: Exception) -> None:
            self._change_running(-1)
            failure(error)

        BackgroundOp(parent=self, op=op, success=succeeded).failure(failed).run_in_background(keyring=True)

    def _finished(self, call: int) -> None:
        self._started.pop(call, None)
        self._change_running(-1)
        self._check_slow()

    def _change_running(self, delta: int) -> None:
        was_busy = self.busy
        self._running += delta
        if was_busy != self.busy:
            self.busy_changed.emit(self.busy)
            if self.busy:
                self._slow_timer.start()
            else:
                self._slow_timer.stop()

    def _check_slow(self) -> None:
        now = time.monotonic()
        slow = any(now - started >= self._slow_after for started in self._started.values())
        if slow != self._slow:
            self._slow = slow
            self.slow_changed.emit(slow)


class OwnedRunner:
    """A dialog's or detail window's view of the window's shared TaskRunner: its calls still count
    for the busy indicator and the connection banner, but an answer that arrives after the owner
    was destroyed (closed while its request was out) is dropped instead of reaching dead widgets."""

    def __init__(self, runner: TaskRunner, owner: QObject) -> None:
        self.runner = runner
        self._owner = owner

    def run(
        self,
        op: Callable[[], T],
        success: Callable[[T], None],
        failure: Callable[[Exception], None] = _log_failure,
    ) -> None:
        owner = self._owner

        def succeeded(result: T) -> None:
            if shiboken6.isValid(owner):
                success(result)

        def failed(error: Exception) -> None:
            if shiboken6.isValid(owner):
                failure(error)

        self.runner.run(op, succeeded, failed)
