"""Office staff's "Recent customers" survive a restart, against the real server: kept in settings for
the branch's portal and the staff member signed in, newest first, capped, with no more of the
customer than the list shows; one the server no longer lets them open (404) is taken off the list
with a sentence instead of breaking it (SA-1, SA-2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.records import StaffContact
from app.services.session import PortalSession, sign_in
from app.services.settings import RECENT_CUSTOMERS_KEPT, AppSettings, RecentCustomer
from app.views.shell import AppShell
from app.views.staff_views import FindCustomerWindow
from tests.client import company
from tests.client.live_server import LivePortal
from tests.client.test_staff_gui import answer_reason, open_assist

pytestmark = pytest.mark.gui

WAIT_MS = 15000
GONE = RecentCustomer(999_999, "Gone Customer", "gone@example.com")


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


def settings_at(path: Path) -> AppSettings:
    """The settings a start of the app reads: a new QSettings over the same file."""
    return AppSettings(QSettings(str(path), QSettings.Format.IniFormat))


@pytest.fixture
def staff_session(live_portal: LivePortal) -> PortalSession:
    return sign_in(live_portal.portal_url("east"), company.OFFICE, company.PASSWORD)


@pytest.fixture
def started() -> Iterator[list[AppShell]]:
    shells: list[AppShell] = []
    yield shells
    for shell in shells:
        for window in (shell.window, shell.find_window, shell.dialog):
            if window is not None:
                window.close()
        shell.window = shell.find_window = shell.dialog = None


def start_staff(shells: list[AppShell], settings: AppSettings, session: PortalSession) -> FindCustomerWindow:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = AppShell(app, Accounts(settings), None, None)
    app.setQuitOnLastWindowClosed(False)  # the shell asks for True; tests close windows one by one
    shells.append(shell)
    shell.open_window(session, remember=False)
    assert shell.find_window is not None
    return shell.find_window


def end_assist(qtbot: QtBot, shell: AppShell) -> None:
    window = shell.window
    assert window is not None
    window.end_assist()
    qtbot.waitUntil(lambda: shell.window is None, timeout=WAIT_MS)


def listed(find: FindCustomerWindow) -> list[str]:
    return [find.recent_list.item(row).text() for row in range(find.recent_list.count())]


def test_recent_customers_come_back_after_a_restart_newest_first(
    qtbot: QtBot,
    live_portal: LivePortal,
    settings_file: Path,
    staff_session: PortalSession,
    started: list[AppShell],
) -> None:  # SA-1, SA-2
    find = start_staff(started, settings_at(settings_file), staff_session)
    for query in ("Lockout Lodge", "Birch Office Park"):  # Lee Lockout, then Morgan Many
        open_assist(qtbot, started[-1], query)
        end_assist(qtbot, started[-1])
    assert [c.name for c in find.recent] == ["Morgan Many", "Lee Lockout"]
    find.close()  # what quitting does to it

    again = start_staff(
        started, settings_at(settings_file), sign_in(staff_session.portal_url, company.OFFICE, company.PASSWORD)
    )
    assert listed(again) == [f"Morgan Many\n{company.MORGAN}", f"Lee Lockout\n{company.LOCKOUT}"]
    assert again.recent_stack.currentWidget() is again.recent_list
    on_disk = json.loads(str(QSettings(str(settings_file), QSettings.Format.IniFormat).value("staff/recent_customers")))
    assert [sorted(c) for c in on_disk[f"{company.OFFICE} {staff_session.portal_url}"]] == [
        ["email", "id", "name"]
    ] * 2, "no phone numbers or properties on disk"

    # Opened again from the list, the customer moves to the top, refreshed by the portal's answer.
    answer_reason(qtbot, again, "Calling back")
    again.recent_list.itemActivated.emit(again.recent_list.item(1))
    qtbot.waitUntil(lambda: started[-1].window is not None, timeout=WAIT_MS)
    end_assist(qtbot, started[-1])
    assert [c.name for c in again.recent] == ["Lee Lockout", "Morgan Many"]
    assert again.recent[0].properties, "the assist's answer brings the properties back"
    assert [c.name for c in settings_at(settings_file).recent_customers(staff_session.portal_url, company.OFFICE)] == [
        "Lee Lockout",
        "Morgan Many",
    ]


def test_each_staff_sign_in_and_branch_has_its_own_list(settings_file: Path) -> None:
    settings = settings_at(settings_file)
    east, west = "https://portal.example.com/portal/east", "https://portal.example.com/portal/west"
    settings.set_recent_customers(east, "Olive@Example.com", [GONE])
    assert settings.recent_customers(east, "olive@example.com") == [GONE], "the same sign-in, whatever the case"
    assert settings.recent_customers(west, "olive@example.com") == []
    assert settings.recent_customers(east, "riley@example.com") == []
    many = [RecentCustomer(n, f"Customer {n}", f"c{n}@example.com") for n in range(RECENT_CUSTOMERS_KEPT + 3)]
    settings.set_recent_customers(west, "olive@example.com", many)
    assert settings.recent_customers(west, "olive@example.com") == many[:RECENT_CUSTOMERS_KEPT]
    assert settings.recent_customers(east, "olive@example.com") == [GONE]
    for n in range(10):  # ten more sign-ins (the demo portal's address changes every run)
        settings.set_recent_customers(f"http://127.0.0.1:{9000 + n}/portal/north", "olive@example.com", [GONE])
    settings.set_recent_customers(west, "olive@example.com", many[:1])
    assert settings.recent_customers(east, "olive@example.com") == [], "the oldest lists make room"
    assert settings.recent_customers(west, "olive@example.com") == many[:1]
    assert settings.recent_customers("http://127.0.0.1:9009/portal/north", "olive@example.com") == [GONE]


@pytest.mark.parametrize("written", ["not json", '{"olive@example.com x": [{"id": "seven"}]}', "[1, 2]"])
def test_a_damaged_list_in_settings_is_an_empty_one(settings_file: Path, written: str) -> None:
    settings = settings_at(settings_file)
    QSettings(str(settings_file), QSettings.Format.IniFormat).setValue("staff/recent_customers", written)
    settings._store.sync()
    assert settings.recent_customers("x", "olive@example.com") == []
    settings.set_recent_customers("y", "olive@example.com", [GONE])  # and writing it again works
    assert settings.recent_customers("y", "olive@example.com") == [GONE]


def test_a_customer_the_portal_no_longer_knows_is_taken_off_the_list(
    qtbot: QtBot,
    live_portal: LivePortal,
    settings_file: Path,
    staff_session: PortalSession,
    started: list[AppShell],
) -> None:  # SA-1, SA-2
    """Removed from the back office since (or moved to a branch this staff member does not serve):
    the portal answers 404, and the list carries on without them."""
    west_morgan = sign_in(live_portal.portal_url("west"), company.MORGAN, company.PASSWORD)
    not_visible = RecentCustomer(west_morgan.user.id, "Morgan Many (West)", company.MORGAN)
    west_morgan.client.close()
    settings = settings_at(settings_file)
    find = start_staff(started, settings, staff_session)
    open_assist(qtbot, started[-1], "Lockout Lodge")
    end_assist(qtbot, started[-1])
    lee = RecentCustomer(find.recent[0].id, find.recent[0].name, find.recent[0].email)
    find.close()
    settings.set_recent_customers(staff_session.portal_url, company.OFFICE, [GONE, lee, not_visible])

    again = start_staff(
        started, settings_at(settings_file), sign_in(staff_session.portal_url, company.OFFICE, company.PASSWORD)
    )
    assert [c.name for c in again.recent] == [GONE.name, "Lee Lockout", not_visible.name]
    for gone in (GONE, not_visible):
        answer_reason(qtbot, again, "Calling back")
        row = next(
            r for r in range(again.recent_list.count()) if again.recent_list.item(r).text().startswith(gone.name)
        )
        again.recent_list.itemActivated.emit(again.recent_list.item(row))
        qtbot.waitUntil(lambda: not again._opening and not again.runner.busy, timeout=WAIT_MS)
        assert started[-1].window is None, "nothing opened"
        assert again.status_label.text() == (
            f"{gone.name} is no longer a customer of this branch you can open, so they were taken off Recent customers."
        )
    assert [c.name for c in again.recent] == ["Lee Lockout"]
    assert listed(again) == [f"Lee Lockout\n{company.LOCKOUT}"]
    assert settings_at(settings_file).recent_customers(staff_session.portal_url, company.OFFICE) == [lee]
    # The one left still opens.
    open_assist(qtbot, started[-1], "Lockout Lodge")
    assert isinstance(again.recent[0], StaffContact) and again.recent[0].name == "Lee Lockout"
