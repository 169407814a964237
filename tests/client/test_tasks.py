"""Background calls (app/services/tasks.py): answers reach the GUI thread, late ones are dropped."""

from __future__ import annotations

import threading

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
