"""Office staff in the desktop client against the real server: find a customer, open their portal
under an unmissable banner, see the audit trail, end the assist, sign out (SA-1..SA-4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from PySide6.QtCore import QModelIndex, QPoint, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QImage, QTextDocumentFragment
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.records import Page, StaffContact
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views.main_window import MainWindow
from app.views.shell import AppShell
from app.views.staff_views import COMMON_REASONS, CONTACT_WIDTH, NAME_WIDTH, FindCustomerWindow, ReasonDialog
from app.views.theme import apply_theme
from tests.client import company
from tests.client.fault_server import FaultServer, answer, problem, sequence
from tests.client.live_server import LivePortal

pytestmark = pytest.mark.gui

BANNER = "Assisting Morgan Many (Primary, Billing, Contact, 3 properties)"
ENDED = "The assist session was ended: closed in another window, or its staff member signed out."


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


@pytest.fixture
def staff_session(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)


@pytest.fixture
def shell(qtbot: QtBot, accounts: Accounts, staff_session: PortalSession) -> Iterator[AppShell]:
    yield from staff_shell(accounts, staff_session)


def staff_shell(accounts: Accounts, staff_session: PortalSession) -> Iterator[AppShell]:
    """The app as a staff member signed in to it: at Find customer (for other modules' `shell` fixtures)."""
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
    assert morgan.summary() == "Primary, Billing, Contact, 3 properties", "the roles as the results name them"
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
    staff = window.session.assisting
    assert staff is not None
    who = f"{staff.staff.user.name} assisting {window.session.email} · East Branch"
    assert window.status_label.text() == who, "the branch by name, the address as the tooltip"
    assert window.status_label.toolTip() == f"Portal address: {window.session.portal_url}"


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
    headers = [dialog.model.headerData(c, Qt.Orientation.Horizontal) for c in range(dialog.model.columnCount())]
    assert headers == ["When", "Staff", "Action", "Detail"], "one customer's activity: no Customer column"
    assert dialog.model.data(dialog.model.index(0, dialog.model.column_index("action"))) == "Opened the portal"
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


def test_an_ended_assist_says_why_in_its_window_and_end_assist_returns_to_search(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """The portal ended the assist: the customer's window stays (it may hold drafts) and says why,
    with Open again and End assist; ending it goes back to Find customer with that sentence."""
    window = open_assist(qtbot, shell, "morgan")
    requests.post(
        live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {window.session.token}"}, timeout=5
    )
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.assist_prompt is not None, timeout=10000)
    prompt = window.assist_prompt
    assert prompt is not None and prompt.text() == ENDED
    assert window.reauth_dialog is None, "no password prompt for an assist"
    assert shell.window is window and window.isVisible()
    find = find_window(shell)
    assert find.reauth_dialog is None and not find.isVisible()
    end = next(b for b in prompt.findChildren(QPushButton) if b.text() == "End assist")
    qtbot.mouseClick(end, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
    assert find.isVisible()
    assert find.status_label.text() == ENDED


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


def test_an_assist_ended_with_the_staff_members_own_session_opens_again_once_signed_in(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """The staff member's own session ended and took the assist along: Open again asks for their
    password (over the customer's window); cancelled, the window says the assist could not be
    opened and offers it again; signed in, the assist opens again in the same window."""
    window = open_assist(qtbot, shell, "morgan")
    find = find_window(shell)
    requests.post(
        live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {find.session.token}"}, timeout=5
    )
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.assist_prompt is not None, timeout=10000)
    prompt = window.assist_prompt
    assert prompt is not None
    later = next(b for b in prompt.findChildren(QPushButton) if b.text() == "Not now")
    qtbot.mouseClick(later, Qt.MouseButton.LeftButton)
    assert window.assist_prompt is None and window.open_again_button.isVisible()
    qtbot.mouseClick(window.open_again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: find.reauth_dialog is not None and find.reauth_dialog.isVisible(), timeout=10000)
    assert find.reauth_dialog is not None and find.reauth_dialog.parent() is window
    find.reauth_dialog.reject()
    qtbot.waitUntil(lambda: window.assist_prompt is not None, timeout=10000)
    assert window.assist_prompt is not None
    assert window.assist_prompt.text().startswith("Morgan Many's portal could not be opened. You were signed out")
    assert window.open_again_button.isEnabled() and window.end_assist_button.isEnabled()
    reopen = next(b for b in window.assist_prompt.findChildren(QPushButton) if b.text() == "Open again")
    qtbot.mouseClick(reopen, Qt.MouseButton.LeftButton)
    sign_in_again(qtbot, find)
    qtbot.waitUntil(lambda: window.assist_label.text().startswith(BANNER), timeout=10000)
    assert shell.window is window and not find.isVisible()


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
        prompt = window.end_prompt
        assert prompt is not None and prompt.text() == "End the assist for Morgan Many?", close
        qtbot.keyClick(prompt, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
        assert find.isVisible(), close
        assert "Assist ended" in find.status_label.text()
        answer = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 401, close
    # Quit closes every window with a close() of its own: that closes the assist window (and quits).
    window = open_assist(qtbot, shell, "Birch Office Park")
    window.close()
    assert not window.isVisible()


def test_ctrl_w_asks_before_ending_the_assist_and_esc_stays(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-4
    """Ctrl+W, pressed for a pop-up that had just closed, ended the customer's assist with no question."""
    window = open_assist(qtbot, shell, "Birch Office Park")
    token = window.session.token
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    prompt = window.end_prompt
    assert prompt is not None and prompt.isVisible()
    assert prompt.text() == "End the assist for Morgan Many?"
    assert prompt.defaultButton().text() == "End assist" and prompt.escapeButton().text() == "Stay"
    qtbot.keyClick(prompt, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.end_prompt is None, timeout=5000)
    qtbot.wait(200)
    assert shell.window is window and window.isVisible() and window.isEnabled()
    me = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200, "Esc stays in the assist"

    # With a draft, the drafts question is the one question, and it ends the assist.
    asked: list[str] = []
    window.confirm_discard_drafts = lambda _w, _d, action: asked.append(action) or True  # type: ignore[method-assign]
    window.work_screens.new_request().subject_edit.setText("Gate 3 sprinkler")
    window.close_window()
    assert asked == ["End assist"] and window.end_prompt is None
    qtbot.waitUntil(lambda: shell.window is None, timeout=10000)


def test_find_another_customer_from_the_banner_asks_about_drafts_then_lands_in_the_search(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-2, SA-4
    """A caller asking about someone else: Find customer was hidden behind the assist, and only
    End assist (a step nobody thought of for this) led back to it."""
    find = find_window(shell)
    window = open_assist(qtbot, shell, "Birch Office Park")
    token = window.session.token
    assert window.find_another_button.isVisible()
    asked: list[str] = []
    window.confirm_discard_drafts = lambda _w, _d, action: asked.append(action) or False  # type: ignore[method-assign]
    new_request = window.work_screens.new_request()
    new_request.subject_edit.setText("Gate 3 sprinkler")
    qtbot.mouseClick(window.find_another_button, Qt.MouseButton.LeftButton)
    assert asked == ["Find another customer"], "the drafts question first"
    assert shell.window is window and new_request.isVisible(), "Keep editing stays"
    window.confirm_discard_drafts = lambda _w, _d, action: asked.append(action) or True  # type: ignore[method-assign]
    qtbot.mouseClick(window.find_another_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None and find.isVisible(), timeout=10000)
    assert find.search_edit.text() == "Birch Office Park" and find.search_edit.selectedText() == "Birch Office Park"
    me = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 401, "the assist was ended on the portal"


def test_windows_opened_in_an_assist_say_whose_portal_they_show(qtbot: QtBot, shell: AppShell) -> None:  # SA-2
    """Invoice, proposal, request, pay and New request windows were titled as for the customer: with
    two calls' windows on screen, nothing said whose each was; Manage payments offered "Email me"."""
    window = open_assist(qtbot, shell, "morgan")
    client = window.session.client
    suffix = " — Morgan Many"
    birch = next(i for i in client.invoices("all", limit=500).items if i.number == "INV-20001")
    invoice = window.invoice_actions.show_detail(client.invoice(birch.id))
    assert invoice.windowTitle() == f"Invoice INV-20001{suffix}"
    pay = window.invoice_actions.pay([client.invoice(birch.id)], invoice)
    assert pay.windowTitle() == f"Pay invoice INV-20001{suffix}", "opened from the invoice's window: any depth"
    pay.reject()
    request = window.work_screens.open_request(client.requests().items[0])
    assert request.windowTitle().endswith(suffix) and request.windowTitle().count(suffix) == 1
    assert window.work_screens.new_request().windowTitle() == f"New request{suffix}"
    proposal = window.open_proposal(next(p.id for p in client.proposals("all").items if p.number == "OPP-1001"))
    qtbot.waitUntil(lambda: proposal.detail is not None, timeout=10000)
    assert proposal.windowTitle().startswith("Proposal OPP-1001 — ") and proposal.windowTitle().endswith(suffix)
    assert proposal.windowTitle().count(suffix) == 1, "titled again once loaded, named once"
    manager = window.invoice_actions.manage_payments()
    assert manager.windowTitle() == f"Manage payments{suffix}"
    assert manager.receipts_check.text() == "Email Morgan payment receipts"
    window.show_assist_activity()
    assert window.audit_dialog is not None and window.audit_dialog.windowTitle() == "Activity — Morgan Many"
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)


def test_quitting_during_an_assist_ends_it_on_the_portal(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-3, SA-4
    """Ctrl+Q left the assist running on the portal, and the audit trail without its end."""
    window = open_assist(qtbot, shell, "Birch Office Park")
    token = window.session.token
    contact = window.session.assisting.contact.id if window.session.assisting else None
    window.close()  # what Quit does to every window, then the app's aboutToQuit
    shell.shutdown()
    me = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 401
    staff = sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    assert staff.client.staff_audit(contact).items[0].action == "assist.end"
    staff.client.logout()


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


def test_results_name_roles_apart_from_properties_with_the_callers_first(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """The Roles column read "Primary, Billing, Other, 3 properties", crowding the property names
    out of view; the one the caller named could be cut off behind the others, and only a tooltip
    named them all."""
    find = find_window(shell)
    search(qtbot, find, "Maple Court")
    row = next(r for r in range(find.model.rowCount()) if find.model.contact(r).name == "Morgan Many")
    roles = find.model.index(row, find.model.column_index("roles"))
    properties = find.model.index(row, find.model.column_index("properties"))
    assert roles.data() == "Primary, Billing, Contact", "roles alone, named as the customer's portal names them"
    assert str(properties.data()).startswith("Maple Court, "), "the property searched for comes first"
    assert properties.data(Qt.ItemDataRole.ToolTipRole).splitlines() == [
        "Maple Court — Primary",
        "Birch Office Park — Billing",
        "Cedar Villas — Contact",
    ]
    # The properties get every pixel the other columns do not need, at whatever width the window
    # has on its screen (the offscreen one is 800 px: too narrow for this row whatever the columns).
    header = find.table.horizontalHeader()
    column = find.model.column_index("properties")
    for key, widest in (("name", NAME_WIDTH), ("contact", CONTACT_WIDTH), ("roles", None)):
        other = find.model.column_index(key)
        needs = max(find.table.sizeHintForColumn(other), header.sectionSizeHint(other))
        assert header.sectionSize(other) == (needs if widest is None else min(needs, widest)), key
    others = sum(header.sectionSize(c) for c in range(find.model.columnCount()) if c != column)
    room = find.table.viewport().width() - others
    needed = find.table.fontMetrics().horizontalAdvance(str(properties.data()))
    assert header.sectionSize(column) >= min(room, needed), "the property names take the room left"
    assert find.width() <= find.screen().availableGeometry().width(), "the window fits its screen"

    dialog = ReasonDialog(find.model.contact(row))
    qtbot.addWidget(dialog)
    shown = QTextDocumentFragment.fromHtml(dialog.summary_label.text()).toPlainText()
    assert "3 properties" in shown
    for line in ("Birch Office Park — Billing", "Cedar Villas — Contact", "Maple Court — Primary"):
        assert line in shown, "the reason prompt names every property before the portal opens"


def test_results_look_like_the_main_windows_lists(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """The results were a bare table with grid lines and short rows beside the card-framed lists
    of the main window; the keyboard focus in it showed nowhere but the row colour."""
    find = find_window(shell)
    assert find.results_card.objectName() == "ListCard"
    assert find.results_card.isAncestorOf(find.table)
    assert not find.table.showGrid()
    assert find.table.alternatingRowColors()
    search(qtbot, find, "morgan")
    assert find.table.rowHeight(0) == 40
    assert not find.results_card.property("focused")
    find.activateWindow()
    qtbot.waitUntil(find.search_edit.hasFocus, timeout=5000)
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Down)
    assert find.table.hasFocus()
    assert find.results_card.property("focused"), "the card draws the focus ring"


def test_keyboard_goes_back_to_the_search_and_esc_clears_it(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """Down went into the results but nothing came back out but Tab or the mouse, and Esc did
    nothing: the next caller's name was typed after selecting the old one by hand."""
    find = find_window(shell)
    find.activateWindow()
    qtbot.waitUntil(find.search_edit.hasFocus, timeout=5000)
    search(qtbot, find, "morgan")
    assert find.model.rowCount() >= 1
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Down)
    assert find.table.hasFocus() and find.table.currentIndex().row() == 0
    qtbot.keyClick(find.table, Qt.Key.Key_Up)
    assert find.search_edit.hasFocus(), "Up on the first row goes back to the search box"
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(find.table, Qt.Key.Key_Escape)
    assert find.search_edit.hasFocus() and find.search_edit.selectedText() == "morgan"
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Escape)
    assert find.search_edit.text() == ""
    assert find.model.rowCount() == 0, "the old results go at once"
    assert find.results_stack.currentWidget() is find.results_empty
    assert find.results_empty.title.text() == "Find a customer"


def test_no_match_and_a_failed_search_say_so_in_the_list(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-1
    """No match left an empty table with a line of text above it; a failed search left the
    previous search's customers on screen, where Enter opened one of them."""
    find = find_window(shell)
    search(qtbot, find, "nobody-like-this")
    assert find.results_stack.currentWidget() is find.results_empty
    assert find.results_empty.title.text() == "No customer matches “nobody-like-this”"
    assert "ask the caller for another detail" in find.results_empty.message.text()
    assert not find.retry_button.isVisibleTo(find)

    search(qtbot, find, "morgan")
    assert find.model.rowCount() >= 1
    assert find.results_stack.currentWidget() is find.table
    fault = FaultServer().start()
    try:
        fault.route("GET", "/staff/contacts", problem(500, "internal", "The portal had a problem. Try again."))
        client = find.session.client
        client.api_base = fault.portal_url + "/api/v1"  # the portal itself starts failing
        search(qtbot, find, "morgan many")
        assert find.model.rowCount() == 0, "no customer from the previous search stays to be opened"
        assert find.results_stack.currentWidget() is find.results_empty
        assert find.results_empty.title.text() == "The search did not go through"
        assert find.results_empty.message.text() == "The portal had a problem. Try again."
        assert find.status_label.text() == "The portal had a problem. Try again."
        assert find.retry_button.isVisibleTo(find)
        qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
        assert find.reason_dialog is None
        qtbot.waitUntil(lambda: not find.feed.loading, timeout=10000)
        assert fault.hits.count(("GET", "/staff/contacts")) == 2, "Enter after a failed search tries it again"
    finally:
        fault.stop()
    client.api_base = live_portal.api()
    qtbot.keyClick(find.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not find.feed.loading and find.model.rowCount() >= 1, timeout=10000)
    assert find.results_stack.currentWidget() is find.table
    assert find.reason_dialog is None, "Enter searched again; it opens a customer only from the results"
    search(qtbot, find, "nobody-like-this")
    fault = FaultServer().start()
    try:
        fault.route("GET", "/staff/contacts", problem(500, "internal", "The portal had a problem. Try again."))
        client.api_base = fault.portal_url + "/api/v1"
        search(qtbot, find, "morgan many")
        assert find.retry_button.isVisibleTo(find)
    finally:
        fault.stop()
    client.api_base = live_portal.api()
    qtbot.mouseClick(find.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not find.feed.loading and find.model.rowCount() >= 1, timeout=10000)
    assert find.results_stack.currentWidget() is find.table


def test_a_column_width_the_user_set_is_kept_by_the_next_searches(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """Every search fitted the name and contact columns to its rows again, undoing the width the
    staff member had just dragged a column to."""
    find = find_window(shell)
    find.activateWindow()
    search(qtbot, find, "morgan")
    header = find.table.horizontalHeader()
    name, contact = find.model.column_index("name"), find.model.column_index("contact")
    edge = header.sectionViewportPosition(name) + header.sectionSize(name) - 1
    middle = header.height() // 2
    target = header.sectionSize(name) + 70
    qtbot.mousePress(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(edge, middle))
    qtbot.mouseMove(header.viewport(), QPoint(edge + 35, middle))
    qtbot.mouseMove(header.viewport(), QPoint(edge + 70, middle))
    qtbot.mouseRelease(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(edge + 70, middle))
    assert header.sectionSize(name) == target, "the drag widened the column"
    search(qtbot, find, "Birch Office Park")
    assert find.model.rowCount() >= 1
    assert header.sectionSize(name) == target, "the dragged width stays"
    needed = max(find.table.sizeHintForColumn(contact), header.sectionSizeHint(contact))
    assert header.sectionSize(contact) == min(needed, CONTACT_WIDTH), "the column not dragged still fits"


def test_activity_looks_like_the_other_lists_and_a_failed_load_can_be_tried_again(
    qtbot: QtBot, shell: AppShell, live_portal: LivePortal
) -> None:  # SA-3
    """The Activity table was a plain grid with short rows beside the card-framed lists, and a
    failed load left an empty table with one line under it and no way to ask again."""
    find = find_window(shell)
    client = find.session.client
    client.open_assist(client.staff_contacts("morgan").items[0].id, "Checking the activity")  # an entry
    fault = FaultServer().start()
    try:
        fault.route("GET", "/staff/audit", problem(500, "internal", "The portal had a problem. Try again."))
        client.api_base = fault.portal_url + "/api/v1"
        dialog = find.show_activity(None)
        qtbot.waitUntil(lambda: not find.runner.busy, timeout=10000)
    finally:
        fault.stop()
        client.api_base = live_portal.api()
    card = dialog.card
    assert card.objectName() == "ListCard" and card.isAncestorOf(dialog.table)
    assert not dialog.table.showGrid() and dialog.table.alternatingRowColors()
    assert card.stack.currentWidget() is card.empty
    assert card.empty.title.text() == "The activity could not be loaded"
    assert card.empty.message.text() == "The portal had a problem. Try again."
    assert dialog.status_label.text() == "The portal had a problem. Try again."
    assert card.retry_button.isVisibleTo(dialog)
    qtbot.mouseClick(card.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not find.runner.busy and dialog.model.rowCount() > 0, timeout=10000)
    assert card.stack.currentWidget() is dialog.table
    assert dialog.table.rowHeight(0) == 40, "rows as tall as the main window's lists"
    header = dialog.table.horizontalHeader()
    assert header.length() == dialog.table.viewport().width(), "the rows reach the card's edge"
    assert dialog.status_label.text().endswith("entries") or dialog.status_label.text() == "1 entry"
    dialog.close()


def test_activity_says_when_a_further_page_fails_and_keeps_the_entries(qtbot: QtBot, shell: AppShell) -> None:  # SA-3
    """A failed further page of the audit trail was not listened to: the list waited for it for
    good, with nothing said, as Find customer's results did before 5107b11."""
    find = find_window(shell)
    fault = FaultServer().start()
    try:
        first = {"items": [_audit_json(i) for i in range(3)], "next_cursor": "page-2", "total": 6}
        fault.route(
            "GET", "/staff/audit", sequence(answer(200, first), problem(500, "internal", "The portal had a problem."))
        )
        find.session.client.api_base = fault.portal_url + "/api/v1"
        dialog = find.show_activity(None)
        qtbot.waitUntil(lambda: "Could not load more" in dialog.status_label.text(), timeout=10000)
        assert dialog.status_label.text() == (
            "Could not load more entries: The portal had a problem. Scroll down to try again."
        )
        assert dialog.model.rowCount() == 3 and dialog.card.stack.currentWidget() is dialog.table
        assert dialog.model.canFetchMore(QModelIndex()), "scrolling asks for the next page again"
        qtbot.waitUntil(lambda: not find.runner.busy, timeout=10000)
        dialog.close()
    finally:
        fault.stop()


def _audit_json(index: int) -> dict[str, object]:
    return {
        "at": "2026-01-05T10:00:00Z",
        "staff": {"name": "Olive Office"},
        "contact": {"id": 900 + index, "name": f"Lake Customer {index}"},
        "action": "assist.start",
        "target": "contact",
        "detail": "Customer on the phone",
    }


@pytest.fixture
def themed() -> Iterator[None]:
    """The app's style sheet, whose paddings place the text of the list entries."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    yield
    app.setStyleSheet("")
    app.setPalette(app.style().standardPalette())


def test_recent_customers_show_how_to_reach_them_under_a_title_in_line(
    themed: None, qtbot: QtBot, shell: AppShell
) -> None:
    """Each recent customer repeated the roles and count of the results ("Primary, Billing,
    Other, 3 propert…") where a call back needs the phone; and the list's title sat outside its
    card, flush with the card's edge and above the search box's top."""
    find = find_window(shell)
    assert find.recent_card.isAncestorOf(find.recent_title)
    assert find.recent_card.mapTo(find, QPoint(0, 0)).y() == find.search_edit.mapTo(find, QPoint(0, 0)).y()
    window = open_assist(qtbot, shell, "Birch Office Park")
    qtbot.mouseClick(window.end_assist_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window is None, timeout=10000)
    item = find.recent_list.item(0)
    assert item.text() == "Morgan Many\n555-0101\nmorgan@example.com"
    assert "Birch Office Park — Billing" in item.toolTip().splitlines()
    card = find.recent_card
    picture = card.grab().toImage()
    title = QRect(find.recent_title.mapTo(card, QPoint(0, 0)), find.recent_title.size())
    entry = find.recent_list.visualItemRect(item).translated(find.recent_list.mapTo(card, QPoint(0, 0)))
    assert abs(first_ink(picture, title) - first_ink(picture, entry)) <= 1, "the title starts where the entries do"


def first_ink(picture: QImage, area: QRect) -> int:
    """The left-most column of `area` where something is drawn on its background (text)."""
    background = picture.pixelColor(area.right() - 1, area.top() + 1)
    for x in range(area.left(), area.right()):
        for y in range(area.top(), area.bottom()):
            color = picture.pixelColor(x, y)
            if abs(color.lightness() - background.lightness()) > 60:
                return x
    raise AssertionError("nothing drawn")


def test_a_further_page_that_fails_says_so_and_can_be_asked_again(qtbot: QtBot, shell: AppShell) -> None:  # SA-1
    """A failed second page of results was ignored: the list waited for it for good, so the
    customers past the first page could never be reached, and nothing said why."""
    find = find_window(shell)
    fault = FaultServer().start()
    try:
        first = {"items": [_contact_json(i) for i in range(3)], "next_cursor": "page-2", "total": 6}
        fault.route(
            "GET",
            "/staff/contacts",
            sequence(answer(200, first), problem(500, "internal", "The portal had a problem.")),
        )
        find.session.client.api_base = fault.portal_url + "/api/v1"
        search(qtbot, find, "lake")
        qtbot.waitUntil(lambda: "Could not load more customers" in find.status_label.text(), timeout=10000)
        assert find.status_label.text() == (
            "Could not load more customers: The portal had a problem. Scroll down to try again."
        )
        assert find.model.rowCount() == 3, "the customers found stay"
        assert find.model.canFetchMore(QModelIndex()), "scrolling asks for the next page again"
        # In a window as narrow as its 800 px screen the sentence wraps and the list is laid out
        # again, which made Qt ask for the page at once: only a scroll asks again.
        qtbot.wait(500)
        assert fault.hits.count(("GET", "/staff/contacts")) == 2, "no storm of retries"
        qtbot.keyClick(find.table, Qt.Key.Key_End)
        qtbot.waitUntil(lambda: fault.hits.count(("GET", "/staff/contacts")) == 3, timeout=10000)
        qtbot.waitUntil(lambda: "Could not load more customers" in find.status_label.text(), timeout=10000)
        qtbot.wait(500)
        assert fault.hits.count(("GET", "/staff/contacts")) == 3, "asked once per scroll"
        find.search_edit.clear()  # nothing left to ask the fault server for once it stops
        qtbot.waitUntil(lambda: not find.runner.busy, timeout=10000)
    finally:
        fault.stop()


def _contact_json(index: int) -> dict[str, object]:
    return {
        "id": 900 + index,
        "name": f"Lake Customer {index}",
        "email": f"lake{index}@example.com",
        "phone": None,
        "properties": [{"id": 1, "name": "Lakeside", "role": "primary"}],
    }
