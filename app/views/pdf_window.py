"""A window around the embedded PDF viewer, for proposals now and invoices later."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from app.views.pdf_viewer import PdfViewer
from app.views.theme import icon


class PdfWindow(QDialog):
    """Non-modal, so the detail it came from stays usable; the worker thread stops on close."""

    def __init__(self, title: str, data: bytes, filename: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowIcon(icon("app"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint)
        self.viewer = PdfViewer(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer)
        self.resize(QSize(900, 980))
        self.viewer.load(data, filename)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.viewer.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.viewer.shutdown()
        super().done(result)
