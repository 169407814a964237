"""What keeps the window quick at a large customer's size (issue 8): the sidebar with 1,000
properties, column fitting without a size hint per cell, cell texts formatted once, the PDF
engine's lean import and when it loads, and the keyring kept off the GUI thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import keyring
import pymupdf
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHeaderView
from pytestqt.qtbot import QtBot

from app.models import lists
from app.models.lists import InvoicesModel
from app.models.properties import PropertiesModel
from app.models.roles import Role
from app.services.accounts import Accounts
from app.services.memory_keyring import MemoryKeyring
from app.services.pdf_renderer import pdf_render_service
from app.services.records import InvoiceSummary, Page, Property, PropertyRef
from app.services.session import sign_in
from app.services.settings import AppSettings, SavedPortal
from app.services.tasks import TaskRunner
from app.views import invoice_actions, main_window
from app.views.list_tab import MAX_AUTO_WIDTH, ListTab
from app.views.main_window import TAB_SPECS
from app.views.pdf_window import PdfWindow
from app.views.property_sidebar import PropertySidebar
from app.views.sign_in_dialog import SignInDialog
from tests.client import company
from tests.client.live_server import ROOT, LivePortal

pytestmark = pytest.mark.gui

ROLES = ("primary", "billing", "other")


def many_properties(count: int = 1000) -> list[Property]:
    return [
        Property(n, f"Property {n:04d}", f"{n} {'Elm' if n % 2 else 'Oak'} Street, Springfield", ROLES[n % 3])
        for n in range(1, count + 1)
    ]


def visible_ids(sidebar: PropertySidebar) -> list[int]:
    return [sidebar.proxy.index(row, 0).data(Role.ID) for row in range(sidebar.proxy.rowCount())]


def test_sidebar_with_1000_properties_searches_and_checks(qtbot: QtBot) -> None:  # PF-1, PF-2
    model = PropertiesModel()
    sidebar = PropertySidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.show()
    begun = time.perf_counter()
    model.set_properties(many_properties())
    assert time.perf_counter() - begun < 0.5  # one model reset, no widget per row
    assert sidebar.proxy.rowCount() == 1000
    assert len(model.selected_ids()) == 1000 and model.all_selected()

    # Typing waits for a pause; the match is on name and address, whatever the case.
    sidebar.search_edit.setText("ELM street")
    assert sidebar.proxy.rowCount() == 1000
    qtbot.waitUntil(lambda: sidebar.proxy.rowCount() == 500, timeout=2000)
    assert all(n % 2 == 1 for n in visible_ids(sidebar))
    sidebar.search_edit.setText("property 0042")
    sidebar.apply_search()
    assert visible_ids(sidebar) == [42]

    # Checking does not re-filter, and "None" acts on the properties found only.
    changes: list[bool] = []
    model.selection_changed.connect(lambda: changes.append(True))
    sidebar.select_none_button.click()
    assert changes == [True]
    assert 42 not in model.selected_ids() and len(model.selected_ids()) == 999
    assert visible_ids(sidebar) == [42]

    # Clearing the box shows every property at once (no wait).
    sidebar.search_edit.clear()
    assert sidebar.proxy.rowCount() == 1000


def test_sidebar_click_toggles_one_property_with_one_signal(qtbot: QtBot) -> None:  # PF-1
    model = PropertiesModel()
    sidebar = PropertySidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.resize(320, 600)
    sidebar.show()
    model.set_properties(many_properties())
    qtbot.waitExposed(sidebar)
    changes: list[bool] = []
    model.selection_changed.connect(lambda: changes.append(True))
    rect = sidebar.list_view.visualRect(sidebar.proxy.index(2, 0))
    qtbot.mouseClick(sidebar.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert changes == [True]
    assert sidebar.proxy.index(2, 0).data(Role.ID) not in model.selected_ids()


def test_sidebar_all_and_none_follow_the_properties_listed(qtbot: QtBot) -> None:  # PF-1
    """With a search that found nothing, "None" stayed enabled and did nothing: All and None act
    on the properties listed, so there they are off, and their tooltip says why."""
    model = PropertiesModel()
    sidebar = PropertySidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.show()
    model.set_properties(many_properties())
    assert sidebar.select_none_button.isEnabled() and not sidebar.select_all_button.isEnabled()

    sidebar.search_edit.setText("Birch Lane")
    sidebar.apply_search()
    for button in (sidebar.select_all_button, sidebar.select_none_button):
        assert not button.isEnabled()
        assert button.toolTip() == "No property is listed: change or clear the search to choose properties."

    # A search that finds one checked property: None can uncheck it, All has nothing to do.
    sidebar.search_edit.setText("property 0042")
    sidebar.apply_search()
    assert sidebar.select_none_button.isEnabled() and not sidebar.select_all_button.isEnabled()
    assert sidebar.select_none_button.toolTip() == "Uncheck the properties found"
    sidebar.select_none_button.click()
    assert not sidebar.select_none_button.isEnabled() and sidebar.select_all_button.isEnabled()

    # Back to every property: 999 of 1,000 checked, so both apply.
    sidebar.search_edit.clear()
    assert sidebar.select_none_button.isEnabled() and sidebar.select_all_button.isEnabled()
    assert sidebar.select_all_button.toolTip() == "Check every property"


def test_sidebar_search_without_a_match_says_so(qtbot: QtBot) -> None:  # PF-1
    """A search for a property that is not there left a blank white list, as if none were loaded."""
    model = PropertiesModel()
    sidebar = PropertySidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.show()
    model.set_properties(many_properties())
    assert not sidebar.no_match_label.isVisible()
    sidebar.search_edit.setText("Birch Lane")
    sidebar.apply_search()
    assert sidebar.proxy.rowCount() == 0
    assert sidebar.no_match_label.isVisible()
    assert sidebar.no_match_label.text() == "No property matches “Birch Lane”."
    sidebar.search_edit.setText("Oak")
    sidebar.apply_search()
    assert not sidebar.no_match_label.isVisible()


def invoice(n: int, number: str) -> InvoiceSummary:
    return InvoiceSummary(
        id=n,
        number=number,
        property=PropertyRef(1, "Oak Plaza" if n % 7 else "The Very Long Name Of A Commercial Campus North"),
        services=("Mowing",),
        invoice_date=date(2026, 1, 1) + timedelta(days=n),
        due_date=date(2026, 2, 1) + timedelta(days=n),
        total=Decimal("10.00") * n,
        balance=Decimal(0),
        status="paid",
    )


def test_columns_fit_the_widest_cell_of_the_first_page(qtbot: QtBot) -> None:
    spec = next(s for s in TAB_SPECS if s.key == "invoices")
    model = InvoicesModel("USD")
    tab = ListTab(spec, model, TaskRunner())
    qtbot.addWidget(tab)
    tab.resize(1400, 700)
    tab.show()
    items = [invoice(n, f"INV-{n:03d}") for n in range(1, 100)] + [invoice(100, "INV-WIDEST-NUMBER-00100")]
    tab._first_page(Page(items=tuple(items), next_cursor=None, total=100))
    header = tab.table.horizontalHeader()
    metrics = tab.table.fontMetrics()
    number = model.column_index("number")
    widest = metrics.horizontalAdvance("INV-WIDEST-NUMBER-00100")
    # The table shows once it has rows; its columns fit as it is laid out at its final width.
    qtbot.waitUntil(lambda: header.sectionSize(number) > widest)
    # The same width as Qt's own fit over every cell (a number column is never cut).
    fitted = header.sectionSize(number)
    tab.table.resizeColumnToContents(number)
    assert abs(header.sectionSize(number) + 2 - fitted) <= 2
    fitted_columns = [
        i for i in range(header.count()) if header.sectionResizeMode(i) == QHeaderView.ResizeMode.Interactive
    ]
    assert len(fitted_columns) == header.count() - 1  # all but the stretching one
    descriptive = [i for i in fitted_columns if model.columns[i].elastic]
    assert descriptive and all(header.sectionSize(i) <= MAX_AUTO_WIDTH for i in descriptive)


def test_pdf_engine_leaves_out_the_layout_analyser() -> None:
    """PyMuPDF 2 would import onnxruntime and a model (1-2 s of the render child's start, tens of
    MB) that rendering never uses."""
    code = (
        "import sys\n"
        "from app.pdf_render_child import pdf_engine\n"
        "pymupdf = pdf_engine()\n"
        "document = pymupdf.open()\n"
        "page = document.new_page()\n"
        "page.insert_text((72, 72), 'Invoice INV-0001')\n"
        "assert page.search_for('INV-0001')\n"
        "assert page.get_pixmap().width > 0\n"
        "print(sorted(m for m in ('onnxruntime', 'numpy', 'pymupdf4llm') if sys.modules.get(m)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


# Windows the first window does not show: their modules load when first opened.
DETAIL_WINDOWS = (
    "app.views.proposal_detail",
    "app.views.invoice_detail",
    "app.views.pay_dialog",
    "app.views.payment_methods_dialog",
    "app.views.visit_detail",
    "app.views.request_detail",
    "app.views.new_request_dialog",
    "app.views.account_dialogs",
)


def test_app_modules_load_without_keyring_pdf_engine_or_detail_windows() -> None:
    """None is needed for the first window: the keyring loads on first use off the GUI thread,
    the detail windows when first opened, and PyMuPDF never (the PDF render child has it)."""
    later = ("keyring", "pymupdf", "app.views.staff_views", *DETAIL_WINDOWS)
    code = (
        "import importlib, sys\n"
        "import app.views.shell, app.views.main_window, app.views.sign_in_dialog\n"
        f"print(sorted(m for m in {later!r} if m in sys.modules))\n"
        f"for m in {DETAIL_WINDOWS!r}: importlib.import_module(m)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


class ThreadRecordingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.read_on: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.read_on.append(threading.current_thread().name)
        return super().get_password(service, username)


def test_saved_portal_password_is_read_off_the_gui_thread(qtbot: QtBot, settings_store: QSettings) -> None:
    backend = ThreadRecordingKeyring()
    keyring.set_keyring(backend)
    url = "http://127.0.0.1:9/portal/east"
    accounts = Accounts(AppSettings(settings_store))
    accounts.credentials.save(url, "morgan@example.com", token="t", password="remembered-1")
    accounts.settings.remember_portal(SavedPortal(url, "East Branch", "morgan@example.com"))
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    assert dialog.email_edit.text() == "morgan@example.com"
    qtbot.waitUntil(lambda: dialog.password_edit.text() == "remembered-1", timeout=5000)
    assert dialog.remember_check.isChecked()
    assert backend.read_on and threading.main_thread().name not in backend.read_on


def test_list_cells_are_formatted_once_and_follow_the_currency(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: list[Decimal] = []
    real_money_text = lists.money_text

    def counting_money_text(amount: Decimal, currency: str) -> str:
        formatted.append(amount)
        return real_money_text(amount, currency)

    monkeypatch.setattr(lists, "money_text", counting_money_text)
    model = InvoicesModel("USD")
    model.set_page(Page(items=(invoice(1, "INV-001"),), next_cursor=None, total=1))
    total = model.index(0, model.column_index("total"))
    first = total.data(Qt.ItemDataRole.DisplayRole)
    assert "$" in first
    for _ in range(5):  # repaints
        assert total.data(Qt.ItemDataRole.DisplayRole) == first
    assert len(formatted) == 1
    model.currency = "EUR"
    assert "€" in total.data(Qt.ItemDataRole.DisplayRole)
    # A new page is formatted afresh.
    model.set_page(Page(items=(invoice(1, "INV-001"),), next_cursor=None, total=1))
    total.data(Qt.ItemDataRole.DisplayRole)
    assert len(formatted) == 3


def test_pdf_engine_loads_once_idle_or_when_a_detail_opens(
    qtbot: QtBot, live_portal: LivePortal, settings_store: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not with the first lists (it competed with the user's first clicks): after a quiet second,
    or at once when an invoice's detail is asked for ("View invoice" is likely next)."""
    preloads: list[str] = []
    monkeypatch.setattr(
        main_window,
        "preload_pdf_engine",
        lambda: preloads.append("window"),
    )
    monkeypatch.setattr(invoice_actions, "preload_pdf_engine", lambda: preloads.append("invoice"))
    monkeypatch.setattr(main_window, "PDF_ENGINE_IDLE_MS", 400)
    session = sign_in(live_portal.portal_url("east"), company.MORGAN, company.PASSWORD)
    window = main_window.MainWindow(session, Accounts(AppSettings(settings_store)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    assert preloads == []
    window.reload_all()  # busy again: the quiet second starts over
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    assert preloads == []
    qtbot.waitUntil(lambda: preloads == ["window"], timeout=3000)
    window.reload_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    qtbot.wait(600)
    assert preloads == ["window"]  # once
    invoices = window.tabs["invoices"].model
    window.invoice_actions.open_invoice(invoices.record(0))
    assert preloads == ["window", "invoice"]
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    window.runner.set_unauthorized_handler(None)


def ten_page_pdf() -> bytes:
    document = pymupdf.open()
    for number in range(1, 11):
        document.new_page().insert_text((72, 72), f"Page {number}")
    data: bytes = document.tobytes()
    document.close()
    return data


def test_closing_the_viewer_never_waits_for_a_render(qtbot: QtBot) -> None:
    """The worker may be waiting for the render child (here: stopped with SIGSTOP in the middle of
    a request) when the window closes; the GUI thread asks it to stop and goes on, and the thread
    ends once its answer came."""
    window = PdfWindow("Ten pages", ten_page_pdf(), "ten.pdf")
    window.show()
    qtbot.waitUntil(lambda: window.viewer._shown, timeout=10000)
    viewer = window.viewer
    thread = viewer._thread
    pid = pdf_render_service().pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        viewer._render_requested.emit(viewer._generation, 9, 2.0)
        begun = time.perf_counter()
        window.close()
        assert time.perf_counter() - begun < 0.5
        qtbot.wait(200)
        assert thread.isRunning()
    finally:
        os.kill(pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)
    assert pdf_render_service().pid == pid  # the same child serves the next document
