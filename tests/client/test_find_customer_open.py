"""Opening a customer's portal from Find customer (SA-1, SA-2), against the real server: Enter pressed
before the results are in opens the first result of that search only, and the reason typed is
limited to what the portal takes and kept when the portal does not open."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.session import sign_in
from app.services.settings import AppSettings
from app.views.shell import AppShell
from app.views.staff_views import REASON_LENGTH, FindCustomerWindow, ReasonDialog
from tests.client import company
from tests.client.fault_server import FaultServer, problem
from tests.client.live_server import LivePortal
from tests.client.test_staff_gui import find_window, search, staff_shell

pytestmark = pytest.mark.gui

WAIT_MS = 15000


@pytest.fixture
def shell(settings_store: QSettings, live_portal: LivePortal) -> Iterator[AppShell]:
    """Olive Office signed in to East, at Find customer."""
    staff = sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    yield from staff_shell(Accounts(AppSettings(settings_store)), staff)


def when_reason_dialog(find: FindCustomerWindow, act: Callable[[ReasonDialog], None]) -> None:
    """The reason prompt is modal (the test waits inside it): `act` runs once it shows."""

    def poll() -> None:
        dialog = find.reason_dialog
        if dialog is not None and dialog.isVisible():
            act(dialog)
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def watch_reason_dialogs(find: FindCustomerWindow, seen: list[str]) -> QTimer:
    """Notes (and cancels) every reason prompt that opens while the timer runs."""
    timer = QTimer(find, interval=20)

    def check() -> None:
        dialog = find.reason_dialog
        if dialog is not None and dialog.isVisible():
            seen.append(dialog.summary_label.text())
            dialog.reject()

    timer.timeout.connect(check)
    timer.start()
    return timer


def test_enter_then_clearing_the_search_opens_nothing_later(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """Enter right after typing, then Esc: the "open the first result" it armed stayed connected,
    and the next caller's search, typed without Enter, popped up the first match's reason prompt."""
    find = find_window(shell)
    seen: list[str] = []
    watch = watch_reason_dialogs(find, seen)
    qtbot.keyClicks(find.search_edit, "morgan")
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Escape)
    qtbot.keyClicks(find.search_edit, "birch")
    qtbot.waitUntil(lambda: not find._search_timer.isActive() and not find.feed.loading, timeout=WAIT_MS)
    assert find.model.rowCount() >= 1
    qtbot.wait(300)
    watch.stop()
    assert seen == []


def test_enter_twice_while_searching_opens_the_first_result_once(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """Enter twice before the results came connected the opening twice: a second prompt followed the
    first one cancelled."""
    find = find_window(shell)
    seen: list[str] = []
    watch = watch_reason_dialogs(find, seen)
    qtbot.keyClicks(find.search_edit, "INV-20001")
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    qtbot.wait(500)
    watch.stop()
    assert len(seen) == 1 and "Morgan Many" in seen[0]
    # Armed once, and spent: the same results again (as after a reload) open nothing.
    seen.clear()
    watch.start()
    find.search_now()
    qtbot.waitUntil(lambda: not find.feed.loading, timeout=WAIT_MS)
    qtbot.wait(200)
    watch.stop()
    assert seen == []


def test_enter_armed_for_a_search_that_fails_opens_nothing_once_it_works(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-1
    find = find_window(shell)
    seen: list[str] = []
    watch = watch_reason_dialogs(find, seen)
    client = find.session.client
    fault = FaultServer().start()
    try:
        fault.route("GET", "/staff/contacts", problem(500, "internal", "The portal had a problem. Try again."))
        client.api_base = fault.portal_url + "/api/v1"
        qtbot.keyClicks(find.search_edit, "morgan")
        qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: find.results_card.failed, timeout=WAIT_MS)
    finally:
        fault.stop()
        client.api_base = live_portal.api()
    qtbot.mouseClick(find.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not find.feed.loading and find.model.rowCount() >= 1, timeout=WAIT_MS)
    qtbot.wait(200)
    watch.stop()
    assert seen == [], "the search Enter was pressed for failed: Try again only shows the results"


def test_the_reason_is_limited_to_what_the_portal_takes(qtbot: QtBot, shell: AppShell) -> None:  # SA-2
    find = find_window(shell)
    search(qtbot, find, "INV-20001")
    dialog = ReasonDialog(find.model.contact(0))
    qtbot.addWidget(dialog)
    line = dialog.reason_combo.lineEdit()
    assert line is not None and line.maxLength() == REASON_LENGTH == 500
    dialog.reason_combo.setCurrentText("Long story. " * 60)
    assert len(dialog.reason_combo.currentText()) == REASON_LENGTH


def test_a_portal_that_does_not_open_keeps_the_reason_and_says_why(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-2
    """The dialog closed before the portal answered: a refusal left a raw field message in the status
    line, and the reason typed was gone (the prompt opened again empty)."""
    find = find_window(shell)
    search(qtbot, find, "INV-20001")
    reason = ("Customer at the counter about invoice INV-20001 and the gate repair; " * 8)[:REASON_LENGTH]
    client = find.session.client
    fault = FaultServer().start()
    shown: dict[str, object] = {}

    def fail_then_cancel(dialog: ReasonDialog) -> None:
        dialog.reason_combo.setCurrentText(reason)
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
        shown["opening"] = (dialog.open_button.text(), dialog.cancel_button.isEnabled())

        def answered() -> None:
            if not dialog.problem_label.isVisible():
                QTimer.singleShot(20, answered)
                return
            shown["problem"] = dialog.problem_label.text()
            shown["reason"] = dialog.reason
            shown["open enabled"] = dialog.open_button.isEnabled()
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

        answered()

    try:
        fault.route("POST", "/staff/assist", problem(500, "internal", "The portal had a problem. Try again."))
        client.api_base = fault.portal_url + "/api/v1"
        when_reason_dialog(find, fail_then_cancel)
        qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)  # returns once the prompt is closed
    finally:
        fault.stop()
        client.api_base = live_portal.api()
    assert shown["opening"] == ("Opening…", False), "no Cancel while the portal may be opening the assist"
    sentence = "Morgan Many's portal could not be opened. The portal had a problem. Try again."
    assert shown["problem"] == sentence
    assert find.status_label.text() == sentence
    assert shown["reason"] == reason and shown["open enabled"]

    def open_with_the_kept_reason(dialog: ReasonDialog) -> None:
        shown["kept"] = dialog.reason
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)

    when_reason_dialog(find, open_with_the_kept_reason)
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
    assert shown["kept"] == reason, "the next try starts with the reason typed"
    qtbot.waitUntil(lambda: shell.window is not None, timeout=WAIT_MS)
    window = shell.window
    assert window is not None
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    assert window.session.assisting is not None and window.session.assisting.reason == reason
    newest = client.staff_audit(window.session.assisting.contact.id).items[0]
    assert newest.action == "assist.start" and newest.detail == reason
    assert find._kept_reasons == {}, "spent once the portal opened"
    qtbot.mouseClick(window.end_assist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None, timeout=WAIT_MS)
