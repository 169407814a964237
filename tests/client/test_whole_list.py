"""Sorting or searching a list with more pages loads the rest of it first (against the real
server): the top row of a sort is the list's true top row and a search finds an invoice on a
later page. Only the loaded page was sorted or searched: "which property owes the most" had a
wrong answer, and an older invoice's number found nothing.

Morgan has 252 invoices, 100 a page; the whole list loads in pages of WHOLE_ROWS here so that
several bulk calls are on their way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.models.roles import Role
from app.views import list_tab
from app.views.list_tab import ListTab
from app.views.main_window import MainWindow
from tests.client import company
from tests.client.live_server import LivePortal
from tests.client.test_branch_switch_windows import open_window, wait_idle

pytestmark = pytest.mark.gui

WHOLE_ROWS = 40
ALL = company.MANY_INVOICES + 2
OLDEST = f"INV-{10000 + company.MANY_INVOICES - 1}"  # on the third page, newest first


@pytest.fixture
def window(qtbot: QtBot, settings_store: QSettings, live_portal: LivePortal) -> Iterator[MainWindow]:
    main = open_window(qtbot, settings_store, live_portal)
    for tab in main.tabs.values():
        tab.whole_page_rows = WHOLE_ROWS
    yield main
    main.runner.set_unauthorized_handler(None)


def invoices(qtbot: QtBot, window: MainWindow) -> ListTab:
    tab = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(tab)
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == 100 and tab.model.total == ALL
    return tab


def sort_by(tab: ListTab, key: str, order: Qt.SortOrder) -> None:
    """As a click on the column's header does."""
    tab.table.horizontalHeader().setSortIndicator(tab.model.column_index(key), order)


def shown_numbers(tab: ListTab) -> list[str]:
    return [tab.proxy.index(row, 0).data(Role.RECORD).number for row in range(tab.proxy.rowCount())]


def test_a_sort_loads_the_whole_list_and_shows_its_true_top_row(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    sort_by(tab, "invoice_date", Qt.SortOrder.AscendingOrder)
    wait_idle(qtbot, window)
    assert shown_numbers(tab)[0] == OLDEST
    assert tab.model.rowCount() == ALL
    dates = [tab.model.record(row).invoice_date for row in range(ALL)]
    assert dates == sorted(dates)
    assert not tab.whole_bar.isVisibleTo(tab), "nothing left to say once the whole list is sorted"


def test_a_sort_keeps_the_selected_row_selected(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    tab.table.selectRow(3)
    chosen = tab.table.currentIndex().data(Role.ID)
    sort_by(tab, "total", Qt.SortOrder.DescendingOrder)
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == ALL
    assert {index.data(Role.ID) for index in tab.table.selectionModel().selectedRows()} == {chosen}
    assert tab.table.currentIndex().data(Role.ID) == chosen


def test_a_search_finds_invoices_on_later_pages(qtbot: QtBot, window: MainWindow) -> None:
    """Half the first page matches "paid" (more than the view shows, so the view asks for no
    more rows itself), and so does half of the pages after it."""
    tab = invoices(qtbot, window)
    tab.search_edit.setText("Paid")
    tab.apply_search()
    wait_idle(qtbot, window)
    paid = window.session.client.invoices("paid", limit=500).items
    assert sorted(shown_numbers(tab)) == sorted(invoice.number for invoice in paid)
    later = shown_numbers(tab).index(f"INV-{10000 + company.MANY_INVOICES - 2}")  # the oldest paid one
    tab.table.selectRow(later)
    assert [index.data(Role.ID) for index in tab.table.selectionModel().selectedRows()] == [
        next(invoice.id for invoice in paid if invoice.number == f"INV-{10000 + company.MANY_INVOICES - 2}")
    ]


def test_a_search_for_an_older_invoice_finds_it(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    tab.search_edit.setText(OLDEST)
    tab.apply_search()
    wait_idle(qtbot, window)
    assert shown_numbers(tab) == [OLDEST]
    tab.table.selectRow(0)
    assert tab.table.selectionModel().selectedRows()[0].data(Role.RECORD).number == OLDEST


def test_the_search_says_it_searches_the_whole_list(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    tab.search_edit.setText(OLDEST)
    tab.apply_search()
    assert tab.empty_title.text() == f"Searching all {ALL} invoices…"
    assert tab.whole_label.text() == f"Loading all {ALL} invoices to search… 100 loaded"
    wait_idle(qtbot, window)
    tab.search_edit.setText("no such invoice")
    tab.apply_search()
    assert tab.empty_title.text() == "No matches"
    assert tab.empty_message.text() == f"None of the {ALL} invoices match “no such invoice”."


def test_cancel_keeps_the_rows_loaded_and_says_what_the_sort_covers(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    sort_by(tab, "invoice_date", Qt.SortOrder.AscendingOrder)
    assert tab.whole_bar.isVisibleTo(tab)
    assert tab.whole_label.text() == f"Loading all {ALL} invoices to sort… 100 loaded"
    assert tab.whole_button.text() == "Cancel"
    tab.whole_button.click()  # before the first bulk page answers: its late answer is dropped
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == 100
    assert tab.whole_label.text() == f"Sorted among the 100 of {ALL} invoices loaded"
    assert tab.whole_button.text() == f"Load all {ALL}"
    tab.whole_button.click()
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == ALL and shown_numbers(tab)[0] == OLDEST


def test_escape_cancels_loading_the_whole_list(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    tab.table.setFocus()
    sort_by(tab, "invoice_date", Qt.SortOrder.AscendingOrder)
    QTest.keyClick(tab.table, Qt.Key.Key_Escape)
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == 100
    assert tab.whole_button.text() == f"Load all {ALL}"


def test_a_filter_change_during_the_load_drops_the_old_load(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    sort_by(tab, "invoice_date", Qt.SortOrder.AscendingOrder)
    tab.show_combo.setCurrentIndex(tab.show_combo.findData("due"))
    wait_idle(qtbot, window)
    due = window.session.client.invoices("due", limit=500)
    assert due.next_cursor is None and len(due.items) > 100, "the due invoices need more than one page too"
    ids = [tab.model.record(row).id for row in range(tab.model.rowCount())]
    assert sorted(ids) == sorted(invoice.id for invoice in due.items), "every due invoice once, no paid one"
    dates = [tab.model.record(row).invoice_date for row in range(tab.model.rowCount())]
    assert dates == sorted(dates)


def test_a_sort_on_a_worker_is_no_answer_from_the_portal(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big list's sort ran through the window's network runner: its "answer" hid the banner of a
    portal that was not answering and restarted an assist's idle clock with no request made."""
    tab = invoices(qtbot, window)
    sort_by(tab, "total", Qt.SortOrder.DescendingOrder)
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == ALL
    monkeypatch.setattr(list_tab, "SORT_ON_GUI_ROWS", 10)
    answers: list[None] = []
    window.runner.answered.connect(lambda: answers.append(None))
    sort_by(tab, "total", Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not tab._sorting, timeout=10000)
    totals = [tab.proxy.index(row, 0).data(Role.RECORD).total for row in range(tab.proxy.rowCount())]
    assert totals == sorted(totals), "sorted on the worker"
    assert answers == [], "the portal was not asked"
