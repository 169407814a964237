"""The window through a flaky connection, against a real server process that the tests stop,
freeze and start again: the banner, the out-of-date markers, the automatic reconnection, forms
that keep what was typed, and a session that ends in the middle of an action."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.models.roles import Role
from app.services.accounts import Accounts
from app.services.connection import ConnectionMonitor, version_probe
from app.services.errors import ServerError
from app.services.portal_client import PortalClient
from app.services.session import sign_in
from app.services.settings import AppSettings
from app.services.tasks import is_connection_problem
from app.views import theme
from app.views.account_dialogs import AboutDialog, ChangePasswordDialog
from app.views.connection_banner import ConnectionBanner
from app.views.main_window import MainWindow
from app.views.staff_views import FindCustomerWindow
from app.views.visits_tab import VisitsTab
from tests.client import company
from tests.client.fault_server import FaultServer, answer, problem, sequence
from tests.client.live_server import ServerProcess, _server_available
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving
from tests.client.test_platform_fit import SMALL_SCREEN, least_size, select_rows, toolbar_overlaps
from tests.client.test_proposals_gui import draw, open_sign_dialog, zigzag

pytestmark = pytest.mark.gui

QUICK_PROBES = (0.2, 0.4, 0.8)
VERSION = {"server_version": "9.9.9", "api_version": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A portal of our own: these tests take it down, which other modules' tests must not see."""
    if not _server_available():
        pytest.skip("the portal server is not in this checkout yet")
    process = ServerProcess(tmp_path_factory.mktemp("restartable-server"))
    process.load(company.build(date.today()))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def running(server: ServerProcess) -> ServerProcess:
    server.start()  # a test that failed half-way may have left it stopped
    return server


def make_window(qtbot: QtBot, server: ServerProcess, tmp_path: Path, **options: object) -> MainWindow:
    session = sign_in(server.portal.portal_url("east"), company.MORGAN, company.PASSWORD)
    accounts = Accounts(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    accounts.remember_portal(session)
    accounts.store_secrets(session, remember_password=False)
    window = MainWindow(session, accounts, **options)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    wait_idle(qtbot, window)
    return window


def wait_idle(qtbot: QtBot, window: MainWindow, timeout: int = 15000) -> None:
    qtbot.wait(10)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=timeout)


@pytest.fixture
def window(qtbot: QtBot, running: ServerProcess, tmp_path: Path) -> Iterator[MainWindow]:
    main = make_window(qtbot, running, tmp_path, probe_delays=QUICK_PROBES)
    yield main
    main.runner.set_unauthorized_handler(None)


def tabs_with_rows(window: MainWindow) -> list[str]:
    return [key for key in window._visible_tab_keys() if window.tabs[key].model.rowCount() > 0]


def current_record_id(window: MainWindow, key: str) -> object:
    return window.tabs[key].table.selectionModel().currentIndex().data(Role.ID)


def test_outage_shows_banner_keeps_data_marked_stale_and_recovers_by_itself(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    proposals, invoices = window.tabs["proposals"], window.tabs["invoices"]
    qtbot.keyClicks(proposals.search_edit, "OPP-1002")
    invoices.table.selectRow(3)
    selected = current_record_id(window, "invoices")
    rows_before = {key: window.tabs[key].model.rowCount() for key in tabs_with_rows(window)}
    balance_before = window.sidebar.balance_label.text()
    assert set(rows_before) >= {"proposals", "invoices", "requests"}
    assert not window.banner.isVisible()

    running.stop()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    wait_idle(qtbot, window)
    assert window.monitor.offline
    # In the words the customer knows (the branch's name from sign-in), not "127.0.0.1:53211".
    branch = window.session.config.branch.name
    assert window.banner.message_label.text().startswith(f"<b>Cannot reach the {branch} portal since ")
    assert "127.0.0.1" not in window.banner.message_label.accessibleName()
    assert "out of date" in window.banner.message_label.accessibleName()
    assert window.banner.retry_button.isVisible()
    for key, rows in rows_before.items():
        tab = window.tabs[key]
        assert tab.model.rowCount() == rows, f"{key} kept its rows"
        assert tab.stale and not tab.stale_label.isHidden(), f"{key} marked as out of date"
        assert tab.stale_label.text().startswith("Not up to date · as loaded at ")
        assert tab.stale_label.toolTip().endswith("The list refreshes by itself once the portal answers again.")
        assert tab._error is None
    assert window.sidebar.balance_label.text() == balance_before
    assert window.sidebar.stale
    assert window.sidebar.balance_detail.text().startswith("Not up to date · as of ")
    assert proposals.search_edit.text() == "OPP-1002"
    assert proposals.proxy.rowCount() == 1

    running.start()  # no click: the monitor's own probe finds it and the window reloads
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15000)
    wait_idle(qtbot, window)
    assert not window.monitor.offline
    for key, rows in rows_before.items():
        tab = window.tabs[key]
        assert not tab.stale and tab.stale_label.isHidden()
        assert tab.model.rowCount() == rows
    assert not window.sidebar.stale
    assert window.sidebar.balance_label.text() == balance_before
    assert proposals.search_edit.text() == "OPP-1002", "typed search survives the reload"
    assert proposals.proxy.rowCount() == 1
    assert current_record_id(window, "invoices") == selected, "selection survives the reload"


def test_open_request_and_visit_windows_reload_when_the_portal_is_back(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:  # RQ-1, VI-2
    """The lists reloaded by themselves once the portal answered again, but an open request or visit
    window went on saying it could not reach the portal until the customer clicked Try again."""
    request = window.work_screens.open_request(window.tabs["requests"].model.record(0))
    visit = window.work_screens.open_visit(window.tabs["visits"].model.record(0))
    wait_idle(qtbot, window)
    assert request.detail is not None and visit.detail is not None
    running.stop()
    request.load()
    visit.load()
    qtbot.waitUntil(lambda: request.problem is not None and visit.problem is not None, timeout=10000)
    assert window.monitor.offline
    running.start()  # no click
    qtbot.waitUntil(lambda: not window.monitor.offline, timeout=15000)
    wait_idle(qtbot, window)
    assert request.problem is None and "Cannot reach" not in request.browser.toPlainText()
    assert visit.problem is None and not visit.retry_button.isVisible()


def test_retry_reconnects_at_once(qtbot: QtBot, running: ServerProcess, tmp_path: Path) -> None:
    window = make_window(qtbot, running, tmp_path, probe_delays=(120.0,))
    running.stop()
    window.refresh()
    qtbot.waitUntil(lambda: window.monitor.offline, timeout=10000)
    assert window.monitor.seconds_until_probe() is not None
    assert window.monitor.seconds_until_probe() > 100  # type: ignore[operator]
    running.start()
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=10000)
    wait_idle(qtbot, window)
    assert not any(tab.stale for tab in window.tabs.values())


class FailingLists(Proxy):
    """Forwards everything but the invoice list while `failing`: that one gets the portal's 500."""

    def __init__(self, upstream: str) -> None:
        self.failing = False
        super().__init__(upstream, _FailingHandler)


class _FailingHandler(QuietHandler):
    server: FailingLists

    def do_GET(self) -> None:
        if self.server.failing and self.path.split("?")[0].endswith("/invoices"):
            body = b'{"status": 500, "code": "internal_error", "detail": "Something went wrong on the portal."}'
            reply(self, 500, {"Content-Type": "application/problem+json"}, body)
            return
        answer = relay(self, self.server.upstream)
        reply(self, answer.status_code, answer.headers, answer.content)

    do_POST = do_GET  # noqa: N815


def test_a_list_the_portal_refused_to_reload_says_to_refresh_not_to_wait(
    qtbot: QtBot, running: ServerProcess, tmp_path: Path
) -> None:
    """Only a portal that does not answer is watched and reloaded from; after a refusal the list said
    it would refresh by itself, and stayed out of date."""
    with serving(FailingLists(running.portal.origin)) as proxy:
        session = sign_in(f"{proxy.origin}/portal/east", company.MORGAN, company.PASSWORD)
        accounts = Accounts(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
        window = MainWindow(session, accounts)
        qtbot.addWidget(window)
        window.show()
        wait_idle(qtbot, window)
        invoices = window.tabs["invoices"]
        assert invoices.model.rowCount() > 0
        proxy.failing = True
        window.refresh()
        wait_idle(qtbot, window)
        assert invoices.stale and not window.monitor.offline
        # (A marker shortened to "Not up to date" in a narrow window has its whole text on the first line.)
        assert "Something went wrong on the portal." in invoices.stale_label.toolTip().splitlines()[-2:]
        assert "refreshes by itself" not in invoices.stale_label.toolTip()
        assert invoices.stale_label.toolTip().endswith("to try again.")
        session.client.close()


def test_a_changed_filter_while_offline_does_not_show_the_old_rows(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    invoices = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(invoices)
    running.stop()
    invoices.show_combo.setCurrentIndex(invoices.show_combo.findData("paid"))
    qtbot.waitUntil(lambda: window.monitor.offline, timeout=10000)
    wait_idle(qtbot, window)
    assert invoices.model.rowCount() == 0, "rows of the previous filter would be wrong, not just old"
    assert invoices.empty_title.text() == "Could not load invoices"
    assert invoices.retry_button.isVisible()
    running.start()
    qtbot.waitUntil(lambda: not window.monitor.offline, timeout=15000)
    wait_idle(qtbot, window)
    assert invoices.model.rowCount() > 0
    assert all(invoices.model.record(row).status == "paid" for row in range(invoices.model.rowCount()))


def test_the_banner_names_the_portal_by_its_address_only_when_it_has_no_name(qtbot: QtBot) -> None:
    monitor = ConnectionMonitor(lambda: None)
    banner = ConnectionBanner(monitor, "http://127.0.0.1:53211/portal/east", "Greenleaf  North")
    qtbot.addWidget(banner)
    monitor.setParent(banner)
    monitor.lost(RuntimeError("no answer"))
    assert banner.message_label.text().startswith("<b>Cannot reach the Greenleaf North portal since ")
    banner.set_portal("http://127.0.0.1:53211/portal/west", "")
    assert banner.message_label.text().startswith("<b>Cannot reach the portal at 127.0.0.1:53211 since ")


def test_while_the_portal_is_away_the_window_still_fits_a_small_laptop_screen(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    """ "Not up to date · as loaded at 6:44 PM" beside "Pay selected (2)" held the window at 1229 px:
    the markers shorten instead ("Not up to date", the whole text in the tooltip)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply_theme(app, "light")  # measured with the app's style sheet: its padding counts
    try:
        invoices = window.tabs["invoices"]
        window.tab_widget.setCurrentWidget(invoices)
        qtbot.waitUntil(lambda: invoices.proxy.rowCount() >= 2, timeout=10000)
        select_rows(invoices, 2)
        running.stop()
        qtbot.keyClick(window, Qt.Key.Key_F5)
        qtbot.waitUntil(lambda: window.banner.isVisible() and invoices.stale, timeout=10000)
        wait_idle(qtbot, window)
        least = least_size(window)
        assert least.width() <= SMALL_SCREEN.width() and least.height() <= SMALL_SCREEN.height()
        window.resize(SMALL_SCREEN)
        qtbot.waitUntil(lambda: window.size() == SMALL_SCREEN, timeout=2000)
        qtbot.wait(20)
        assert toolbar_overlaps(invoices) == []
        marker = invoices.stale_label
        assert marker.text().startswith("Not up to date · as loaded at "), "the whole text, for screen readers"
        if marker.shown_text() != marker.text():
            assert marker.shown_text() == "Not up to date"
            assert marker.toolTip().startswith(marker.text())
    finally:
        theme.apply_theme(app, "light")
        app.setStyleSheet("")
        app.setPalette(app.style().standardPalette())


def test_show_older_while_offline_does_not_label_the_30_days_rows_as_older(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    """The rows of the last 30 days, kept as "not up to date", were counted as "in the last 90 days"."""
    visits = window.tabs["visits"]
    assert isinstance(visits, VisitsTab)
    window.tab_widget.setCurrentWidget(visits)
    visits.show_combo.setCurrentIndex(visits.show_combo.findData("completed"))
    wait_idle(qtbot, window)
    assert visits.model.rowCount() > 0 and visits.count_label.text().endswith("in the last 30 days")
    running.stop()
    visits.show_older()
    qtbot.waitUntil(lambda: window.monitor.offline, timeout=10000)
    wait_idle(qtbot, window)
    assert visits.model.rowCount() == 0, "the 30 days' rows are not the 90 days' visits"
    assert visits.empty_title.text() == "Could not load visits"
    assert "90 days" not in visits.count_label.text()
    running.start()
    qtbot.waitUntil(lambda: not window.monitor.offline, timeout=15000)
    wait_idle(qtbot, window)
    assert visits.model.rowCount() > 0 and visits.count_label.text().endswith("in the last 90 days")


@pytest.mark.skipif(sys.platform == "win32", reason="freezes the server with SIGSTOP")
def test_slow_portal_says_so_and_clears_when_it_answers(qtbot: QtBot, running: ServerProcess, tmp_path: Path) -> None:
    window = make_window(qtbot, running, tmp_path, slow_after=0.5)
    assert running.process is not None
    os.kill(running.process.pid, signal.SIGSTOP)
    try:
        window.refresh()
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
        assert window.monitor.slow and not window.monitor.offline
        assert "is slow to answer" in window.banner.message_label.text()
        assert window.busy_bar.isVisible()
    finally:
        os.kill(running.process.pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15000)
    wait_idle(qtbot, window)
    assert not window.monitor.slow
    assert not any(tab.stale for tab in window.tabs.values())


@pytest.mark.skipif(sys.platform == "win32", reason="freezes the server with SIGSTOP")
def test_sign_out_while_the_portal_hangs_says_so_and_signs_out_here(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    """The window greyed out for the client's whole 20 s timeout with no word; now it says
    "Signing out…", forgets the token at once and is back at sign-in within seconds."""
    session = window.session
    window.accounts.remember_portal(session)
    window.accounts.store_secrets(session, remember_password=True)  # "Remember me": a token to forget
    assert window.accounts.stored_token(session.portal_url, session.email) == session.token
    assert running.process is not None
    os.kill(running.process.pid, signal.SIGSTOP)
    try:
        with qtbot.waitSignal(window.signed_out, timeout=8000):
            window.sign_out()
            assert window.statusBar().currentMessage() == "Signing out…"
        # Forgotten on the keyring's lane, which the hanging portal does not hold up.
        assert window.accounts.stored_token(session.portal_url, session.email) is None
    finally:
        os.kill(running.process.pid, signal.SIGCONT)


@pytest.mark.skipif(sys.platform == "win32", reason="freezes the server with SIGSTOP")
def test_staff_sign_out_while_the_portal_hangs_says_so_and_signs_out_here(
    qtbot: QtBot, running: ServerProcess, tmp_path: Path
) -> None:
    staff = sign_in(running.portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    accounts = Accounts(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    accounts.remember_portal(staff)
    accounts.store_secrets(staff, remember_password=True)  # "Remember me": a token to forget
    find = FindCustomerWindow(staff, accounts=accounts, remember_password=True)
    qtbot.addWidget(find)
    find.show()
    assert running.process is not None
    os.kill(running.process.pid, signal.SIGSTOP)
    try:
        with qtbot.waitSignal(find.signed_out, timeout=8000):
            qtbot.mouseClick(find.sign_out_button, Qt.MouseButton.LeftButton)
            assert find.sign_out_button.text() == "Signing out…"
            assert find.status_label.text() == "Signing out…"
        assert accounts.stored_token(staff.portal_url, staff.email) is None
    finally:
        os.kill(running.process.pid, signal.SIGCONT)


@pytest.mark.skipif(sys.platform == "win32", reason="freezes the server with SIGSTOP")
def test_switching_branch_waits_for_a_signature_being_sent(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:  # AC-2, PR-3
    """Switching branch closes the old branch's windows, but not one still waiting for the portal:
    closed, the signature's answer would go nowhere. The switch does not happen and says why."""
    east = window.session.portal_url
    proposal = window.open_proposal(
        next(p.id for p in window.session.client.proposals("all").items if p.number == "OPP-1001")
    )
    qtbot.waitUntil(lambda: proposal.detail is not None, timeout=15000)
    sign = open_sign_dialog(qtbot, proposal)
    draw(qtbot, sign.pad, zigzag())
    sign.agree_check.setChecked(True)
    west = next(b for b in window.session.branches if b.slug == "west")
    assert running.process is not None
    os.kill(running.process.pid, signal.SIGSTOP)
    try:
        qtbot.mouseClick(sign.sign_button, Qt.MouseButton.LeftButton)
        assert sign.submitting
        window.switch_branch(west)
        assert window.session.portal_url == east
        assert sign.isVisible() and proposal.isVisible()
        assert window.statusBar().currentMessage() == (
            "“Sign proposal OPP-1001” is waiting for the portal. Switch branch once it is done."
        )
    finally:
        os.kill(running.process.pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: proposal.sign_dialog is None, timeout=15000)  # signed: the answer arrived
    assert proposal.isVisible()


def filled_password_change(qtbot: QtBot, window: MainWindow, new_password: str) -> ChangePasswordDialog:
    """Change password, shown and filled in (not yet sent)."""
    dialog = ChangePasswordDialog(window.session, window.runner, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.current_edit.setText(company.PASSWORD)
    dialog.new_edit.setText(new_password)
    dialog.confirm_edit.setText(new_password)
    return dialog


def test_a_form_keeps_its_input_when_the_portal_is_down_and_sends_it_later(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    new_password = "a-brand-new-password-1"
    dialog = filled_password_change(qtbot, window, new_password)
    running.stop()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=10000)
    assert dialog.error_label.text().startswith("Cannot reach the portal at 127.0.0.1")
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert (dialog.current_edit.text(), dialog.new_edit.text(), dialog.confirm_edit.text()) == (
        company.PASSWORD,
        new_password,
        new_password,
    )
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)

    running.start()
    qtbot.waitUntil(lambda: not window.monitor.offline, timeout=15000)
    try:
        with qtbot.waitSignal(dialog.accepted, timeout=10000):
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert dialog.new_password == new_password
    finally:
        restore_password(running, new_password)


def test_session_expiry_mid_action_prompts_then_completes_the_action(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:
    new_password = "another-new-password-1"
    response = requests.post(
        running.portal.api() + "/auth/logout", headers={"Authorization": f"Bearer {window.session.token}"}, timeout=5
    )
    assert response.status_code == 204
    dialog = filled_password_change(qtbot, window, new_password)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.reauth_dialog is not None and window.reauth_dialog.isVisible(), timeout=10000)
    reauth = window.reauth_dialog
    assert reauth is not None
    assert dialog.isVisible() and dialog.new_edit.text() == new_password, "the action's form waits, intact"
    reauth.password_edit.setText(company.PASSWORD)
    try:
        with qtbot.waitSignal(dialog.accepted, timeout=15000):
            qtbot.mouseClick(reauth.sign_in_button, Qt.MouseButton.LeftButton)
        assert window.reauth_dialog is None
        # The change really happened on the server, with the renewed session.
        PortalClient(running.portal.portal_url("east")).login(company.MORGAN, new_password)
    finally:
        restore_password(running, new_password)


def test_escape_while_a_password_change_is_out_waits_for_its_answer(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:  # AC-3
    """Escape or Cancel closed the dialog while the change was out: the portal changed the password
    anyway, but the answer went nowhere, so this window kept the old one (and, with "Remember me",
    so did the keyring) and the next branch switch or start failed with the old password."""
    new_password = "a-third-new-password-1"
    dialog = filled_password_change(qtbot, window, new_password)
    try:
        with qtbot.waitSignal(dialog.finished, timeout=10000):
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
            assert dialog.save_button.text() == "Changing…"
            assert not dialog.cancel_button.isEnabled()
            assert all(edit.isReadOnly() for edit in (dialog.current_edit, dialog.new_edit, dialog.confirm_edit))
            qtbot.keyClick(dialog.new_edit, Qt.Key.Key_Escape)
            dialog.close()
            assert dialog.isVisible(), "the dialog waits for the portal's answer"
        assert dialog.result() == ChangePasswordDialog.DialogCode.Accepted
        assert dialog.new_password == new_password
    finally:
        restore_password(running, new_password)


def restore_password(server: ServerProcess, current: str) -> None:
    """Puts Morgan's password back for the module's other tests, if the change went through."""
    client = PortalClient(server.portal.portal_url("east"))
    try:
        client.login(company.MORGAN, current)
    except Exception:
        return
    client.change_password(current, company.PASSWORD)


# -- the monitor's schedule, against a local server answering 503 then 200 --------------


def test_monitor_backs_off_and_restores(qtbot: QtBot) -> None:
    fault = FaultServer().start()
    try:
        gateway_down = answer(503, {"message": "Service unavailable"})  # a proxy's: no problem of the portal's
        fault.route("GET", "/version", sequence(gateway_down, gateway_down, answer(200, VERSION)))
        monitor = ConnectionMonitor(version_probe(lambda: fault.portal_url), delays=(0.05, 0.1, 0.2))
        restored: list[bool] = []
        monitor.restored.connect(lambda: restored.append(True))
        unreachable = PortalClient(fault.portal_url, retries=0)
        fault.route("GET", "/config", gateway_down)
        try:
            unreachable.config()
        except Exception as error:
            monitor.lost(error)
        assert monitor.offline
        assert monitor.detail == "The portal ran into a problem. Please try again in a few minutes."
        qtbot.waitUntil(lambda: bool(restored), timeout=5000)
        assert not monitor.offline
        assert [hit for hit in fault.hits if hit[1] == "/version"] == [("GET", "/version")] * 3
    finally:
        fault.stop()


def test_a_problem_of_the_portals_own_is_an_answer_whatever_its_status() -> None:
    """A 503 "payment_pending" (the portal answered; its card processor did not) raised the "can't
    reach the portal" banner, as a proxy's 503 for a portal that is down does."""
    fault = FaultServer().start()
    try:
        client = PortalClient(fault.portal_url, retries=0)
        fault.route("GET", "/config", problem(503, "payment_pending", "The card processor did not confirm."))
        with pytest.raises(ServerError) as pending:
            client.config()
        assert not is_connection_problem(pending.value)
        for status in (502, 503, 504):
            fault.route("GET", "/config", answer(status, {"message": "Bad gateway"}))
            with pytest.raises(ServerError) as gateway:
                client.config()
            assert is_connection_problem(gateway.value), status
    finally:
        fault.stop()


def test_monitor_counts_a_refusal_as_an_answer(qtbot: QtBot) -> None:
    fault = FaultServer().start()
    try:
        fault.route("GET", "/version", problem(404, "not_found", "No such branch."))
        monitor = ConnectionMonitor(version_probe(lambda: fault.portal_url), delays=(0.05,))
        with qtbot.waitSignal(monitor.restored, timeout=5000):
            monitor.lost(RuntimeError("no answer"))
        assert not monitor.offline
    finally:
        fault.stop()


# -- About (AC-6) ----------------------------------------------------------------------


def about_dialog(qtbot: QtBot, window: MainWindow) -> AboutDialog:
    window.about_action.trigger()
    dialog = window.about_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.server_label.text() != "Checking…", timeout=15000)
    return dialog


def test_about_leaves_no_window_behind_and_is_raised_when_chosen_again(
    qtbot: QtBot, window: MainWindow, running: ServerProcess
) -> None:  # AC-6
    """Each About stayed alive, hidden, until the main window closed: one more dialog per opening."""
    for _ in range(3):
        dialog = about_dialog(qtbot, window)
        assert dialog.server_label.text().endswith("(API 1)")
        window.about_action.trigger()  # chosen again while open (the macOS app menu): the same one
        assert window.about_dialog is dialog
        assert len(window.findChildren(AboutDialog)) == 1
        dialog.close()
        qtbot.waitUntil(lambda: not window.findChildren(AboutDialog), timeout=5000)  # deleted, not hidden


def test_about_shows_folder_paths_as_they_are(
    qtbot: QtBot, window: MainWindow, running: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # AC-6
    """The folders went into rich text unescaped: "&lt;b&gt;" in a path showed as bold, "&" vanished."""
    folder = tmp_path / "Tom & Jerry's <b>data</b>"
    monkeypatch.setattr("app.views.account_dialogs.data_dir", lambda: folder)
    dialog = about_dialog(qtbot, window)
    label = next(label for label in dialog.findChildren(QLabel) if "Jerry" in label.text())
    shown = QTextDocument()
    shown.setHtml(label.text())
    assert shown.toPlainText() == str(folder)
    anchor = shown.begin().begin().fragment().charFormat().anchorHref()
    assert QUrl(anchor).toLocalFile() == str(folder), "the link opens that folder"
    dialog.close()


def test_about_says_in_a_sentence_when_the_portal_did_not_answer(
    qtbot: QtBot, window: MainWindow, running: ServerProcess, tmp_path: Path
) -> None:  # AC-6
    """It said "Unknown: " followed by the client's error, or "Unknown: no answer"."""
    running.stop()
    dialog = about_dialog(qtbot, window)
    assert dialog.server_label.text() == (
        "Not known right now: the portal did not answer. Check your internet connection, then open About again."
    )
    dialog.grab().save(str(tmp_path / "about-offline.png"))
    dialog.close()
