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


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_a_full_collection_waits_until_a_quarter_of_the_long_lived_objects_are_new(qtbot: QtBot) -> None:
    """As Python's own collector does: a full pass over 60,000 loaded rows takes the GUI thread
    30-40 ms, and it came every tenth middle collection (every few seconds of sorting and
    searching) though nothing new had lived long."""
    owner = QObject()
    collector = GuiThreadCollector(owner)
    try:
        rows = [[n] for n in range(40_000)]  # long-lived, as a big list's records are
        young = gc.get_threshold()[0] + 1

        def churn(checks: int) -> None:
            for _ in range(checks):
                for _ in range(young):
                    _Cycle()  # garbage each time: nothing new lives long
                collector.check()

        churn(150)  # the first full collection: it learns how many objects live long
        before = full_collections()
        churn(1500)  # middle collections: 136; past the full threshold every eleventh
        assert full_collections() == before, "no full pass while nothing new lived long"
        rows += [[n] for n in range(len(rows) // 2)]  # past a quarter more now live long
        churn(1500)
        assert full_collections() > before
    finally:
        owner.deleteLater()
        gc.unfreeze()
