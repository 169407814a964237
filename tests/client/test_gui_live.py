"""The desktop client against the real server: sign-in, filters, paging, expiry, branches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.models.formatting import money_text
from app.models.roles import Role
from app.services.accounts import Accounts
from app.services.credentials import SERVICE
from app.services.demo_server import DEMO_EMAIL, DemoServer, free_port
from app.services.errors import UnauthorizedError
from app.services.memory_keyring import MemoryKeyring
from app.services.portal_client import PortalClient
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings, SavedPortal
from app.views.main_window import MainWindow
from app.views.sign_in_dialog import BAD_CREDENTIALS, BAD_DEMO_CREDENTIALS, DEMO, OTHER, SignInDialog
from tests.client import company
from tests.client.live_server import ROOT, LivePortal

pytestmark = pytest.mark.gui


@pytest.fixture
def accounts(settings_store: QSettings) -> Accounts:
    return Accounts(AppSettings(settings_store))


def dialog_for(qtbot: QtBot, accounts: Accounts, url: str, email: str, password: str) -> SignInDialog:
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.portal_combo.setCurrentIndex(dialog.portal_combo.findData(OTHER))
    dialog.url_edit.setText(url)
    dialog.email_edit.setText(email)
    dialog.password_edit.setText(password)
    dialog.show()
    return dialog


def error_after_submit(qtbot: QtBot, dialog: SignInDialog) -> str:
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible() and dialog.sign_in_button.text() == "Sign in", timeout=10000)
    return dialog.error_label.text()


def test_sign_in_success_remembers_portal_and_secrets(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, accounts, live_portal.portal_url("east") + "/", company.MORGAN, company.PASSWORD)
    dialog.remember_check.setChecked(True)
    with qtbot.waitSignal(dialog.accepted, timeout=10000):
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    session = dialog.session
    assert session is not None
    assert session.user.name == "Morgan Many"
    accounts.remember_portal(session)
    accounts.store_secrets(session, remember_password=dialog.remember)
    assert accounts.stored_token(session.portal_url, company.MORGAN) == session.token
    assert accounts.remembered_password(session.portal_url, company.MORGAN) == company.PASSWORD
    assert accounts.settings.portals()[0].branch_name == "East Branch"
    accounts.settings.sync()
    assert company.PASSWORD not in Path(accounts.settings._store.fileName()).read_text()


def test_sign_in_bad_password(qtbot: QtBot, accounts: Accounts, live_portal: LivePortal) -> None:
    dialog = dialog_for(qtbot, accounts, live_portal.portal_url(), company.MORGAN, "not-the-password")
    assert error_after_submit(qtbot, dialog) == BAD_CREDENTIALS


def test_a_wrong_demo_password_points_to_the_demo_sign_in_not_to_a_hidden_link(
    qtbot: QtBot, accounts: Accounts, tmp_path: Path
) -> None:
    """The demo hides "Forgot password?" (no mail goes out), yet its refusal said to use it."""
    demo = DemoServer(tmp_path / "demo-server")
    try:
        dialog = SignInDialog(accounts, demo=demo)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.portal_combo.currentData() == DEMO
        assert dialog.forgot_button.isHidden() and dialog.hint_label.isVisible()
        dialog.email_edit.setText(DEMO_EMAIL)
        dialog.password_edit.setText("not-the-password")
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(dialog.error_label.isVisible, timeout=60000)  # the demo server starts first
        assert dialog.error_label.text() == BAD_DEMO_CREDENTIALS
        assert "Forgot" not in dialog.error_label.text()
    finally:
        demo.stop()


def test_sign_in_slowed_down_says_when_to_retry(qtbot: QtBot, accounts: Accounts, live_portal: LivePortal) -> None:
    # AC-4: the lock-out account is blocked after five failures (possibly already by another test).
    client = PortalClient(live_portal.portal_url())
    for attempt in range(5):
        try:
            client.login(company.LOCKOUT, f"wrong-password-{attempt}")
        except Exception as exc:
            if type(exc).__name__ == "SlowedDownError":
                break
    dialog = dialog_for(qtbot, accounts, live_portal.portal_url(), company.LOCKOUT, "wrong-password-x")
    message = error_after_submit(qtbot, dialog)
    assert message.startswith("Too many sign-in attempts. You can try again in ")
    assert "(at " in message
    assert not dialog.sign_in_button.isEnabled()


def test_sign_in_unreachable(qtbot: QtBot, accounts: Accounts) -> None:
    url = f"http://127.0.0.1:{free_port()}/portal/east"
    dialog = dialog_for(qtbot, accounts, url, company.MORGAN, company.PASSWORD)
    assert error_after_submit(qtbot, dialog).startswith("Cannot reach the portal at 127.0.0.1")


def test_a_returning_users_typing_goes_into_the_password(qtbot: QtBot, accounts: Accounts) -> None:  # AC-2
    """The portal list had the focus: a returning user typing their password at once changed the
    portal by the list's type-ahead (here to the other branch) and the password box stayed empty.
    After an attempt that failed, the focus was on Quit, where Space quits."""
    url = f"http://127.0.0.1:{free_port()}/portal/"
    accounts.settings.remember_portal(SavedPortal(url + "west", "West Branch", company.MORGAN))
    accounts.settings.remember_portal(SavedPortal(url + "east", "East Branch", company.MORGAN))
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClicks(QApplication.focusWidget(), "West-secret-1")
    assert dialog.password_edit.text() == "West-secret-1"
    assert dialog.portal_combo.currentText().startswith("East Branch")
    assert error_after_submit(qtbot, dialog).startswith("Cannot reach the portal at 127.0.0.1")
    assert QApplication.focusWidget() is dialog.password_edit


def test_sign_in_invalid_url(qtbot: QtBot, accounts: Accounts) -> None:
    dialog = dialog_for(qtbot, accounts, "http://example.com/wrong", company.MORGAN, company.PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text().startswith("That is not a portal address.")


def test_a_refusal_that_wraps_grows_the_window_instead_of_squeezing_the_form(
    qtbot: QtBot, accounts: Accounts, live_portal: LivePortal
) -> None:
    """The two-line "do not match" sentence was fitted into the window's old height: the email and
    password rows and "Remember me" were drawn over each other."""
    dialog = dialog_for(qtbot, accounts, live_portal.portal_url(), "nobody@example.com", "not-the-password")
    height = dialog.height()
    assert error_after_submit(qtbot, dialog) == BAD_CREDENTIALS
    qtbot.waitUntil(lambda: dialog.height() > height, timeout=5000)
    rows = [dialog.email_edit, dialog.password_edit, dialog.remember_check, dialog.error_label, dialog.sign_in_button]
    tops = [row.mapTo(dialog, row.rect().topLeft()).y() for row in rows]
    bottoms = [row.mapTo(dialog, row.rect().bottomLeft()).y() for row in rows]
    assert all(bottom < top for bottom, top in zip(bottoms, tops[1:], strict=False)), (tops, bottoms)
    assert all(row.height() >= row.sizeHint().height() for row in rows[:3]), "no field is squeezed"


@pytest.fixture
def morgan_session(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.MORGAN, company.PASSWORD)


@pytest.fixture
def window(qtbot: QtBot, morgan_session: PortalSession, accounts: Accounts) -> Iterator[MainWindow]:
    accounts.remember_portal(morgan_session)
    accounts.store_secrets(morgan_session, remember_password=False)
    main = MainWindow(morgan_session, accounts)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, main)
    yield main
    main.runner.set_unauthorized_handler(None)


def test_the_status_bar_names_the_branch_and_keeps_the_address_for_support(
    window: MainWindow, morgan_session: PortalSession
) -> None:
    """Customers saw "Signed in as … · http://127.0.0.1:38859/portal/east", an address that meant
    nothing to them; the office on the phone still asks for it, so it is the tooltip."""
    assert window.status_label.text() == f"Signed in as {company.MORGAN} · East Branch"
    assert window.status_label.toolTip() == f"Portal address: {morgan_session.portal_url}"
    assert "http" not in window.status_label.text()


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.wait(10)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)


def loaded_numbers(window: MainWindow, key: str) -> set[str]:
    model = window.tabs[key].model
    return {model.data(model.index(row, 0), Role.RECORD).number for row in range(model.rowCount())}


def check_only(qtbot: QtBot, window: MainWindow, name: str) -> None:
    model = window.properties_model
    wanted = [p.id for p in model.properties if p.name == name]
    model.set_checked([p.id for p in model.properties], False)
    model.set_checked(wanted, True)
    wait_idle(qtbot, window)


def test_window_shows_every_tab_and_the_balance(window: MainWindow) -> None:
    # PF-1, PF-3, RQ-5 (requests on for east)
    assert window.properties_model.all_selected()
    assert window.properties_model.rowCount() == 3
    assert loaded_numbers(window, "proposals") == {"OPP-1001", "OPP-1002", "OPP-1003", "OPP-1004"}
    assert loaded_numbers(window, "requests") == {"REQ-1", "REQ-2"}
    assert window.tab_widget.isTabVisible(window.tab_widget.indexOf(window.tabs["requests"]))
    total = sum(company.DUE_BY_PROPERTY.values(), Decimal(0))
    assert window.sidebar.balance_label.text() == money_text(total, "USD")
    assert money_text(company.UNAPPLIED_BIRCH, "USD") in window.sidebar.credits_label.text()


def test_property_filter_changes_lists_and_balance(qtbot: QtBot, window: MainWindow) -> None:
    # PF-2, PF-3
    check_only(qtbot, window, "Birch Office Park")
    assert loaded_numbers(window, "proposals") == {"OPP-1003"}
    assert loaded_numbers(window, "invoices") == {"INV-20001", "INV-20002"}
    assert loaded_numbers(window, "requests") == set()
    assert window.tabs["requests"].empty_title.text() == "No requests"
    expected = company.DUE_BY_PROPERTY["Birch Office Park"]
    assert window.sidebar.balance_label.text() == money_text(expected, "USD")
    window.properties_model.set_checked([p.id for p in window.properties_model.properties], False)
    wait_idle(qtbot, window)
    assert window.tabs["invoices"].model.rowCount() == 0
    assert window.tabs["invoices"].empty_title.text() == "No property selected"
    # No amount rather than "$0.00", which read as "nothing owed" for properties nobody asked about.
    assert window.sidebar.balance_label.text() == "—"
    assert window.sidebar.balance_detail.text() == "No property selected"
    assert window.sidebar.credits_label.isHidden()


def test_property_click_applies_at_once(qtbot: QtBot, window: MainWindow) -> None:
    # PF-2: a click on a property reloads with the click itself, no debounce to wait through.
    sidebar = window.sidebar
    index = next(
        sidebar.proxy.index(row, 0)
        for row in range(sidebar.proxy.rowCount())
        if sidebar.proxy.index(row, 0).data() == "Birch Office Park"
    )
    rect = sidebar.list_view.visualRect(index)
    qtbot.mouseClick(sidebar.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.runner.busy
    wait_idle(qtbot, window)
    assert "OPP-1003" not in loaded_numbers(window, "proposals")
    assert not {"INV-20001", "INV-20002"} & loaded_numbers(window, "invoices")
    qtbot.mouseClick(sidebar.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.runner.busy
    wait_idle(qtbot, window)
    assert {"INV-20001", "INV-20002"} <= loaded_numbers(window, "invoices")


def test_tab_filters(qtbot: QtBot, window: MainWindow) -> None:
    # PR-2, VI-1, IN-2
    proposals = window.tabs["proposals"]
    proposals.show_combo.setCurrentIndex(proposals.show_combo.findData("rejected"))
    wait_idle(qtbot, window)
    assert loaded_numbers(window, "proposals") == {"OPP-1003"}
    visits = window.tabs["visits"]
    visits.show_combo.setCurrentIndex(visits.show_combo.findData("completed"))
    wait_idle(qtbot, window)
    statuses = {visits.model.data(visits.model.index(r, 0), Role.RECORD).status for r in range(visits.model.rowCount())}
    assert statuses == {"completed"}
    check_only(qtbot, window, "Cedar Villas")
    invoices = window.tabs["invoices"]
    invoices.show_combo.setCurrentIndex(invoices.show_combo.findData("due"))
    wait_idle(qtbot, window)
    assert invoices.empty_title.text() == "You are all paid up"


def test_lazy_paging_loads_more_than_one_page(qtbot: QtBot, window: MainWindow) -> None:
    tab = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(tab)
    assert tab.model.rowCount() == 100
    assert tab.model.total == company.MANY_INVOICES + 2
    assert tab.count_label.text() == f"{company.MANY_INVOICES + 2} invoices"
    for _ in range(3):
        tab.table.scrollToBottom()
        wait_idle(qtbot, window)
    assert tab.model.rowCount() == company.MANY_INVOICES + 2
    assert not tab.model.canFetchMore(tab.model.index(-1, -1))


def test_token_expiry_prompts_and_retries(qtbot: QtBot, window: MainWindow, live_portal: LivePortal) -> None:
    tab = window.tabs["visits"]
    window.tab_widget.setCurrentWidget(tab)
    check_only(qtbot, window, "Maple Court")
    old_token = window.session.token
    response = requests.post(
        live_portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {old_token}"}, timeout=5
    )
    assert response.status_code == 204
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.reauth_dialog is not None and window.reauth_dialog.isVisible(), timeout=10000)
    dialog = window.reauth_dialog
    assert dialog is not None
    assert dialog.subtitle_label.text().startswith("You were signed out of this portal"), "the portal's reason"
    assert dialog.email_edit.isReadOnly()
    assert dialog.email_edit.text() == company.MORGAN
    dialog.password_edit.setText(company.PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.reauth_dialog is None, timeout=10000)
    wait_idle(qtbot, window)
    assert window.tab_widget.currentWidget() is tab, "window state kept"
    assert [p.name for p in window.properties_model.properties if p.id in window.properties_model.selected_ids()] == [
        "Maple Court"
    ]
    assert tab.model.rowCount() == 1
    assert tab._error is None

    # An answer refusing the old token that comes back only now (sent before the new sign-in) is run
    # again with the new token: no second password prompt for what was just typed.
    stale = PortalClient(window.session.portal_url, token=old_token)
    with pytest.raises(UnauthorizedError) as refused:
        stale.me()
    assert (refused.value.refused_token, refused.value.code) == (old_token, "session_revoked")
    retried: list[bool] = []
    window._session_expired(lambda: retried.append(True), lambda: pytest.fail("gave up"), refused.value)
    assert retried == [True] and window.reauth_dialog is None
    # A token this window never had (a session it no longer shows, e.g. another branch's): running
    # the call again would be refused again, round and round; it fails as it is.
    foreign = PortalClient(window.session.portal_url, token="not-this-windows-token")
    with pytest.raises(UnauthorizedError) as other:
        foreign.me()
    gave_up: list[bool] = []
    window._session_expired(lambda: pytest.fail("retried"), lambda: gave_up.append(True), other.value)
    assert gave_up == [True] and window.reauth_dialog is None


def test_branch_switch_signs_in_to_the_other_portal(qtbot: QtBot, window: MainWindow, live_portal: LivePortal) -> None:
    # AC-2, RQ-5
    west = next(b for b in window.session.branches if b.slug == "west")
    window.switch_branch(west)
    qtbot.waitUntil(lambda: window.session.portal_url == live_portal.portal_url("west"), timeout=10000)
    wait_idle(qtbot, window)
    assert [p.name for p in window.properties_model.properties] == ["Willow Farm"]
    assert loaded_numbers(window, "invoices") == {"INV-30001"}
    assert not window.tab_widget.isTabVisible(window.tab_widget.indexOf(window.tabs["requests"]))
    assert "West Branch" in window.branch_button.text()


def test_branch_menu_ticks_only_the_branch_shown(qtbot: QtBot, window: MainWindow) -> None:  # AC-2
    """Choosing the current branch again, or cancelling the sign-in another branch asks for,
    leaves exactly the shown branch ticked."""

    def ticked() -> list[str]:
        return [action.text() for action in window.branch_menu.actions() if action.isChecked()]

    shown = window.session.config.branch.name
    assert ticked() == [shown]
    current = next(a for a in window.branch_menu.actions() if a.text() == shown)
    current.trigger()
    assert ticked() == [shown]

    window.session.password = None  # so the other branch asks for the password
    other = next(a for a in window.branch_menu.actions() if a.text() != shown)

    cancelled: list[SignInDialog] = []

    def cancel_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):  # the other branch's password is read from the keyring first
            QTimer.singleShot(50, window, cancel_sign_in)  # no longer once the window is gone
            return
        cancelled.append(dialog)
        dialog.reject()

    QTimer.singleShot(50, window, cancel_sign_in)
    other.trigger()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=15000)  # the sign-in it asked for, cancelled
    assert window.session.config.branch.name == shown
    assert ticked() == [shown]


def test_keyboard_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_tab().spec.key == "invoices"
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.tabs["invoices"].search_edit


def test_sign_out_revokes_and_clears_keyring(
    qtbot: QtBot, window: MainWindow, live_portal: LivePortal, memory_keyring: MemoryKeyring
) -> None:
    token = window.session.token
    window.accounts.remember_portal(window.session)
    window.accounts.store_secrets(window.session, remember_password=True)
    assert memory_keyring._items
    with qtbot.waitSignal(window.signed_out, timeout=10000):
        window.sign_out()
    assert not [key for key in memory_keyring._items if key[0] == SERVICE]
    answer = requests.get(live_portal.api() + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 401


def test_smoke_run_writes_pngs(tmp_path: Path) -> None:
    if not (ROOT / "server" / "cli.py").exists():
        pytest.skip("the portal server is not in this checkout yet")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PORTAL_DESK_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "main.py", "--demo", "--smoke", str(tmp_path / "shots")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,  # a loaded CI machine: the demo server starts, then eight screens
    )
    assert result.returncode == 0, result.stderr
    timings = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(timings["tabs"]) == {"proposals", "visits", "invoices", "requests"}
    pngs = {p.name for p in (tmp_path / "shots").glob("*.png")}
    assert {"sign-in.png", "proposals.png", "visits.png", "invoices.png", "requests.png"} <= pngs
    assert {"visits-completed.png", "visit-detail.png", "request-detail.png", "new-request.png"} <= pngs
    assert {"proposal-detail.png", "proposal-pdf.png", "sign-dialog.png"} <= pngs
    assert timings["proposal"]["view_proposal_to_first_page_s"] > 0
    assert {"find-customer.png", "assist.png"} <= pngs
    assert set(timings["staff"]) == {"search_s", "assist_s"}
    assert {"invoice-detail.png", "pay-invoice.png", "manage-payments.png"} <= pngs
    assert "offline.png" in pngs
    assert timings["offline_banner_s"] > 0
    assert json.loads((tmp_path / "shots" / "smoke.json").read_text())["ok"] is True


def test_the_upcoming_visits_are_asked_again_at_the_branch_midnight(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:  # VI-1
    """At the branch's midnight the upcoming window moves a day (the server counts it in the
    branch's zone): yesterday's visits must leave the list, not stay there worded "Yesterday"."""
    loads: list[str] = []
    load_tab = window.load_tab
    monkeypatch.setattr(window, "load_tab", lambda key: (loads.append(key), load_tab(key))[-1])
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(window.branch_day, "_clock", lambda: tomorrow)
    window.branch_day.check()
    assert loads == ["visits"]
    wait_idle(qtbot, window)
    assert window.tabs["visits"]._error is None
