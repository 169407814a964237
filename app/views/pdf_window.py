"""A window around the embedded PDF viewer: proposals, invoices and PDF attachments of requests."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QPushButton, QVBoxLayout, QWidget

from app.views.item_windows import fit_to_screen, set_up_document_window
from app.views.pdf_viewer import PdfViewer


class PdfWindow(QDialog):
    """Non-modal, so the detail it came from stays usable; the worker thread stops on close.

    Owners track it with `finished` (emitted on close), not `destroyed`: that one can fire while the
    owner itself is being torn down, and a Python callback on a half-destroyed owner crashes."""

    def __init__(self, title: str, data: bytes, filename: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_up_document_window(self, title)
        self.viewer = PdfViewer(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer)
        fit_to_screen(self, QSize(900, 980))
        self.viewer.load(data, filename)

    def add_action(self, text: str, slot: Callable[[], object]) -> QPushButton:
        """The document's next step ("Sign…", "Pay invoice") at the end of the viewer's toolbar,
        so the customer can act right after reading."""
        button = QPushButton(text)
        button.setObjectName("PrimaryButton")
        button.setAutoDefault(False)
        button.clicked.connect(lambda: slot())
        self.viewer.toolbar.addSpacing(8)
        self.viewer.toolbar.addWidget(button)
        return button

    def closeEvent(self, event: QCloseEvent) -> None:
        self.viewer.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.viewer.shutdown()
        super().done(result)
