"""What keeps the window quick at a large customer's size (issue 8): the sidebar with 1,000
properties, column fitting without a size hint per cell, and the PDF engine's lean import."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView
from pytestqt.qtbot import QtBot

from app.models.lists import InvoicesModel
from app.models.properties import PropertiesModel
from app.models.roles import Role
from app.services.records import InvoiceSummary, Page, Property, PropertyRef
from app.services.tasks import TaskRunner
from app.views.list_tab import MAX_AUTO_WIDTH, ListTab
from app.views.main_window import TAB_SPECS
from app.views.property_sidebar import PropertySidebar
from tests.client.live_server import ROOT

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
    assert widest < header.sectionSize(number) <= MAX_AUTO_WIDTH
    # The same width as Qt's own fit over every cell.
    fitted = header.sectionSize(number)
    tab.table.resizeColumnToContents(number)
    assert abs(header.sectionSize(number) + 2 - fitted) <= 2
    fitted_columns = [
        i for i in range(header.count()) if header.sectionResizeMode(i) == QHeaderView.ResizeMode.Interactive
    ]
    assert len(fitted_columns) == header.count() - 1  # all but the stretching one
    assert all(header.sectionSize(i) <= MAX_AUTO_WIDTH for i in fitted_columns)


def test_pdf_engine_leaves_out_the_layout_analyser() -> None:
    """PyMuPDF 2 would import onnxruntime and a model (1-2 s, GIL stalls) that rendering never uses."""
    code = (
        "import sys\n"
        "from app.views.pdf_viewer import pdf_engine\n"
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
