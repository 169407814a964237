"""A request as a conversation (RQ-1, RQ-2, RQ-4): the thread, downloads, and the reply box.

The window is kept (hidden) when closed, so an unsent reply is still there when the customer
opens the same request again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from html import escape
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.models.draft_keys import DraftKey
from app.models.formatting import title_text
from app.services.portal_client import PortalClient
from app.services.records import RequestSummary
from app.services.tasks import OwnedRunner, TaskRunner
from app.services.work_records import Comment, RequestDetail
from app.views.comment_composer import CommentComposer
from app.views.detail_pages import (
    OPEN_SCHEME,
    RELOAD_URL,
    attachment_id,
    is_picture,
    make_browser,
    request_page,
)
from app.views.detail_support import ask_save_path, error_sentence, open_link
from app.views.image_window import ImageWindow
from app.views.item_windows import close_with_standard_key, fit_to_screen, present, reload_with_standard_key
from app.views.pdf_window import PdfWindow
from app.views.theme import named, theme_changed

SavePathAsker = Callable[[QWidget, str], Path | None]


class RequestDetailDialog(QDialog):
    posted = Signal(object)  # Comment: the list's last activity and count changed
    # The last attachment window it opened closed: a request window closed before it may go now.
    viewers_closed = Signal()
    # Tests replace this to answer the save dialog.
    ask_save_path: SavePathAsker = staticmethod(ask_save_path)

    def __init__(
        self,
        client: PortalClient,
        runner: TaskRunner,
        summary: RequestSummary,
        me: str,
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        close_with_standard_key(self)
        reload_with_standard_key(self, self.load)
        self.client = client
        self.runner = OwnedRunner(runner, self)
        self.summary = summary
        self.me = me
        self.time_zone = time_zone  # the branch's: its times read as the list's dates
        self.detail: RequestDetail | None = None
        self.problem: str | None = None
        self.last_download: Path | None = None
        self.pdf_window: PdfWindow | None = None
        self.image_window: ImageWindow | None = None
        self._generation = 0
        # Bumped by each attachment opened: only the latest click's answer is shown. A large file
        # asked for first answered last and replaced the one asked for after it.
        self._opening = 0
        self.reply_key = DraftKey()  # one per reply, kept across failed sends
        self._scroll_to_end = False
        self.setWindowTitle(f"{summary.number} — {title_text(summary.subject)}")
        fit_to_screen(self, QSize(680, 780))

        self.browser = make_browser()
        self.browser.anchorClicked.connect(self._link)
        self.notice = named(QLabel(""), "FormInfo")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.hide()
        # A button, not a link in the notice: a label's link was out of Tab's reach and showed no
        # focus. Made before the composer, so Tab reaches it between the thread and the reply.
        self.open_download_button = named(QPushButton("Open it", autoDefault=False), "LinkButton")
        self.open_download_button.setAccessibleName("Open the saved file")
        self.open_download_button.clicked.connect(self.open_last_download)
        self.open_download_button.hide()
        self.composer = CommentComposer()
        self.composer.send_requested.connect(self.send)
        # The conversation is most of the window: a photo dropped anywhere on it goes with the reply.
        self.composer.picker.watch_drops_on(self.browser)

        notice_row = QHBoxLayout()
        notice_row.setContentsMargins(16, 8, 16, 0)
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.open_download_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.browser, 1)
        layout.addLayout(notice_row)
        layout.addWidget(self.composer)
        self._render()
        self.load()
        theme_changed().connect(self._render)  # the page is HTML coloured from the palette in use

    # -- the thread ------------------------------------------------------------------

    def load(self) -> None:
        """(Re)loads the thread; a late answer to an earlier load never replaces a newer one."""
        self._generation += 1
        generation = self._generation
        client, request_id = self.client, self.summary.id

        def shown(detail: RequestDetail) -> None:
            if generation == self._generation:
                self.detail = detail
                self.summary = detail.summary
                self.problem = None
                self._render()

        def failed(error: Exception) -> None:
            if generation == self._generation:
                self.problem = error_sentence(error)
                self._render()

        self.runner.run(lambda: client.request(request_id), shown, failed)

    def _render(self) -> None:
        bar = self.browser.verticalScrollBar()
        position = bar.value()
        self.browser.setHtml(request_page(self.summary, self.detail, self.me, self.time_zone, problem=self.problem))
        if self._scroll_to_end and self.detail is not None:
            self._scroll_to_end = False
            bar.setValue(bar.maximum())
        else:
            bar.setValue(position)

    # -- replying --------------------------------------------------------------------

    @property
    def waiting_for_portal(self) -> bool:
        """A reply is out (even with this window closed, kept hidden): quitting, signing out or
        switching branch waits for its answer, which either empties the box or brings the window
        back with the refusal and the reply as it was."""
        return self.composer.sending

    def send(self) -> None:
        composer = self.composer
        if composer.is_empty():
            composer.show_error("Write a reply or attach a file first.")
            return
        too_long = composer.too_long()
        if too_long:
            composer.show_error(too_long)
            return
        body, files = composer.body, composer.files
        client, request_id = self.client, self.summary.id
        # Send again after a lost answer: the same key, so the portal hands back the reply it made.
        key = self.reply_key.for_content((request_id, body, tuple((f.path, f.size) for f in files)))
        composer.set_sending(True)
        self._show_notice("")

        def sent(comment: Comment) -> None:
            self.reply_key.sent()
            composer.set_sending(False)
            composer.clear()
            self._scroll_to_end = True
            self.posted.emit(comment)
            self.load()

        def failed(error: Exception) -> None:
            # The draft stays exactly as it was: text and files (RQ-2 "a failed send keeps...").
            self.reply_key.failed(error)
            composer.set_sending(False)
            composer.show_error(error_sentence(error))
            if not self.isVisible():  # closed right after Send: the customer must learn it did not go
                present(self)

        self.runner.run(lambda: client.add_comment(request_id, body, files, idempotency_key=key), sent, failed)

    # -- downloads (RQ-4) ------------------------------------------------------------

    def _link(self, url: QUrl) -> None:
        if url.toString() == RELOAD_URL:
            self.load()
            return
        to_open = attachment_id(url, OPEN_SCHEME)
        if to_open is not None:
            info = self.detail.attachment(to_open) if self.detail else None
            if info is not None and is_picture(info):
                self.open_picture(to_open)
            else:
                self.open_pdf(to_open)
            return
        wanted = attachment_id(url)
        if wanted is None:
            open_link(url)
            return
        info = self.detail.attachment(wanted) if self.detail else None
        if info is None:
            return
        target = self.ask_save_path(self, info.filename)
        if target is None:
            return
        client = self.client
        self._show_notice(f"Downloading “{_html(info.filename)}”…")

        def saved(path: Path) -> None:
            self.last_download = path
            self._show_notice(f"Saved “{_html(path.name)}” in {_html(str(path.parent))}.")
            self.open_download_button.show()

        def failed(error: Exception) -> None:
            self._show_notice(error_sentence(error), error=True)

        self.runner.run(lambda: client.download_attachment(wanted, target), saved, failed)

    def open_pdf(self, wanted: int) -> None:
        """A PDF attachment in the embedded viewer (fetched and rendered off the GUI thread)."""
        info = self.detail.attachment(wanted) if self.detail else None
        if info is None:
            return
        client = self.client
        self._show_notice(f"Opening “{_html(info.filename)}”…")
        latest = self._next_opening()

        def opened(data: bytes) -> None:
            if not latest():
                return
            self._show_notice("")
            if self.pdf_window is not None:
                self.pdf_window.close()
            window = PdfWindow(info.filename, data, info.filename, self)
            window.finished.connect(partial(self._viewer_closed, "pdf_window", window))
            self.pdf_window = window
            window.show()

        def failed(error: Exception) -> None:
            if latest():
                self._show_notice(error_sentence(error), error=True)

        self.runner.run(lambda: client.attachment_pdf(wanted), opened, failed)

    def has_open_viewer(self) -> bool:
        """An attachment window is open: it is this window's child and would be destroyed with it."""
        return self.pdf_window is not None or self.image_window is not None

    def _viewer_closed(self, slot: str, window: QDialog, _result: int) -> None:
        if getattr(self, slot) is window:
            setattr(self, slot, None)
        if not self.has_open_viewer():
            self.viewers_closed.emit()

    def open_picture(self, wanted: int) -> None:
        """A picture attachment in a window of its own, fetched and decoded off the GUI thread."""
        info = self.detail.attachment(wanted) if self.detail else None
        if info is None:
            return
        client = self.client
        self._show_notice(f"Opening “{_html(info.filename)}”…")
        latest = self._next_opening()

        def fetch() -> QImage:
            return QImage.fromData(client.attachment_bytes(wanted))

        def opened(image: QImage) -> None:
            if not latest():
                return
            if image.isNull():
                self._show_notice(
                    f"“{_html(info.filename)}” cannot be shown here. Use Download to save it and open it "
                    "with another program.",
                    error=True,
                )
                return
            self._show_notice("")
            if self.image_window is not None:
                self.image_window.close()
            window = ImageWindow(info.filename, image, self)
            window.finished.connect(partial(self._viewer_closed, "image_window", window))
            self.image_window = window
            window.show()

        def failed(error: Exception) -> None:
            if latest():
                self._show_notice(error_sentence(error), error=True)

        self.runner.run(fetch, opened, failed)

    def _next_opening(self) -> Callable[[], bool]:
        """For an attachment being opened: whether it is still the latest one asked for, as load()
        drops a superseded thread (a PDF and a picture alike: the last click is what is wanted)."""
        self._opening += 1
        opening = self._opening
        return lambda: opening == self._opening

    def open_last_download(self) -> None:
        """The saved file in the program the user chose for its kind."""
        if self.last_download is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_download)))

    def _show_notice(self, text: str, *, error: bool = False) -> None:
        self.open_download_button.hide()  # shown again only right after a save
        self.notice.setObjectName("FormError" if error else "FormInfo")
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setText(text)
        self.notice.setVisible(bool(text))


def _html(text: str) -> str:
    return escape(text, quote=False)
