"""Background calls (app/services/tasks.py): answers reach the GUI thread, late ones are dropped."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from app.services.errors import KeyringUnavailableError, UnreachableError
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


class Held:
    """Something a keyring call holds, as its callbacks hold widgets: says on which thread it was let go of."""

    def __init__(self, released: list[threading.Thread]) -> None:
        self._released = released

    def __del__(self) -> None:
        self._released.append(threading.current_thread())


def test_what_a_keyring_call_holds_is_let_go_of_on_the_gui_thread(qtbot: QtBot) -> None:
    """Let go of on the keyring's thread, a call's last reference destroyed what it held there: a
    QRunnable released on that thread once destroyed a QObject there, which waited for the GIL while
    holding a lock of Qt's that the GUI thread wanted (a deadlock in CI). Succeeding or failing, each
    call, the last one too, is released on the GUI thread."""
    runner = TaskRunner()
    released: list[threading.Thread] = []
    answers: list[str] = []

    def refused(held: Held = Held(released)) -> None:
        raise KeyringUnavailableError("the keyring is locked")  # its traceback holds this frame, and `held`

    def answered(held: Held = Held(released)) -> str:
        return "secret"

    runner.run_keyring(refused, answers.append, lambda error: answers.append(str(error)))
    runner.run_keyring(answered, answers.append)
    del refused, answered
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert answers == ["the keyring is locked", "secret"]
    qtbot.waitUntil(lambda: len(released) == 2, timeout=5000)
    assert released == [threading.main_thread()] * 2


def test_what_a_network_call_holds_is_let_go_of_on_the_gui_thread(qtbot: QtBot) -> None:
    """The network's calls run on abandonable daemon threads like the keyring's (so quitting never
    waits on a portal that does not answer), hence the same rule: nothing of a call is let go of on its
    worker thread. The pool's QRunnable, autodeleted there, released its op and callbacks there."""
    runner = TaskRunner()
    released: list[threading.Thread] = []
    answers: list[str] = []

    def unreachable(held: Held = Held(released)) -> None:
        raise UnreachableError("Cannot reach the portal.", code="unreachable")

    def answered(held: Held = Held(released)) -> str:
        return "page"

    runner.run(unreachable, answers.append, lambda error: answers.append(str(error)))
    runner.run(answered, answers.append)
    del unreachable, answered
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert sorted(answers) == ["Cannot reach the portal.", "page"]
    qtbot.waitUntil(lambda: len(released) == 2, timeout=5000)
    assert released == [threading.main_thread()] * 2


def test_a_keyring_answer_arrives_while_an_earlier_one_shows_a_modal_dialog(qtbot: QtBot) -> None:
    """An answer may open a modal dialog (another branch's sign-in, its password not kept) whose own
    keyring read must be answered while it is up: delivered from the lane's collecting timer, the
    dialog's loop held it, as Qt does not fire a timer again while its slot runs."""
    runner = TaskRunner()
    seen: list[object] = []

    def open_dialog(_: None) -> None:
        dialog = QDialog()
        QTimer.singleShot(5000, dialog, dialog.reject)  # a failing test leaves no dialog up
        runner.run_keyring(lambda: "read in the dialog", lambda answer: (seen.append(answer), dialog.accept()))
        seen.append(QDialog.DialogCode(dialog.exec()))
        dialog.deleteLater()

    runner.run_keyring(lambda: None, open_dialog)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=10000)
    assert seen == ["read in the dialog", QDialog.DialogCode.Accepted]


def test_an_op_raising_a_base_exception_fails_alone_and_the_lane_goes_on(qtbot: QtBot) -> None:
    """The keyring lane has one thread: a KeyboardInterrupt out of one op ended it, and every later
    keyring call (and the quit's wait for them) waited forever."""
    runner = TaskRunner()
    answers: list[str] = []

    def interrupted() -> str:
        raise KeyboardInterrupt

    runner.run_keyring(interrupted, answers.append, lambda error: answers.append(f"failed: {error}"))
    runner.run_keyring(lambda: "read after it", answers.append)
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=5000)
    assert answers[0].startswith("failed: the background call was interrupted (KeyboardInterrupt")
    assert answers[1] == "read after it"
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
