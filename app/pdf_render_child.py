"""The PDF render child: PyMuPDF in a process of its own, driven over its stdin and stdout.

    python -m app.pdf_render_child            (a frozen app: `<app> --run-pdf-renderer`, see main.py)

The app never imports PyMuPDF: loading it holds the GIL in single C stretches of 15-20 ms (its
3.7 MB generated module, the SWIG init, the library's dlopen) that stalled the GUI thread, and
MuPDF parses documents that come from the network, so a crash on a hostile PDF must end this
process, not the app with a customer's half-typed payment in it. app/services/pdf_renderer.py
starts it and speaks app/services/pdf_protocol.py with it; it answers one request at a time and
exits when its stdin ends (the app quit or died).
"""

from __future__ import annotations

import math
import os
import sys
from typing import IO, Any

from app.services.pdf_protocol import Header, read_message, write_message

# What PyMuPDF 2 imports if present but rendering never uses: its layout analyser and pymupdf4llm
# (onnxruntime, numpy and an ONNX model: 1.5-2 s of CPU and tens of MB). A None entry in
# sys.modules makes those optional imports fail at once, which PyMuPDF treats as "not installed".
OPTIONAL_PDF_MODULES = ("pymupdf.layout", "pymupdf4llm")
# The most pixels one page is rendered with (RGB: 3 bytes each, 108 MB): a Letter page at the
# viewer's 400 % on a 2x screen is 31 million. A large plan at that zoom, or printed at 300 dpi,
# would be hundreds of millions, past the pipe's limit (pdf_protocol.MAX_PAYLOAD) and the memory
# of a modest laptop; it is rendered less sharp instead.
MAX_RENDER_PIXELS = 36_000_000


def pdf_engine() -> Any:
    for optional in OPTIONAL_PDF_MODULES:
        sys.modules.setdefault(optional, None)  # type: ignore[arg-type]
    import pymupdf

    return pymupdf


class Renderer:
    """The open documents by id; each request is one method, each answer a header and a payload."""

    def __init__(self) -> None:
        self.pymupdf = pdf_engine()
        self.documents: dict[int, Any] = {}
        self._next_id = 1

    def handle(self, header: Header, payload: bytes) -> tuple[Header, bytes]:
        operation = header.get("op")
        try:
            if operation == "open":
                return self.open(payload), b""
            if operation == "render":
                return self.render(int(header["document"]), int(header["page"]), float(header["scale"]))
            if operation == "search":
                return self.search(int(header["document"]), str(header["text"])), b""
            if operation == "close":
                document = self.documents.pop(int(header["document"]), None)
                if document is not None:
                    document.close()
                return {"ok": True}, b""
        except Exception as exc:
            error = str(exc) or type(exc).__name__
            # MuPDF's own words are for whoever reads the log (stderr is pdf-renderer.log); the
            # viewer says in a sentence of its own what the user can do.
            print(f"{operation} failed: {error}", file=sys.stderr, flush=True)
            return {"ok": False, "error": error}, b""
        return {"ok": False, "error": f"unknown operation {operation!r}"}, b""

    def open(self, data: bytes) -> Header:
        document = self.pymupdf.open("pdf", data)
        if document.page_count == 0:  # MuPDF "repairs" much garbage into a document of no pages
            document.close()
            raise ValueError("the document has no pages")
        sizes = [[page.rect.width, page.rect.height] for page in document]
        number, self._next_id = self._next_id, self._next_id + 1
        self.documents[number] = document
        return {"ok": True, "document": number, "pages": sizes}

    def render(self, number: int, page: int, scale: float) -> tuple[Header, bytes]:
        target = self.documents[number][page]
        pixels = target.rect.width * target.rect.height * scale * scale
        if pixels > MAX_RENDER_PIXELS:  # drawn into the page's rectangle anyway: less sharp, not lost
            scale *= math.sqrt(MAX_RENDER_PIXELS / pixels) * 0.999  # MuPDF rounds the edges up
        matrix = self.pymupdf.Matrix(scale, scale)
        pixmap = target.get_pixmap(matrix=matrix, alpha=False)
        figures = {"ok": True, "width": pixmap.width, "height": pixmap.height, "stride": pixmap.stride}
        return figures, bytes(pixmap.samples_mv)

    def search(self, number: int, text: str) -> Header:
        hits = []
        for page in self.documents[number]:
            rects = [[r.x0, r.y0, r.x1, r.y1] for r in page.search_for(text)]
            if rects:
                hits.append([int(page.number), rects])
        return {"ok": True, "hits": hits}


def _private_pipes() -> tuple[IO[bytes], IO[bytes]]:
    """The request and answer pipes on descriptors of their own; descriptor 1 then points at
    stderr, so whatever else writes to stdout (MuPDF's warnings, a stray print) never lands in
    the middle of an answer."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    if sys.platform == "win32":
        import msvcrt

        for stream in (requests, answers):
            msvcrt.setmode(stream.fileno(), os.O_BINARY)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return requests, answers


# Where the system has it: the child's CPU priority below the app's. On a busy machine (two cores,
# the app, its worker threads and this child all wanting one) the GUI thread then gets a core
# before a page render does: a page arrives a little later, but the window never stutters.
NICENESS = 5


def main() -> int:
    requests, answers = _private_pipes()
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    renderer = Renderer()  # loads PyMuPDF now: the app starts this process ahead of the first document
    while True:
        message = read_message(requests)
        if message is None:  # the app closed the pipe: it quit, or died
            return 0
        header, payload = renderer.handle(*message)
        write_message(answers, header, payload)


if __name__ == "__main__":
    raise SystemExit(main())
