"""Office staff in the desktop client against the real server: find a customer, open their portal
under an unmissable banner, see the audit trail, end the assist, sign out (SA-1..SA-4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from PySide6.QtCore import QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QTextDocumentFragment
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.records import Page, StaffContact
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views.main_window import MainWindow
from app.views.shell import AppShell
from app.views.staff_views import COMMON_REASONS, FindCustomerWindow, ReasonDialog
from tests.client import company
from tests.client.live_server import LivePortal

pytestmark = pytest.mark.gui

BANNER = "Assisting Morgan Many (Primary, Billing, Other, 3 properties)"


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


@pytest.fixture
def staff_session(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)


@pytest.fixture
def shell(qtbot: QtBot, accounts: Accounts, staff_session: PortalSession) -> Iterator[AppShell]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = AppShell(app, accounts, None, None)
    app.setQuitOnLastWindowClosed(False)  # the shell asks for True; tests close windows one by one
    shell.open_window(staff_session, remember=False)
    assert shell.find_window is not None
    yield shell  # the shell owns (and deletes) its windows, so they are not handed to qtbot
    for window in (shell.window, shell.find_window, shell.dialog):
        if window is not None:
            window.close()
    shell.window = shell.find_window = shell.dialog = None


def find_window(shell: AppShell) -> FindCustomerWindow:
    assert shell.find_window is not None
    return shell.find_window


def search(qtbot: QtBot, find: FindCustomerWindow, text: str) -> None:
    find.search_edit.clear()
    qtbot.keyClicks(find.search_edit, text)
    qtbot.waitUntil(lambda: not find._search_timer.isActive() and not find.feed.loading, timeout=10000)


def answer_reason(qtbot: QtBot, find: FindCustomerWindow, reason: str) -> None:
    """The reason prompt is modal: fill it in once it shows."""

    def fill() -> None:
        dialog = find.reason_dialog
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(20, fill)
            return
        assert not dialog.open_button.isEnabled()  # a reason is required
        dialog.reason_combo.setCurrentText(reason)
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, fill)


def open_assist(qtbot: QtBot, shell: AppShell, query: str, reason: str = "Customer on the phone") -> MainWindow:
    find = find_window(shell)
    search(qtbot, find, query)
    assert find.model.rowCount() >= 1
    answer_reason(qtbot, find, reason)
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: shell.window is not None, timeout=15000)
    window = shell.window
    assert window is not None
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    return window


def test_staff_sign_in_opens_find_customer(shell: AppShell, staff_session: PortalSession) -> None:  # SA-1
    find = find_window(shell)
    assert staff_session.is_staff
    assert staff_session.properties == ()
    assert find.isVisible()
    assert shell.window is None
    assert "Find customer" in find.windowTitle()
    assert find.search_edit.hasFocus() or find.search_edit.isVisible()


def test_search_as_you_type_is_debounced_and_off_the_gui_thread(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    find = find_window(shell)
    calls: list[str] = []
    real = find.session.client.staff_contacts

    def counting(query: str, cursor: str | None = None, limit: int | None = None) -> object:
        calls.append(query)
        return real(query, cursor, limit)

    find.session.client.staff_contacts = counting  # type: ignore[method-assign]
    search(qtbot, find, "INV-20001")
    assert calls == ["INV-20001"], "one request for a burst of typing"
    assert find.model.rowCount() == 1
    morgan = find.model.contact(0)
    assert morgan.name == "Morgan Many"
    assert morgan.summary() == "Primary, Billing, Other, 3 properties"
    assert "1 customer" in find.status_label.text()
    search(qtbot, find, "x")
    assert find.model.rowCount() == 0
    assert calls == ["INV-20001"], "one character does not search"
    search(qtbot, find, "nobody-like-this")
    assert find.model.rowCount() == 0
    assert "No customer matches" in find.status_label.text()


def test_open_shows_the_customers_portal_under_a_banner(qtbot: QtBot, shell: AppShell) -> None:  # SA-2
    window = open_assist(qtbot, shell, "INV-20001")
    assert not find_window(shell).isVisible()
    assert window.assist_banner.isVisible()
    assert window.assist_label.text().startswith(BANNER)
    assert window.windowTitle().startswith(BANNER)
    for tab in window.tabs.values():
        if window.tab_widget.isTabVisible(window.tab_widget.indexOf(tab)):
            window.tab_widget.setCurrentWidget(tab)
            assert window.assist_banner.isVisible()
    # Exactly Morgan's portal: Morgan's properties and lists.
    assert sorted(p.name for p in window.properties_model.properties) == [
        "Birch Office Park",
        "Cedar Villas",
        "Maple Court",
    ]
    assert window.tabs["invoices"].model.total == company.MANY_INVOICES + 2
    assert not window.change_password_action.isVisible()
    assert window.sign_out_action.text() == "End assist"
    assert not window.branch_button.isEnabled()


def test_activity_lists_the_audit_trail(qtbot: QtBot, shell: AppShell) -> None:  # SA-3
    window = open_assist(qtbot, shell, "morgan@example.com", reason="Cannot find an invoice")
    window.show_assist_activity()
    dialog = window.audit_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=10000)
    newest = dialog.model.entry(0)
    assert newest.action == "assist.start"
    assert newest.detail == "Cannot find an invoice"
    assert newest.staff_name == "Olive Office"
    assert all(dialog.model.entry(r).contact_name == "Morgan Many" for r in range(dialog.model.rowCount()))
    dialog._shown(Page(items=(newest,), next_cursor=None, total=1))
    assert dialog.status_label.text() == "1 entry", "not “1 entries”"
    dialog.close()


def test_end_assist_returns_to_search_and_remembers_the_customer(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-2, SA-4
    find = find_window(shell)
    assert find.recent_stack.currentWidget() is find.recent_empty
    assert find.recent_empty.title.text() == "No recent customers"
    assert "portal you open" in find.recent_empty.message.text()
    window = open_assist(qtbot, shell, "Birch Office Park")
    token = window.session.token
    qtbot.mouseClick(window.end_assist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
    assert find.isVisible()
    assert "Assist ended" in find.status_label.text()
    answer = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 401
    assert [c.name for c in find.recent] == ["Morgan Many"]
    assert find.recent_stack.currentWidget() is find.recent_list
    assert not find.recent_list.horizontalScrollBar().isVisible(), "a long summary is elided, not scrolled"
    # Reopen from the recent list.
    answer_reason(qtbot, find, "Calling back")
    item = find.recent_list.item(0)
    find.recent_list.itemActivated.emit(item)
    qtbot.waitUntil(lambda: shell.window is not None, timeout=15000)
    assert shell.window is not None
    assert shell.window.assist_banner.isVisible()


def test_alt_r_goes_to_the_recent_customers(qtbot: QtBot, shell: AppShell) -> None:  # SA-4
    """The list's title names its mnemonic; with nothing in the list, the search keeps the focus."""
    find = find_window(shell)
    find.activateWindow()
    qtbot.waitUntil(lambda: find.search_edit.hasFocus(), timeout=5000)
    assert find.recent_title.text() == "&Recent customers"
    assert find.recent_title.buddy() is find.recent_list
    qtbot.keyClick(find, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert find.search_edit.hasFocus(), "no list to go to yet"
    window = open_assist(qtbot, shell, "Birch Office Park")
    qtbot.mouseClick(window.end_assist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None and find.isActiveWindow(), timeout=10000)
    assert find.recent_list.count() == 1
    qtbot.keyClick(find, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert find.recent_list.hasFocus()


def test_an_ended_assist_session_returns_to_search(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    window = open_assist(qtbot, shell, "morgan")
    requests.post(
        live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {window.session.token}"}, timeout=5
    )
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
    find = find_window(shell)
    assert "ended" in find.status_label.text()
    assert window.reauth_dialog is None, "no password prompt for an assist"
    # The staff member's own session is fine: the assist alone was ended, not by 30 idle minutes.
    qtbot.waitUntil(lambda: not find.runner.busy, timeout=10000)
    assert find.status_label.text() == "The assist session was ended on the portal. Open it again."
    assert find.reauth_dialog is None


def sign_in_again(qtbot: QtBot, find: FindCustomerWindow) -> None:
    qtbot.waitUntil(lambda: find.reauth_dialog is not None and find.reauth_dialog.isVisible(), timeout=10000)
    dialog = find.reauth_dialog
    assert dialog is not None
    assert dialog.email_edit.text() == company.OFFICE
    dialog.password_edit.setText(company.PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: find.reauth_dialog is None and not find.runner.busy, timeout=15000)


def test_staff_session_end_asks_to_sign_in_again_and_keeps_the_search(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-1
    """Find customer only said "Please sign in again; your session has ended." with Sign out as
    the one way on: now it asks for the password in place and carries on with the search."""
    find = find_window(shell)
    staff_token = find.session.token
    requests.post(live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {staff_token}"}, timeout=5)
    qtbot.keyClicks(find.search_edit, "morgan")
    sign_in_again(qtbot, find)
    assert find.search_edit.text() == "morgan", "what they typed is kept"
    assert find.session.token != staff_token
    assert find.model.rowCount() >= 1
    assert "press Enter" in find.status_label.text()
    # Signed in without "Remember me" (the fixture), so signing in again leaves no token behind either.
    assert shell.accounts.stored_token(find.session.portal_url, company.OFFICE) is None


def test_an_assist_ended_with_the_staff_members_own_session_says_so(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """Every ended assist said "after 30 minutes without activity", also when the staff member's
    own session had been revoked (taking the assist with it)."""
    window = open_assist(qtbot, shell, "morgan")
    find = find_window(shell)
    requests.post(
        live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {find.session.token}"}, timeout=5
    )
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
    sign_in_again(qtbot, find)
    assert "30 minutes" not in find.status_label.text()
    assert find.status_label.text() == (
        "The assist ended because your own session had ended. You are signed in again: "
        "open the customer's portal again."
    )


def test_staff_sign_out_ends_assists_and_shows_sign_in(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    window = open_assist(qtbot, shell, "morgan")
    assist_token = window.session.token
    find = find_window(shell)
    staff_token = find.session.token
    find.sign_out()
    qtbot.waitUntil(lambda: shell.find_window is None and shell.dialog is not None, timeout=10000)
    assert shell.window is None
    for token in (assist_token, staff_token):
        answer = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 401


def test_closing_the_customers_window_ends_the_assist_and_returns_to_search(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-2, SA-4
    """Closing the customer's window (its close box, Ctrl+W) hid it and left Find customer hidden
    too: with no window left the app quit, and the assist token stayed valid on the server."""
    find = find_window(shell)
    for close in ("close box", "Ctrl+W"):
        window = open_assist(qtbot, shell, "Birch Office Park")
        token = window.session.token
        if close == "Ctrl+W":
            qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        else:
            window.closeEvent(_CloseBoxEvent())  # what the window system sends
        qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
        assert find.isVisible(), close
        assert "Assist ended" in find.status_label.text()
        answer = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 401, close
    # Quit closes every window with a close() of its own: that closes the assist window (and quits).
    window = open_assist(qtbot, shell, "Birch Office Park")
    window.close()
    assert not window.isVisible()


class _CloseBoxEvent(QCloseEvent):
    """A close from the window system (the close box, Alt+F4) is spontaneous, unlike close()."""

    def spontaneous(self) -> bool:
        return True


def test_reason_prompt_keys_and_names_as_typed(qtbot: QtBot) -> None:  # SA-2
    """Down in the empty reason box skipped to the second common reason, and a customer name with
    angle brackets lost them as markup."""
    contact = StaffContact(7, "Lakeside <HOA> & Pool", "board@lakeside.example", None, ())
    dialog = ReasonDialog(contact)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.reason == "" and not dialog.open_button.isEnabled()
    line = dialog.reason_combo.lineEdit()
    assert line is not None and line.placeholderText() == "Why are you opening this portal?"
    qtbot.keyClick(dialog.reason_combo, Qt.Key.Key_Down)
    assert dialog.reason == COMMON_REASONS[0]
    assert dialog.open_button.isEnabled()
    assert "Lakeside <HOA> & Pool" in QTextDocumentFragment.fromHtml(dialog.summary_label.text()).toPlainText()


def test_find_customer_comes_back_at_the_size_it_was_left(
    qtbot: QtBot, shell: AppShell, accounts: Accounts, staff_session: PortalSession
) -> None:
    """Find customer opened at 1100 x 700 at every sign-in, whatever size staff had given it."""
    find = find_window(shell)
    find.resize(760, 560)  # within the 800 px offscreen screen
    qtbot.wait(20)
    find.close()
    again = FindCustomerWindow(staff_session, accounts=accounts)
    qtbot.addWidget(again)
    assert again.size() == QSize(760, 560)
