""" "Remember me on this computer" against the real server: ticked, the next start signs in without
the password; unticked, nothing that signs in is left in the keyring, on every path that signs in
(first sign-in, signing in again after the session ended, switching branch, office staff)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.credentials import SERVICE
from app.services.memory_keyring import MemoryKeyring
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings, SavedPortal
from app.views.main_window import MainWindow
from app.views.shell import AppShell
from app.views.sign_in_dialog import OTHER
from tests.client import company
from tests.client.live_server import ROOT, LivePortal
from tests.client.test_staff_gui import open_assist

pytestmark = pytest.mark.gui

WAIT_MS = 15000


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


def secrets(keyring: MemoryKeyring) -> dict[str, str]:
    """What the app keeps in the keyring, by account ("token:email@portal", "password:…")."""
    return {account: secret for (service, account), secret in keyring._items.items() if service == SERVICE}


@pytest.fixture
def shells() -> Iterator[list[AppShell]]:
    """Each start of the app in a test; their windows are closed at the end, as the app's quit does."""
    started: list[AppShell] = []
    yield started
    for shell in started:
        for window in (shell.window, shell.find_window, shell.dialog):
            if window is not None:
                window.close()
        shell.window = shell.find_window = shell.dialog = None


def start_app(shells: list[AppShell], accounts: Accounts) -> AppShell:
    """What main.py does with no --portal: the sign-in dialog, which first tries a stored token."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = AppShell(app, accounts, None, None)
    app.setQuitOnLastWindowClosed(False)  # the shell asks for True; tests close windows one by one
    shells.append(shell)
    shell.start()
    return shell


def sign_in_with_dialog(qtbot: QtBot, shell: AppShell, url: str, *, remember: bool) -> MainWindow:
    dialog = shell.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.sign_in_button.isEnabled, timeout=WAIT_MS)  # the stored-token attempt is over
    dialog.portal_combo.setCurrentIndex(dialog.portal_combo.findData(OTHER))
    dialog.url_edit.setText(url)
    dialog.email_edit.setText(company.MORGAN)
    dialog.password_edit.setText(company.PASSWORD)
    dialog.remember_check.setChecked(remember)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    return opened_window(qtbot, shell)


def opened_window(qtbot: QtBot, shell: AppShell) -> MainWindow:
    qtbot.waitUntil(lambda: shell.window is not None, timeout=WAIT_MS)
    window = shell.window
    assert window is not None
    qtbot.waitUntil(lambda: not shell.runner.busy and not window.runner.busy, timeout=WAIT_MS)  # keyring written
    return window


def quit_app(shell: AppShell) -> None:
    window, shell.window = shell.window, None
    assert window is not None
    window.close()
    window.deleteLater()


def test_unticked_sign_in_leaves_nothing_that_signs_in_and_the_next_start_asks(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, memory_keyring: MemoryKeyring, shells: list[AppShell]
) -> None:
    """On a shared office computer, signing in without "Remember me" stored the session token
    anyway: the next person to start the app was in this customer's portal without a password."""
    url = live_portal.portal_url("east")
    earlier = sign_in(url, company.MORGAN, company.PASSWORD)  # an earlier sign-in that was remembered
    accounts.credentials.save(url, company.MORGAN, token=earlier.token, password=company.PASSWORD)
    earlier.client.close()

    window = sign_in_with_dialog(qtbot, start_app(shells, accounts), url, remember=False)
    assert window.session.email == company.MORGAN
    assert secrets(memory_keyring) == {}, "neither this sign-in's token nor the earlier one's token and password"
    quit_app(shells[-1])

    again = start_app(shells, accounts)
    dialog = again.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled() and not again.runner.busy, timeout=WAIT_MS)
    qtbot.wait(200)
    assert again.window is None, "the next start asks for the password"
    assert dialog.isVisible()
    assert dialog.email_edit.text() == company.MORGAN, "the email is filled in"
    assert dialog.password_edit.text() == ""
    assert not dialog.remember_check.isChecked()


def test_ticked_sign_in_starts_signed_in_next_time_and_after(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, memory_keyring: MemoryKeyring, shells: list[AppShell]
) -> None:
    url = live_portal.portal_url("east")
    window = sign_in_with_dialog(qtbot, start_app(shells, accounts), url, remember=True)
    kept = secrets(memory_keyring)
    assert sorted(kept) == [f"password:{company.MORGAN}@{url}", f"token:{company.MORGAN}@{url}"]
    assert kept[f"token:{company.MORGAN}@{url}"] == window.session.token
    quit_app(shells[-1])

    for _ in range(2):  # a start signed in by the stored token keeps it for the start after
        again = start_app(shells, accounts)
        window = opened_window(qtbot, again)
        assert window.session.email == company.MORGAN
        assert window.remember_password
        assert sorted(secrets(memory_keyring)) == sorted(kept)
        quit_app(again)


def test_a_token_without_its_password_is_forgotten_and_the_start_asks(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, memory_keyring: MemoryKeyring, shells: list[AppShell]
) -> None:
    """A token stored alone is what an unticked sign-in of an earlier version left behind: used once
    more, it let the next person on a shared computer into the customer's portal after the update."""
    url = live_portal.portal_url("east")
    earlier = sign_in(url, company.MORGAN, company.PASSWORD)
    accounts.settings.remember_portal(SavedPortal(url, "East Branch", company.MORGAN))
    accounts.credentials.save(url, company.MORGAN, token=earlier.token, password=None)
    earlier.client.close()

    shell = start_app(shells, accounts)
    assert shell.dialog is not None
    qtbot.waitUntil(lambda: shell.dialog is not None and shell.dialog.sign_in_button.isEnabled(), timeout=WAIT_MS)
    qtbot.wait(200)
    assert shell.window is None, "the start asks for the password"
    assert secrets(memory_keyring) == {}


@pytest.fixture
def morgan(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.MORGAN, company.PASSWORD)


def customer_window(qtbot: QtBot, accounts: Accounts, session: PortalSession, *, remember: bool) -> MainWindow:
    accounts.remember_portal(session)
    accounts.store_secrets(session, remember_password=remember)
    window = MainWindow(session, accounts, remember_password=remember)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    return window


def end_on_the_portal(portal: LivePortal, session: PortalSession) -> None:
    answer = requests.post(
        portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {session.token}"}, timeout=5
    )
    assert answer.status_code == 204


def sign_in_again(qtbot: QtBot, window: MainWindow) -> bool:
    """Signs in again in the dialog the ended session brings up; True when "Remember me" was ticked."""
    window.refresh()  # F5, without depending on which window the platform made active
    qtbot.waitUntil(lambda: window.reauth_dialog is not None and window.reauth_dialog.isVisible(), timeout=WAIT_MS)
    dialog = window.reauth_dialog
    assert dialog is not None
    ticked = dialog.remember_check.isChecked()
    dialog.password_edit.setText(company.PASSWORD)
    # Every refused call is back first: one answered 401 after the new sign-in asks a second time.
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.reauth_dialog is None and not window.runner.busy, timeout=WAIT_MS)
    return ticked


@pytest.mark.parametrize("remember", [False, True])
def test_signing_in_again_after_the_session_ended_keeps_the_choice(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    memory_keyring: MemoryKeyring,
    remember: bool,
) -> None:
    window = customer_window(qtbot, accounts, morgan, remember=remember)
    old_token = window.session.token
    end_on_the_portal(live_portal, window.session)
    assert sign_in_again(qtbot, window) is remember, "the box shows what was chosen at sign-in"
    assert window.session.token != old_token
    url = window.session.portal_url
    if remember:
        assert secrets(memory_keyring) == {
            f"token:{company.MORGAN}@{url}": window.session.token,
            f"password:{company.MORGAN}@{url}": company.PASSWORD,
        }
    else:
        assert secrets(memory_keyring) == {}


@pytest.mark.parametrize("remember", [False, True])
def test_switching_branch_keeps_the_choice(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    memory_keyring: MemoryKeyring,
    remember: bool,
) -> None:  # AC-2
    west_url = live_portal.portal_url("west")
    accounts.credentials.save(west_url, company.MORGAN, token="left-by-an-earlier-sign-in", password="old-one")
    window = customer_window(qtbot, accounts, morgan, remember=remember)
    west = next(b for b in window.session.branches if b.slug == "west")
    window.switch_branch(west)
    qtbot.waitUntil(lambda: window.session.portal_url == west_url and not window.runner.busy, timeout=WAIT_MS)
    east_url = live_portal.portal_url("east")
    if remember:
        assert secrets(memory_keyring) == {
            f"token:{company.MORGAN}@{east_url}": morgan.token,
            f"password:{company.MORGAN}@{east_url}": company.PASSWORD,
            f"token:{company.MORGAN}@{west_url}": window.session.token,
            f"password:{company.MORGAN}@{west_url}": company.PASSWORD,
        }
        # Signing in again unticked forgets every branch's, not the shown one's only: the sign-in
        # list would still have offered the other with its password filled in.
        window.accounts.store_secrets(window.session, remember_password=False)
    assert secrets(memory_keyring) == {}


@pytest.mark.parametrize("remember", [False, True])
def test_staff_signing_in_again_keeps_the_choice(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    memory_keyring: MemoryKeyring,
    shells: list[AppShell],
    remember: bool,
) -> None:  # SA-1, SA-2
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = AppShell(app, accounts, None, None)
    app.setQuitOnLastWindowClosed(False)
    shells.append(shell)
    shell.open_window(sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD), remember=remember)
    qtbot.waitUntil(lambda: not shell.runner.busy, timeout=WAIT_MS)
    find = shell.find_window
    assert find is not None
    url = find.session.portal_url
    stored = {f"token:{company.OFFICE}@{url}": find.session.token, f"password:{company.OFFICE}@{url}": company.PASSWORD}
    assert secrets(memory_keyring) == (stored if remember else {})

    end_on_the_portal(live_portal, find.session)
    qtbot.keyClicks(find.search_edit, "morgan")
    qtbot.waitUntil(lambda: find.reauth_dialog is not None and find.reauth_dialog.isVisible(), timeout=WAIT_MS)
    dialog = find.reauth_dialog
    assert dialog is not None
    assert dialog.remember_check.isChecked() is remember
    dialog.password_edit.setText(company.PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: find.reauth_dialog is None and not find.runner.busy, timeout=WAIT_MS)
    stored[f"token:{company.OFFICE}@{url}"] = find.session.token
    assert secrets(memory_keyring) == (stored if remember else {})

    window = open_assist(qtbot, shell, "morgan")  # SA-2: the assist's token is never stored
    assert window.session.assisting is not None
    assert secrets(memory_keyring) == (stored if remember else {})


# The app as main.py runs it: QApplication.exec() and the shell's own quit-on-last-window-closed,
# which the tests above switch off and pytest-qt never reaches (it runs no exec()).
RUNNING_APP = """
import json, sys
import keyring
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.services.memory_keyring import MemoryKeyring

keyring.set_keyring(MemoryKeyring())
from app.services.accounts import Accounts
from app.services.settings import AppSettings, SavedPortal
from app.views.shell import AppShell

url, email, password, stored = json.loads(sys.argv[1])
app = QApplication([])
accounts = Accounts(AppSettings())
if stored:
    accounts.settings.remember_portal(SavedPortal(url, "East Branch", email))
    accounts.credentials.save(url, email, token=stored, password=password)
shell = AppShell(app, accounts, None, None if stored else url)
shell.start()
if not stored:
    shell.dialog.email_edit.setText(email)
    shell.dialog.password_edit.setText(password)
    QTimer.singleShot(0, shell.dialog.sign_in_button.click)


def check():
    window = shell.window
    if window is not None and window.isVisible() and not window.runner.busy:
        print("signed in as", window.session.email)
        app.exit(3)  # still running: an automatic quit would have ended exec() with 0
    else:
        QTimer.singleShot(100, check)


QTimer.singleShot(100, check)
sys.exit(app.exec())
"""


@pytest.mark.parametrize("start", ["password", "stored token"])
def test_the_running_app_stays_open_after_the_sign_in_dialog(
    live_portal: LivePortal, tmp_path: Path, start: str
) -> None:
    """The sign-in dialog was the last window shown: as it closed, Qt posted its automatic quit,
    and the main window, which lets events through while it is built, quit the app before it showed."""
    url = live_portal.portal_url("east")
    stored = sign_in(url, company.MORGAN, company.PASSWORD).token if start == "stored token" else None
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PORTAL_DESK_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", RUNNING_APP, json.dumps([url, company.MORGAN, company.PASSWORD, stored])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"signed in as {company.MORGAN}" in result.stdout
