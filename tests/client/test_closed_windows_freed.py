"""Closed windows are deleted unless they hold something of the user's (against the real server).

Visit windows were kept, hidden, until a branch switch, each connected to the theme and the
branch's day: a morning's 300 visits held 400 MB and made a theme switch take seconds. Dialogs run
with exec() over the main window (a branch's sign-in, Change password) and a cancelled re-sign-in
stayed its children for good."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import shiboken6
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.services.records import RequestSummary, VisitSummary
from app.views.account_dialogs import ChangePasswordDialog
from app.views.main_window import MainWindow
from app.views.sign_in_dialog import SignInDialog
from app.views.visit_detail import VisitDetailDialog
from tests.client.live_server import LivePortal
from tests.client.test_branch_switch_windows import WAIT_MS, open_window, record, wait_idle

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot: QtBot, settings_store: QSettings, live_portal: LivePortal) -> Iterator[MainWindow]:
    main = open_window(qtbot, settings_store, live_portal)
    yield main
    main.runner.set_unauthorized_handler(None)


def dialogs_of(window: MainWindow, kind: type[QDialog]) -> list[QDialog]:
    return [dialog for dialog in window.findChildren(kind) if shiboken6.isValid(dialog)]


def test_closed_visit_windows_are_deleted(qtbot: QtBot, window: MainWindow) -> None:
    visit = window.tabs["visits"].model.record(0)
    assert isinstance(visit, VisitSummary)
    for _ in range(3):
        dialog = window.work_screens.open_visit(visit)
        wait_idle(qtbot, window)
        assert dialog.isVisible() and dialog.detail is not None
        dialog.close()
        qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=WAIT_MS)  # noqa: B023
    assert window.work_screens.visit_dialogs == {}
    assert dialogs_of(window, VisitDetailDialog) == []


def test_a_closed_request_window_is_kept_only_while_it_holds_a_reply(qtbot: QtBot, window: MainWindow) -> None:
    request = record(window, "requests", "REQ-1")
    assert isinstance(request, RequestSummary)
    screens = window.work_screens
    empty = screens.open_request(request)
    wait_idle(qtbot, window)
    empty.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(empty), timeout=WAIT_MS)
    assert screens.request_dialogs == {}

    drafted = screens.open_request(request)
    wait_idle(qtbot, window)
    qtbot.keyClicks(drafted.composer.text_edit, "The gate still sticks.")
    drafted.close()
    qtbot.wait(50)
    assert shiboken6.isValid(drafted), "the unsent reply is kept for the next opening"
    assert screens.open_request(request) is drafted
    assert drafted.composer.text_edit.toPlainText() == "The gate still sticks."
    drafted.composer.clear()
    drafted.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(drafted), timeout=WAIT_MS)
    assert screens.request_dialogs == {}


def reject_when_shown(kind: type[QDialog]) -> QTimer:
    """Rejects the next modal `kind` once it shows: exec() runs its own event loop, so the test
    cannot wait for it from the outside."""
    timer = QTimer(interval=50)

    def reject() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            timer.stop()
            dialog.reject()

    timer.timeout.connect(reject)
    timer.start()
    return timer


def test_change_password_and_a_cancelled_branch_sign_in_leave_no_dialog_behind(
    qtbot: QtBot, window: MainWindow
) -> None:
    rejecting = reject_when_shown(ChangePasswordDialog)
    window.change_password()
    assert not rejecting.isActive()
    qtbot.waitUntil(lambda: dialogs_of(window, ChangePasswordDialog) == [], timeout=WAIT_MS)
    rejecting = reject_when_shown(SignInDialog)
    window.session.password = None  # so the other branch asks for the password
    window.switch_branch(next(b for b in window.session.branches if b.slug == "west"))
    qtbot.waitUntil(lambda: not rejecting.isActive(), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: dialogs_of(window, SignInDialog) == [], timeout=WAIT_MS)
    assert window.session.config.branch.slug == "east"


def test_a_cancelled_sign_in_again_leaves_no_dialog_behind(
    qtbot: QtBot, window: MainWindow, live_portal: LivePortal
) -> None:
    response = requests.post(
        live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {window.session.token}"}, timeout=5
    )
    assert response.status_code == 204
    window.refresh()
    qtbot.waitUntil(lambda: window.reauth_dialog is not None and window.reauth_dialog.isVisible(), timeout=WAIT_MS)
    dialog = window.reauth_dialog
    assert dialog is not None
    dialog.reject()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=WAIT_MS)
