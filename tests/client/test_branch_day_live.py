"""The Visits list words its days by the branch's calendar (api.md: the branch's time_zone decides
"today"), against the real server, while the computer's own zone is a day away from the branch's."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from app.models.roles import Role
from app.services.accounts import Accounts
from app.services.session import sign_in
from app.services.settings import AppSettings
from app.views.main_window import MainWindow
from app.views.visits_tab import VisitsTab
from tests.client import company
from tests.client.live_server import running_portal

pytestmark = pytest.mark.gui

WAIT_MS = 15000
AHEAD, BEHIND = "Pacific/Kiritimati", "Etc/GMT+12"  # UTC+14 and UTC-12: 26 hours apart


def far_apart_zones(now: datetime) -> tuple[str, str]:
    """(the branch's zone, the computer's): on different days now, the branch's also on another
    day than UTC, and far from its midnight, so the test does not depend on when it runs."""
    return (AHEAD, BEHIND) if now.hour >= 11 else (BEHIND, AHEAD)


@pytest.fixture
def computer_zone() -> Iterator[Any]:
    """Sets the computer's zone (TZ) for the test, and puts the real one back."""
    before = os.environ.get("TZ")

    def use(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


class RecordingPainter(QPainter):
    """Keeps the texts the delegate draws (it calls drawText from Python, so this sees them)."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args: Any) -> None:  # Qt's name, overridden
        self.texts.append(str(args[-1]))
        super().drawText(*args)


def painted_day(tab: VisitsTab, row: int) -> list[str]:
    """What the date column of the visit in source `row` shows: its heading and how far away it is."""
    index = tab.proxy.mapFromSource(tab.model.index(row, tab.model.column_index("date")))
    option = QStyleOptionViewItem()
    option.initFrom(tab.table)
    option.rect = tab.table.visualRect(index)
    option.font = tab.table.font()
    image = QImage(option.rect.size().width() + 1, option.rect.bottom() + 1, QImage.Format.Format_ARGB32)
    painter = RecordingPainter(image)
    tab.table.itemDelegateForColumn(index.column()).paint(painter, option, index)
    painter.end()
    return painter.texts


def test_visits_list_says_today_by_the_branch_day_not_the_computer(
    qtbot: QtBot, tmp_path: Path, settings_store: QSettings, computer_zone: Any
) -> None:  # VI-1
    branch_zone, own_zone = far_apart_zones(datetime.now(UTC))
    branch_today = datetime.now(ZoneInfo(branch_zone)).date()
    document = company.build(branch_today)
    document["branches"][0]["time_zone"] = branch_zone  # east
    for key, prop, day in (("v-today", "maple", branch_today), ("v-tomorrow", "cedar", branch_today + timedelta(1))):
        document["visits"].append(
            {"key": key, "property": prop, "date": day.isoformat(), "status": "scheduled", "services": [], "notes": []}
        )
    with running_portal(tmp_path / "portal", document) as portal:
        computer_zone(own_zone)
        assert date.today() != branch_today, "the computer's day is not the branch's"
        session = sign_in(portal.portal_url("east"), company.MORGAN, company.PASSWORD)
        assert session.config.branch.time_zone == branch_zone
        accounts = Accounts(AppSettings(settings_store))
        accounts.remember_portal(session)
        accounts.store_secrets(session, remember_password=False)
        window = MainWindow(session, accounts)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
        tab = window.tabs["visits"]
        assert isinstance(tab, VisitsTab)
        window.tab_widget.setCurrentWidget(tab)
        qtbot.waitUntil(lambda: tab.model.rowCount() > 0, timeout=WAIT_MS)
        rows = {tab.model.data(tab.model.index(r, 0), Role.RECORD).date: r for r in range(tab.model.rowCount())}
        assert painted_day(tab, rows[branch_today])[-1] == "Today"
        assert painted_day(tab, rows[branch_today + timedelta(1)])[-1] == "Tomorrow"
        assert painted_day(tab, rows[branch_today + timedelta(3)])[-1] == "In 3 days"

        dialog = window.work_screens.open_visit(tab.model.record(rows[branch_today]))
        assert "Today" in dialog.browser.toPlainText()
        window.runner.set_unauthorized_handler(None)


def test_detail_windows_read_times_on_the_branch_clock_and_name_its_zone(
    qtbot: QtBot, tmp_path: Path, settings_store: QSettings, computer_zone: Any
) -> None:  # RQ-1, VI-2, SA-2
    """A request the list says was opened on Nov 20 (New York's day) said "opened Nov 21 at 5:00 AM"
    in its window on a computer in Auckland: the computer's clock, unnamed. The window now reads the
    branch's clock, and says so, as office staff on the phone read it."""
    document = company.build(date.today())
    document["branches"][0]["time_zone"] = "America/New_York"
    opened = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 11:00 AM EST; 5:00 AM on the 21st in Auckland
    request = next(r for r in document["requests"] if r["number"] == company.REQUESTER_REQUEST)
    request["created_at"] = opened.isoformat()
    for minutes, comment in enumerate(request["comments"], start=1):
        comment["created_at"] = (opened + timedelta(minutes=30 * minutes)).isoformat()
    noted = next(v for v in document["visits"] if v["notes"])
    for note in noted["notes"]:
        note["created_at"] = (opened + timedelta(hours=2)).isoformat()
    with running_portal(tmp_path / "portal", document) as portal:
        computer_zone("Pacific/Auckland")
        session = sign_in(portal.portal_url("east"), company.REQUESTER, company.PASSWORD)
        accounts = Accounts(AppSettings(settings_store))
        accounts.remember_portal(session)
        accounts.store_secrets(session, remember_password=False)
        window = MainWindow(session, accounts)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
        tab = window.tabs["requests"]
        window.tab_widget.setCurrentWidget(tab)
        qtbot.waitUntil(lambda: tab.model.rowCount() > 0, timeout=WAIT_MS)
        row = next(r for r in range(tab.model.rowCount()) if tab.model.record(r).number == company.REQUESTER_REQUEST)
        listed = tab.model.data(tab.model.index(row, tab.model.column_index("created_at")))
        assert listed == "Nov 20, 2026"

        dialog = window.work_screens.open_request(tab.model.record(row))
        qtbot.waitUntil(lambda: dialog.detail is not None, timeout=WAIT_MS)
        page = dialog.browser.toPlainText().replace("\u202f", " ").replace("\u00a0", " ")
        assert f"opened {listed} at 11:00 AM EST" in page
        assert "Nov 20, 2026 at 11:30 AM EST" in page  # the first reply
        assert "5:00 AM" not in page and "Nov 21" not in page

        visits = window.tabs["visits"]
        assert isinstance(visits, VisitsTab)
        window.tab_widget.setCurrentWidget(visits)
        visits.show_combo.setCurrentIndex(visits.show_combo.findData("completed"))
        qtbot.waitUntil(lambda: not window.runner.busy and visits.model.rowCount() > 0, timeout=WAIT_MS)
        visit_row = next(
            r for r in range(visits.model.rowCount()) if visits.model.record(r).date.isoformat() == noted["date"]
        )
        visit_dialog = window.work_screens.open_visit(visits.model.record(visit_row))
        qtbot.waitUntil(lambda: visit_dialog.detail is not None, timeout=WAIT_MS)
        assert "Nov 20, 2026 at 1:00 PM EST" in visit_dialog.browser.toPlainText().replace("\u202f", " ").replace(
            "\u00a0", " "
        )
        window.runner.set_unauthorized_handler(None)
