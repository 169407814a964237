"""An embedded PDF viewer: continuous pages, zoom, search with highlights, save a copy, print.

The pages are rendered by the app's PDF render child (app/services/pdf_renderer.py); each viewer
has one worker thread that makes its blocking requests and turns the answers into QImages, so the
GUI thread only paints finished images. Only the pages in or near the viewport are rendered, and a
small cache keeps recent ones.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QMetaObject,
    QObject,
    QRectF,
    QSize,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QShortcut, QWheelEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.pdf_renderer import (
    DocumentLost,
    PdfDocument,
    PdfRenderService,
    RenderedPage,
    RenderError,
    RendererStopped,
    pdf_render_service,
)
from app.views import theme

log = logging.getLogger(__name__)
T = TypeVar("T")

ZOOM_STEPS = (0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)
PAGE_GAP = 12
CACHE_PAGES = 12
PRINT_DPI = 300
PRINT_STRIP_ROWS = 192  # of a page's PRINT_DPI image painted into the printer at once
# What the user can do about a file MuPDF cannot read; MuPDF's own message ("Failed to open
# stream") goes to the log, it means nothing to someone on the phone with a customer.
DAMAGED_MESSAGE = (
    "This document cannot be shown: the file is damaged or is not a PDF. "
    "Use “Save a copy…” to open it in another program."
)
EMPTY_MESSAGE = "This document cannot be shown: the file is empty."
DAMAGED_PAGE = "the page is damaged. Use “Save a copy…” to print it from another program."
HIT_COLOR = QColor(theme.SEARCH_HIT)
CURRENT_HIT_COLOR = QColor(theme.CURRENT_SEARCH_HIT)


def preload_pdf_engine() -> None:
    """Starts the PDF render child, so the first "View proposal" or "View invoice" does not wait
    for it to load PyMuPDF (0.2-0.4 s). Called when the app is idle or a document's detail opens
    (see MainWindow); once a child runs, it does nothing.

    Only the child starts here. Windows' modules are imported on the GUI thread when first opened
    (6-20 ms each), never on a worker: defining Qt classes there races the GUI thread inside
    PySide's unsynchronised type registry."""
    pdf_render_service().start_in_background()


def _image(page: RenderedPage) -> QImage:
    image = QImage(page.samples, page.width, page.height, page.stride, QImage.Format.Format_RGB888)
    return image.copy()  # its own pixels: the answer's bytes go away with it


class PdfRenderer(QObject):
    """One viewer's document in the render child; every slot runs on the viewer's worker thread
    and blocks there for its answer.

    When the child dies for another document's sake (a crash or a timeout while this document
    sat idle or waited its turn), this document is opened again in a fresh child, once, and the
    viewer goes on as if nothing happened. The document that was in the child when it died gets
    the sentence instead: opening it again would only end the next child too."""

    opened = Signal(int, list)  # generation, [(width, height)] of each page in points
    failed = Signal(int, str)  # generation, a sentence for the viewer
    rendered = Signal(int, int, float, QImage)  # generation, page, scale, image
    found = Signal(int, str, list)  # generation, query, [(page, [QRectF in points])]
    printed_page = Signal(int, int, QImage)  # job, page, its image at PRINT_DPI
    print_failed = Signal(int, str)  # job, why
    # From the service's watcher thread to this object's own: the check runs in order with the slots.
    _child_lost = Signal(int, str)  # child, the sentence

    def __init__(self, service: PdfRenderService) -> None:
        super().__init__()
        self._service = service
        self._document: PdfDocument | None = None
        self._data = b""
        self._reopened = False
        self._generation = 0
        self.cancelled = threading.Event()  # set by the GUI thread when the viewer closes
        self.render_threads: set[int] = set()  # idents of the threads that rendered: never the GUI's
        self._child_lost.connect(self._on_child_lost)
        service.add_stop_listener(self._child_stopped)

    @Slot(int, bytes)
    def open(self, generation: int, data: bytes) -> None:
        self._close()
        self._generation, self._data, self._reopened = generation, data, False
        try:
            document = self._service.open(data)
        except RenderError as exc:
            log.warning("a document could not be opened (pdf-renderer.log has MuPDF's words): %s", exc)
            self.failed.emit(generation, DAMAGED_MESSAGE if data else EMPTY_MESSAGE)
            return
        except RendererStopped as exc:
            self.failed.emit(generation, str(exc))
            return
        self._document = document
        self.opened.emit(generation, document.page_sizes)

    @Slot(int, int, float)
    def render(self, generation: int, page_number: int, scale: float) -> None:
        if generation != self._generation or self._document is None:
            return
        self.render_threads.add(threading.get_ident())
        try:
            page = self._again_if_lost(partial(self._render_page, number=page_number, scale=scale))
        except RendererStopped as exc:
            self._lost(generation, str(exc))
            return
        except RenderError as exc:  # one broken page: it stays blank, the others still show
            log.warning("page %s could not be rendered: %s", page_number + 1, exc)
            return
        self.rendered.emit(generation, page_number, scale, _image(page))

    @Slot(int, str)
    def search(self, generation: int, text: str) -> None:
        if generation != self._generation or self._document is None:
            return
        try:
            found = self._again_if_lost(lambda document: self._service.search(document, text))
        except RendererStopped as exc:
            self._lost(generation, str(exc))
            return
        except RenderError as exc:
            log.warning("the document could not be searched: %s", exc)
            found = []
        hits = [(page, [QRectF(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in rects]) for page, rects in found]
        self.found.emit(generation, text, hits)

    @Slot(int, int)
    def render_for_print(self, job: int, number: int) -> None:
        """One page at PRINT_DPI (25 MB of pixels for a Letter page). The viewer asks for the next
        only once it has printed this one: all of them waiting at once took a 30-page document's
        printing to ~1 GB."""
        if self._document is None or self.cancelled.is_set():
            return
        try:
            page = self._again_if_lost(partial(self._render_page, number=number, scale=PRINT_DPI / 72))
        except RendererStopped as exc:
            self._lost(self._generation, str(exc))
            return
        except RenderError as exc:
            log.warning("page %s could not be rendered for printing: %s", number + 1, exc)
            self.print_failed.emit(job, f"Page {number + 1} could not be prepared for printing: {DAMAGED_PAGE}")
            return
        self.printed_page.emit(job, number, _image(page))

    @Slot()
    def shutdown(self) -> None:
        """Runs after the work already queued (a page being rendered finishes first), then ends the thread."""
        self._service.remove_stop_listener(self._child_stopped)
        self._close()
        thread = self.thread()
        if thread is not None:
            thread.quit()

    def _render_page(self, document: PdfDocument, *, number: int, scale: float) -> RenderedPage:
        return self._service.render(document, number, scale)

    def _again_if_lost(self, call: Callable[[PdfDocument], T]) -> T:
        """`call(document)`, and once more after reopening the document if its child had died for another's sake."""
        document = self._document
        assert document is not None
        try:
            return call(document)
        except DocumentLost:
            if not self._reopen():
                raise
        assert self._document is not None
        return call(self._document)

    def _reopen(self) -> bool:
        if self._reopened or not self._data:
            return False
        self._reopened = True
        try:
            self._document = self._service.open(self._data)
        except (RenderError, RendererStopped) as exc:
            log.warning("the document could not be opened again: %s", exc)
            return False
        log.info("a document was opened again after the PDF renderer stopped")
        return True

    def _lost(self, generation: int, message: str) -> None:
        self._document = None
        self.failed.emit(generation, message)

    def _child_stopped(self, child: int, reason: str) -> None:
        """On the service's watcher thread: hands the news to this object's thread."""
        if shiboken6.isValid(self):
            self._child_lost.emit(child, reason)

    @Slot(int, str)
    def _on_child_lost(self, child: int, reason: str) -> None:
        """The child holding this document died between two of its requests, or during another's."""
        document = self._document
        if document is None or document.child != child or self.cancelled.is_set():
            return
        if not self._reopen():
            self._lost(self._generation, reason)

    def _close(self) -> None:
        document, self._document = self._document, None
        if document is not None:
            self._service.close(document)


class PagePrinter(QObject):
    """Paints one print job's pages into its printer, on its own thread: one 300 dpi page took
    0.3-0.5 s to paint into a PDF printer, which held the window that long per page. The painter
    is begun, used and ended here, on this thread (Qt supports painting on a QPrinter outside
    the GUI thread); the printer itself is made and set up on the GUI thread (print dialog)."""

    page_printed = Signal(int, int)  # job, page: ready for the next
    ended = Signal(int, str)  # job, "" once every page is printed, else why it could not be

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = threading.Event()  # set by the GUI thread when the viewer closes
        self._job = 0
        self._printer: QPrinter | None = None
        self._painter: QPainter | None = None

    @Slot(int, object)
    def begin(self, job: int, printer: QPrinter) -> None:
        self._end(abort=True)  # one job at a time: the viewer starts none while one runs
        painter = QPainter()
        if not painter.begin(printer):
            self.ended.emit(job, "The printer could not be started.")
            return
        self._job, self._printer, self._painter = job, printer, painter

    @Slot(int, int, bool, QImage)
    def paint(self, job: int, number: int, last: bool, image: QImage) -> None:
        printer, painter = self._printer, self._painter
        if job != self._job or printer is None or painter is None or self.cancelled.is_set():
            return
        if number:
            printer.newPage()
        size = image.size().scaled(painter.viewport().size(), Qt.AspectRatioMode.KeepAspectRatio)
        scale = size.height() / max(1, image.height())
        # In strips: PySide holds the GIL through each Qt call, and the GUI thread needs it for
        # every Python slot and paint; one whole page (0.2-0.5 s) would hold the window as long
        # on this thread as it did on the GUI thread. A strip takes a few tens of ms.
        for top in range(0, image.height(), PRINT_STRIP_ROWS):
            if self.cancelled.is_set():
                return
            rows = min(PRINT_STRIP_ROWS, image.height() - top)
            target = QRectF(0, top * scale, size.width(), rows * scale)
            painter.drawImage(target, image, QRectF(0, top, image.width(), rows))
        if last:
            self._end(abort=False)
            self.ended.emit(job, "")
        else:
            self.page_printed.emit(job, number)

    @Slot(int)
    def abort(self, job: int) -> None:
        """The viewer gave the job up (lost document, damaged page): nothing more is painted."""
        if job == self._job:
            self._end(abort=True)

    @Slot()
    def shutdown(self) -> None:
        """The viewer closed or the app quits: a print under way is given up, then the thread ends."""
        self._end(abort=True)
        thread = self.thread()
        if thread is not None:
            thread.quit()

    def _end(self, *, abort: bool) -> None:
        printer, painter = self._printer, self._painter
        self._printer = self._painter = None
        if printer is None or painter is None:
            return
        if abort:
            printer.abort()
        painter.end()


class _PageWidget(QWidget):
    """One page: white paper with a shadow, the rendered image once it arrives, search hits on top."""

    def __init__(self, viewer: PdfViewer, number: int) -> None:
        super().__init__()
        self.viewer = viewer
        self.number = number
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = self.rect()
        painter.fillRect(rect, QColor(theme.PAPER))
        image = self.viewer.cached_image(self.number)
        if image is not None:
            painter.drawImage(QRectF(rect), image)
        zoom = self.viewer.zoom
        hits = self.viewer.hits_on(self.number)
        for index, hit in enumerate(hits):
            current = self.viewer.is_current_hit(self.number, index)
            painter.fillRect(
                QRectF(hit.x() * zoom, hit.y() * zoom, hit.width() * zoom, hit.height() * zoom),
                CURRENT_HIT_COLOR if current else HIT_COLOR,
            )
        painter.end()


class _Canvas(QWidget):
    """The pages stacked vertically and centred; sized from the page sizes and the zoom."""

    def __init__(self, viewer: PdfViewer) -> None:
        super().__init__()
        self.viewer = viewer
        self.pages: list[_PageWidget] = []

    def set_pages(self, count: int) -> None:
        for page in self.pages:
            page.deleteLater()
        self.pages = [_PageWidget(self.viewer, number) for number in range(count)]
        for page in self.pages:
            page.setParent(self)
            page.show()

    def relayout(self, viewport_width: int) -> None:
        zoom = self.viewer.zoom
        sizes = [QSize(round(w * zoom), round(h * zoom)) for w, h in self.viewer.page_sizes]
        width = max([s.width() for s in sizes] + [0]) + 2 * PAGE_GAP
        width = max(width, viewport_width)
        y = PAGE_GAP
        for page, size in zip(self.pages, sizes, strict=True):
            page.setGeometry((width - size.width()) // 2, y, size.width(), size.height())
            y += size.height() + PAGE_GAP
        self.setFixedSize(width, y)


class _ScrollArea(QScrollArea):
    zoom_wheel = Signal(int)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_wheel.emit(event.angleDelta().y())
            event.accept()
            return
        super().wheelEvent(event)


class PdfViewer(QWidget):
    """`viewer.load(pdf_bytes, "OPP-1001.pdf")`; callers may add their own buttons to `toolbar`."""

    document_shown = Signal()  # the first page is painted
    page_changed = Signal(int, int)  # current page (1-based), page count
    _open_requested = Signal(int, bytes)
    _render_requested = Signal(int, int, float)
    _search_requested = Signal(int, str)
    _print_requested = Signal(int, int)  # job, page
    _print_begin = Signal(int, object)  # job, QPrinter: to the page printer
    _paint_requested = Signal(int, int, bool, QImage)  # job, page, the last one, its image
    _print_abort = Signal(int)  # job

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PdfViewer")
        self.data = b""
        self.filename = "document.pdf"
        self.page_sizes: list[tuple[float, float]] = []
        self.zoom = 1.0
        self._fit: str | None = "width"
        self._generation = 0
        self._cache: OrderedDict[int, tuple[float, QImage]] = OrderedDict()
        self._in_flight: set[tuple[int, float]] = set()
        self._hits: list[tuple[int, QRectF]] = []
        self._hit_index = -1
        self._shown = False
        self._print_job = 0
        self._printing = False  # a job is under way: pages go to the page printer as they come
        # Made at the first print: most viewers never print.
        self._print_thread: QThread | None = None
        self._page_printer: PagePrinter | None = None

        # The thread has no Qt parent: it must outlive this widget's destructor long enough to be
        # stopped cleanly (destroying a running QThread aborts the process).
        self._thread = QThread()
        self._thread.setObjectName("pdf-render")
        self.renderer = PdfRenderer(pdf_render_service())
        self.renderer.moveToThread(self._thread)
        self._thread.finished.connect(self.renderer.deleteLater)
        self.destroyed.connect(partial(_stop, self._thread, self.renderer))
        self._open_requested.connect(self.renderer.open)
        self._render_requested.connect(self.renderer.render)
        self._search_requested.connect(self.renderer.search)
        self._print_requested.connect(self.renderer.render_for_print)
        self.renderer.opened.connect(self._opened)
        self.renderer.failed.connect(self._failed)
        self.renderer.rendered.connect(self._rendered)
        self.renderer.found.connect(self._found)
        self.renderer.printed_page.connect(self._printed_page)
        self.renderer.print_failed.connect(self._print_failed)
        self._thread.start()

        self.toolbar = QHBoxLayout()
        self._build_toolbar()
        self.scroll_area = _ScrollArea()
        self.scroll_area.setWidgetResizable(False)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        # Around the pages: the palette's viewer_bg (style.qss), a shade off the window in both schemes.
        self.scroll_area.setObjectName("PdfScroll")
        self.canvas = _Canvas(self)
        self.canvas.setObjectName("PdfCanvas")
        self.canvas.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.scroll_area.setWidget(self.canvas)
        self.scroll_area.verticalScrollBar().valueChanged.connect(self._viewport_moved)
        self.scroll_area.zoom_wheel.connect(lambda delta: self.zoom_in() if delta > 0 else self.zoom_out())
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QFrame()
        bar.setObjectName("PdfToolbar")
        bar.setLayout(self.toolbar)
        layout.addWidget(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll_area, 1)
        self._relayout_timer = QTimer(self, singleShot=True, interval=30)
        self._relayout_timer.timeout.connect(self._relayout)
        self._install_shortcuts()
        self._update_controls()

    # -- construction ------------------------------------------------------------------

    def _tool(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _build_toolbar(self) -> None:
        bar = self.toolbar
        bar.setContentsMargins(8, 4, 8, 4)
        bar.setSpacing(4)
        self.prev_button = self._tool("◀", "Previous page (Page Up)", self.previous_page)
        self.next_button = self._tool("▶", "Next page (Page Down)", self.next_page)
        self.page_spin = QSpinBox()
        self.page_spin.setMinimum(1)
        self.page_spin.setAccessibleName("Page number")
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.valueChanged.connect(lambda value: self.go_to_page(value - 1))
        self.page_count_label = QLabel("of 0")
        self.zoom_out_button = self._tool("\u2212", "Zoom out (Ctrl+-)", self.zoom_out)
        self.zoom_combo = QComboBox()
        self.zoom_combo.setEditable(False)
        self.zoom_combo.setAccessibleName("Zoom")
        self.zoom_combo.addItem("Fit width", "width")
        self.zoom_combo.addItem("Fit page", "page")
        for step in ZOOM_STEPS:
            self.zoom_combo.addItem(f"{round(step * 100)}%", step)
        self.zoom_combo.activated.connect(self._zoom_chosen)
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl++)", self.zoom_in)
        # A placeholder that fits the width the toolbar can give ("Find in docum…" was cut there);
        # a wider box would have raised the window's minimum width past a small laptop's screen.
        self.search_edit = QLineEdit(placeholderText="Find text", clearButtonEnabled=True)
        self.search_edit.setAccessibleName("Find in document")
        self.search_edit.setMinimumWidth(self.search_edit.fontMetrics().horizontalAdvance("Find text") + 40)
        self.search_edit.setMaximumWidth(220)
        self.search_edit.returnPressed.connect(self._search_or_next)
        self.search_edit.textChanged.connect(lambda text: self.clear_search() if not text else None)
        self.hit_label = QLabel("")
        self.prev_hit_button = self._tool("▲", "Previous match (Shift+F3)", self.previous_hit)
        self.next_hit_button = self._tool("▼", "Next match (F3)", self.next_hit)
        self.save_button = self._tool("Save a copy…", "Save this PDF to a file", self.save_copy)
        self.print_button = self._tool("Print…", "Print this document", self.print_document)
        groups: list[tuple[QWidget, ...]] = [
            (self.prev_button, self.next_button, self.page_spin, self.page_count_label),
            (self.zoom_out_button, self.zoom_combo, self.zoom_in_button),
            (self.search_edit, self.prev_hit_button, self.next_hit_button, self.hit_label),
        ]
        for group in groups:
            for widget in group:
                bar.addWidget(widget)
            bar.addSpacing(12)
        bar.addStretch()
        bar.addWidget(self.save_button)
        bar.addWidget(self.print_button)

    def _install_shortcuts(self) -> None:
        shortcuts = (
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            (QKeySequence("Ctrl+="), self.zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            (QKeySequence("Ctrl+0"), self.fit_width),
            (QKeySequence.StandardKey.Find, self.search_edit.setFocus),
            (QKeySequence.StandardKey.FindNext, self.next_hit),
            (QKeySequence.StandardKey.FindPrevious, self.previous_hit),
            (QKeySequence("Ctrl+S"), self.save_copy),
            (QKeySequence.StandardKey.Print, self.print_document),
        )
        for sequence, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(sequence), self, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # -- document ----------------------------------------------------------------------

    def load(self, data: bytes, filename: str = "document.pdf") -> None:
        """Shows `data`; opening and every page render happen on the viewer's worker thread."""
        self._generation += 1
        self.data = data
        self.filename = filename
        self.page_sizes = []
        self._cache.clear()
        self._in_flight.clear()
        self._hits, self._hit_index = [], -1
        self._shown = False
        self.message.hide()
        self.canvas.set_pages(0)
        self._open_requested.emit(self._generation, data)

    @property
    def page_count(self) -> int:
        return len(self.page_sizes)

    @Slot(int, list)
    def _opened(self, generation: int, sizes: list[tuple[float, float]]) -> None:
        if generation != self._generation:
            return
        self.page_sizes = [(float(w), float(h)) for w, h in sizes]
        self.canvas.set_pages(len(sizes))
        self.page_spin.setMaximum(max(1, len(sizes)))
        self.page_count_label.setText(f"of {len(sizes)}")
        self._apply_fit()
        self._relayout()
        self._update_controls()

    @Slot(int, str)
    def _failed(self, generation: int, message: str) -> None:
        """The document could not be opened, or the render child holding it stopped: the sentence
        replaces the pages (any control left on them would only fail again)."""
        if generation != self._generation:
            return
        self.page_sizes = []
        self._cache.clear()
        self._in_flight.clear()
        self._hits, self._hit_index = [], -1
        self.hit_label.setText("")
        self._stop_printing(abort=True)
        self.canvas.set_pages(0)
        self.canvas.relayout(self.scroll_area.viewport().width())
        self.message.setText(message)
        self.message.show()
        self._update_controls()

    # -- rendering ---------------------------------------------------------------------

    def _render_scale(self) -> float:
        return round(self.zoom * self.devicePixelRatioF(), 3)

    def cached_image(self, number: int) -> QImage | None:
        entry = self._cache.get(number)
        return entry[1] if entry else None

    def visible_pages(self) -> list[int]:
        top = self.scroll_area.verticalScrollBar().value()
        bottom = top + self.scroll_area.viewport().height()
        return [page.number for page in self.canvas.pages if page.geometry().bottom() >= top and page.y() <= bottom]

    def _request_visible(self) -> None:
        if not self.page_sizes:
            return
        visible = self.visible_pages()
        if not visible:
            return
        wanted = list(range(max(0, visible[0] - 1), min(self.page_count, visible[-1] + 2)))
        scale = self._render_scale()
        for number in wanted:
            cached = self._cache.get(number)
            if (cached and cached[0] == scale) or (number, scale) in self._in_flight:
                continue
            self._in_flight.add((number, scale))
            self._render_requested.emit(self._generation, number, scale)

    @Slot(int, int, float, QImage)
    def _rendered(self, generation: int, number: int, scale: float, image: QImage) -> None:
        self._in_flight.discard((number, scale))
        if generation != self._generation or scale != self._render_scale():
            return
        image.setDevicePixelRatio(self.devicePixelRatioF())
        self._cache[number] = (scale, image)
        self._cache.move_to_end(number)
        while len(self._cache) > CACHE_PAGES:
            self._cache.popitem(last=False)
        if number < len(self.canvas.pages):
            self.canvas.pages[number].update()
        if not self._shown:
            self._shown = True
            self.document_shown.emit()

    # -- navigation and zoom -----------------------------------------------------------

    def current_page(self) -> int:
        """0-based page at the top of the viewport."""
        top = self.scroll_area.verticalScrollBar().value() + PAGE_GAP
        for page in self.canvas.pages:
            if page.geometry().bottom() >= top:
                return page.number
        return max(0, self.page_count - 1)

    def go_to_page(self, number: int) -> None:
        if 0 <= number < len(self.canvas.pages):
            self.scroll_area.verticalScrollBar().setValue(self.canvas.pages[number].y() - PAGE_GAP)
            self._viewport_moved()

    def next_page(self) -> None:
        self.go_to_page(self.current_page() + 1)

    def previous_page(self) -> None:
        self.go_to_page(self.current_page() - 1)

    def set_zoom(self, zoom: float, *, fit: str | None = None) -> None:
        anchor = self.current_page()
        self._fit = fit
        self._update_scroll_policy()
        self.zoom = max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], zoom))
        self._cache.clear()
        self._relayout()
        self.go_to_page(anchor)
        index = self.zoom_combo.findData(fit) if fit else self.zoom_combo.findData(self.zoom)
        self.zoom_combo.setPlaceholderText(f"{round(self.zoom * 100)}%")
        self.zoom_combo.setCurrentIndex(index)

    def zoom_in(self) -> None:
        self.set_zoom(next((step for step in ZOOM_STEPS if step > self.zoom + 1e-6), ZOOM_STEPS[-1]))

    def zoom_out(self) -> None:
        self.set_zoom(next((step for step in reversed(ZOOM_STEPS) if step < self.zoom - 1e-6), ZOOM_STEPS[0]))

    def fit_width(self) -> None:
        self.set_zoom(self._fit_zoom("width"), fit="width")

    def fit_page(self) -> None:
        self.set_zoom(self._fit_zoom("page"), fit="page")

    def _fit_zoom(self, mode: str) -> float:
        if not self.page_sizes:
            return 1.0
        viewport = self.scroll_area.viewport().size()
        # Leave room for the vertical scroll bar even before it appears, or fitting would add a horizontal one.
        room = self.scroll_area.width() - self.scroll_area.verticalScrollBar().sizeHint().width() - 2
        width = max(w for w, _ in self.page_sizes)
        height = max(h for _, h in self.page_sizes)
        by_width = float((room - 2 * PAGE_GAP) / width)
        if mode == "width":
            return by_width
        return min(by_width, float((viewport.height() - 2 * PAGE_GAP) / height))

    def _update_scroll_policy(self) -> None:
        # Fitted pages never need a horizontal scroll bar; one flickering in would change the fit.
        policy = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self._fit else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        self.scroll_area.setHorizontalScrollBarPolicy(policy)

    def _apply_fit(self) -> None:
        self._update_scroll_policy()
        if self._fit:
            self.zoom = max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], self._fit_zoom(self._fit)))
            self.zoom_combo.setCurrentIndex(self.zoom_combo.findData(self._fit))

    def _zoom_chosen(self, index: int) -> None:
        value = self.zoom_combo.itemData(index)
        if value == "width":
            self.fit_width()
        elif value == "page":
            self.fit_page()
        else:
            self.set_zoom(float(value))

    def _relayout(self) -> None:
        self.canvas.relayout(self.scroll_area.viewport().width())
        self._viewport_moved()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self._fit and self.page_sizes:
            new_zoom = max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], self._fit_zoom(self._fit)))
            if abs(new_zoom - self.zoom) > 1e-3:
                self.zoom = new_zoom
                self._cache.clear()
        self._relayout_timer.start()

    def _viewport_moved(self) -> None:
        self._request_visible()
        if self.page_sizes:
            current = self.current_page()
            self.page_spin.blockSignals(True)
            self.page_spin.setValue(current + 1)
            self.page_spin.blockSignals(False)
            self.page_changed.emit(current + 1, self.page_count)
        self._update_controls()

    def _update_controls(self) -> None:
        has_document = bool(self.page_sizes)
        current = self.current_page() if has_document else 0
        self.prev_button.setEnabled(has_document and current > 0)
        self.next_button.setEnabled(has_document and current < self.page_count - 1)
        controls: tuple[QWidget, ...] = (
            self.page_spin, self.zoom_in_button, self.zoom_out_button, self.zoom_combo,
            self.search_edit, self.print_button,
        )  # fmt: skip
        for widget in controls:
            widget.setEnabled(has_document)
        self.print_button.setEnabled(has_document and not self.printing)
        # The bytes are here even when they cannot be shown: the customer can still keep a copy.
        self.save_button.setEnabled(bool(self.data))
        self.prev_hit_button.setEnabled(len(self._hits) > 1)
        self.next_hit_button.setEnabled(len(self._hits) > 1)

    # -- search ------------------------------------------------------------------------

    def search(self, text: str) -> None:
        text = text.strip()
        if not text:
            self.clear_search()
            return
        self._search_requested.emit(self._generation, text)

    def _search_or_next(self) -> None:
        if self._hits and self.hit_label.property("query") == self.search_edit.text().strip():
            self.next_hit()
        else:
            self.search(self.search_edit.text())

    @Slot(int, str, list)
    def _found(self, generation: int, query: str, hits: list[tuple[int, list[QRectF]]]) -> None:
        if generation != self._generation:
            return
        self._hits = [(page, rect) for page, rects in hits for rect in rects]
        self._hit_index = 0 if self._hits else -1
        self.hit_label.setProperty("query", query)
        self._show_hit()

    def clear_search(self) -> None:
        self._hits, self._hit_index = [], -1
        self.hit_label.setText("")
        self.hit_label.setProperty("query", None)
        for page in self.canvas.pages:
            page.update()
        self._update_controls()

    @property
    def hit_count(self) -> int:
        return len(self._hits)

    def hits_on(self, number: int) -> list[QRectF]:
        return [rect for page, rect in self._hits if page == number]

    def is_current_hit(self, number: int, index_on_page: int) -> bool:
        if self._hit_index < 0:
            return False
        page, _ = self._hits[self._hit_index]
        if page != number:
            return False
        first = next(i for i, (p, _) in enumerate(self._hits) if p == number)
        return self._hit_index - first == index_on_page

    def next_hit(self) -> None:
        if self._hits:
            self._hit_index = (self._hit_index + 1) % len(self._hits)
            self._show_hit()

    def previous_hit(self) -> None:
        if self._hits:
            self._hit_index = (self._hit_index - 1) % len(self._hits)
            self._show_hit()

    def _show_hit(self) -> None:
        if not self._hits:
            self.hit_label.setText("No matches")
        else:
            self.hit_label.setText(f"{self._hit_index + 1} of {len(self._hits)}")
            page, rect = self._hits[self._hit_index]
            widget = self.canvas.pages[page]
            self.scroll_area.ensureVisible(
                widget.x() + round(rect.center().x() * self.zoom),
                widget.y() + round(rect.center().y() * self.zoom),
                50,
                120,
            )
        for page_widget in self.canvas.pages:
            page_widget.update()
        self._update_controls()

    # -- save and print ----------------------------------------------------------------

    def save_copy(self, path: str | None = None) -> Path | None:
        """Writes the exact bytes that were shown (a signed document keeps its hash)."""
        if not self.data:
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save a copy", str(Path.home() / self.filename), "PDF documents (*.pdf)"
            )
            if not chosen:
                return None
            path = chosen
        target = Path(path)
        try:
            target.write_bytes(self.data)
        except OSError as exc:
            QMessageBox.warning(self, "Could not save", f"The copy could not be saved: {exc.strerror or exc}.")
            return None
        return target

    @property
    def printing(self) -> bool:
        return self._printing

    def print_document(self, printer: QPrinter | None = None) -> None:
        """Pages are rendered at print resolution on the render worker, one at a time, and each is
        painted into the printer on the print worker, which then asks for the next: the GUI thread
        only passes pages along, and only one page's pixels are held however long the document."""
        if not self.page_sizes or self.printing:
            return
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setDocName(self.filename)
            dialog = QPrintDialog(printer, self)
            if dialog.exec() != QPrintDialog.DialogCode.Accepted:
                return
        self._start_page_printer()
        self._print_job += 1
        self._printing = True
        self._update_controls()
        self._print_begin.emit(self._print_job, printer)
        self._print_requested.emit(self._print_job, 0)  # rendered while the printer starts

    def _start_page_printer(self) -> None:
        if self._print_thread is not None:
            return
        # Like the render thread: no Qt parent, stopped through the reaper when the viewer goes.
        thread = self._print_thread = QThread()
        thread.setObjectName("pdf-print")
        worker = self._page_printer = PagePrinter()
        worker.moveToThread(thread)
        thread.finished.connect(worker.deleteLater)
        self.destroyed.connect(partial(_stop, thread, worker))
        self._print_begin.connect(worker.begin)
        self._paint_requested.connect(worker.paint)
        self._print_abort.connect(worker.abort)
        worker.page_printed.connect(self._page_printed)
        worker.ended.connect(self._print_ended)
        thread.start()

    @Slot(int, str)
    def _print_failed(self, job: int, message: str) -> None:
        if job == self._print_job and self.printing:
            self._stop_printing(abort=True)
            QMessageBox.warning(self, "Could not print", message)

    @Slot(int, int, QImage)
    def _printed_page(self, job: int, number: int, image: QImage) -> None:
        """A page rendered for printing: handed on to the print worker (the pixels are shared, not copied)."""
        if job == self._print_job and self.printing:
            self._paint_requested.emit(job, number, number + 1 >= self.page_count, image)

    @Slot(int, int)
    def _page_printed(self, job: int, number: int) -> None:
        if job == self._print_job and self.printing:
            self._print_requested.emit(job, number + 1)

    @Slot(int, str)
    def _print_ended(self, job: int, message: str) -> None:
        if job != self._print_job or not self.printing:
            return
        self._printing = False
        self._update_controls()
        if message:
            QMessageBox.warning(self, "Could not print", message)

    def _stop_printing(self, *, abort: bool = False) -> None:
        """Gives up the print under way (`abort`: as far as the printer allows)."""
        if not self.printing:
            return
        self._printing = False
        if abort:
            self._print_abort.emit(self._print_job)
        self._update_controls()

    # -- lifetime ----------------------------------------------------------------------

    def shutdown(self) -> None:
        """Closes the document, gives up a print under way and stops the worker threads (also done
        when the widget is destroyed)."""
        _stop(self._thread, self.renderer)
        if self._print_thread is not None and self._page_printer is not None:
            _stop(self._print_thread, self._page_printer)


# How often stopped viewers' threads are checked for having finished, and how long quitting waits.
REAP_POLL_MS = 10
QUIT_WAIT_S = 5.0


def _ended(thread: QThread) -> bool:
    """Whether `thread` has ended for good. Not isFinished(): that is already true while the thread
    is still in its end, emitting `finished` and deleting its worker there (deleteLater); let go of
    then, the worker's last reference went on the GUI thread, which deleted the worker a second time
    beside its own thread's deletion. wait(0) answers at once, true only once the end is over."""
    return thread.wait(0)


class _ThreadReaper(QObject):
    """Keeps the worker threads being stopped, and their workers, alive until the threads ended
    (destroying a running QThread aborts the process) and releases them on the GUI thread once they
    did. A worker is deleted by its own thread as it ends (deleteLater): until then this holds its
    last reference, so the GUI thread never deletes it.

    Never with QThread.wait() on the GUI thread: PySide keeps the GIL through it, and a worker's
    last step, deleting its renderer, needs the GIL: the two waited for each other for good (a
    hung CI run). Ending is watched instead, polling, with the GIL given up in between."""

    def __init__(self) -> None:
        super().__init__()
        self.stopping: dict[QThread, QObject] = {}
        self._poll = QTimer(self, interval=REAP_POLL_MS)
        self._poll.timeout.connect(self._release_ended)

    def add(self, thread: QThread, worker: QObject) -> None:
        self.stopping[thread] = worker
        self._poll.start()

    def _release_ended(self) -> None:
        self.stopping = {thread: worker for thread, worker in self.stopping.items() if not _ended(thread)}
        if not self.stopping:
            self._poll.stop()

    def wait_for_all(self) -> None:
        """At quit: the last viewers' threads end before the interpreter tears their objects down.

        The render child stops first: a worker waiting on it (a long print, a document holding
        the child up) then gets its answer at once. One that still runs after QUIT_WAIT_S is
        kept, not released: destroying it would abort the process."""
        pdf_render_service().stop()
        deadline = time.monotonic() + QUIT_WAIT_S
        while any(not _ended(thread) for thread in self.stopping) and time.monotonic() < deadline:
            time.sleep(REAP_POLL_MS / 1000)  # gives the GIL up: the workers' last steps need it
        self._release_ended()
        if self.stopping:
            log.warning("%d PDF viewer thread(s) did not end at quit", len(self.stopping))


_reaper: _ThreadReaper | None = None


def _stop(thread: QThread, renderer: PdfRenderer | PagePrinter, *_: object) -> None:
    """Asks the worker to close its document (or give up its print) and end, without waiting for
    it here: a page still being rendered or painted (tens of ms, more for a large page) would
    otherwise hold the GUI thread."""
    global _reaper
    # Not isRunning(): that is false already while the thread is in its end, worker not yet deleted.
    if not shiboken6.isValid(thread) or _ended(thread):
        return
    if _reaper is None:
        _reaper = _ThreadReaper()
        application = QCoreApplication.instance()
        if application is not None:
            application.aboutToQuit.connect(_reaper.wait_for_all)
    if thread in _reaper.stopping:
        return
    _reaper.add(thread, renderer)
    if shiboken6.isValid(renderer):
        renderer.cancelled.set()  # a print in progress stops at its next page
        QMetaObject.invokeMethod(renderer, "shutdown", Qt.ConnectionType.QueuedConnection)
    else:
        thread.quit()
