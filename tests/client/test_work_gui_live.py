"""The visit and request windows against the real server (VI-1, VI-2, RQ-1..RQ-4): opening a
visit, "Show older", the thread, replying with files, refused files, drafts kept on failure,
and new requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymupdf
import pytest
import shiboken6
from PySide6.QtCore import QMimeData, QObject, QPoint, QPointF, QSettings, QSize, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QDragEnterEvent, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.models.roles import Role
from app.services.accounts import Accounts
from app.services.demo_server import free_port
from app.services.portal_client import PortalClient, Timeouts
from app.services.records import Property
from app.services.session import sign_in
from app.services.settings import AppSettings
from app.views.account_dialogs import ChangePasswordDialog
from app.views.main_window import MainWindow
from app.views.new_request_dialog import NewRequestDialog
from app.views.request_detail import RequestDetailDialog
from app.views.requests_tab import RequestsTab
from app.views.visits_tab import VisitsTab
from tests.client import company
from tests.client.live_server import LivePortal

pytestmark = pytest.mark.gui

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(300)
WAIT_MS = 15000


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


def open_window(qtbot: QtBot, accounts: Accounts, portal: LivePortal, email: str) -> MainWindow:
    session = sign_in(portal.portal_url("east"), email, company.PASSWORD)
    accounts.remember_portal(session)
    accounts.store_secrets(session, remember_password=False)
    window = MainWindow(session, accounts)
    qtbot.addWidget(window)
    window.show()
    wait_idle(qtbot, window)
    return window


@pytest.fixture
def robin_window(qtbot: QtBot, accounts: Accounts, live_portal: LivePortal) -> Iterator[MainWindow]:
    window = open_window(qtbot, accounts, live_portal, company.REQUESTER)
    yield window
    window.runner.set_unauthorized_handler(None)


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.wait(10)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def visits_tab(window: MainWindow) -> VisitsTab:
    tab = window.tabs["visits"]
    assert isinstance(tab, VisitsTab)
    return tab


def show_completed(qtbot: QtBot, window: MainWindow) -> VisitsTab:
    tab = visits_tab(window)
    window.tab_widget.setCurrentWidget(tab)
    tab.show_combo.setCurrentIndex(tab.show_combo.findData("completed"))
    wait_idle(qtbot, window)
    return tab


def open_rowan_request(qtbot: QtBot, window: MainWindow) -> RequestDetailDialog:
    tab = window.tabs["requests"]
    window.tab_widget.setCurrentWidget(tab)
    row = next(r for r in range(tab.model.rowCount()) if tab.model.record(r).number == company.REQUESTER_REQUEST)
    tab.table.setFocus()
    tab.table.setCurrentIndex(tab.proxy.mapFromSource(tab.model.index(row, 0)))
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    dialog = window.work_screens.request_dialogs[(window.session.portal_url, tab.model.record(row).id)]
    wait_idle(qtbot, window)
    assert dialog.detail is not None
    return dialog


def test_visit_detail_shows_only_published_notes(qtbot: QtBot, robin_window: MainWindow) -> None:  # VI-2
    tab = show_completed(qtbot, robin_window)
    assert tab.model.rowCount() == 1
    tab.table.setFocus()
    tab.table.setCurrentIndex(tab.proxy.index(0, 0))
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    visit = tab.model.record(0)
    dialog = robin_window.work_screens.visit_dialogs[(robin_window.session.portal_url, visit.id)]
    wait_idle(qtbot, robin_window)
    assert dialog.isVisible()
    assert dialog.detail is not None
    page = dialog.browser.toPlainText()
    assert company.PUBLISHED_NOTE in page
    assert company.INTERNAL_NOTE not in page
    assert "Mowing" in page and "Hedge trimming" in page
    assert "Riley Rep" in page
    assert 'href="mailto:riley@example.com"' in dialog.browser.toHtml()


def test_show_older_widens_the_completed_window(qtbot: QtBot, robin_window: MainWindow) -> None:  # VI-1
    tab = show_completed(qtbot, robin_window)
    assert tab.older_button.isVisible()
    assert tab.count_label.text() == "1 visit in the last 30 days"
    qtbot.mouseClick(tab.older_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, robin_window)
    assert tab.model.rowCount() == 2
    assert tab.older_button.text() == "Show older (last 365 days)"
    qtbot.mouseClick(tab.older_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, robin_window)
    assert tab.model.rowCount() == len(company.REQUESTER_COMPLETED_AGO)
    assert tab.count_label.text() == "3 visits in the last 365 days"
    assert not tab.older_button.isVisible()
    tab.show_combo.setCurrentIndex(tab.show_combo.findData("upcoming"))
    wait_idle(qtbot, robin_window)
    assert not tab.older_button.isVisible()
    assert {tab.model.data(tab.model.index(r, 0), Role.RECORD).status for r in range(tab.model.rowCount())} <= {
        "scheduled"
    }


def test_request_thread_reads_oldest_first_without_internal_comments(
    qtbot: QtBot, robin_window: MainWindow
) -> None:  # RQ-1
    dialog = open_rowan_request(qtbot, robin_window)
    page = dialog.browser.toPlainText()
    assert page.index("The outdoor tap drips all night.") < page.index("We will replace the washer")
    assert page.index("We will replace the washer") < page.index("Thank you!")
    assert company.INTERNAL_COMMENT not in page
    assert "Robin Requests (you)" in page


def test_reply_with_a_file_refreshes_thread_and_list_and_downloads(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2, RQ-4
    dialog = open_rowan_request(qtbot, robin_window)
    tab = robin_window.tabs["requests"]
    before = dialog.summary.comment_count
    composer = dialog.composer
    qtbot.keyClicks(composer.text_edit, "Here is a photo of the tap.")
    composer.picker.add_paths([write(tmp_path / "tap.png", PNG)])
    assert composer.picker.rows.count() == 1
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, robin_window)
    assert composer.text_edit.toPlainText() == ""
    assert composer.files == ()
    assert not composer.error_label.isVisible()
    assert dialog.detail is not None
    last = dialog.detail.comments[-1]
    assert last.body == "Here is a photo of the tap."
    assert [a.filename for a in last.attachments] == ["tap.png"]
    assert "tap.png" in dialog.browser.toPlainText()
    listed = next(
        tab.model.record(r) for r in range(tab.model.rowCount()) if tab.model.record(r).id == dialog.summary.id
    )
    assert listed.comment_count == before + 1

    saved = tmp_path / "downloads" / "tap-copy.png"
    saved.parent.mkdir()
    dialog.ask_save_path = lambda parent, name: saved
    dialog.browser.anchorClicked.emit(QUrl(f"attachment:{last.attachments[0].id}"))
    wait_idle(qtbot, robin_window)
    assert dialog.last_download == saved
    assert saved.read_bytes() == PNG
    assert "Saved “tap-copy.png”" in dialog.notice.text()


class _FileOpener(QObject):
    """Stands in for the desktop's program for files (QDesktopServices' own hook for this)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


def test_open_it_after_a_download_is_reached_with_tab_and_shows_focus(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-4
    """The "Open it" link inside the notice: Tab never reached it, so the keyboard could not open
    the file just saved."""
    dialog = open_rowan_request(qtbot, robin_window)
    composer = dialog.composer
    qtbot.keyClicks(composer.text_edit, "The leak, photographed.")
    composer.picker.add_paths([write(tmp_path / "leak.png", PNG)])
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, robin_window)
    assert dialog.detail is not None
    saved = tmp_path / "leak-copy.png"
    dialog.ask_save_path = lambda parent, name: saved
    dialog.browser.anchorClicked.emit(QUrl(f"attachment:{dialog.detail.comments[-1].attachments[0].id}"))
    wait_idle(qtbot, robin_window)
    button = dialog.open_download_button
    assert button.isVisible() and button.text() == "Open it"
    unfocused = button.grab().toImage()

    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    composer.send_button.setFocus(Qt.FocusReason.TabFocusReason)
    for _ in range(40):
        if button.hasFocus():
            break
        focused = QApplication.focusWidget()
        assert focused is not None
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
    assert button.hasFocus(), "Tab reaches Open it"
    assert button.grab().toImage() != unfocused, "its focus shows"

    opener = _FileOpener()
    QDesktopServices.setUrlHandler("file", opener, "open")
    try:
        qtbot.keyClick(button, Qt.Key.Key_Space)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opener.opened == [QUrl.fromLocalFile(str(saved))]


def test_ctrl_enter_pressed_again_while_sending_posts_the_reply_once(
    qtbot: QtBot, robin_window: MainWindow
) -> None:  # RQ-2
    """The shortcut went round the Send button, which is disabled while a reply is out."""
    dialog = open_rowan_request(qtbot, robin_window)
    assert dialog.detail is not None
    before = len(dialog.detail.comments)
    composer = dialog.composer
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    composer.text_edit.setFocus()
    qtbot.keyClicks(composer.text_edit, "Is Tuesday morning fine for the crew?")
    qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert composer.send_button.text() == "Sending…"
    qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, robin_window)
    qtbot.waitUntil(lambda: composer.text_edit.toPlainText() == "", timeout=WAIT_MS)
    wait_idle(qtbot, robin_window)
    assert dialog.detail is not None
    bodies = [c.body for c in dialog.detail.comments[before:]]
    assert bodies == ["Is Tuesday morning fine for the crew?"]


def send_and_open_attachment(qtbot: QtBot, window: MainWindow, text: str, path: Path) -> RequestDetailDialog:
    """Replies on Rowan's request with `path` attached, then clicks the sent file's Open link."""
    dialog = open_rowan_request(qtbot, window)
    dialog.composer.text_edit.setPlainText(text)
    dialog.composer.picker.add_paths([path])
    qtbot.mouseClick(dialog.composer.send_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert dialog.detail is not None
    sent = dialog.detail.comments[-1].attachments[0]
    assert f'href="attachment-open:{sent.id}"' in dialog.browser.toHtml()
    dialog.browser.anchorClicked.emit(QUrl(f"attachment-open:{sent.id}"))
    return dialog


def test_a_pdf_attachment_opens_in_the_embedded_viewer(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-4
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "Irrigation plan")
    plan = write(tmp_path / "plan.pdf", document.tobytes())
    dialog = send_and_open_attachment(qtbot, robin_window, "The plan", plan)
    qtbot.waitUntil(lambda: dialog.pdf_window is not None, timeout=WAIT_MS)
    window = dialog.pdf_window
    assert window is not None
    qtbot.waitUntil(lambda: window.viewer._shown, timeout=WAIT_MS)
    assert window.windowTitle() == "plan.pdf"
    assert window.viewer.data == plan.read_bytes()
    closing = window
    closing.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(closing), timeout=WAIT_MS)
    assert dialog.pdf_window is None


def test_refused_files_are_shown_with_their_reason(qtbot: QtBot, robin_window: MainWindow, tmp_path: Path) -> None:
    # RQ-4: refused before anything is uploaded.
    dialog = open_rowan_request(qtbot, robin_window)
    big = tmp_path / "drone-video.jpg"
    with big.open("wb") as out:
        out.truncate(11 * 1024 * 1024)
    picker = dialog.composer.picker
    picker.ask_paths = lambda parent: [big, write(tmp_path / "setup.exe", EXE)]
    qtbot.mouseClick(picker.attach_button, Qt.MouseButton.LeftButton)
    assert dialog.composer.files == ()
    assert picker.refusal_label.isVisible()
    reasons = picker.refusal_label.text().splitlines()
    assert reasons[0] == "“drone-video.jpg” is 11.0 MB; files can be at most 10 MB each."
    assert reasons[1].startswith("“setup.exe” is not a type of file the portal accepts.")


def test_draft_kept_after_the_server_refuses_a_file(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2, RQ-4
    dialog = open_rowan_request(qtbot, robin_window)
    comments_before = len(dialog.detail.comments) if dialog.detail else 0
    composer = dialog.composer
    qtbot.keyClicks(composer.text_edit, "The program the plumber sent")
    composer.picker.add_paths([write(tmp_path / "photo.png", EXE)])  # passes the name check, not the server's
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, robin_window)
    assert composer.error_label.isVisible()
    assert composer.error_label.text().startswith('"photo.png" is not a type of file the portal accepts.')
    assert composer.text_edit.toPlainText() == "The program the plumber sent"
    assert [f.name for f in composer.files] == ["photo.png"]
    assert composer.send_button.isEnabled()
    dialog.close()
    reopened = open_rowan_request(qtbot, robin_window)
    assert reopened is dialog, "closing the window keeps the draft for the next opening"
    assert reopened.composer.text_edit.toPlainText() == "The program the plumber sent"
    assert dialog.detail is not None and len(dialog.detail.comments) == comments_before


def test_draft_kept_when_the_server_is_gone(qtbot: QtBot, robin_window: MainWindow, tmp_path: Path) -> None:
    summary = robin_window.tabs["requests"].model.record(0)
    gone = PortalClient(
        f"http://127.0.0.1:{free_port()}/portal/east", token="x" * 20, timeouts=Timeouts(1.0, 1.0), retries=0
    )
    dialog = RequestDetailDialog(gone, robin_window.runner, summary, "Robin Requests", "UTC")
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, robin_window)
    assert dialog.problem is not None and dialog.problem.startswith("Cannot reach the portal at 127.0.0.1")
    qtbot.keyClicks(dialog.composer.text_edit, "Are you there?")
    dialog.composer.picker.add_paths([write(tmp_path / "note.txt", b"hello\n")])
    dialog.send()
    wait_idle(qtbot, robin_window)
    assert dialog.composer.error_label.text().startswith("Cannot reach the portal at 127.0.0.1")
    assert dialog.composer.text_edit.toPlainText() == "Are you there?"
    assert [f.name for f in dialog.composer.files] == ["note.txt"]


def test_new_request_appears_in_the_list(qtbot: QtBot, robin_window: MainWindow, tmp_path: Path) -> None:  # RQ-2
    tab = robin_window.tabs["requests"]
    robin_window.tab_widget.setCurrentWidget(tab)
    before = tab.model.total
    assert isinstance(tab, RequestsTab)
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    dialog = robin_window.work_screens.new_request_dialog
    assert dialog is not None and dialog.isVisible()
    assert [dialog.property_combo.itemData(i) for i in range(dialog.property_combo.count())] == [
        p.id for p in robin_window.properties_model.properties
    ]
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.text() == "Please give the request a subject."
    qtbot.keyClicks(dialog.subject_edit, "Fence panel blown over")
    qtbot.keyClicks(dialog.description_edit, "Between us and the neighbours.")
    dialog.picker.add_paths([write(tmp_path / "fence.png", PNG)])
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert dialog.created is not None
    created = dialog.created
    assert [a.filename for a in created.attachments] == ["fence.png"]
    wait_idle(qtbot, robin_window)
    assert tab.model.total == before + 1
    assert created.summary.number in {tab.model.record(r).number for r in range(tab.model.rowCount())}
    assert created.summary.number in robin_window.statusBar().currentMessage()


def test_new_request_offers_only_the_selected_properties(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal
) -> None:  # RQ-2, PF-2
    window = open_window(qtbot, accounts, live_portal, company.MORGAN)
    model = window.properties_model
    cedar = next(p.id for p in model.properties if p.name == "Cedar Villas")
    model.set_checked([p.id for p in model.properties if p.id != cedar], False)
    wait_idle(qtbot, window)
    dialog = window.work_screens.new_request()
    assert [dialog.property_combo.itemData(i) for i in range(dialog.property_combo.count())] == [cedar]
    dialog.reject()
    window.runner.set_unauthorized_handler(None)


def test_new_request_chooses_no_property_it_cannot_know_and_finds_one_by_any_part(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal
) -> None:  # RQ-2, RQ-3
    """With several properties the form chose the first: a request sent against the wrong one
    emails the wrong account owner and cannot be moved. Nothing is chosen now unless a highlighted
    row says which, Send says why it waits, and any part of a name or address finds a property
    (its first letters found nothing among a thousand sharing them)."""
    window = open_window(qtbot, accounts, live_portal, company.MORGAN)
    ids = {p.name: p.id for p in window.properties_model.properties}
    dialog = window.work_screens.new_request()
    combo = dialog.property_combo
    assert combo.currentText() == "" and dialog.chosen_property() is None
    assert combo.lineEdit() is not None and combo.lineEdit().placeholderText() == "Choose a property…"
    assert not dialog.send_button.isEnabled()
    assert dialog.send_hint.isVisible() and dialog.send_hint.text() == "Choose the property this request is about."
    qtbot.keyClicks(dialog.subject_edit, "Gate latch broken")

    qtbot.keyClicks(combo.lineEdit(), "park")  # the middle of "Birch Office Park"
    popup = combo.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=WAIT_MS)
    assert [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())] == [
        "Birch Office Park  ·  17 Birch Street"
    ]
    assert dialog.chosen_property() is None and not dialog.send_button.isEnabled(), "a part typed chooses none"
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert dialog.chosen_property() == ids["Birch Office Park"]
    assert dialog.send_button.isEnabled() and not dialog.send_hint.isVisible()
    assert dialog.subject_edit.text() == "Gate latch broken", "nothing typed is lost"
    combo.lineEdit().clear()
    qtbot.keyClicks(combo.lineEdit(), "STREET")  # every address: all three offered
    qtbot.waitUntil(popup.isVisible, timeout=WAIT_MS)
    assert popup.model().rowCount() == 3
    assert not dialog.send_button.isEnabled()
    dialog.done(0)

    # The property of the row highlighted in the current tab is the one meant.
    tab = window.tabs["proposals"]
    window.tab_widget.setCurrentWidget(tab)
    wait_idle(qtbot, window)
    row = next(r for r in range(tab.model.rowCount()) if tab.model.record(r).property.name == "Cedar Villas")
    tab.table.setCurrentIndex(tab.proxy.mapFromSource(tab.model.index(row, 0)))
    dialog = window.work_screens.new_request()
    assert dialog.chosen_property() == ids["Cedar Villas"] and dialog.send_button.isEnabled()
    dialog.done(0)

    # As is the only property the sidebar shows, whatever row is highlighted.
    model = window.properties_model
    model.set_checked([i for name, i in ids.items() if name != "Maple Court"], False)
    wait_idle(qtbot, window)
    tab.table.clearSelection()
    dialog = window.work_screens.new_request()
    assert dialog.chosen_property() == ids["Maple Court"] and dialog.send_button.isEnabled()
    dialog.done(0)
    window.runner.set_unauthorized_handler(None)


def test_request_and_password_headings_say_what_the_window_title_does_not(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal
) -> None:  # RQ-2, AC-3
    """Both repeated their window title ("New request", "Change password") as their heading. As in
    the pay and sign dialogs, the heading now says who gets the request and whose password it is."""
    window = open_window(qtbot, accounts, live_portal, company.MORGAN)
    model = window.properties_model
    branch = window.session.config.branch.name
    dialog = window.work_screens.new_request()
    assert dialog.windowTitle() == "New request"
    assert dialog.heading.text() == f"To {branch}"
    first, second, third = (p.name for p in model.properties)
    assert dialog.subtitle.text() == (
        f"What needs attention at {first}, {second} or {third}? They are notified right away."
    )
    dialog.reject()
    model.set_checked([p.id for p in model.properties if p.name != "Cedar Villas"], False)
    wait_idle(qtbot, window)
    dialog = window.work_screens.new_request()
    assert dialog.subtitle.text() == "What needs attention at Cedar Villas? They are notified right away."
    dialog.reject()

    password = ChangePasswordDialog(window.session, window.runner, window)
    qtbot.addWidget(password)
    assert password.windowTitle() == "Change password"
    assert password.heading.text() == company.MORGAN
    assert password.subtitle.text().startswith("Your password for East Branch and West Branch.")
    assert "this window stays signed in" in password.subtitle.text()
    window.runner.set_unauthorized_handler(None)


def gone_client() -> PortalClient:
    """A portal that does not answer: nothing listens on the port."""
    return PortalClient(
        f"http://127.0.0.1:{free_port()}/portal/east", token="x" * 20, timeouts=Timeouts(1.0, 1.0), retries=0
    )


def test_a_failed_refresh_keeps_the_conversation_on_screen(qtbot: QtBot, robin_window: MainWindow) -> None:  # RQ-1
    """Reopening a request while the portal was unreachable replaced the whole thread the customer
    was reading by one error sentence, with no way to try again but closing and reopening."""
    dialog = open_rowan_request(qtbot, robin_window)
    client = dialog.client
    dialog.client = gone_client()
    dialog.load()  # what opening the same request again does
    wait_idle(qtbot, robin_window)
    page = dialog.browser.toPlainText()
    assert "Cannot reach the portal at 127.0.0.1" in page
    assert "may be out of date" in page
    assert "The outdoor tap drips all night." in page and "We will replace the washer" in page
    assert 'href="reload:"' in dialog.browser.toHtml()
    dialog.client = client
    dialog.browser.anchorClicked.emit(QUrl("reload:"))  # "Try again"
    wait_idle(qtbot, robin_window)
    assert dialog.problem is None
    assert "Cannot reach" not in dialog.browser.toPlainText()


def test_a_failed_refresh_keeps_the_visit_notes_on_screen(qtbot: QtBot, robin_window: MainWindow) -> None:  # VI-2
    tab = show_completed(qtbot, robin_window)
    visit = tab.model.record(0)
    dialog = robin_window.work_screens.open_visit(visit)
    wait_idle(qtbot, robin_window)
    assert company.PUBLISHED_NOTE in dialog.browser.toPlainText()
    dialog.client = gone_client()
    dialog.load()
    wait_idle(qtbot, robin_window)
    page = dialog.browser.toPlainText()
    assert "Cannot reach the portal at 127.0.0.1" in page
    assert company.PUBLISHED_NOTE in page and "Riley Rep" in page
    assert dialog.retry_button.isVisible()


def test_escape_in_a_filled_in_new_request_asks_before_discarding_it(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2
    """Escape (or the close box) threw away a typed subject, description and files without a word."""
    window = robin_window
    asked: list[bool] = []
    answer = False

    def confirm(parent: object) -> bool:
        asked.append(answer)
        return answer

    dialog = window.work_screens.new_request()
    dialog.confirm_discard = confirm  # type: ignore[method-assign]
    qtbot.keyClick(dialog.subject_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and asked == [], "nothing written: closes at once"

    dialog = window.work_screens.new_request()
    dialog.confirm_discard = confirm  # type: ignore[method-assign]
    qtbot.keyClicks(dialog.subject_edit, "Gate latch broken")
    qtbot.keyClicks(dialog.description_edit, "It swings open in the wind.")
    dialog.picker.add_paths([write(tmp_path / "latch.png", PNG)])
    qtbot.keyClick(dialog.description_edit, Qt.Key.Key_Escape)
    assert asked == [False]
    assert dialog.isVisible(), "Keep editing"
    assert dialog.subject_edit.text() == "Gate latch broken"
    assert dialog.description_edit.toPlainText() == "It swings open in the wind."
    assert [f.name for f in dialog.draft.files] == ["latch.png"]
    answer = True
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        dialog.close()
    assert asked == [False, True]
    assert dialog.created is None


def test_quit_and_sign_out_ask_before_discarding_an_unsent_reply(
    qtbot: QtBot, robin_window: MainWindow
) -> None:  # RQ-2
    """A reply written in a request window, which is kept hidden when closed, was dropped without a
    word by Quit and by Sign out."""
    window = robin_window
    dialog = open_rowan_request(qtbot, window)
    reply = "Could you come on Tuesday instead?"
    qtbot.keyClicks(dialog.composer.text_edit, reply)
    dialog.close()
    assert not dialog.isVisible()
    asked: list[tuple[list[str], str]] = []
    answer = False

    def confirm(parent: object, drafts: list[str], action: str) -> bool:
        asked.append((drafts, action))
        return answer

    window.confirm_discard_drafts = confirm  # type: ignore[method-assign]
    named = [f"Your reply to {dialog.summary.number} “{dialog.summary.subject}”"]

    window.close()  # what Quit does to every window; an ignored close cancels quitting
    assert asked == [(named, "Quit")]
    assert window.isVisible(), "Keep editing"
    assert dialog.isVisible() and dialog.composer.text_edit.toPlainText() == reply, "the reply is shown again"

    signed_out: list[bool] = []
    window.signed_out.connect(lambda _: signed_out.append(True))
    window.accounts.remember_portal(window.session)
    window.accounts.store_secrets(window.session, remember_password=True)  # a token that signing out would forget
    window.sign_out()
    assert asked[-1] == (named, "Sign out")
    assert window.isEnabled() and signed_out == []
    assert window.accounts.stored_token(window.session.portal_url, window.session.email) is not None
    assert dialog.composer.text_edit.toPlainText() == reply

    answer = True
    with qtbot.waitSignal(window.signed_out, timeout=WAIT_MS):
        window.sign_out()
    assert dialog.composer.is_empty()
    window.close()  # the shell's close after signing out: nothing left to ask about
    assert len(asked) == 3


def test_attaching_a_file_clears_the_empty_reply_message(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2
    """The empty-reply message stayed under the reply box after a file was attached."""
    dialog = open_rowan_request(qtbot, robin_window)
    composer = dialog.composer
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    assert composer.error_label.isVisible()
    assert composer.error_label.text() == "Write a reply or attach a file first."
    composer.picker.add_paths([write(tmp_path / "meter.png", PNG)])
    assert not composer.error_label.isVisible()
    composer.draft.clear()

    new_request = robin_window.work_screens.new_request()
    new_request.show_error('"photo.png" is not a type of file the portal accepts.')
    new_request.picker.add_paths([write(tmp_path / "photo.png", PNG)])
    assert not new_request.error_label.isVisible(), "the files changed: the message about them goes"
    new_request.draft.clear()
    new_request.reject()


def test_a_reply_that_fails_after_its_window_was_closed_brings_the_window_back(
    qtbot: QtBot, robin_window: MainWindow
) -> None:  # RQ-2
    """Send, then close: when the reply did not go through, the refusal and the kept draft were
    waiting in a hidden window, and the customer believed the reply had been sent."""
    dialog = open_rowan_request(qtbot, robin_window)
    dialog.client = gone_client()
    qtbot.keyClicks(dialog.composer.text_edit, "The tap is fixed, thank you.")
    qtbot.mouseClick(dialog.composer.send_button, Qt.MouseButton.LeftButton)
    dialog.close()
    assert not dialog.isVisible()
    wait_idle(qtbot, robin_window)
    assert dialog.isVisible()
    assert dialog.composer.error_label.text().startswith("Cannot reach the portal at 127.0.0.1")
    assert dialog.composer.text_edit.toPlainText() == "The tap is fixed, thank you."


def test_a_picture_attachment_opens_in_the_app(qtbot: QtBot, robin_window: MainWindow, tmp_path: Path) -> None:  # RQ-4
    """Photos (what customers attach most) could only be downloaded and opened elsewhere."""
    photo = QImage(64, 48, QImage.Format.Format_RGB32)
    photo.fill(QColor("#2e7d32"))
    assert photo.save(str(tmp_path / "hedge.png"))
    dialog = send_and_open_attachment(qtbot, robin_window, "The hedge after trimming", tmp_path / "hedge.png")
    qtbot.waitUntil(lambda: dialog.image_window is not None, timeout=WAIT_MS)
    window = dialog.image_window
    assert window is not None
    assert window.windowTitle() == "hedge.png"
    assert window.image.size() == QSize(64, 48)
    assert window.image.pixelColor(10, 10) == QColor("#2e7d32")
    assert dialog.pdf_window is None and not dialog.notice.isVisible()
    closing = window
    closing.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(closing), timeout=WAIT_MS)
    assert dialog.image_window is None


def test_enter_in_the_subject_goes_on_to_the_description(qtbot: QtBot, robin_window: MainWindow) -> None:  # RQ-2
    """Enter after the subject sent the request at once, without the description the customer was
    about to write (a request cannot be edited once sent). Ctrl+Enter sends, as in the reply box."""
    tab = robin_window.tabs["requests"]
    before = tab.model.total
    dialog = robin_window.work_screens.new_request()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClicks(dialog.subject_edit, "Downspout came loose")
    qtbot.keyClick(dialog.subject_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and not dialog.sending
    assert dialog.description_edit.hasFocus()
    qtbot.keyClicks(dialog.description_edit, "At the back corner, by the shed.")
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        qtbot.keyClick(dialog.description_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.created is not None
    assert dialog.created.description == "At the back corner, by the shed."
    wait_idle(qtbot, robin_window)
    assert tab.model.total == before + 1


def drop_files(widget: QWidget, *paths: Path) -> bool:
    """Drags `paths` onto `widget` and drops them there, as the window system delivers it: to the
    widget under the pointer (for a text box or a browser, its viewport). True when accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    action, button, modifiers = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(widget, QDragEnterEvent(QPoint(20, 20), action, mime, button, modifiers))
    drop = QDropEvent(QPointF(20, 20), action, mime, button, modifiers)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def test_files_dropped_on_the_text_or_the_conversation_are_attached(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2
    """A photo dropped on the reply box was pasted into the reply as "file:///…/tap.png" and not
    attached; dropped on the conversation it was refused. Likewise the New request description."""
    dialog = open_rowan_request(qtbot, robin_window)
    composer = dialog.composer
    qtbot.keyClicks(composer.text_edit, "Photos:")
    assert drop_files(composer.text_edit.viewport(), write(tmp_path / "tap.png", PNG))
    assert drop_files(dialog.browser.viewport(), write(tmp_path / "sink.png", PNG))
    assert composer.text_edit.toPlainText() == "Photos:"
    assert [f.name for f in composer.files] == ["tap.png", "sink.png"]

    composer.set_sending(True)  # a file dropped while the reply is out would be cleared with it, unsent
    assert not drop_files(composer.text_edit.viewport(), write(tmp_path / "late.png", PNG))
    assert [f.name for f in composer.files] == ["tap.png", "sink.png"]
    composer.set_sending(False)
    composer.clear()

    new_request = robin_window.work_screens.new_request()
    assert drop_files(new_request.description_edit.viewport(), write(tmp_path / "fence.png", PNG))
    assert new_request.description_edit.toPlainText() == ""
    assert [f.name for f in new_request.draft.files] == ["fence.png"]
    new_request.draft.clear()
    new_request.reject()


def tab_names(qtbot: QtBot, start: QWidget, presses: int) -> list[str]:
    """The buttons and boxes Tab goes through from `start`, by their text or class."""
    qtbot.wait(1)  # a widget added to a shown window's layout is shown from the event loop
    start.setFocus(Qt.FocusReason.TabFocusReason)
    names = []
    for _ in range(presses):
        focused = QApplication.focusWidget()
        assert focused is not None
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        names.append(now.text() if isinstance(now, QPushButton) else type(now).__name__)
    return names


def test_tab_reaches_each_file_s_remove_where_it_is_shown(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2
    """The rows' Remove buttons came after Send in Tab's order, though shown beside the text box
    (now under "Attach files…", where Tab meets them)."""
    new_request = robin_window.work_screens.new_request()
    new_request.activateWindow()
    qtbot.waitUntil(new_request.isActiveWindow, timeout=5000)
    new_request.picker.add_paths([write(tmp_path / "a.png", PNG), write(tmp_path / "b.png", PNG)])
    assert tab_names(qtbot, new_request.description_edit, 5) == [
        "Attach files…",
        "Remove",
        "Remove",
        "Cancel",
        "Send request",
    ]
    new_request.picker.add_paths([write(tmp_path / "c.png", PNG)])  # the rows are made anew
    assert tab_names(qtbot, new_request.description_edit, 4) == ["Attach files…", "Remove", "Remove", "Remove"]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)  # removes c.png, the last
    assert [f.name for f in new_request.draft.files] == ["a.png", "b.png"]
    assert QApplication.focusWidget().accessibleName() == "Remove b.png", "the focus stays in the rows"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert new_request.draft.files == ()
    assert new_request.picker.attach_button.hasFocus()
    new_request.draft.clear()
    new_request.reject()

    dialog = open_rowan_request(qtbot, robin_window)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    dialog.composer.picker.add_paths([write(tmp_path / "tap.png", PNG)])
    assert tab_names(qtbot, dialog.composer.text_edit, 3) == ["Attach files…", "Remove", "Send reply"]
    dialog.composer.clear()


def test_many_files_scroll_instead_of_growing_the_window_off_the_screen(
    qtbot: QtBot, robin_window: MainWindow, tmp_path: Path
) -> None:  # RQ-2, RQ-4
    """Each file added a row to the New request window: with ten it was taller than a laptop's
    screen (1366 x 768), and Send was below its bottom edge."""
    dialog = robin_window.work_screens.new_request()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    dialog.picker.add_paths([write(tmp_path / f"photo-{i}.png", PNG) for i in range(4)])
    four = dialog.sizeHint().height()
    dialog.picker.add_paths([write(tmp_path / f"photo-{i}.png", PNG) for i in range(4, 10)])
    assert len(dialog.draft.files) == 10
    assert dialog.sizeHint().height() == four
    assert dialog.minimumSizeHint().height() < 700
    names = tab_names(qtbot, dialog.description_edit, 11)
    assert names[-1] == "Remove" and dialog.picker.file_list.verticalScrollBar().value() > 0, (
        "the last one is scrolled to"
    )
    dialog.draft.clear()
    assert not dialog.picker.file_list.isVisible()
    dialog.reject()


def test_new_request_key_works_wherever_the_focus_is_while_requests_are_shown(
    qtbot: QtBot, robin_window: MainWindow
) -> None:  # RQ-2
    """Ctrl+N (Cmd+N) did nothing after picking the Requests tab by its header or from the
    property list: it worked only with the focus inside the tab's own list."""
    window = robin_window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    new = QKeySequence(QKeySequence.StandardKey.New)[0]
    window.tab_widget.setCurrentWidget(visits_tab(window))
    window.tab_widget.tabBar().setFocus()
    qtbot.keyClick(window.tab_widget.tabBar(), new.key(), new.keyboardModifiers())
    assert window.work_screens.new_request_dialog is None, "not from another tab"

    window.tab_widget.setCurrentWidget(window.tabs["requests"])
    window.tab_widget.tabBar().setFocus()
    qtbot.keyClick(window.tab_widget.tabBar(), new.key(), new.keyboardModifiers())
    dialog = window.work_screens.new_request_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


def test_the_refresh_key_reloads_a_request_or_visit_window(qtbot: QtBot, robin_window: MainWindow) -> None:
    """F5 (Ctrl+R / Cmd+R) did nothing in a request or visit window: a reply that arrived while it
    was open showed only after closing and reopening it."""  # RQ-1, VI-2
    refresh = QKeySequence(QKeySequence.StandardKey.Refresh)[0]
    dialog = open_rowan_request(qtbot, robin_window)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    robin_window.session.client.add_comment(dialog.summary.id, "Sent from the other computer.")
    assert "Sent from the other computer." not in dialog.browser.toPlainText()
    qtbot.keyClick(dialog.browser, refresh.key(), refresh.keyboardModifiers())
    wait_idle(qtbot, robin_window)
    assert "Sent from the other computer." in dialog.browser.toPlainText()
    dialog.close()

    tab = show_completed(qtbot, robin_window)
    visit = robin_window.work_screens.open_visit(tab.model.record(0))
    wait_idle(qtbot, robin_window)
    visit.activateWindow()
    qtbot.waitUntil(visit.isActiveWindow, timeout=5000)
    visit.client = gone_client()  # the reload is seen by its answer
    qtbot.keyClick(visit.browser, refresh.key(), refresh.keyboardModifiers())
    wait_idle(qtbot, robin_window)
    assert visit.problem is not None and visit.problem.startswith("Cannot reach the portal at 127.0.0.1")


def test_text_too_long_for_the_portal_is_said_while_typing_and_not_sent(
    qtbot: QtBot, robin_window: MainWindow
) -> None:  # RQ-2
    """A pasted e-mail over the portal's 10,000 characters was uploaded and then refused with "Keep
    the text under 10,000 characters.", with no hint of how much to cut."""
    dialog = open_rowan_request(qtbot, robin_window)
    assert dialog.detail is not None
    before = len(dialog.detail.comments)
    composer = dialog.composer
    composer.text_edit.setPlainText("x" * 10_000)
    assert not composer.error_label.isVisible()
    composer.text_edit.insertPlainText("yz")
    assert composer.error_label.isVisible()
    assert composer.error_label.text() == (
        "Your reply is 10,002 characters long; the portal takes at most 10,000. "
        "Shorten it by 2, or attach the text as a file."
    )
    qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    assert composer.send_button.text() == "Send reply", "not sent"
    wait_idle(qtbot, robin_window)
    assert dialog.detail is not None and len(dialog.detail.comments) == before
    assert len(composer.text_edit.toPlainText()) == 10_002
    composer.text_edit.textCursor().deletePreviousChar()
    composer.text_edit.textCursor().deletePreviousChar()
    assert not composer.error_label.isVisible()
    composer.clear()

    new_request = robin_window.work_screens.new_request()
    qtbot.keyClicks(new_request.subject_edit, "Our HOA letter")
    new_request.description_edit.setPlainText("y" * 10_500)
    assert new_request.error_label.isVisible()
    assert new_request.error_label.text().startswith("The description is 10,500 characters long;")
    qtbot.mouseClick(new_request.send_button, Qt.MouseButton.LeftButton)
    assert not new_request.sending
    new_request.description_edit.setPlainText("y" * 100)
    assert not new_request.error_label.isVisible()
    new_request.done(0)


def test_new_request_keeps_the_line_picked_where_two_properties_read_alike(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal
) -> None:  # RQ-2, RQ-3
    """Two units of one building, imported with the same name and address: the second picked sent
    the request against the first, whose account owner was emailed."""
    window = open_window(qtbot, accounts, live_portal, company.MORGAN)
    twins = [
        Property(1, "Harbor Lofts", "1 Pier Road", "primary"),
        Property(2, "Harbor Lofts", "1 Pier Road", "primary"),
    ]
    dialog = NewRequestDialog(window.session.client, window.runner, twins, "Greenleaf", window)
    qtbot.addWidget(dialog)
    dialog.property_combo.setCurrentIndex(1)
    assert dialog.chosen_property() == 2
    dialog.property_combo.setCurrentIndex(0)
    assert dialog.chosen_property() == 1
    dialog.done(0)
