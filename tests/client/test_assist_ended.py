"""An assist the portal ends (30 idle minutes, the staff member's own session ended, a revoke) costs
nothing typed or drawn in the customer's window (SA-4, "nothing the user typed or drew is lost"):
the window stays with its request, New request and sign windows, says why, and opens the assist
again for the same customer, sending what was waiting; a customer who cannot be opened again is
asked about as closing asks. Against the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.session import sign_in
from app.services.settings import AppSettings
from app.views.main_window import MainWindow
from app.views.shell import AppShell
from tests.client import company
from tests.client.fault_server import FaultServer, problem
from tests.client.live_server import LivePortal
from tests.client.test_proposals_gui import draw, open_sign_dialog, zigzag
from tests.client.test_staff_gui import find_window, open_assist, staff_shell

pytestmark = pytest.mark.gui

WAIT_MS = 15000


@pytest.fixture
def shell(settings_store: QSettings, live_portal: LivePortal) -> Iterator[AppShell]:
    """Olive Office signed in to East, at Find customer."""
    staff = sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    yield from staff_shell(Accounts(AppSettings(settings_store)), staff)


REVOKED = "The assist session was ended: closed in another window, or its staff member signed out."


def revoke(live_portal: LivePortal, token: str) -> None:
    """What 30 idle minutes, or another window ending the session, leave: the token refused."""
    answer = requests.post(live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 204


def prompt_button(window: MainWindow, text: str) -> QPushButton:
    prompt = window.assist_prompt
    assert prompt is not None
    return next(b for b in prompt.findChildren(QPushButton) if b.text() == text)


def wait_for_prompt(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: window.assist_prompt is not None and window.assist_prompt.isVisible(), timeout=WAIT_MS)
    assert window.assist_prompt is not None
    return window.assist_prompt


def never_asked(*_: object) -> bool:
    raise AssertionError("nothing may ask to discard drafts here")


def test_a_reply_sent_after_the_assist_ended_is_sent_once_it_is_open_again(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """The refused token closed the customer's window, and with it the request window and the reply
    typed in it, without a question (the review's proof): the reply is now sent after Open again."""
    window = open_assist(qtbot, shell, "morgan")
    window.confirm_discard_drafts = never_asked  # type: ignore[method-assign]
    summary = window.session.client.requests().items[0]
    dialog = window.work_screens.open_request(summary)
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=WAIT_MS)
    before = len(dialog.detail.comments) if dialog.detail else 0
    reply = "Customer says: the sprinkler by gate 3 floods the walkway every morning."
    dialog.composer.text_edit.setPlainText(reply)
    old_token = window.session.token
    revoke(live_portal, old_token)
    qtbot.mouseClick(dialog.composer.send_button, Qt.MouseButton.LeftButton)

    prompt = wait_for_prompt(qtbot, window)
    assert prompt.text() == REVOKED, "the portal's own sentence"
    assert "Nothing you typed or drew here is lost" in prompt.informativeText()
    assert shell.window is window and window.isVisible() and window.isEnabled()
    assert shiboken6.isValid(dialog) and dialog.isVisible()
    assert dialog.composer.text_edit.toPlainText() == reply
    assert window.assist_label.text() == f"{REVOKED} Nothing you typed or drew here is lost."
    assert window.open_again_button.isVisible() and not window.assist_activity_button.isVisible()
    assert not find_window(shell).isVisible()

    qtbot.mouseClick(prompt_button(window, "Open again"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.composer.is_empty(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy and not find_window(shell).runner.busy, timeout=WAIT_MS)
    assert window.session.token != old_token
    assert dialog.detail is not None and len(dialog.detail.comments) == before + 1
    assert dialog.detail.comments[-1].body == reply
    assert window.assist_label.text().startswith("Assisting Morgan Many")
    assert not window.open_again_button.isVisible() and window.assist_activity_button.isVisible()
    assert "open again" in window.statusBar().currentMessage()
    # The new assist is a session of its own on the portal, opened with the reason first given.
    staff = find_window(shell).session.client
    newest = staff.staff_audit(window.session.assisting.contact.id if window.session.assisting else None).items
    starts = [e for e in newest if e.action == "assist.start"]
    assert len(starts) >= 2 and starts[0].detail == "Customer on the phone"
    qtbot.mouseClick(window.end_assist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None, timeout=WAIT_MS)


def test_when_the_staff_session_ended_too_staff_sign_in_then_the_assist_opens_again(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """The staff member's own session ended (and took the assist along): Open again asks for their
    password over the customer's window, then opens the assist; the New request form and the
    signature drawn meanwhile are still there."""
    window = open_assist(qtbot, shell, "morgan")
    window.confirm_discard_drafts = never_asked  # type: ignore[method-assign]
    find = find_window(shell)
    new_request = window.work_screens.new_request()
    qtbot.keyClicks(new_request.subject_edit, "Gate 3 sprinkler floods the walkway")
    proposal = window.open_proposal(
        next(p.id for p in window.session.client.proposals("all").items if p.number == "OPP-1001")
    )
    qtbot.waitUntil(lambda: proposal.detail is not None, timeout=WAIT_MS)
    sign = open_sign_dialog(qtbot, proposal)
    draw(qtbot, sign.pad, zigzag())
    revoke(live_portal, find.session.token)  # signing staff out ends their assists too
    window.refresh()  # F5 (the open New request form has the keyboard)

    wait_for_prompt(qtbot, window)
    qtbot.mouseClick(prompt_button(window, "Open again"), Qt.MouseButton.LeftButton)
    assert window.open_again_button.text() == "Opening again…" and not window.end_assist_button.isEnabled()
    qtbot.waitUntil(lambda: find.reauth_dialog is not None and find.reauth_dialog.isVisible(), timeout=WAIT_MS)
    reauth = find.reauth_dialog
    assert reauth is not None and reauth.parent() is window, "asked over the window the staff member is in"
    reauth.password_edit.setText(company.PASSWORD)
    qtbot.mouseClick(reauth.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.assist_label.text().startswith("Assisting Morgan Many"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy and not find.runner.busy, timeout=WAIT_MS)
    assert new_request.isVisible() and new_request.subject_edit.text() == "Gate 3 sprinkler floods the walkway"
    assert sign.isVisible() and not sign.pad.is_empty
    assert window.tabs["invoices"].model.total > 0, "the lists refused meanwhile loaded with the new token"
    assert shell.window is window and not find.isVisible()
    window.confirm_discard_drafts = lambda *_: True  # type: ignore[method-assign]


def test_a_customer_who_cannot_be_opened_again_is_asked_about_like_closing(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """No longer visible to the staff member (404 on opening again): the drafts question closing
    asks, never a silent drop; Keep editing stays with the drafts, Discard goes back to Find customer."""
    window = open_assist(qtbot, shell, "morgan")
    find = find_window(shell)
    summary = window.session.client.requests().items[0]
    dialog = window.work_screens.open_request(summary)
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=WAIT_MS)
    dialog.composer.text_edit.setPlainText("Please call back after 4 pm.")
    asked: list[tuple[list[str], str]] = []
    answer = False

    def confirm(_parent: object, drafts: list[str], action: str) -> bool:
        asked.append((drafts, action))
        return answer

    window.confirm_discard_drafts = confirm  # type: ignore[method-assign]
    revoke(live_portal, window.session.token)
    qtbot.mouseClick(dialog.composer.send_button, Qt.MouseButton.LeftButton)
    wait_for_prompt(qtbot, window)
    staff = find.session.client
    fault = FaultServer().start()
    try:
        gone = problem(404, "not_found", "No such customer on this branch.")
        fault.route("POST", "/staff/assist", gone)
        staff.api_base = fault.portal_url + "/api/v1"
        qtbot.mouseClick(prompt_button(window, "Open again"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(asked), timeout=WAIT_MS)
    finally:
        fault.stop()
        staff.api_base = live_portal.api()
    assert asked == [([f"Your reply to {summary.number} “{summary.subject}”"], "End assist")]
    assert shell.window is window and dialog.isVisible(), "Keep editing: everything stays"
    assert dialog.composer.text_edit.toPlainText() == "Please call back after 4 pm."
    assert dialog.composer.send_button.isEnabled(), "the send waiting for the assist failed, and can be tried again"
    said = "Morgan Many is no longer a customer of this branch you can open, so they were taken off Recent customers."
    assert window.assist_label.text() == f"{said} Nothing you typed or drew here is lost."
    assert find.recent == []

    answer = True
    qtbot.mouseClick(window.end_assist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None, timeout=WAIT_MS)
    assert len(asked) == 2
    assert find.isVisible() and find.status_label.text() == said


def test_sign_out_from_the_menu_ends_an_ended_assist_that_holds_a_signature(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """A signature refused with the assist waits for Open again, not for the portal: the menu's Sign
    out (End assist) and Ctrl+W refused as if the portal still had to answer, for as long as the
    assist stayed ended. Ending it gives the signature back as a drawn one, asked about as a draft."""
    window = open_assist(qtbot, shell, "morgan")
    asked: list[str] = []

    def discard(_parent: object, _names: list[str], action: str) -> bool:
        asked.append(action)
        return True

    window.confirm_discard_drafts = discard  # type: ignore[method-assign]
    proposal = window.open_proposal(
        next(p.id for p in window.session.client.proposals("all").items if p.number == "OPP-1001")
    )
    qtbot.waitUntil(lambda: proposal.detail is not None, timeout=WAIT_MS)
    sign = open_sign_dialog(qtbot, proposal)
    sign.name_edit.setText("Morgan Many")
    draw(qtbot, sign.pad, zigzag())
    sign.agree_check.setChecked(True)
    revoke(live_portal, window.session.token)
    qtbot.mouseClick(sign.sign_button, Qt.MouseButton.LeftButton)
    wait_for_prompt(qtbot, window)
    assert sign.submitting, "held for Open again"

    window.sign_out()
    qtbot.waitUntil(lambda: shell.window is None, timeout=WAIT_MS)
    assert asked == ["End assist"]
    assert find_window(shell).isVisible()


def test_an_idle_assist_warns_then_looks_ended_with_nothing_typed_lost(qtbot: QtBot, shell: AppShell) -> None:  # SA-4
    """The portal ended an idle assist, and the window went on showing "Assisting …" with the
    customer's lists and balance until the next click. The window now keeps the portal's rule: a
    warning (with Keep open) before the limit, then the ended state, the figures out of sight."""
    window = open_assist(qtbot, shell, "morgan")
    assert window.idle_clock.running and window.idle_clock.limit_s == 30 * 60, "SA-4's limit, the portal's default"
    window.idle_clock.set_limit(4, 2)
    window.idle_clock.touch()
    window.confirm_discard_drafts = never_asked  # type: ignore[method-assign]
    assert window.splitter.isVisible() and not window.keep_open_button.isVisible()
    qtbot.waitUntil(lambda: window.keep_open_button.isVisible(), timeout=WAIT_MS)
    assert window.assist_label.text().endswith("the assist ends in 2 seconds without activity")
    window.resize(1000, 600)  # the smallest screen: the warning wraps to three lines beside four buttons
    qtbot.wait(100)
    label = window.assist_label
    lines = label.fontMetrics().boundingRect(0, 0, label.width(), 10000, Qt.TextFlag.TextWordWrap, label.text())
    assert label.height() >= lines.height(), "no line cut off"
    assert window.assist_banner.rect().contains(label.geometry())
    qtbot.mouseClick(window.keep_open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.keep_open_button.isVisible(), timeout=WAIT_MS)
    assert window.assist_label.text().endswith("actions are recorded with your name"), "the portal answered: active"

    new_request = window.work_screens.new_request()
    qtbot.keyClicks(new_request.subject_edit, "Gate 3 sprinkler floods the walkway")
    ended = "The assist session ended after 4 seconds without activity. Open it again."
    qtbot.waitUntil(lambda: window.assist_label.text().startswith(ended), timeout=WAIT_MS)
    assert not window.splitter.isVisible(), "the lists and the balance are out of sight"
    assert window.assist_ended_state.isVisible()
    assert window.assist_ended_state.title.text() == "Morgan Many's portal is closed"
    assert window.open_again_button.isVisible() and not window.assist_activity_button.isVisible()
    assert new_request.isVisible() and new_request.subject_edit.text() == "Gate 3 sprinkler floods the walkway"

    window.idle_clock.set_limit(30 * 60, 60)
    qtbot.mouseClick(window.open_again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.assist_label.text().startswith("Assisting Morgan Many"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    assert window.splitter.isVisible() and not window.assist_ended_state.isVisible()
    assert window.tabs["invoices"].model.total > 0
    window.confirm_discard_drafts = lambda *_: True  # type: ignore[method-assign]
