"""Quitting the app while a document prints: the print worker gives the job up and its thread ends
before Qt and the interpreter are torn down (a QThread destroyed while running aborts the process).
Run in a child process, as main.py runs the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = 12

# A document window printing PAGES pages into a PDF; once the first page is painted the app quits.
CHILD = """
import sys

from PySide6.QtCore import QObject, Slot
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication

from app.views.pdf_window import PdfWindow

app = QApplication(sys.argv[:1])
window = PdfWindow("Pages", open(sys.argv[1], "rb").read(), "pages.pdf")
printer = QPrinter(QPrinter.PrinterMode.HighResolution)
printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
printer.setOutputFileName(sys.argv[2])


class Quitter(QObject):  # quits on the GUI thread, as the user's Quit does (a function would run on the worker)

    @Slot(int, int)
    def first_page_painted(self, job, number):
        print("painted", number, flush=True)
        app.quit()


quitter = Quitter()


def shown():
    window.viewer.print_document(printer)
    window.viewer._page_printer.page_printed.connect(quitter.first_page_painted)


window.viewer.document_shown.connect(shown)
window.show()
raise SystemExit(app.exec())
"""


def test_quitting_mid_print_ends_the_print_worker_before_the_app(tmp_path: Path) -> None:
    with pymupdf.open() as document:
        for number in range(PAGES):
            document.new_page().insert_text((72, 72), f"Page {number + 1}")
        document.save(tmp_path / "pages.pdf")
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path / "pages.pdf"), str(tmp_path / "printed.pdf")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PORTAL_DESK_HOME": str(tmp_path)},
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the app did not end after quitting mid-print (output: {hung.stdout!r})")
    assert done.returncode == 0, done.stderr
    assert "painted 0" in done.stdout, "the print was under way when the app quit"
    assert "Destroyed while thread" not in done.stderr
