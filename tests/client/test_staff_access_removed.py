"""Staff taken off a branch while helping a customer (401 branch_access_removed): the customer's
window said "Open again", whose sign-in said "Your session has ended" and then refused the right
password as not matching. Now the portal's sentence is shown with who can help, nothing offers to
open or sign in again there, and the branches still theirs are offered. Against the real server,
re-imported with the staff member moved off the branch."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.session import sign_in
from app.services.settings import AppSettings
from app.views.shell import AppShell
from tests.client import company
from tests.client.live_server import ServerProcess
from tests.client.test_staff_gui import find_window, open_assist, search, staff_shell

pytestmark = pytest.mark.gui

WAIT_MS = 15000
NO_SIGN_IN_HELPS = "Signing in again cannot give it back."
OFF_BRANCH_ASSIST = "The assist session was ended: its staff member no longer works for this branch."


def _office_on(document: dict[str, Any], branches: list[str]) -> dict[str, Any]:
    moved = copy.deepcopy(document)
    next(s for s in moved["staff"] if s["email"] == company.OFFICE)["branches"] = branches
    return moved


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, Any]]]:
    """Olive Office on East and West, the company as imported (to move her off East by a re-import)."""
    document = _office_on(company.build(date.today()), ["east", "west"])
    process = ServerProcess(tmp_path / "portal")
    process.load(document)
    process.start()
    try:
        yield process, document
    finally:
        process.stop()


@pytest.fixture
def shell(settings_store: QSettings, server: tuple[ServerProcess, dict[str, Any]]) -> Iterator[AppShell]:
    staff = sign_in(server[0].portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    yield from staff_shell(Accounts(AppSettings(settings_store)), staff)


def buttons(widget: Any) -> list[str]:
    return [b.text() for b in widget.findChildren(QPushButton) if b.isVisible() or not widget.isVisible()]


def test_taken_off_the_branch_mid_assist_says_so_and_offers_the_other_branch(
    qtbot: QtBot, shell: AppShell, server: tuple[ServerProcess, dict[str, Any]]
) -> None:  # SA-1, SA-4
    process, document = server
    window = open_assist(qtbot, shell, "morgan")
    find = find_window(shell)
    process.load(_office_on(document, ["west"]))

    window.refresh()
    qtbot.waitUntil(lambda: window.assist_prompt is not None and window.assist_prompt.isVisible(), timeout=WAIT_MS)
    prompt = window.assist_prompt
    assert prompt is not None
    expected = f"{OFF_BRANCH_ASSIST} Ask an administrator to give you access to this branch again."
    assert prompt.text() == expected, "the portal's sentence, and who can help"
    assert "Open again" not in buttons(prompt), "opening again can only be refused"
    assert not window.open_again_button.isVisible() and window.end_assist_button.isVisible()
    assert window.assist_label.text().startswith(expected)
    window.reopen_assist()  # the banner's button is gone; nor does anything else open it again
    qtbot.wait(300)
    assert find.reauth_dialog is None and window.assist_prompt is prompt

    end = next(b for b in prompt.findChildren(QPushButton) if b.text() == "End assist")
    qtbot.mouseClick(end, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None and find.isVisible(), timeout=WAIT_MS)
    assert find.status_label.text() == expected

    search(qtbot, find, "morgan")  # refused too: the staff member's own session there is over
    qtbot.waitUntil(lambda: find.access_prompt is not None and find.access_prompt.isVisible(), timeout=WAIT_MS)
    assert find.reauth_dialog is None, "no sign-in that would refuse the right password"
    access = find.access_prompt
    assert access is not None
    assert access.text() == "Your access to this branch's portal was removed. Ask an administrator to give it back."
    assert access.informativeText() == f"{NO_SIGN_IN_HELPS} You can still open West Branch."
    assert find.status_label.text().endswith(NO_SIGN_IN_HELPS)
    west = next(b for b in access.findChildren(QPushButton) if b.text() == "Open West Branch")
    qtbot.mouseClick(west, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.find_window is not None and shell.find_window is not find, timeout=WAIT_MS)
    moved = find_window(shell)
    assert moved.session.portal_url == process.portal.portal_url("west")
    assert moved.isVisible() and "West Branch" in moved.windowTitle()
    search(qtbot, moved, "morgan")
    assert moved.model.rowCount() >= 1 and moved.access_lost is None


@pytest.fixture
def quick_idle_server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "portal", env={"PORTAL_ASSIST_IDLE_SECONDS": "90"})
    process.load(company.build(date.today()))
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_the_idle_clock_keeps_the_portals_own_limit(
    qtbot: QtBot, settings_store: QSettings, quick_idle_server: ServerProcess
) -> None:  # SA-4
    """A portal set to end idle assists after 90 seconds says so when the assist opens: the window's
    clock ran on SA-4's 30 minutes and went on showing the customer's figures for 28 more."""
    staff = sign_in(quick_idle_server.portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    for started in staff_shell(Accounts(AppSettings(settings_store)), staff):
        window = open_assist(qtbot, started, "morgan")
        assert window.idle_clock.running
        assert (window.idle_clock.limit_s, window.idle_clock.warn_before_s) == (90, 45), "the portal's limit"
