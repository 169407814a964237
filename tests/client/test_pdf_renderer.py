"""The PDF render child (app/pdf_render_child.py, app/services/pdf_renderer.py): real processes.

PyMuPDF lives in the child only, so that its import never stalls the GUI thread and a crash on a
hostile PDF ends the child, not the app. This test process imports PyMuPDF itself to make its
documents; what the app's process imports is checked in a fresh interpreter.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pymupdf
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from app.pdf_render_child import MAX_RENDER_PIXELS
from app.services.paths import log_dir
from app.services.pdf_protocol import read_message, write_message
from app.services.pdf_renderer import (
    REQUEST_TIMEOUT_S,
    STOPPED_MESSAGE,
    TOO_SLOW_MESSAGE,
    DocumentLost,
    PdfRenderService,
    RenderError,
    RendererStopped,
    pdf_render_service,
    render_child_command,
)
from app.views.pdf_viewer import DAMAGED_MESSAGE, EMPTY_MESSAGE, PdfViewer
from app.views.pdf_window import PdfWindow
from tests.client.live_server import ROOT

pytestmark = pytest.mark.gui

WAIT_MS = 15000
RED = (255, 0, 0)


def red_square_pdf(text: str = "Invoice INV-0042") -> bytes:
    """One A4 page: a red 100 pt square at the top left, and `text` below it."""
    with pymupdf.open() as document:
        page = document.new_page()
        page.draw_rect(pymupdf.Rect(0, 0, 100, 100), color=None, fill=(1, 0, 0))
        page.insert_text((72, 200), text)
        data: bytes = document.tobytes()
    return data


def pixel(samples: bytes, stride: int, x: int, y: int) -> tuple[int, int, int]:
    start = y * stride + 3 * x
    return samples[start], samples[start + 1], samples[start + 2]


def wait_for_exit(pid: int, timeout: float = 10.0) -> bool:
    """True once `pid` is gone (or a zombie nobody reaps, which is gone as far as work goes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def service() -> Iterator[PdfRenderService]:
    own = PdfRenderService()
    yield own
    own.stop()


def test_a_render_round_trips_size_stride_and_pixels(service: PdfRenderService) -> None:
    document = service.open(red_square_pdf())
    assert document.page_sizes == [(595.0, 842.0)]
    page = service.render(document, 0, 2.0)
    assert (page.width, page.height) == (1190, 1684)
    assert page.stride == 3 * page.width
    assert len(page.samples) == page.stride * page.height
    assert pixel(page.samples, page.stride, 20, 20) == RED
    assert pixel(page.samples, page.stride, 190, 190) == RED  # 95 pt in: still the square
    assert pixel(page.samples, page.stride, 300, 300) == (255, 255, 255)
    [(number, [hit])] = service.search(document, "INV-0042")
    assert number == 0 and hit[0] > 72 and 180 < hit[1] < hit[3] < 210
    assert service.search(document, "no such words") == []
    service.close(document)
    with pytest.raises(RenderError):
        service.render(document, 0, 1.0)  # closed in the child


def test_a_corrupt_pdf_is_a_render_error_and_the_child_keeps_serving(service: PdfRenderService) -> None:
    with pytest.raises(RenderError):
        service.open(b"%PDF-1.7 this is not a document")
    pid = service.pid
    assert service.open(red_square_pdf()).page_sizes
    assert service.pid == pid


def test_a_killed_child_loses_its_documents_and_the_next_open_starts_a_fresh_one(service: PdfRenderService) -> None:
    stopped: list[tuple[int, str]] = []
    service.add_stop_listener(lambda child, reason: stopped.append((child, reason)))
    document = service.open(red_square_pdf())
    pid = service.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_for_exit(pid)  # died between two requests
    with pytest.raises(DocumentLost, match="stopped unexpectedly"):
        service.render(document, 0, 1.0)
    deadline = time.monotonic() + 10
    while not stopped and time.monotonic() < deadline:  # the watcher thread tells the listeners
        time.sleep(0.02)
    assert stopped == [(document.child, STOPPED_MESSAGE)]
    again = service.open(red_square_pdf())
    assert service.pid not in (None, pid)
    with pytest.raises(RendererStopped):
        service.search(document, "INV")  # its child is gone for good, even with a new one running
    assert pixel(service.render(again, 0, 1.0).samples, 3 * 595, 10, 10) == RED


def test_a_child_that_stops_answering_is_killed_and_the_next_open_starts_a_fresh_one(
    service: PdfRenderService,
) -> None:
    """A hostile PDF can send MuPDF into a loop: without a limit every viewer would wait behind it.
    The child is frozen here with SIGSTOP, as a loop would leave it."""
    service.request_timeout = 0.05
    document = service.open(red_square_pdf())  # a new child's start-up (loading PyMuPDF) is not held to it
    pid = service.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(RendererStopped) as stopped:
        service.render(document, 0, 1.0)
    assert str(stopped.value) == TOO_SLOW_MESSAGE
    assert not isinstance(stopped.value, DocumentLost)  # this request's document held the child up
    assert time.monotonic() - started >= 0.05
    assert wait_for_exit(pid)
    service.request_timeout = REQUEST_TIMEOUT_S
    again = service.open(red_square_pdf())
    assert service.pid not in (None, pid)
    assert pixel(service.render(again, 0, 1.0).samples, 3 * 595, 10, 10) == RED


def test_a_huge_page_is_rendered_within_the_pixel_budget(service: PdfRenderService) -> None:
    """An A0 plan at 400 % is 128 million pixels: it comes at the most the budget allows, and the
    child lives on for the next request."""
    with pymupdf.open() as plan:
        plan.new_page(width=2384, height=3370).draw_rect(pymupdf.Rect(0, 0, 100, 100), color=None, fill=(1, 0, 0))
        document = service.open(plan.tobytes())
    page = service.render(document, 0, 4.0)
    assert page.width * page.height <= MAX_RENDER_PIXELS
    assert page.width > 2 * 2384  # still sharper than 200 %
    assert pixel(page.samples, page.stride, 5, 5) == RED
    assert service.render(service.open(red_square_pdf()), 0, 1.0).width == 595


def test_the_child_exits_when_its_stdin_closes() -> None:
    child = subprocess.Popen(
        render_child_command(), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert child.stdin is not None and child.stdout is not None
    write_message(child.stdin, {"op": "open"}, red_square_pdf())
    answer = read_message(child.stdout)
    assert answer is not None and answer[0]["ok"] and answer[0]["pages"] == [[595.0, 842.0]]
    write_message(child.stdin, {"op": "no-such-operation"})
    answer = read_message(child.stdout)
    assert answer is not None and not answer[0]["ok"]
    child.stdin.close()
    assert child.wait(timeout=10) == 0
    child.stdout.close()


def test_the_child_exits_when_the_app_dies() -> None:
    """The app killed outright (no atexit, no stop): the child sees its pipe end and goes too."""
    app = textwrap.dedent(
        """
        import sys, time
        from app.services.pdf_renderer import pdf_render_service
        service = pdf_render_service()
        service.start()
        print(service.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", app], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert not wait_for_exit(child_pid, 0.5)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    assert wait_for_exit(child_pid), "the render child outlived the app"


def test_the_app_process_never_imports_pymupdf(tmp_path: Path) -> None:
    """A viewer opens, renders and searches a document in a fresh interpreter, as the app's."""
    document = tmp_path / "invoice.pdf"
    document.write_bytes(red_square_pdf())
    app = textwrap.dedent(
        f"""
        import sys
        from PySide6.QtWidgets import QApplication
        from PySide6.QtCore import QEventLoop, QTimer
        from app.views.pdf_viewer import PdfViewer

        app = QApplication([])

        def wait(condition):
            for _ in range(1500):
                if condition():
                    return
                loop = QEventLoop()
                QTimer.singleShot(10, loop.quit)
                loop.exec()
            raise SystemExit("timed out")

        viewer = PdfViewer()
        viewer.resize(700, 900)
        viewer.show()
        viewer.load(open({str(document)!r}, "rb").read(), "invoice.pdf")
        wait(lambda: viewer._shown)
        viewer.search("INV-0042")
        wait(lambda: viewer.hit_count == 1)
        viewer.shutdown()
        print("pymupdf" in sys.modules, "fitz" in sys.modules)
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", app], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "False"], done.stderr


def open_viewer(qtbot: QtBot, data: bytes, filename: str) -> PdfViewer:
    viewer = PdfViewer()
    qtbot.addWidget(viewer)
    viewer.resize(700, 900)
    viewer.show()
    with qtbot.waitSignal(viewer.document_shown, timeout=WAIT_MS):
        viewer.load(data, filename)
    return viewer


def test_a_viewer_whose_renderer_dies_opens_its_document_again_once_then_says_so(qtbot: QtBot) -> None:
    viewer = open_viewer(qtbot, red_square_pdf(), "first.pdf")
    first = pdf_render_service().pid
    assert first is not None
    os.kill(first, signal.SIGKILL)  # between two requests: nothing of this viewer's was in the child's hands
    qtbot.waitUntil(lambda: pdf_render_service().pid not in (None, first), timeout=WAIT_MS)
    viewer.search("INV-0042")  # the document is open again in the new child
    qtbot.waitUntil(lambda: viewer.hit_count == 1, timeout=WAIT_MS)
    assert not viewer.message.isVisible() and viewer.page_count == 1
    second = pdf_render_service().pid
    assert second is not None
    os.kill(second, signal.SIGKILL)  # twice: it says so rather than start children without end
    qtbot.waitUntil(lambda: viewer.message.isVisible(), timeout=WAIT_MS)
    assert viewer.message.text() == STOPPED_MESSAGE
    assert viewer.page_count == 0 and not viewer.search_edit.isEnabled()
    assert viewer.save_button.isEnabled()  # the bytes are still here to keep
    with qtbot.waitSignal(viewer.document_shown, timeout=WAIT_MS):
        viewer.load(red_square_pdf("Invoice INV-0043"), "second.pdf")
    assert not viewer.message.isVisible()
    image = viewer.cached_image(0)
    assert image is not None and image.pixelColor(5, 5).getRgb()[:3] == RED
    viewer.search("INV-0043")
    qtbot.waitUntil(lambda: viewer.hit_count == 1, timeout=WAIT_MS)
    viewer.shutdown()


def test_the_document_that_held_the_renderer_up_says_so_and_the_other_viewer_goes_on(qtbot: QtBot) -> None:
    service = pdf_render_service()
    innocent = open_viewer(qtbot, red_square_pdf("Invoice INV-0044"), "innocent.pdf")
    culprit = open_viewer(qtbot, red_square_pdf("Proposal OPP-7"), "culprit.pdf")
    service.request_timeout = 1.0
    try:
        pid = service.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # as MuPDF looping on the culprit's document would leave it
        culprit.search("OPP-7")
        qtbot.waitUntil(lambda: culprit.message.isVisible(), timeout=WAIT_MS)
        assert culprit.message.text() == TOO_SLOW_MESSAGE
    finally:
        service.request_timeout = REQUEST_TIMEOUT_S
    innocent.search("INV-0044")
    qtbot.waitUntil(lambda: innocent.hit_count == 1, timeout=WAIT_MS)
    assert not innocent.message.isVisible() and service.pid not in (None, pid)
    innocent.shutdown()
    culprit.shutdown()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7 broken", DAMAGED_MESSAGE),
        (b"not a PDF: a proxy's error page <html></html>", DAMAGED_MESSAGE),
        (b"%PDF-1.4\n1 0 obj garbage", DAMAGED_MESSAGE),  # MuPDF opens it, with no pages
        (b"", EMPTY_MESSAGE),
    ],
)
def test_a_damaged_pdf_says_so_in_a_sentence_and_logs_mupdfs_words(qtbot: QtBot, data: bytes, expected: str) -> None:
    """MuPDF's "Failed to open stream" was the sentence, and a document of no pages an empty viewer
    "of 0" that said nothing."""
    viewer = PdfViewer()
    qtbot.addWidget(viewer)
    viewer.show()
    viewer.load(data, "broken.pdf")
    qtbot.waitUntil(lambda: viewer.message.isVisible(), timeout=WAIT_MS)
    assert viewer.message.text() == expected
    assert viewer.page_count == 0 and not viewer.print_button.isEnabled()
    assert viewer.save_button.isEnabled() == bool(data)
    log = log_dir() / "pdf-renderer.log"
    qtbot.waitUntil(lambda: log.exists() and "open failed: " in log.read_text(errors="replace"), timeout=WAIT_MS)
    viewer.shutdown()


MAIN_THREAD = threading.get_ident()  # pytest-qt's tests run on the GUI thread


def numbered_pages_pdf(count: int) -> bytes:
    """`count` pages, each with a red square on its left edge, lower down the further in."""
    with pymupdf.open() as document:
        for number in range(count):
            page = document.new_page()
            top = 100 * number
            page.draw_rect(pymupdf.Rect(0, top, 100, top + 100), color=None, fill=(1, 0, 0))
        data: bytes = document.tobytes()
    return data


def test_printing_asks_for_each_page_once_the_one_before_is_printed(qtbot: QtBot, tmp_path: Path) -> None:
    """Every page at 300 dpi (25 MB each) was held until the last arrived, then all were printed
    at once: a 30-page document took the app to ~1 GB and froze the window for seconds."""
    count = 4
    viewer = open_viewer(qtbot, numbered_pages_pdf(count), "pages.pdf")
    events: list[str] = []
    viewer._print_requested.connect(lambda *args: events.append(f"ask {args[-1]}"))
    viewer.renderer.printed_page.connect(
        lambda job, number, image: events.append(f"got {number}"), Qt.ConnectionType.DirectConnection
    )
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    viewer.print_document(printer)
    assert viewer.printing and not viewer.print_button.isEnabled()
    qtbot.waitUntil(lambda: not viewer.printing, timeout=WAIT_MS * 2)
    assert events == [event for number in range(count) for event in (f"ask {number}", f"got {number}")]
    assert viewer.print_button.isEnabled()
    with pymupdf.open(tmp_path / "printed.pdf") as printed:
        assert printed.page_count == count
        for number, page in enumerate(printed):
            pixmap = page.get_pixmap(matrix=pymupdf.Matrix(0.5, 0.5))
            red, green, blue = pixel(pixmap.samples, pixmap.stride, 5, 50 * number + 25)
            assert red > 240 and green < 16 and blue < 16, f"page {number + 1} is that page, printed"
    viewer.shutdown()


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_pages_are_painted_into_the_printer_on_the_print_worker_in_order(qtbot: QtBot, tmp_path: Path) -> None:
    """Painting a 300 dpi page into the printer took 0.3-0.5 s on the GUI thread, per page."""
    count = 3
    viewer = open_viewer(qtbot, numbered_pages_pdf(count), "pages.pdf")
    viewer._start_page_printer()
    worker = viewer._page_printer
    assert worker is not None
    painted: list[tuple[int, bool]] = []
    worker.page_printed.connect(
        lambda job, number: painted.append((number, threading.get_ident() == MAIN_THREAD)),
        Qt.ConnectionType.DirectConnection,
    )
    viewer.print_document(pdf_printer(tmp_path / "printed.pdf"))
    qtbot.waitUntil(lambda: not viewer.printing, timeout=WAIT_MS * 2)
    assert painted == [(0, False), (1, False)], "each page but the last says so from the worker, in order"
    with pymupdf.open(tmp_path / "printed.pdf") as printed:
        assert printed.page_count == count
    viewer.shutdown()


def test_closing_the_viewer_mid_print_ends_the_print_worker_cleanly(qtbot: QtBot, tmp_path: Path) -> None:
    count = 12
    viewer = open_viewer(qtbot, numbered_pages_pdf(count), "pages.pdf")
    asked: list[int] = []
    viewer._print_requested.connect(lambda job, number: asked.append(number))
    viewer.print_document(pdf_printer(tmp_path / "printed.pdf"))
    worker, thread = viewer._page_printer, viewer._print_thread
    assert worker is not None and thread is not None
    qtbot.waitUntil(lambda: len(asked) >= 2, timeout=WAIT_MS)  # page 0 painted, page 1 asked for
    viewer.shutdown()  # what closing its window does
    qtbot.waitUntil(thread.isFinished, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not shiboken6.isValid(worker), timeout=WAIT_MS)  # deleted on its own thread
    qtbot.wait(200)
    assert len(asked) < count, "no page asked for after the close"


def test_a_closed_viewers_workers_are_deleted_on_their_own_threads_even_when_their_ends_are_slow(
    qtbot: QtBot,
) -> None:
    """A worker thread still ending (emitting `finished`, deleting its worker there) already counts
    as finished to QThread.isFinished(): the viewer let go of the thread and its worker then, and the
    worker's last reference went on the GUI thread, which deleted it beside the deletion its own
    thread was about to make (a double delete). Each thread is held in its end here, the window
    already gone, so that moment is certain rather than rare."""
    window = PdfWindow("Pages", numbered_pages_pdf(2), "pages.pdf")
    with qtbot.waitSignal(window.viewer.document_shown, timeout=WAIT_MS):
        window.show()
    window.viewer._start_page_printer()
    assert window.viewer._print_thread is not None and window.viewer._page_printer is not None
    threads = {"render": window.viewer._thread, "print": window.viewer._print_thread}
    deleted_on_gui_thread: dict[str, bool] = {}
    ending: dict[str, threading.Event] = {name: threading.Event() for name in threads}
    release = threading.Event()

    def deleted(name: str, *_: object) -> None:
        deleted_on_gui_thread[name] = threading.get_ident() == MAIN_THREAD

    def held_in_its_end(name: str) -> None:  # on that thread, once its event loop has ended
        ending[name].set()
        release.wait(WAIT_MS / 1000)

    for name, worker in (("render", window.viewer.renderer), ("print", window.viewer._page_printer)):
        worker.destroyed.connect(partial(deleted, name), Qt.ConnectionType.DirectConnection)
        threads[name].finished.connect(partial(held_in_its_end, name), Qt.ConnectionType.DirectConnection)
    del worker
    try:
        with qtbot.waitSignal(window.destroyed, timeout=WAIT_MS):
            window.close()  # the viewer stops its threads; the window is deleted once closed
        del window
        qtbot.waitUntil(lambda: all(event.is_set() for event in ending.values()), timeout=WAIT_MS)
        qtbot.wait(100)  # the viewer checks its stopping threads every 10 ms
        gc.collect()
        assert deleted_on_gui_thread == {}, "a worker was deleted while its thread was still ending"
    finally:
        release.set()
    qtbot.waitUntil(lambda: all(thread.wait(0) for thread in threads.values()), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(deleted_on_gui_thread) == 2, timeout=WAIT_MS)
    assert deleted_on_gui_thread == {"render": False, "print": False}, "each deleted on its own thread"
