"""Opening a request's attachments when the portal is slow (RQ-4): only the last one asked for is shown.

A proxy in front of a real portal holds back the answer to one attachment: opened first and answered
last, it replaced the viewer of the one opened after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pymupdf
import pytest
import shiboken6
from PySide6.QtCore import QSettings, QUrl
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.services.tasks import TaskRunner
from app.services.work_records import AttachmentInfo
from app.views.main_window import MainWindow
from app.views.request_detail import RequestDetailDialog
from tests.client import company
from tests.client.live_server import LivePortal, running_portal
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving

pytestmark = pytest.mark.gui

WAIT_MS = 15000
HOLD_S = 1.5


class SlowAttachments(Proxy):
    """Forwards everything; the answer to GET /attachments/{id} for an id in `slow` is held back."""

    def __init__(self, upstream: str) -> None:
        self.slow: set[int] = set()
        self.answered: list[int] = []  # attachment ids, in the order their answers left the proxy
        self.lock = threading.Lock()
        super().__init__(upstream, _Handler)


class _Handler(QuietHandler):
    server: SlowAttachments

    def _forward(self) -> None:
        answer = relay(self, self.server.upstream)
        head, _, last = self.path.split("?")[0].rpartition("/")
        attachment = int(last) if head.endswith("/attachments") and last.isdigit() else None
        if attachment is not None and attachment in self.server.slow:
            time.sleep(HOLD_S)
        reply(self, answer.status_code, answer.headers, answer.content)
        if attachment is not None:
            with self.server.lock:
                self.server.answered.append(attachment)

    do_GET = do_POST = _forward  # noqa: N815


@pytest.fixture(scope="module")
def own_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    """Its own portal: the files sent here change no other test's conversation."""
    with running_portal(tmp_path_factory.mktemp("attachments-server"), company.build(date.today())) as portal:
        yield portal


@pytest.fixture
def proxy(own_portal: LivePortal) -> Iterator[SlowAttachments]:
    with serving(SlowAttachments(own_portal.origin)) as server:
        yield server


@pytest.fixture
def session(proxy: SlowAttachments) -> Iterator[PortalSession]:
    opened = sign_in(f"{proxy.origin}/portal/east", company.REQUESTER, company.PASSWORD)
    yield opened
    opened.client.close()


def pdf(path: Path, text: str, pages: int) -> Path:
    document = pymupdf.open()
    for _ in range(pages):
        document.new_page().insert_text((72, 72), text)
    path.write_bytes(document.tobytes())
    return path


def open_with_files(qtbot: QtBot, session: PortalSession, runner: TaskRunner, files: list[Path]) -> RequestDetailDialog:
    """Rowan's request, after a reply carrying `files`."""
    summary = next(r for r in session.client.requests().items if r.number == company.REQUESTER_REQUEST)
    dialog = RequestDetailDialog(session.client, runner, summary, "Robin Requests", "UTC")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None and not runner.busy, timeout=WAIT_MS)
    dialog.composer.text_edit.setPlainText("Both plans")
    dialog.composer.picker.add_paths(files)
    dialog.send()
    qtbot.waitUntil(lambda: dialog.composer.text_edit.toPlainText() == "" and not runner.busy, timeout=WAIT_MS)
    return dialog


def sent(dialog: RequestDetailDialog) -> dict[str, AttachmentInfo]:
    assert dialog.detail is not None
    return {a.filename: a for a in dialog.detail.comments[-1].attachments}


def click_open(dialog: RequestDetailDialog, attachment: AttachmentInfo) -> None:
    dialog.browser.anchorClicked.emit(QUrl(f"attachment-open:{attachment.id}"))


def test_a_slow_attachment_opened_first_does_not_replace_the_one_opened_after_it(
    qtbot: QtBot, proxy: SlowAttachments, session: PortalSession, tmp_path: Path
) -> None:  # RQ-4
    runner = TaskRunner()
    photo = QImage(64, 48, QImage.Format.Format_RGB32)
    photo.fill(QColor("#2e7d32"))
    assert photo.save(str(tmp_path / "site.png"))
    files = [pdf(tmp_path / "large.pdf", "Whole site plan", 30), pdf(tmp_path / "small.pdf", "Bed detail", 1)]
    dialog = open_with_files(qtbot, session, runner, [*files, tmp_path / "site.png"])
    attachments = sent(dialog)
    large, small, picture = attachments["large.pdf"], attachments["small.pdf"], attachments["site.png"]

    # A large PDF, then a small one: the large one's late answer is dropped.
    proxy.slow = {large.id}
    click_open(dialog, large)
    click_open(dialog, small)
    qtbot.waitUntil(lambda: dialog.pdf_window is not None, timeout=WAIT_MS)
    assert dialog.pdf_window is not None and dialog.pdf_window.windowTitle() == "small.pdf"
    shown = dialog.pdf_window
    qtbot.waitUntil(lambda: large.id in proxy.answered and not runner.busy, timeout=WAIT_MS)
    assert proxy.answered[-2:] == [small.id, large.id], "the large one did answer last"
    assert dialog.pdf_window is shown and shown.windowTitle() == "small.pdf"
    assert not dialog.notice.isVisible()

    # A slow picture, then a PDF: no picture window comes up over the PDF asked for after it.
    shown.close()
    proxy.slow = {picture.id}
    click_open(dialog, picture)
    click_open(dialog, large)
    qtbot.waitUntil(lambda: picture.id in proxy.answered[-2:] and not runner.busy, timeout=WAIT_MS)
    assert proxy.answered[-2:] == [large.id, picture.id]
    assert dialog.image_window is None
    assert dialog.pdf_window is not None and dialog.pdf_window.windowTitle() == "large.pdf"

    # The one asked for last still opens when it is the slow one.
    click_open(dialog, small)
    click_open(dialog, picture)
    qtbot.waitUntil(lambda: dialog.image_window is not None, timeout=WAIT_MS)
    assert dialog.image_window is not None and dialog.image_window.windowTitle() == "site.png"
    assert dialog.pdf_window is not None and dialog.pdf_window.windowTitle() == "large.pdf"
    for window in (dialog.image_window, dialog.pdf_window):
        assert window is not None
        window.close()
    qtbot.waitUntil(lambda: dialog.pdf_window is None and dialog.image_window is None, timeout=WAIT_MS)


def test_a_closed_request_window_stays_while_an_attachment_window_it_opened_is_open(
    qtbot: QtBot, own_portal: LivePortal, settings_store: QSettings, tmp_path: Path
) -> None:
    """The attachment windows are the request window's children: deleting the closed request window
    (it held no reply) closed the picture or document still being read, and stopped its printing."""
    session = sign_in(own_portal.portal_url("east"), company.REQUESTER, company.PASSWORD)
    main = MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(main)
    summary = next(r for r in session.client.requests().items if r.number == company.REQUESTER_REQUEST)
    screens = main.work_screens
    dialog = screens.open_request(summary)
    qtbot.waitUntil(lambda: dialog.detail is not None and not main.runner.busy, timeout=WAIT_MS)
    photo = QImage(64, 48, QImage.Format.Format_RGB32)
    photo.fill(QColor("#2e7d32"))
    assert photo.save(str(tmp_path / "gate.png"))
    dialog.composer.text_edit.setPlainText("The gate")
    dialog.composer.picker.add_paths([tmp_path / "gate.png"])
    dialog.send()
    qtbot.waitUntil(lambda: dialog.composer.is_empty() and not main.runner.busy, timeout=WAIT_MS)
    click_open(dialog, sent(dialog)["gate.png"])
    qtbot.waitUntil(lambda: dialog.image_window is not None, timeout=WAIT_MS)
    picture = dialog.image_window
    assert picture is not None

    dialog.close()
    qtbot.wait(50)
    assert shiboken6.isValid(dialog) and shiboken6.isValid(picture) and picture.isVisible()
    picture.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=WAIT_MS)
    assert screens.request_dialogs == {}
    main.runner.set_unauthorized_handler(None)
