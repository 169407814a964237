"""Choosing files for a comment or a new request: "Attach files…", drag and drop, one row per
file with its size, and the reason for every file refused before upload (RQ-4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.models.comments import AttachmentDraft
from app.services.uploads import FILE_DIALOG_FILTER, MAX_FILE_BYTES, ChosenFile, size_text
from app.views.theme import named

PathPicker = Callable[[QWidget], list[Path]]
ROWS_SHOWN = 4  # more files than this scroll
ROW_SPACING = 4  # px between rows


def ask_for_files(parent: QWidget) -> list[Path]:
    """The platform's own open dialog."""
    names, _ = QFileDialog.getOpenFileNames(parent, "Attach files", str(Path.home()), FILE_DIALOG_FILTER)
    return [Path(name) for name in names]


def dropped_paths(event: QDropEvent | QDragEnterEvent) -> list[Path]:
    """Local files only: a link dragged from a browser is not a file the portal can take."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class AttachmentPicker(QWidget):
    # Tests replace this to answer the file dialog.
    ask_paths: PathPicker = staticmethod(ask_for_files)

    def __init__(self, draft: AttachmentDraft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.draft = draft
        self.attach_button = QPushButton("Attach files…")
        self.attach_button.setAutoDefault(False)
        limit = MAX_FILE_BYTES // (1024 * 1024)
        self.hint = named(QLabel(f"or drop files here · up to {limit} MB each"), "Hint")
        self.refusal_label = named(QLabel(""), "FormError")
        self.refusal_label.setWordWrap(True)
        self.refusal_label.hide()
        rows_body = QWidget()
        self.rows = QVBoxLayout(rows_body)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(ROW_SPACING)
        # Ten files made ten rows, and the New request window grew past the bottom of a laptop's
        # screen, Send with it: past a few rows the list scrolls instead.
        self.file_list = named(QScrollArea(), "FileList")
        self.file_list.setWidget(rows_body)
        self.file_list.setWidgetResizable(True)
        self.file_list.setFrameShape(QFrame.Shape.NoFrame)
        self.file_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its Remove buttons take the focus
        self.file_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.hint)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        # The files under the button, so Tab meets them in the order they are seen (_tab_through).
        layout.addLayout(buttons)
        layout.addWidget(self.file_list)
        layout.addWidget(self.refusal_label)

        self.setAcceptDrops(True)
        self.attach_button.clicked.connect(self.choose_files)
        draft.changed.connect(self._rebuild)
        self._rebuild()

    # -- adding files ----------------------------------------------------------------

    def choose_files(self) -> None:
        paths = self.ask_paths(self)
        if paths:
            self.add_paths(paths)

    def add_paths(self, paths: list[Path]) -> None:
        refusals = self.draft.add_paths(paths)
        self.refusal_label.setText("\n".join(refusals))
        self.refusal_label.setVisible(bool(refusals))

    def watch_drops_on(self, widget: QWidget) -> None:
        """Files dropped on `widget` (the text box, the conversation) are attached instead of pasted
        as file names. A text box or browser gets its drag events on its viewport, never on itself,
        so that is where they are caught: watched on the widget, a drop pasted "file:///…" as text."""
        target = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent | QDropEvent) and dropped_paths(event):
            if not self._taking_files():
                event.ignore()
                return True
            event.acceptProposedAction()
            if isinstance(event, QDropEvent) and event.type() == QEvent.Type.Drop:
                self.add_paths(dropped_paths(event))
            return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event) and self._taking_files():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if paths and self._taking_files():
            event.acceptProposedAction()
            self.add_paths(paths)

    def _taking_files(self) -> bool:
        """Not while the draft is being sent: a file added then was cleared with the sent draft
        without ever being sent."""
        return self.attach_button.isEnabled()

    def clear_refusals(self) -> None:
        self.refusal_label.clear()
        self.refusal_label.hide()

    def set_enabled_for_sending(self, enabled: bool) -> None:
        self.attach_button.setEnabled(enabled)
        for index in range(self.rows.count()):
            item = self.rows.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setEnabled(enabled)

    # -- rows ------------------------------------------------------------------------

    def _rebuild(self) -> None:
        focused = -1  # the row whose Remove has the focus: a keyboard user is removing files
        focus = QApplication.focusWidget()
        index = 0
        while self.rows.count():
            item = self.rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                if focus is not None and widget.isAncestorOf(focus):
                    focused = index
                widget.deleteLater()
            index += 1
        rows: list[QWidget] = []
        removes: list[QWidget] = []
        for chosen in self.draft.files:
            row, remove = self._row(chosen)
            self.rows.addWidget(row)
            row.show()  # now, not from the event loop, so it can take the focus below
            rows.append(row)
            removes.append(remove)
        self._tab_through(removes)
        self._fit_list(rows)
        if focused >= 0:
            # Not lost with the row: the next file's Remove, or Attach files… after the last one.
            (removes[min(focused, len(removes) - 1)] if removes else self.attach_button).setFocus(
                Qt.FocusReason.TabFocusReason
            )

    def _tab_through(self, removes: list[QWidget]) -> None:
        """Tab reaches the rows' Remove buttons where they are seen, right after "Attach files…"
        (the rows are under it). New widgets join the end of the window's focus chain, which put
        them after Send."""
        before: QWidget = self.attach_button
        for remove in removes:
            QWidget.setTabOrder(before, remove)
            before = remove

    def _fit_list(self, rows: list[QWidget]) -> None:
        """As tall as its rows, up to ROWS_SHOWN of them; hidden without files."""
        self.file_list.setVisible(bool(rows))
        if rows:
            shown = rows[:ROWS_SHOWN]
            height = sum(row.sizeHint().height() for row in shown) + (len(shown) - 1) * ROW_SPACING
            self.file_list.setFixedHeight(height)

    def _row(self, chosen: ChosenFile) -> tuple[QWidget, QPushButton]:
        row = named(QFrame(), "FileChip")
        name = named(QLabel(chosen.name), "FileChipName")
        name.setToolTip(str(chosen.path))
        size = named(QLabel(size_text(chosen.size)), "Hint")
        remove = named(QPushButton("Remove"), "LinkButton")
        remove.setAutoDefault(False)
        remove.setCursor(Qt.CursorShape.PointingHandCursor)
        remove.setAccessibleName(f"Remove {chosen.name}")
        remove.clicked.connect(lambda: self.draft.remove(chosen.path))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.setSpacing(10)
        layout.addWidget(name, 1)
        layout.addWidget(size)
        layout.addWidget(remove)
        return row, remove
