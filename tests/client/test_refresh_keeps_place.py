"""A refresh (F5, the reload once the portal answers again, the reload after a payment) keeps the
user's place in a list: every selected row, the current row and the scroll position, also far
down a list loaded page by page (against the real server).

Only the current row was kept, and only when it was on the first page: "Pay selected (2)" became
one invoice, and a row 200 down was deselected while the view jumped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings
from pytestqt.qtbot import QtBot

from app.models.roles import Role
from app.views.list_tab import ListTab
from app.views.main_window import MainWindow
from tests.client.live_server import LivePortal
from tests.client.test_branch_switch_windows import open_window, wait_idle

pytestmark = pytest.mark.gui

Flag = QItemSelectionModel.SelectionFlag


@pytest.fixture
def window(qtbot: QtBot, settings_store: QSettings, live_portal: LivePortal) -> Iterator[MainWindow]:
    main = open_window(qtbot, settings_store, live_portal)
    yield main
    main.runner.set_unauthorized_handler(None)


def invoices(qtbot: QtBot, window: MainWindow) -> ListTab:
    tab = window.tabs["invoices"]
    window.tab_widget.setCurrentWidget(tab)
    wait_idle(qtbot, window)
    return tab


def selected_ids(tab: ListTab) -> set[object]:
    return {index.data(Role.ID) for index in tab.table.selectionModel().selectedRows()}


def test_refresh_keeps_every_selected_invoice(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    payable = [row for row in range(tab.proxy.rowCount()) if tab.proxy.index(row, 0).data(Role.RECORD).balance > 0]
    selection = tab.table.selectionModel()
    for row in payable[:2]:
        selection.select(tab.proxy.index(row, 0), Flag.Select | Flag.Rows)
    selection.setCurrentIndex(tab.proxy.index(payable[1], 0), Flag.NoUpdate)
    before = selected_ids(tab)
    assert len(before) == 2 and window.invoice_actions.pay_selected_button.text() == "Pay selected (2)"
    window.refresh()
    wait_idle(qtbot, window)
    assert selected_ids(tab) == before
    assert tab.table.currentIndex().data(Role.ID) == tab.proxy.index(payable[1], 0).data(Role.ID)
    assert window.invoice_actions.pay_selected_button.text() == "Pay selected (2)"


def test_refresh_keeps_a_row_far_down_selected_and_in_view(qtbot: QtBot, window: MainWindow) -> None:
    tab = invoices(qtbot, window)
    while tab.model.rowCount() <= 200 and tab.model.canFetchMore(tab.model.index(-1, -1)):
        tab.table.scrollToBottom()
        wait_idle(qtbot, window)
    loaded = tab.model.rowCount()
    assert loaded > 200, "the east branch has more than two pages of invoices"
    index = tab.proxy.index(200, 0)
    tab.table.selectionModel().setCurrentIndex(index, Flag.ClearAndSelect | Flag.Rows)
    tab.table.scrollTo(index)
    wanted, scroll = index.data(Role.ID), tab.table.verticalScrollBar().value()
    assert scroll > 0
    window.refresh()
    wait_idle(qtbot, window)
    assert tab.model.rowCount() >= loaded, "as many rows as were loaded"
    assert tab.table.currentIndex().data(Role.ID) == wanted
    assert selected_ids(tab) == {wanted}
    assert tab.table.verticalScrollBar().value() == scroll
