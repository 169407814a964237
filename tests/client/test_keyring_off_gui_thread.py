"""The OS keyring never runs on the GUI thread, against the real server: a keyring that blocks (the
macOS Keychain waiting on an "allow access" prompt) leaves the window turning while a branch is
switched to or the user signs in again; a keyring that fails (locked, access denied) costs no
sign-in and says in one sentence what could not be saved, read or removed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.credentials import FORGET_FAILED, READ_FAILED, SAVE_FAILED
from app.services.memory_keyring import MemoryKeyring
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings, SavedPortal
from app.views import session_end
from app.views.main_window import MainWindow
from app.views.shell import AppShell
from app.views.sign_in_dialog import SignInDialog
from tests.client import company
from tests.client.live_server import LivePortal
from tests.client.test_remember_me import customer_window, end_on_the_portal, secrets, start_app

pytestmark = pytest.mark.gui

WAIT_MS = 15000
# How long the test holds the keyring shut, and what the GUI thread must do meanwhile.
HELD_MS = 1500
HEARTBEAT_MS = 20
LONGEST_GAP_S = 0.5  # the replayed lists are parsed on the GUI thread meanwhile, on a shared machine
# A gated call gives up after this, so a failed test never leaves the keyring's lane blocked.
GATE_TIMEOUT_S = 20.0


class GatedKeyring(MemoryKeyring):
    """Every call waits until the test opens the gate, like a Keychain waiting for "Allow"."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.waiting = 0
        self.on_gui_thread = 0

    def _hold(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.on_gui_thread += 1
        self.waiting += 1
        self.gate.wait(GATE_TIMEOUT_S)
        self.waiting -= 1

    def get_password(self, service: str, username: str) -> str | None:
        self._hold()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hold()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._hold()
        super().delete_password(service, username)


class RefusingToForgetLate(GatedKeyring):
    """Removing waits for the gate, then is refused: a keyring that asked the user to unlock it, in
    vain, while the app had already moved on."""

    def delete_password(self, service: str, username: str) -> None:
        self._hold()
        raise KeyringLocked("the keyring is locked")


class LockedKeyring(KeyringBackend):
    """A keyring that refuses everything, as a locked one whose unlock the user declined."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the keyring is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the keyring is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the keyring is locked")


class Heartbeat:
    """A QTimer on the GUI thread: its beats stop whenever the GUI thread waits."""

    def __init__(self) -> None:
        self.beats: list[float] = [time.monotonic()]
        self._timer = QTimer(interval=HEARTBEAT_MS)
        self._timer.timeout.connect(lambda: self.beats.append(time.monotonic()))
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.beats.append(time.monotonic())

    def longest_gap(self) -> float:
        return max(later - earlier for earlier, later in zip(self.beats, self.beats[1:], strict=False))


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


@pytest.fixture
def morgan(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.MORGAN, company.PASSWORD)


@pytest.fixture
def gated() -> Iterator[GatedKeyring]:
    """Installed by the test once its window is up (`shut`); opened at the end whatever happened."""
    backend = GatedKeyring()
    yield backend
    backend.gate.set()


def shut(gated: GatedKeyring, memory_keyring: MemoryKeyring) -> None:
    """From now on the keyring holds what it held, behind the gate."""
    gated._items = dict(memory_keyring._items)
    keyring.set_keyring(gated)


@pytest.fixture
def shells() -> Iterator[list[AppShell]]:
    started: list[AppShell] = []
    yield started
    for shell in started:
        for window in (shell.window, shell.find_window, shell.dialog):
            if window is not None:
                window.close()
        shell.window = shell.find_window = shell.dialog = None


def signed_in_shell(qtbot: QtBot, accounts: Accounts, session: PortalSession, shells: list[AppShell]) -> AppShell:
    """The app as after a remembered sign-in: its window (or Find customer for staff) up, the keyring settled."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = AppShell(app, accounts, None, None)
    app.setQuitOnLastWindowClosed(False)
    shells.append(shell)
    shell.open_window(session, remember=True)
    qtbot.waitUntil(
        lambda: not shell.runner.busy and (shell.window is None or not shell.window.runner.busy), timeout=WAIT_MS
    )
    return shell


def held_while_the_gui_turns(qtbot: QtBot, backend: GatedKeyring, start: Callable[[], None]) -> None:
    """Runs `start` with the keyring shut: it returns at once, and for HELD_MS the heartbeat keeps
    beating while a keyring call waits; then the gate opens."""
    heartbeat = Heartbeat()
    began = time.monotonic()
    start()
    returned_after = time.monotonic() - began
    qtbot.waitUntil(lambda: backend.waiting > 0, timeout=WAIT_MS)
    qtbot.wait(HELD_MS)
    heartbeat.stop()
    assert backend.waiting > 0, "the keyring call is still waiting for the gate"
    backend.gate.set()
    assert returned_after < 0.2, f"the GUI thread waited {returned_after:.2f} s"
    assert len(heartbeat.beats) >= HELD_MS / HEARTBEAT_MS / 3
    assert heartbeat.longest_gap() < LONGEST_GAP_S, f"the GUI thread stalled {heartbeat.longest_gap():.2f} s"
    assert backend.on_gui_thread == 0


def test_switching_branch_waits_for_the_keyring_off_the_gui_thread(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    gated: GatedKeyring,
    memory_keyring: MemoryKeyring,
) -> None:  # AC-2
    """Signed in by a stored token, the other branch's password comes from the keyring: read on the
    GUI thread, a Keychain asking "allow access" froze the window until it was answered."""
    west_url = live_portal.portal_url("west")
    window = customer_window(qtbot, accounts, morgan, remember=True)
    accounts.credentials.save(west_url, company.MORGAN, token="left-by-an-earlier-sign-in", password=company.PASSWORD)
    window.session.password = None  # as after a start signed in by the stored token
    shut(gated, memory_keyring)
    west = next(b for b in window.session.branches if b.slug == "west")

    held_while_the_gui_turns(qtbot, gated, lambda: window.switch_branch(west))
    assert window.status_label.text() == "Opening West Branch…"
    qtbot.waitUntil(lambda: window.session.portal_url == west_url and not window.runner.busy, timeout=WAIT_MS)
    assert secrets(gated)[f"token:{company.MORGAN}@{west_url}"] == window.session.token, "stored, remembered"


def test_a_later_switch_drops_the_earlier_switchs_keyring_answer(
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    gated: GatedKeyring,
    memory_keyring: MemoryKeyring,
) -> None:  # AC-2
    """A switch whose password read is overtaken by a later one (the user chose the branch again
    while the keyring waited) does nothing when the keyring answers at last: one sign-in, not two."""
    west_url = live_portal.portal_url("west")
    window = customer_window(qtbot, accounts, morgan, remember=True)
    accounts.credentials.save(west_url, company.MORGAN, token="t", password=company.PASSWORD)
    window.session.password = None
    shut(gated, memory_keyring)
    signed_in_to: list[str] = []

    def counted_sign_in(portal_url: str, email: str, password: str) -> PortalSession:
        signed_in_to.append(portal_url)
        return sign_in(portal_url, email, password)

    monkeypatch.setattr(sessions, "sign_in", counted_sign_in)
    west = next(b for b in window.session.branches if b.slug == "west")
    window.switch_branch(west)
    qtbot.waitUntil(lambda: gated.waiting > 0, timeout=WAIT_MS)
    window.switch_branch(west)
    gated.gate.set()
    qtbot.waitUntil(lambda: window.session.portal_url == west_url and not window.runner.busy, timeout=WAIT_MS)
    qtbot.wait(300)
    assert signed_in_to == [west_url]


def test_signing_in_again_stores_the_secrets_off_the_gui_thread(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    gated: GatedKeyring,
    memory_keyring: MemoryKeyring,
) -> None:
    """After the session ended, the new token went into the keyring on the GUI thread: a slow
    keyring held the window right as the replayed calls came back."""
    window = customer_window(qtbot, accounts, morgan, remember=True)
    end_on_the_portal(live_portal, window.session)
    window.refresh()
    qtbot.waitUntil(lambda: window.reauth_dialog is not None and window.reauth_dialog.isVisible(), timeout=WAIT_MS)
    dialog = window.reauth_dialog
    assert dialog is not None and dialog.remember_check.isChecked()
    dialog.password_edit.setText(company.PASSWORD)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    shut(gated, memory_keyring)

    held_while_the_gui_turns(qtbot, gated, lambda: dialog.sign_in_button.click())
    qtbot.waitUntil(lambda: window.reauth_dialog is None and not window.runner.busy, timeout=WAIT_MS)
    url = window.session.portal_url
    assert secrets(gated) == {
        f"token:{company.MORGAN}@{url}": window.session.token,
        f"password:{company.MORGAN}@{url}": company.PASSWORD,
    }


def test_a_locked_keyring_keeps_the_sign_in_after_the_session_ended(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, morgan: PortalSession
) -> None:
    window = customer_window(qtbot, accounts, morgan, remember=True)
    old_token = window.session.token
    keyring.set_keyring(LockedKeyring())
    end_on_the_portal(live_portal, window.session)
    window.refresh()
    qtbot.waitUntil(lambda: window.reauth_dialog is not None and window.reauth_dialog.isVisible(), timeout=WAIT_MS)
    dialog = window.reauth_dialog
    assert dialog is not None
    dialog.password_edit.setText(company.PASSWORD)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.reauth_dialog is None and not window.runner.busy, timeout=WAIT_MS)
    assert window.statusBar().currentMessage() == SAVE_FAILED
    assert window.session.token != old_token
    assert window.session.client.me().email == company.MORGAN, "still signed in, for this run"


def test_a_locked_keyring_asks_for_the_branchs_password_and_keeps_the_switch(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, morgan: PortalSession
) -> None:  # AC-2
    window = customer_window(qtbot, accounts, morgan, remember=True)
    window.session.password = None
    keyring.set_keyring(LockedKeyring())
    said: list[str] = []

    def answer_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):
            QTimer.singleShot(50, answer_sign_in)
            return
        said.append(dialog.error_label.text())
        dialog.password_edit.setText(company.PASSWORD)
        dialog.sign_in_button.click()

    QTimer.singleShot(50, answer_sign_in)
    window.switch_branch(next(b for b in window.session.branches if b.slug == "west"))
    qtbot.waitUntil(lambda: window.session.portal_url == live_portal.portal_url("west"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    assert said == [READ_FAILED], "the sign-in says why the password is asked for"
    assert window.statusBar().currentMessage() == SAVE_FAILED


def test_a_locked_keyring_at_start_asks_for_the_password_and_keeps_the_sign_in(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, shells: list[AppShell]
) -> None:
    url = live_portal.portal_url("east")
    accounts.settings.remember_portal(SavedPortal(url, "East Branch", company.MORGAN))
    keyring.set_keyring(LockedKeyring())
    shell = start_app(shells, accounts)
    dialog = shell.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled() and not shell.runner.busy, timeout=WAIT_MS)
    assert dialog.error_label.isVisible() and dialog.error_label.text() == READ_FAILED
    dialog.password_edit.setText(company.PASSWORD)
    dialog.remember_check.setChecked(True)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is not None, timeout=WAIT_MS)
    window = shell.window
    assert isinstance(window, MainWindow)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == SAVE_FAILED, timeout=WAIT_MS)
    assert window.session.email == company.MORGAN


def test_a_locked_keyring_at_sign_out_is_told_on_the_sign_in_screen(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, morgan: PortalSession, shells: list[AppShell]
) -> None:
    shell = signed_in_shell(qtbot, accounts, morgan, shells)
    window = shell.window
    assert window is not None
    keyring.set_keyring(LockedKeyring())
    window.sign_out()
    qtbot.waitUntil(lambda: shell.dialog is not None, timeout=WAIT_MS)
    dialog = shell.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog._runner.busy, timeout=WAIT_MS)
    assert dialog.error_label.text() == FORGET_FAILED
    assert shell.window is None, "signed out here all the same"


@pytest.fixture
def refusing_late(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingToForgetLate]:
    """Installed by the test before it signs out; opened at the end whatever happened. The sign-out
    stops waiting for it soon, so the forget fails only once the sign-in screen is up."""
    monkeypatch.setattr(session_end, "SIGN_OUT_WAIT_MS", 300)
    backend = RefusingToForgetLate()
    yield backend
    backend.gate.set()


def signed_out_while_the_keyring_waits(
    qtbot: QtBot, accounts: Accounts, morgan: PortalSession, shells: list[AppShell], backend: RefusingToForgetLate
) -> tuple[AppShell, SignInDialog]:
    shell = signed_in_shell(qtbot, accounts, morgan, shells)
    window = shell.window
    assert window is not None
    keyring.set_keyring(backend)
    window.sign_out()
    qtbot.waitUntil(lambda: shell.dialog is not None, timeout=WAIT_MS)
    dialog = shell.dialog
    assert dialog is not None and shell.window is None
    assert backend.waiting > 0, "the forget is still waiting for the user"
    return shell, dialog


def test_a_forget_refused_after_the_sign_in_screen_showed_is_told_there_once(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    shells: list[AppShell],
    refusing_late: RefusingToForgetLate,
) -> None:
    """The forget was the signed-out window's: refused after the sign-out stopped waiting for it,
    its sentence went to a window already gone, and the user never learnt the password stayed."""
    shell, dialog = signed_out_while_the_keyring_waits(qtbot, accounts, morgan, shells, refusing_late)
    assert dialog.error_label.isHidden()
    told: list[str] = []
    show_error = dialog.show_error
    dialog.show_error = lambda text: (told.append(text), show_error(text))  # type: ignore[method-assign]
    refusing_late.gate.set()
    qtbot.waitUntil(lambda: not dialog._runner.busy and not shell.runner.busy, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(told), timeout=WAIT_MS)
    qtbot.wait(200)
    assert told == [FORGET_FAILED]
    assert dialog.error_label.isVisible() and dialog.error_label.text() == FORGET_FAILED


def test_a_forget_refused_after_signing_in_again_is_told_in_the_new_window(
    qtbot: QtBot,
    accounts: Accounts,
    live_portal: LivePortal,
    morgan: PortalSession,
    shells: list[AppShell],
    refusing_late: RefusingToForgetLate,
) -> None:
    """Signed in again before the keyring answered: the sentence is the new window's (ticked, "Remember
    me" saves, so no forget of the new sign-in's could say the same)."""
    shell, dialog = signed_out_while_the_keyring_waits(qtbot, accounts, morgan, shells, refusing_late)
    dialog.password_edit.setText(company.PASSWORD)
    dialog.remember_check.setChecked(True)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is not None, timeout=WAIT_MS)
    window = shell.window
    assert isinstance(window, MainWindow)
    refusing_late.gate.set()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == FORGET_FAILED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy and not shell.runner.busy, timeout=WAIT_MS)
    assert secrets(refusing_late)[f"token:{company.MORGAN}@{window.session.portal_url}"] == window.session.token


def test_a_locked_keyring_keeps_staffs_sign_in_after_their_session_ended(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, shells: list[AppShell]
) -> None:  # SA-1
    shell = signed_in_shell(
        qtbot, accounts, sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD), shells
    )
    find = shell.find_window
    assert find is not None
    keyring.set_keyring(LockedKeyring())
    end_on_the_portal(live_portal, find.session)
    qtbot.keyClicks(find.search_edit, "morgan")
    qtbot.waitUntil(lambda: find.reauth_dialog is not None and find.reauth_dialog.isVisible(), timeout=WAIT_MS)
    dialog = find.reauth_dialog
    assert dialog is not None and dialog.remember_check.isChecked()
    dialog.password_edit.setText(company.PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: find.reauth_dialog is None and not find.runner.busy, timeout=WAIT_MS)
    assert find.statusBar().currentMessage() == SAVE_FAILED
    assert find.model.rowCount() >= 1, "the search carried on, signed in for this run"


def test_a_computer_without_a_keyring_holds_nothing_and_says_so_only_when_saving() -> None:
    """No backend at all (Linux without Secret Service) answered every read and forget with "could
    not be read / removed": a false alarm at each start, sign-in without Remember me, and sign-out."""
    from keyring.backends import fail

    from app.services.credentials import CredentialStore
    from app.services.errors import KeyringUnavailableError

    keyring.set_keyring(fail.Keyring())
    store = CredentialStore()
    portal = "http://127.0.0.1:1/portal/east"
    assert store.token(portal, company.MORGAN) is None
    assert store.password(portal, company.MORGAN) is None
    store.forget(portal, company.MORGAN)
    with pytest.raises(KeyringUnavailableError) as refused:
        store.save(portal, company.MORGAN, token="t", password="p")
    assert refused.value.detail == SAVE_FAILED
