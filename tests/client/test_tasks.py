"""Background calls (app/services/tasks.py): answers reach the GUI thread, late ones are dropped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import shiboken6
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from app.services.tasks import OwnedRunner, TaskRunner


def test_an_answer_for_a_closed_dialog_is_dropped_but_still_counted(qtbot: QtBot) -> None:
    """A pay dialog closed while its quote was out got the quote on its deleted labels (a
    RuntimeError in the event loop); the window's busy indicator must still end."""
    runner = TaskRunner()
    dialog = QDialog()
    owned = OwnedRunner(runner, dialog)
    release = threading.Event()
    delivered: list[str] = []
    owned.run(lambda: release.wait(5) and "quote", delivered.append, lambda error: delivered.append(str(error)))
    owned.run(lambda: release.wait(5) and 1 / 0, delivered.append, lambda error: delivered.append("failed"))
    assert runner.busy
    dialog.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert delivered == []


def test_an_answer_for_an_open_dialog_arrives_on_the_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner()
    dialog = QDialog()
    delivered: list[tuple[str, threading.Thread]] = []
    OwnedRunner(runner, dialog).run(
        lambda: "quote", lambda answer: delivered.append((answer, threading.current_thread()))
    )
    qtbot.waitUntil(lambda: bool(delivered), timeout=5000)
    assert delivered == [("quote", threading.main_thread())]
    dialog.deleteLater()


QUIT_WITH_A_KEYRING_CALL_WAITING = """
import threading
from PySide6.QtCore import QCoreApplication
from app.services.tasks import TaskRunner, keyring_lane_done
app = QCoreApplication([])
runner = TaskRunner()
never = threading.Event()
runner.run_keyring(never.wait, lambda _: None)
print(keyring_lane_done(200), flush=True)
"""


def test_quitting_does_not_wait_for_a_keyring_call_still_waiting_for_the_user() -> None:
    """A keyring waiting on "allow access" at quit kept the process alive until it was answered: the
    lane's thread pool waited for its running call without limit as the interpreter exited."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", QUIT_WITH_A_KEYRING_CALL_WAITING],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.stdout.strip() == "False", done.stderr
    assert time.monotonic() - started < 20, "the process ended although the call still waits"
