"""Client test configuration.

Qt must see QT_QPA_PLATFORM before it is imported, and nothing may reach the real user's
keyring, QSettings or data folders, so all of that is arranged at import time, first.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
_HOME = Path(tempfile.mkdtemp(prefix="portal-desk-tests-"))
os.environ["PORTAL_DESK_HOME"] = str(_HOME)

import keyring  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402

from app.services.memory_keyring import MemoryKeyring  # noqa: E402

keyring.set_keyring(MemoryKeyring())
QCoreApplication.setOrganizationName("PortalDeskTests")
QCoreApplication.setApplicationName("Portal Desk Tests")
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(_HOME / "settings"))

from tests.client.live_server import live_portal  # noqa: E402, F401  (fixture shared by the live tests)


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    """A fresh, empty keyring for every test."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def settings_store(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
