"""A window around the embedded PDF viewer: proposals, invoices and PDF attachments of requests."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.item_windows import fit_to_screen, refuses_to_close, set_up_document_window
from app.views.pdf_viewer import PdfViewer
from app.views.theme import named


class PdfWindow(QDialog):
    """Non-modal, so the detail it came from stays usable; the worker thread stops on close.

    Owners track it with `finished` (emitted on close), not `destroyed`: that one can fire while the
    owner itself is being torn down, and a Python callback on a half-destroyed owner crashes."""

    def __init__(self, title: str, data: bytes, filename: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_up_document_window(self, title)
        self.viewer = PdfViewer(self)
        # Above the pages: what the owner says about the document shown (out of date, replaced), with
        # its Reload when there is something to do.
        self.notice = named(QLabel(""), "WarnText")
        self.notice.setWordWrap(True)
        self.reload_button = QPushButton("Reload", autoDefault=False)
        self.reload_button.clicked.connect(lambda: self._reload())
        self._reload: Callable[[], object] = lambda: None
        self.notice_bar = QWidget()
        bar = QHBoxLayout(self.notice_bar)
        bar.setContentsMargins(12, 8, 12, 8)
        bar.addWidget(self.notice, 1)
        bar.addWidget(self.reload_button)
        self.notice_bar.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notice_bar)
        layout.addWidget(self.viewer)
        fit_to_screen(self, QSize(900, 980))
        self.viewer.load(data, filename)

    def show_notice(self, text: str, reload: Callable[[], object] | None = None) -> None:
        """Says `text` above the document; with `reload`, a Reload button beside it calls it."""
        self.notice.setText(text)
        self._reload = reload or (lambda: None)
        self.reload_button.setVisible(reload is not None)
        self.notice_bar.show()

    def replace_document(self, data: bytes) -> None:
        """Shows `data` in place of the document (a newer version of it), under the same file name."""
        self.viewer.load(data, self.viewer.filename)

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
        """Refused (the viewer kept running) while its "Pay invoice" window waits for the portal."""
        if refuses_to_close(self) is not None:
            event.ignore()
            return
        self.viewer.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        if refuses_to_close(self) is not None:
            return
        self.viewer.shutdown()
        super().done(result)
