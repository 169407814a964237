"""PDF rendering in one child process shared by every viewer (app/pdf_render_child.py).

Why a process: PyMuPDF's import holds the GIL in C stretches the switch interval cannot break
(15-20 ms each, far more on a busy machine), which stalled the GUI thread, and MuPDF parses
documents from the network: a crash on a hostile PDF now ends the child, the viewer says so,
and the next document starts a fresh one.

Calls block, so they are made from worker threads only (the viewers' render threads). One lock
around each request and its answer keeps the pipe in order; MuPDF was serialised anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from app.services.paths import log_dir
from app.services.pdf_protocol import Header, ProtocolError, read_message, write_message

log = logging.getLogger(__name__)
T = TypeVar("T")

# Hidden first argument of main.py: a frozen app runs itself as the render child.
RUN_PDF_RENDERER = "--run-pdf-renderer"
STOPPED_MESSAGE = "This document cannot be shown: the PDF renderer stopped unexpectedly."
NOT_STARTED_MESSAGE = "This document cannot be shown: the PDF renderer could not be started."
TOO_SLOW_MESSAGE = "This document cannot be shown: the PDF renderer took too long and was stopped."
# Longer than any page takes, printing at 300 dpi included (a few seconds for the heaviest pages
# seen): past it, MuPDF is looping on a hostile document, and every viewer would wait behind it.
REQUEST_TIMEOUT_S = 30.0
# What a new child's first answer may take on top: it loads PyMuPDF first (0.2 s here, seconds on
# a slow laptop with a virus scanner reading every file), which says nothing about the document.
START_ALLOWANCE_S = 60.0
# How long a child that was asked to end (its stdin closed) may take before it is killed.
STOP_TIMEOUT_S = 2.0


class RendererStopped(Exception):
    """The child died (a crash, or it was killed) or could not start: the request, and the
    documents it held, are lost. The message is a sentence for the viewer."""


class DocumentLost(RendererStopped):
    """The document's child is gone, ended by another request (another document's crash, or
    a timeout) before this one was sent: this document did nothing wrong, and can be opened
    again in a fresh child."""


class RenderError(Exception):
    """The child answered, but could not do it: a corrupt PDF, a page that does not exist."""


@dataclass(frozen=True)
class PdfDocument:
    """An open document: valid in the child it was opened in (`child`) only."""

    child: int
    number: int
    page_sizes: list[tuple[float, float]]  # points


@dataclass(frozen=True)
class RenderedPage:
    """RGB888 pixels, `stride` bytes a row."""

    width: int
    height: int
    stride: int
    samples: bytes


def render_child_command() -> list[str]:
    """A frozen app has no Python to run `-m` with, so it runs itself with main.py's hidden entry point."""
    if getattr(sys, "frozen", False):
        return [sys.executable, RUN_PDF_RENDERER]
    return [sys.executable, "-m", "app.pdf_render_child"]


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


class PdfRenderService:
    """The render child's lifetime and the requests to it. A child number counts the children
    started: a document opened in a child that since died is gone, and says so."""

    def __init__(self, command: list[str] | None = None) -> None:
        self._command = command
        self.request_timeout = REQUEST_TIMEOUT_S  # how long one answer may take before the child is killed
        self._answered = False  # whether the running child answered yet (see START_ALLOWANCE_S)
        self._lock = threading.Lock()  # one request and its answer at a time; guards _process
        self._process: subprocess.Popen[bytes] | None = None
        self._child = 0
        self._ended: set[int] = set()  # the children `stop` ended: their end is no news
        self._reasons: dict[int, str] = {}  # why this service ended a child (a timeout, a broken answer)
        self._listeners: list[Callable[[int, str], None]] = []
        self._listeners_lock = threading.Lock()
        self._exit_hook = False

    # -- lifetime ----------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        """Starts the child unless one runs, so that it has loaded PyMuPDF before the first document."""
        with self._lock, contextlib.suppress(RendererStopped):  # logged; the first document says so
            self._running_child()

    def start_in_background(self) -> None:
        """`start` on a thread of its own: for the GUI thread, which never waits for a process to spawn."""
        threading.Thread(target=self.start, name="pdf-renderer-start", daemon=True).start()

    def stop(self) -> None:
        """Ends the child (at the app's exit): its stdin closes, and it is killed if it does not end soon."""
        process, self._process = self._process, None
        self._ended.add(self._child)
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            with contextlib.suppress(OSError):
                process.stdout.close()

    def add_stop_listener(self, listener: Callable[[int, str], None]) -> None:
        """`listener(child, sentence)` runs on a watcher thread when a child dies other than by `stop`."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_stop_listener(self, listener: Callable[[int, str], None]) -> None:
        """Once this returns, `listener` is not running and will not run again."""
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _running_child(self) -> subprocess.Popen[bytes]:
        """The live child, started if there is none; called with the lock held."""
        process = self._process
        if process is not None and process.poll() is None:
            return process
        if process is not None:
            self._discard(process)
        root = _project_root()
        env = dict(os.environ)
        if not getattr(sys, "frozen", False):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        command = self._command or render_child_command()
        try:
            errors: IO[bytes] | int = (log_dir() / "pdf-renderer.log").open("ab")
        except OSError as exc:  # a log folder it cannot write to must not stop PDFs from showing
            log.warning("the PDF renderer's log cannot be written: %s", exc)
            errors = subprocess.DEVNULL
        try:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                # Windows: no console window, and a priority below the app's (os.nice does it elsewhere).
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0)
                | getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0),
                # A session of its own: Ctrl+C in the app's terminal must not end only the renderer.
                start_new_session=os.name == "posix",
            )
        except OSError as exc:
            log.error("could not start the PDF renderer %s: %s", command, exc)
            raise RendererStopped(NOT_STARTED_MESSAGE) from exc
        finally:
            if not isinstance(errors, int):
                errors.close()  # the child has its own copy
        self._child += 1
        self._process = process
        self._answered = False
        log.info("started the PDF renderer (pid %s)", process.pid)
        threading.Thread(
            target=self._watch, args=(process, self._child), name="pdf-renderer-watch", daemon=True
        ).start()
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self.stop)
        return process

    def _watch(self, process: subprocess.Popen[bytes], child: int) -> None:
        code = process.wait()
        if child in self._ended:
            return
        reason = self._reasons.pop(child, STOPPED_MESSAGE)
        log.warning("the PDF renderer (pid %s) stopped with exit code %s", process.pid, code)
        with self._listeners_lock:
            for listener in list(self._listeners):
                try:
                    listener(child, reason)
                except Exception:  # one broken listener must not keep the others from hearing it
                    log.exception("a PDF renderer stop listener failed")

    def _discard(self, process: subprocess.Popen[bytes]) -> None:
        """Forgets a child that died or broke the protocol (killed, so it cannot answer late)."""
        if self._process is process:
            self._process = None
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    # -- requests ----------------------------------------------------------------------

    def _request(
        self, header: Header, parse: Callable[[int, Header, bytes], T], payload: bytes = b"", child: int | None = None
    ) -> T:
        """One request and its answer, read by `parse(child, figures, payload)`, in a live child: the
        running one, or for `child` only that one. An answer `parse` cannot read (a field missing, a
        payload too short) is a broken child, dealt with like a crash."""
        with self._lock:
            process = self._running_child() if child is None else self._process
            if process is None or child not in (None, self._child) or process.poll() is not None:
                raise DocumentLost(STOPPED_MESSAGE)  # the document's child was replaced, or died
            stdin, stdout = process.stdin, process.stdout
            assert stdin is not None and stdout is not None
            allowance = 0.0 if self._answered else START_ALLOWANCE_S
            watchdog = _Watchdog(process, self.request_timeout + allowance)
            try:
                write_message(stdin, header, payload)
            except (OSError, ValueError) as exc:  # it died before it had this request: not this one's doing
                watchdog.finish()
                self._discard(process)
                raise DocumentLost(STOPPED_MESSAGE) from exc
            try:
                answer = read_message(stdout)
                if answer is None:
                    raise ProtocolError("the renderer closed its end")
                if watchdog.finish():  # the answer came, but as the child was being killed for its delay
                    raise ProtocolError("the renderer was stopped for its delay")
                figures, data = answer
                # In a tuple: an operation's answer may itself be None (close).
                parsed = (parse(self._child, figures, data),) if figures.get("ok") else None
            # ValueError: a pipe closed by `stop`; KeyError, TypeError: an answer without its figures
            except (OSError, ValueError, KeyError, TypeError, ProtocolError) as exc:
                reason = TOO_SLOW_MESSAGE if watchdog.finish() else STOPPED_MESSAGE
                log.warning("the PDF renderer failed on %r: %s", header.get("op"), reason if watchdog.fired else exc)
                self._reasons[self._child] = reason
                self._discard(process)
                raise RendererStopped(reason) from exc
            self._answered = True
        if parsed is None:
            raise RenderError(str(figures.get("error") or "unknown error"))
        return parsed[0]

    def open(self, data: bytes) -> PdfDocument:
        """Opens a PDF from its bytes, starting a child if none runs. RenderError: not a PDF it can read."""

        def parse(child: int, figures: Header, _: bytes) -> PdfDocument:
            sizes = [(float(width), float(height)) for width, height in figures["pages"]]
            return PdfDocument(child, int(figures["document"]), sizes)

        try:
            return self._request({"op": "open"}, parse, data)
        except DocumentLost:  # the running child had just died: this document goes to a fresh one
            return self._request({"op": "open"}, parse, data)

    def render(self, document: PdfDocument, page: int, scale: float) -> RenderedPage:
        """One page at `scale` x 72 dpi, or less where that would pass the child's pixel budget (the
        viewer draws the image into the page's rectangle either way)."""

        def parse(_: int, figures: Header, samples: bytes) -> RenderedPage:
            rendered = RenderedPage(int(figures["width"]), int(figures["height"]), int(figures["stride"]), samples)
            if (
                rendered.width <= 0
                or rendered.stride < 3 * rendered.width
                or len(samples) < rendered.stride * rendered.height
            ):
                raise ValueError("a rendered page's pixels do not match its size")
            return rendered

        header = {"op": "render", "document": document.number, "page": page, "scale": scale}
        return self._request(header, parse, child=document.child)

    def search(self, document: PdfDocument, text: str) -> list[tuple[int, list[tuple[float, float, float, float]]]]:
        """[(page, [(x0, y0, x1, y1) in points])] for the pages with a match."""

        def parse(_: int, figures: Header, __: bytes) -> list[tuple[int, list[tuple[float, float, float, float]]]]:
            return [
                (int(page), [(float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in rects])
                for page, rects in figures["hits"]
            ]

        return self._request({"op": "search", "document": document.number, "text": text}, parse, child=document.child)

    def close(self, document: PdfDocument) -> None:
        """Frees the document in the child; nothing to do when that child is gone."""
        with contextlib.suppress(RendererStopped):
            self._request({"op": "close", "document": document.number}, lambda *_: None, child=document.child)


class _Watchdog:
    """Kills a child that does not answer in time: the read waiting for it then ends at once.
    `finish` and the kill exclude each other, so a child that answered is never killed late."""

    def __init__(self, process: subprocess.Popen[bytes], seconds: float) -> None:
        self._process = process
        self._lock = threading.Lock()
        self._done = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            self._process.kill()

    def finish(self) -> bool:
        """Stops the timer; True when it had already killed the child."""
        with self._lock:
            self._done = True
        self._timer.cancel()
        return self.fired


_service: PdfRenderService | None = None
_service_lock = threading.Lock()


def pdf_render_service() -> PdfRenderService:
    """The app's one render child, shared by every viewer."""
    global _service
    with _service_lock:
        if _service is None:
            _service = PdfRenderService()
        return _service
