"""Quitting while a keyring call waits for the user (the Keychain's "Allow access", a locked Secret
Service prompting): the app, run in a child process as main.py runs it, ends promptly, abandoning
that call; a save the keyring finishes quickly still lands before it ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.views.shell import QUIT_KEYRING_WAIT_MS

ROOT = Path(__file__).resolve().parents[2]
# The child gets this long to start; what is measured starts when it asks to quit.
START_TIMEOUT_S = 30
# After quit is asked: the lane's bounded wait, then tearing down Qt and the interpreter.
EXIT_WITHIN_S = QUIT_KEYRING_WAIT_MS / 1000 + 4

# The app's shell with a keyring whose save waits HOLD_S for the user (forever when negative) and
# then leaves STORED_FILE behind; "Remember me"'s save is asked, then the app quits at once.
CHILD = """
import sys
import threading
import time
from pathlib import Path

import keyring
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.services.accounts import Accounts
from app.services.memory_keyring import MemoryKeyring
from app.services.settings import AppSettings
from app.views.shell import AppShell

HOLD_S, STORED_FILE, SETTINGS = float(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]


class Prompting(MemoryKeyring):
    def set_password(self, service, username, password):
        threading.Event().wait(None if HOLD_S < 0 else HOLD_S)
        super().set_password(service, username, password)
        STORED_FILE.write_text(username)


keyring.set_keyring(Prompting())
app = QApplication(sys.argv[:1])
accounts = Accounts(AppSettings(QSettings(SETTINGS, QSettings.Format.IniFormat)))
shell = AppShell(app, accounts, None, None)
save = lambda: accounts.credentials.save("http://127.0.0.1:1/portal/east", "pat@example.com", token="t", password="p")
shell.runner.run_keyring(save, lambda _: None)


def quit_now():
    print(time.time(), flush=True)
    app.quit()


QTimer.singleShot(0, quit_now)
raise SystemExit(app.exec())
"""


def quit_with_a_keyring_save(tmp_path: Path, hold_s: float) -> tuple[float, Path]:
    """Runs the child; returns how long it took to end after asking to quit, and the file the save leaves.
    A child that does not end is killed (subprocess.run's timeout), so the test fails, never hangs."""
    stored = tmp_path / "stored"
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(hold_s), str(stored), str(tmp_path / "settings.ini")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + EXIT_WITHIN_S + 10,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PORTAL_DESK_HOME": str(tmp_path)},
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the app was still running {hung.timeout:.0f} s after it started (output: {hung.stdout!r})")
    ended = time.time()  # the child's clock is the same wall clock
    assert done.returncode == 0, done.stderr
    return ended - float(done.stdout.split()[-1]), stored


def test_quitting_abandons_a_keyring_call_still_waiting_for_the_user(tmp_path: Path) -> None:
    """The lane was a QThreadPool, whose destructor waits for its running call without limit: the
    window was gone, but the process lived on until someone answered a prompt nobody could see."""
    ended_after, stored = quit_with_a_keyring_save(tmp_path, hold_s=-1)
    assert ended_after < EXIT_WITHIN_S, f"the app ended {ended_after:.1f} s after quit was asked"
    assert not stored.exists()


def test_quitting_waits_for_a_keyring_save_that_finishes_quickly(tmp_path: Path) -> None:
    """A "Remember me" asked just before quitting is not lost to a keyring taking a moment."""
    ended_after, stored = quit_with_a_keyring_save(tmp_path, hold_s=0.4)
    assert stored.read_text() == "password:pat@example.com@http://127.0.0.1:1/portal/east"
    assert ended_after < EXIT_WITHIN_S
