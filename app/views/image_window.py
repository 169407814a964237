"""A picture attached to a request, shown in the app: customers send photos of what needs
attention, and staff reply with some; saving each one to look at it was a detour."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from app.views.item_windows import fit_to_screen, set_up_document_window

MARGIN = 12  # px around the picture


class ImageWindow(QDialog):
    """Non-modal, like the PDF window; the picture is decoded off the GUI thread by its opener and
    drawn here scaled to the window (never above its own size), keeping its proportions."""

    def __init__(self, title: str, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_up_document_window(self, title)
        self.image = image
        self._pixmap = QPixmap.fromImage(image)
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumSize(1, 1)  # the scaled pixmap must not hold the window at its size
        self.label.setAccessibleName(title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.addWidget(self.label)
        # Within the free area of its screen: a photo's 1000 x 800 ran off a laptop's 614 px.
        fit_to_screen(self, image.size().boundedTo(QSize(1000, 800)).expandedTo(QSize(320, 240)) + QSize(2, 2) * MARGIN)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        room = self.label.size().boundedTo(self._pixmap.size())
        self.label.setPixmap(
            self._pixmap.scaled(room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )
