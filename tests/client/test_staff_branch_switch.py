"""Office staff of two branches switch Find customer between them from its header (SA-1), as customers
switch theirs: signing out and in on the other portal's address was the only way. Against the real
server: Oscar Office works for East and West, Olive Office for East only."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QToolButton
from pytestqt.qtbot import QtBot

from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.errors import UnauthorizedError
from app.services.portal_client import PortalClient
from app.services.records import Branch, StaffContact
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views.shell import AppShell
from app.views.sign_in_dialog import SignInDialog
from app.views.staff_views import FindCustomerWindow
from tests.client import company
from tests.client.live_server import LivePortal, running_portal
from tests.client.test_staff_gui import answer_reason, find_window, open_assist, search, staff_shell

pytestmark = pytest.mark.gui

WAIT_MS = 15000
BAD_CREDENTIALS = "The email or password is not correct."


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


@pytest.fixture
def shell(accounts: Accounts, live_portal: LivePortal) -> Iterator[AppShell]:
    """Oscar at Find customer on East, signed in with his password (kept in memory for this run)."""
    staff = sign_in(live_portal.portal_url("east"), company.TWO_BRANCH_OFFICE, company.PASSWORD)
    yield from staff_shell(accounts, staff)


def branch(find: FindCustomerWindow, slug: str) -> Branch:
    return next(b for b in find.session.branches if b.slug == slug)


def pick(find: FindCustomerWindow, name: str) -> None:
    """As the header's menu does: its action for `name` triggered."""
    assert find.branch_switch is not None
    next(a for a in find.branch_switch.menu.actions() if a.text() == name).trigger()


def ticked(find: FindCustomerWindow) -> list[str]:
    assert find.branch_switch is not None
    return [a.text() for a in find.branch_switch.menu.actions() if a.isChecked()]


def replaced(qtbot: QtBot, shell: AppShell, old: FindCustomerWindow) -> FindCustomerWindow:
    qtbot.waitUntil(lambda: shell.find_window is not None and shell.find_window is not old, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not shell.runner.busy, timeout=WAIT_MS)  # the old session's logout
    return find_window(shell)


def says(find: FindCustomerWindow, sentence: str) -> Callable[[], bool]:
    return lambda: find.status_label.text() == sentence


def names_found(find: FindCustomerWindow) -> list[str]:
    return [find.model.contact(row).name for row in range(find.model.rowCount())]


def slow_sign_ins(monkeypatch: pytest.MonkeyPatch, delays: list[float]) -> list[PortalSession]:
    """Branch sign-ins that answer after `delays` seconds each, in turn (none left: at once); the
    sessions they made, in the order they were made."""
    made: list[PortalSession] = []

    def slow(portal_url: str, email: str, password: str) -> PortalSession:
        time.sleep(delays.pop(0) if delays else 0)
        opened = sign_in(portal_url, email, password)
        made.append(opened)
        return opened

    monkeypatch.setattr(sessions, "sign_in", slow)
    return made


def signed_in_on_portal(session: PortalSession) -> bool:
    try:
        PortalClient(session.portal_url, token=session.token).me()
    except UnauthorizedError:
        return False
    return True


def test_the_header_offers_the_other_branch_and_opens_find_customer_there(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-1
    east = find_window(shell)
    switch = east.branch_switch
    assert switch is not None, "a staff member of two branches can switch"
    assert switch.button.text() == "East Branch  ▾" and switch.button.isEnabled()
    assert switch.button.accessibleName() == "Branch: East Branch"
    assert switch.button.accessibleDescription() == "Opens the list of branches you can switch to"
    assert switch.button.focusPolicy() & Qt.FocusPolicy.TabFocus, "Tab reaches it"
    assert [a.text() for a in switch.menu.actions()] == ["East Branch", "West Branch"]
    assert ticked(east) == ["East Branch"]
    search(qtbot, east, "lockout")
    assert names_found(east) == ["Lee Lockout"], "East's customer, found on East"
    old_token = east.session.token

    pick(east, "West Branch")
    west = replaced(qtbot, shell, east)
    assert west.session.portal_url == live_portal.portal_url("west")
    assert west.windowTitle() == "Find customer — West Branch — Portal Desk" and west.isVisible()
    assert west.branch_switch is not None and west.branch_switch.button.text() == "West Branch  ▾"
    assert ticked(west) == ["West Branch"]
    search(qtbot, west, "lockout")
    assert names_found(west) == [], "East's customer is not found on West"
    search(qtbot, west, "morgan")
    assert names_found(west) == ["Morgan Many"]
    assert [p.name for p in west.model.contact(0).properties] == ["Willow Farm"], "West's Morgan, not East's"
    with pytest.raises(UnauthorizedError):  # logged out on the portal, not left valid
        PortalClient(live_portal.portal_url("east"), token=old_token).me()


def test_recent_customers_and_remember_me_stay_per_branch(
    qtbot: QtBot, shell: AppShell, accounts: Accounts, live_portal: LivePortal, memory_keyring: object
) -> None:  # SA-1, SA-4
    east = find_window(shell)
    caller = StaffContact(1, "Casey Caller", "casey@example.com", None, ())
    east.remember(caller)
    east.remember_password = True  # as ticked at sign-in: the branch switched to is remembered too
    pick(east, "West Branch")
    west = replaced(qtbot, shell, east)
    assert west.recent == [] and west.remember_password
    qtbot.waitUntil(
        lambda: accounts.credentials.token(west.session.portal_url, west.session.email) == west.session.token,
        timeout=WAIT_MS,
    )

    pick(west, "East Branch")  # and back, with the password kept in memory
    back = replaced(qtbot, shell, west)
    assert back.session.portal_url == live_portal.portal_url("east")
    assert [c.name for c in back.recent] == ["Casey Caller"], "East's recent customers, kept for East"


def test_a_superseded_pick_is_logged_out_and_the_branch_stays(
    qtbot: QtBot, shell: AppShell, monkeypatch: pytest.MonkeyPatch
) -> None:  # SA-1
    """West picked, then East (the branch shown) before West answered: no West session is left
    signed in on the portal, and Find customer stays on East, working."""
    signed_in = slow_sign_ins(monkeypatch, [])
    east = find_window(shell)
    pick(east, "West Branch")
    assert east.status_label.text() == "Opening West Branch…"
    pick(east, "East Branch")
    qtbot.waitUntil(lambda: len(signed_in) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not east.runner.busy, timeout=WAIT_MS)
    qtbot.wait(200)
    assert shell.find_window is east and east.isVisible()
    assert east.status_label.text() == "Still in East Branch."
    assert ticked(east) == ["East Branch"]
    with pytest.raises(UnauthorizedError):
        PortalClient(signed_in[0].portal_url, token=signed_in[0].token).me()
    search(qtbot, east, "lockout")
    assert names_found(east) == ["Lee Lockout"], "East still works"


@pytest.fixture
def own_portal(tmp_path: Path) -> Iterator[LivePortal]:
    """A portal of its own: the refused password counts against this computer's address (AC-4), and
    the shared portal's sign-in tests count theirs."""
    with running_portal(tmp_path / "portal", company.build(date.today())) as portal:
        yield portal


def test_a_wrong_stored_password_asks_in_the_sign_in_dialog(
    qtbot: QtBot, accounts: Accounts, own_portal: LivePortal
) -> None:  # SA-1
    """Signed in by a remembered token, the other branch's password is the keyring's: one it refuses
    opens the branch's sign-in saying why, not a switch that silently does nothing."""
    east_url, west_url = own_portal.portal_url("east"), own_portal.portal_url("west")
    staff = sign_in(east_url, company.TWO_BRANCH_OFFICE, company.PASSWORD)
    staff.password = None  # as a session resumed from its stored token has none
    accounts.credentials.save(west_url, company.TWO_BRANCH_OFFICE, token="stale", password="not-the-password")
    said: list[str] = []

    def answer_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):
            QTimer.singleShot(50, answer_sign_in)
            return
        said.append(dialog.error_label.text())
        dialog.password_edit.setText(company.PASSWORD)
        dialog.sign_in_button.click()

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    started = AppShell(app, accounts, None, None)
    app.setQuitOnLastWindowClosed(False)
    started.open_window(staff, remember=True)  # unticked, every branch's password is forgotten
    try:
        east = find_window(started)
        QTimer.singleShot(50, answer_sign_in)
        pick(east, "West Branch")
        west = replaced(qtbot, started, east)
        assert said == [BAD_CREDENTIALS], "the sign-in says why the password is asked for"
        assert west.session.portal_url == west_url
        search(qtbot, west, "morgan")
        assert names_found(west) == ["Morgan Many"]
    finally:
        for window in (started.window, started.find_window, started.dialog):
            if window is not None:
                window.close()


def test_a_cancelled_sign_in_leaves_the_branch_working(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal
) -> None:
    staff = sign_in(live_portal.portal_url("east"), company.TWO_BRANCH_OFFICE, company.PASSWORD)
    staff.password = None  # and nothing in the keyring: the dialog asks

    def cancel_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):
            QTimer.singleShot(50, cancel_sign_in)
            return
        dialog.cancel_button.click()

    for started in staff_shell(accounts, staff):
        east = find_window(started)
        QTimer.singleShot(50, cancel_sign_in)
        pick(east, "West Branch")
        qtbot.waitUntil(says(east, "Still in East Branch."), timeout=WAIT_MS)
        assert started.find_window is east and ticked(east) == ["East Branch"]
        search(qtbot, east, "lockout")
        assert names_found(east) == ["Lee Lockout"]


def test_no_switch_while_a_customers_portal_is_open(qtbot: QtBot, shell: AppShell) -> None:  # SA-1, SA-2
    """Find customer is hidden during an assist; switched from code (or by a sign-in answering after
    an assist opened), the assist window must not be closed under the staff member."""
    window = open_assist(qtbot, shell, "lockout")
    east = find_window(shell)
    east.switch_branch(branch(east, "west"))
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not east.runner.busy, timeout=WAIT_MS)  # a sign-in to West would be done
    qtbot.wait(100)
    assert shell.find_window is east and shell.window is window and window.isVisible()
    assert east.status_label.text() == "Finish with this customer first, then switch branch."


def test_a_branch_signed_in_while_a_customers_portal_opens_is_not_entered(
    qtbot: QtBot, shell: AppShell, monkeypatch: pytest.MonkeyPatch
) -> None:  # SA-1, SA-2
    """West picked, then a customer opened before West answered: entering West replaced Find
    customer and closed the customer's window (and the reason being typed) under the staff member."""
    signed_in = slow_sign_ins(monkeypatch, [])
    east = find_window(shell)
    search(qtbot, east, "lockout")
    pick(east, "West Branch")
    answer_reason(qtbot, east, "Customer on the phone")
    east.open_contact(east.model.contact(0))  # the reason is asked before West's answer is in
    qtbot.waitUntil(lambda: shell.window is not None and len(signed_in) == 1, timeout=WAIT_MS)
    window = shell.window
    assert window is not None
    qtbot.waitUntil(lambda: not east.runner.busy and not window.runner.busy, timeout=WAIT_MS)
    assert shell.find_window is east and window.isVisible() and window.session.assisting is not None
    with pytest.raises(UnauthorizedError):  # West's session, not entered, is not left valid
        PortalClient(signed_in[0].portal_url, token=signed_in[0].token).me()
    assert ticked(east) == ["East Branch"]


def test_signing_out_while_a_branch_signs_in_signs_out(
    qtbot: QtBot, shell: AppShell, monkeypatch: pytest.MonkeyPatch, live_portal: LivePortal
) -> None:  # SA-1, SA-4
    """Sign out clicked while West was signing in: West's answer opened its Find customer over the
    sign-in screen (the person who signed out left signed in, on a shared office computer), or, once the
    window had gone, was dropped with its token still valid on the portal."""
    made = slow_sign_ins(monkeypatch, [1.0])
    east = find_window(shell)
    pick(east, "West Branch")
    east.sign_out()
    qtbot.waitUntil(lambda: len(made) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shell.find_window is None and shell.dialog is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not signed_in_on_portal(made[0]), timeout=WAIT_MS)
    qtbot.wait(300)
    assert shell.find_window is None and shell.window is None, "signed out, not on West"


def test_a_pick_answering_after_its_window_was_replaced_is_logged_out(
    qtbot: QtBot, shell: AppShell, monkeypatch: pytest.MonkeyPatch
) -> None:  # SA-1
    """West picked (slow), East again, West again (fast): the second West is entered and replaces the
    window; the first, answering to a window that is gone, was dropped with its token valid."""
    made = slow_sign_ins(monkeypatch, [1.5])
    east = find_window(shell)
    pick(east, "West Branch")
    pick(east, "East Branch")
    pick(east, "West Branch")
    west = replaced(qtbot, shell, east)
    qtbot.waitUntil(lambda: len(made) == 2, timeout=WAIT_MS)
    late = next(s for s in made if s.token != west.session.token)
    qtbot.waitUntil(lambda: not signed_in_on_portal(late), timeout=WAIT_MS)
    assert signed_in_on_portal(west.session)


def test_a_branch_signed_in_while_this_one_asks_to_sign_in_again_is_not_entered(
    qtbot: QtBot, shell: AppShell, monkeypatch: pytest.MonkeyPatch
) -> None:  # SA-1
    """East's session ended while West was signing in: the sign-in-again prompt opened, and West's
    answer then replaced the window, the prompt the staff member was typing in gone with it."""
    made = slow_sign_ins(monkeypatch, [1.0])
    east = find_window(shell)
    pick(east, "West Branch")
    PortalClient(east.session.portal_url, token=east.session.token).logout()  # ended elsewhere
    east.search_edit.setText("lockout")
    east.search_now()
    qtbot.waitUntil(lambda: east.reauth_dialog is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(made) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not signed_in_on_portal(made[0]), timeout=WAIT_MS)
    assert shell.find_window is east and east.reauth_dialog is not None and east.reauth_dialog.isVisible()
    assert east.status_label.text() == (
        "West Branch was not opened: this branch asked to sign in again. Switch branch again."
    )
    east.reauth_dialog.reject()


def test_a_failed_branch_sign_in_asks_nothing_over_a_customers_portal(
    qtbot: QtBot, shell: AppShell, monkeypatch: pytest.MonkeyPatch
) -> None:  # SA-1, SA-2
    """West's sign-in refused after a customer's portal was opened: the branch's sign-in dialog came
    up over the customer's window, for a switch that could no longer happen."""

    def refused(portal_url: str, email: str, password: str) -> PortalSession:
        time.sleep(1.0)
        raise UnauthorizedError(BAD_CREDENTIALS, status=401, code="invalid_credentials")

    monkeypatch.setattr(sessions, "sign_in", refused)
    asked: list[str] = []

    def close_any_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, SignInDialog):
            asked.append(dialog.windowTitle())
            dialog.reject()

    watcher = QTimer(interval=50)
    watcher.timeout.connect(close_any_sign_in)
    watcher.start()
    try:
        east = find_window(shell)
        search(qtbot, east, "lockout")
        pick(east, "West Branch")
        answer_reason(qtbot, east, "Customer on the phone")
        east.open_contact(east.model.contact(0))
        qtbot.waitUntil(lambda: shell.window is not None and shell.window.isVisible(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not east.runner.busy, timeout=WAIT_MS)
        qtbot.wait(300)
    finally:
        watcher.stop()
    assert asked == [], "no sign-in for another branch over a customer's portal"
    assert shell.window is not None and shell.window.session.assisting is not None


def test_single_branch_staff_see_the_plain_title(qtbot: QtBot, accounts: Accounts, live_portal: LivePortal) -> None:
    staff = sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    for started in staff_shell(accounts, staff):
        find = find_window(started)
        assert find.branch_switch is None
        assert not [b for b in find.findChildren(QToolButton) if b.objectName() == "BranchButton"]
        assert "Find customer · East Branch" in [label.text() for label in find.findChildren(type(find.status_label))]
