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

from app.services.paths import log_dir
from app.services.pdf_protocol import Header, ProtocolError, read_message, write_message

log = logging.getLogger(__name__)

# Hidden first argument of main.py: a frozen app runs itself as the render child.
RUN_PDF_RENDERER = "--run-pdf-renderer"
STOPPED_MESSAGE = "This document cannot be shown: the PDF renderer stopped unexpectedly."
NOT_STARTED_MESSAGE = "This document cannot be shown: the PDF renderer could not be started."
TOO_SLOW_MESSAGE = "This document cannot be shown: the PDF renderer took too long and was stopped."
# Longer than any page takes, printing at 300 dpi included (a few seconds for the heaviest pages
# seen): past it, MuPDF is looping on a hostile document, and every viewer would wait behind it.
REQUEST_TIMEOUT_S = 30.0
# How long a child that was asked to end (its stdin closed) may take before it is killed.
STOP_TIMEOUT_S = 2.0


class RendererStopped(Exception):
    """The child died (a crash, or it was killed) or could not start: the request, and the
    documents it held, are lost. The message is a sentence for the viewer."""


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


def _kill(process: subprocess.Popen[bytes], timed_out: threading.Event) -> None:
    timed_out.set()  # before the kill, so the reader it wakes knows why
    process.kill()


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


class PdfRenderService:
    """The render child's lifetime and the requests to it. A child number counts the children
    started: a document opened in a child that since died is gone, and says so."""

    def __init__(self, command: list[str] | None = None, request_timeout: float = REQUEST_TIMEOUT_S) -> None:
        self._command = command
        self._request_timeout = request_timeout
        self._lock = threading.Lock()  # one request and its answer at a time; guards _process
        self._process: subprocess.Popen[bytes] | None = None
        self._child = 0
        self._ended: set[int] = set()  # the children `stop` ended: their end is no news
        self._listeners: list[Callable[[int], None]] = []
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

    def add_stop_listener(self, listener: Callable[[int], None]) -> None:
        """`listener(child)` runs on a watcher thread when a child dies on its own (not at `stop`)."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_stop_listener(self, listener: Callable[[int], None]) -> None:
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
            with (log_dir() / "pdf-renderer.log").open("ab") as errors:
                process = subprocess.Popen(
                    command,
                    cwd=root,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
                )
        except OSError as exc:
            log.error("could not start the PDF renderer %s: %s", command, exc)
            raise RendererStopped(NOT_STARTED_MESSAGE) from exc
        self._child += 1
        self._process = process
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
        log.warning("the PDF renderer (pid %s) stopped with exit code %s", process.pid, code)
        with self._listeners_lock:
            for listener in list(self._listeners):
                listener(child)

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

    def _request(self, header: Header, payload: bytes = b"", child: int | None = None) -> tuple[int, Header, bytes]:
        """One request and its answer, in a live child: the running one, or for `child` only that one."""
        with self._lock:
            process = self._running_child() if child is None else self._process
            if process is None or child not in (None, self._child):
                raise RendererStopped(STOPPED_MESSAGE)  # the document's child was replaced, or stopped
            if process.poll() is not None:
                self._discard(process)
                raise RendererStopped(STOPPED_MESSAGE)
            stdin, stdout = process.stdin, process.stdout
            assert stdin is not None and stdout is not None
            # A child that does not answer in time is killed: the read below then ends at once.
            timed_out = threading.Event()
            watchdog = threading.Timer(self._request_timeout, _kill, args=(process, timed_out))
            watchdog.daemon = True
            watchdog.start()
            try:
                write_message(stdin, header, payload)
                answer = read_message(stdout)
                if answer is None:
                    raise ProtocolError("the renderer closed its end")
            except (OSError, ValueError, ProtocolError) as exc:  # ValueError: a pipe closed by `stop`
                too_slow = timed_out.is_set()
                log.warning("the PDF renderer failed on %r: %s", header.get("op"), "timeout" if too_slow else exc)
                self._discard(process)
                raise RendererStopped(TOO_SLOW_MESSAGE if too_slow else STOPPED_MESSAGE) from exc
            finally:
                watchdog.cancel()
            answered_by = self._child
        figures, data = answer
        if not figures.get("ok"):
            raise RenderError(str(figures.get("error") or "unknown error"))
        return answered_by, figures, data

    def open(self, data: bytes) -> PdfDocument:
        """Opens a PDF from its bytes, starting a child if none runs. RenderError: not a PDF it can read."""
        child, figures, _ = self._request({"op": "open"}, data)
        sizes = [(float(width), float(height)) for width, height in figures["pages"]]
        return PdfDocument(child, int(figures["document"]), sizes)

    def render(self, document: PdfDocument, page: int, scale: float) -> RenderedPage:
        """One page at `scale` x 72 dpi."""
        header = {"op": "render", "document": document.number, "page": page, "scale": scale}
        _, figures, samples = self._request(header, child=document.child)
        return RenderedPage(int(figures["width"]), int(figures["height"]), int(figures["stride"]), samples)

    def search(self, document: PdfDocument, text: str) -> list[tuple[int, list[tuple[float, float, float, float]]]]:
        """[(page, [(x0, y0, x1, y1) in points])] for the pages with a match."""
        _, figures, _ = self._request({"op": "search", "document": document.number, "text": text}, child=document.child)
        return [(int(page), [(r[0], r[1], r[2], r[3]) for r in rects]) for page, rects in figures["hits"]]

    def close(self, document: PdfDocument) -> None:
        """Frees the document in the child; nothing to do when that child is gone."""
        with contextlib.suppress(RendererStopped):
            self._request({"op": "close", "document": document.number}, child=document.child)


_service: PdfRenderService | None = None
_service_lock = threading.Lock()


def pdf_render_service() -> PdfRenderService:
    """The app's one render child, shared by every viewer."""
    global _service
    with _service_lock:
        if _service is None:
            _service = PdfRenderService()
        return _service
