"""Client test configuration.

Qt must see QT_QPA_PLATFORM before it is imported, and nothing may reach the real user's
keyring, QSettings or data folders, so all of that is arranged at import time, first.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
_HOME = Path(tempfile.mkdtemp(prefix="portal-desk-tests-"))
os.environ["PORTAL_DESK_HOME"] = str(_HOME)

import keyring  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.services.memory_keyring import MemoryKeyring  # noqa: E402
from main import GIL_TURN_S  # noqa: E402

sys.setswitchinterval(GIL_TURN_S)  # as main.py does at start: the tests' timings are the app's

keyring.set_keyring(MemoryKeyring())
QCoreApplication.setOrganizationName("PortalDeskTests")
QCoreApplication.setApplicationName("Portal Desk Tests")
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(_HOME / "settings"))

from tests.client.live_server import live_portal  # noqa: E402, F401  (fixture shared by the live tests)
from tests.client.style_sheet_caches import keep_style_sheet_caches  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def style_sheet_caches_outlive_the_widgets(qapp: QApplication) -> Iterator[None]:
    """Tests clear the application style sheet while the last test's widgets still wait for
    deletion; without this, Qt's caches are rebuilt without the `destroyed` connections of those
    widgets and a later theme change crashed on their dead pointers (see style_sheet_caches.py)."""
    anchor = keep_style_sheet_caches()
    yield
    del anchor  # the last reference: Qt's caches go with the application


@pytest.fixture(scope="session", autouse=True)
def no_automatic_cycle_collection() -> None:
    """As in the app (app/services/gui_gc.py), automatic collection is off from the start to the
    end, between tests too: a cycle holding a widget must not be collected on a worker thread, which
    destroys the widget off the GUI thread and left the style sheet's caches with a dead pointer (a
    segfault in a later test that re-applied the theme). Turned back on after each test, it ran in
    whichever thread allocated next: a network lane finishing a call the last test's window left
    out, a proxy's handler thread, while module fixtures were torn down and the next ones set up."""
    gc.disable()


@pytest.fixture(autouse=True)
def cycles_collected_on_the_gui_thread() -> Iterator[None]:
    """Each test's cycles are collected after it, here on the GUI thread."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    """A fresh, empty keyring for every test."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(autouse=True)
def unsent_drafts_discarded_at_teardown(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window left with a draft (a failed send keeps it) is closed by the test's teardown, and
    closing asks whether to discard it: unanswered, that modal question would hang the run. Tests
    about the question answer it themselves, per window."""
    from app.views.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard_drafts", staticmethod(lambda parent, drafts, action: True))


@pytest.fixture
def settings_store(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def computer_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Sets this computer's time zone (TZ) for the test, so a date taken in it would differ from the
    branch's; the zone the run started with comes back afterwards."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()
