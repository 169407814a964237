"""The cycle collector runs on the GUI thread only (app/services/gui_gc.py)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.services.gui_gc import GuiThreadCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_widget_in_a_cycle_is_destroyed_on_the_gui_thread(qtbot: QtBot) -> None:
    owner = QObject()
    GuiThreadCollector(owner)
    try:
        assert not gc.isenabled()
        widget = QWidget()
        holder = _Cycle()
        holder.widget = widget  # type: ignore[attr-defined]
        destroyed_on: list[threading.Thread] = []
        widget.destroyed.connect(lambda: destroyed_on.append(threading.current_thread()))
        probe = weakref.ref(holder)
        del widget, holder

        def allocate_on_a_worker() -> None:  # enough to trip every automatic threshold
            for _ in range(50):
                [_Cycle() for _ in range(gc.get_threshold()[0] * 2)]

        worker = threading.Thread(target=allocate_on_a_worker)
        worker.start()
        worker.join()
        assert probe() is not None, "nothing is collected off the GUI thread"
        qtbot.waitUntil(lambda: probe() is None, timeout=5000)  # the timer's check collects it
        QApplication.processEvents()
        assert destroyed_on == [threading.main_thread()]
    finally:
        owner.deleteLater()
        gc.unfreeze()


@pytest.fixture(scope="module")
def collection_between_tests() -> bool:
    """Set up between the module's tests and the ones before it (tests/client/conftest.py)."""
    return gc.isenabled()


def test_automatic_collection_stays_off_between_tests(collection_between_tests: bool) -> None:
    assert not collection_between_tests, "a worker thread allocating between tests would collect there"
