"""Models fed with hand-built pages: lazy paging, sorting, display formatting and roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import QLocale, QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.models.dates import moment_long
from app.models.formatting import amount_input_text, date_text, money_text, parse_amount, title_text
from app.models.lists import InvoicesModel, ProposalsModel, invoice_status
from app.models.properties import PropertiesModel
from app.models.roles import Role
from app.models.staff import AuditModel
from app.services.records import AuditItem, InvoiceSummary, Page, Property, PropertyRef, ProposalSummary

US = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
OAK = PropertyRef(1, "Oak Plaza")


def invoice(n: int, *, balance: str = "10.00", status: str = "due", due: date | None = None) -> InvoiceSummary:
    return InvoiceSummary(
        id=n,
        number=f"INV-{n:04d}",
        property=OAK,
        services=("Mowing", "Edging"),
        invoice_date=date(2026, 1, 1) + timedelta(days=n),
        due_date=due or date.today() + timedelta(days=30),
        total=Decimal("10.00") + n,
        balance=Decimal(balance),
        status=status,
    )


def page(items: list[InvoiceSummary], cursor: str | None, total: int) -> Page[InvoiceSummary]:
    return Page(items=tuple(items), next_cursor=cursor, total=total)


def test_money_and_dates_follow_the_locale() -> None:
    assert money_text(Decimal("1234.5"), "USD", US) == "$1,234.50"
    assert money_text(Decimal("0.005"), "USD", US) == "$0.01"
    assert money_text(Decimal("-25"), "EUR", US) == "(€25.00)"
    assert date_text(date(2026, 11, 1), US) == "Nov 1, 2026"


def test_typed_amounts_follow_the_locale() -> None:  # IN-6
    """A group mark typed where the decimal mark was meant is refused, not read as 100 times the amount."""
    germany = QLocale(QLocale.Language.German, QLocale.Country.Germany)
    france = QLocale(QLocale.Language.French, QLocale.Country.France)
    india = QLocale(QLocale.Language.English, QLocale.Country.India)
    for text, locale, amount in (
        ("1,234.5", US, "1234.50"),
        ("$25", US, "25.00"),
        ("25.", US, "25.00"),
        ("-5", US, "-5.00"),
        ("25,50", germany, "25.50"),
        ("1.234,50 €", germany, "1234.50"),
        ("1 234,50", france, "1234.50"),
        ("12,34,567.50", india, "1234567.50"),
    ):
        assert parse_amount(text, locale) == Decimal(amount), text
    for text, locale in (("25,50", US), ("1,23", US), ("25.555", US), ("1e2", US), ("", US), ("25.50", germany)):
        assert parse_amount(text, locale) is None, text
    assert amount_input_text(Decimal("300"), germany) == "300,00"
    assert amount_input_text(Decimal("1234.5"), US) == "1234.50"


def test_lazy_paging_asks_the_loader_for_more(qtbot: QtBot, qtmodeltester: ModelTester) -> None:
    model = InvoicesModel("USD")
    model.set_page(page([invoice(i) for i in range(100)], "c1", 250))
    assert model.rowCount() == 100
    assert model.total == 250
    assert model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.more_requested, timeout=500):
        model.fetchMore(QModelIndex())
    assert not model.canFetchMore(QModelIndex()), "one request at a time"
    model.append_page(page([invoice(i) for i in range(100, 200)], "c2", 250))
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    model.append_page(page([invoice(i) for i in range(200, 250)], None, 250))
    assert model.rowCount() == 250
    assert not model.canFetchMore(QModelIndex())
    qtmodeltester.check(model)


def test_failed_page_can_be_asked_again() -> None:
    model = InvoicesModel("USD")
    model.set_page(page([invoice(1)], "c1", 2))
    model.fetchMore(QModelIndex())
    assert not model.canFetchMore(QModelIndex())
    model.more_failed()
    assert model.canFetchMore(QModelIndex())


def test_sorting_keeps_later_pages_in_order() -> None:
    model = InvoicesModel("USD")
    model.set_page(page([invoice(3), invoice(1)], "c1", 4))
    model.sort(model.column_index("total"), Qt.SortOrder.DescendingOrder)
    model.append_page(page([invoice(4), invoice(2)], None, 4))
    totals = [model.data(model.index(r, model.column_index("total")), Role.SORT) for r in range(4)]
    assert totals == sorted(totals, reverse=True)


def test_a_worker_sort_orders_as_the_model_does_and_keeps_ties_in_order() -> None:
    """`ordered` sorts in runs merged in Python (the GIL is let go between them); the rows it gives
    must be those a sort on the GUI thread gives, equal balances in their loaded order."""
    rows = tuple(invoice(n, balance=f"{(n * 7919) % 97}.00") for n in range(10_000))  # 97 balances: many ties
    model = InvoicesModel()
    column = model.column_index("balance")
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        model.set_page(page(list(rows), None, len(rows)))
        model.sort(column, order)
        on_gui_thread = [model.record(row) for row in range(model.rowCount())]
        assert model.ordered(rows, column, order).rows == on_gui_thread


def test_invoice_roles_and_overdue_chip() -> None:
    model = InvoicesModel("USD")
    late = invoice(7, due=model.day.today() - timedelta(days=1))
    model.set_page(page([late, invoice(8, balance="0.00", status="paid")], None, 2))
    status_column = model.column_index("status")
    assert model.data(model.index(0, status_column), Role.STATUS) == "overdue"
    assert model.data(model.index(0, status_column)) == "Overdue"
    assert model.data(model.index(1, status_column), Role.STATUS) == "paid"
    assert model.data(model.index(0, 0), Role.RECORD) is late
    assert model.data(model.index(0, 0), Role.ID) == 7
    balance = model.index(0, model.column_index("balance"))
    assert model.data(balance, Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert isinstance(model.data(balance, Role.SORT), Decimal)
    assert invoice_status(late, today=late.due_date) == "due"


def test_proposals_show_change_orders_and_money() -> None:
    model = ProposalsModel("USD")
    proposal = ProposalSummary(9, "OPP-9", "Patio", OAK, "pending", Decimal("1500"), date(2026, 3, 2), True, True)
    model.set_page(Page((proposal,), None, 1))
    assert "change order" in model.data(model.index(0, model.column_index("title")))
    assert model.data(model.index(0, model.column_index("total"))).endswith("1,500.00")
    named = ProposalSummary(
        10, "OPP-10", "Change order: add drip line", OAK, "pending", Decimal("480"), date(2026, 3, 2), True, True
    )
    model.set_page(Page((named,), None, 1))
    assert model.data(model.index(0, model.column_index("title"))) == "Change order: add drip line"


@pytest.fixture
def properties_model() -> PropertiesModel:
    model = PropertiesModel()
    model.set_properties(
        [Property(1, "Oak Plaza", "1 Oak St", "primary"), Property(2, "Elm Court", "2 Elm St", "billing")]
    )
    return model


def test_all_properties_selected_by_default(properties_model: PropertiesModel, qtmodeltester: ModelTester) -> None:
    # PF-1
    qtmodeltester.check(properties_model)
    assert properties_model.all_selected()
    assert sorted(properties_model.selected_ids()) == [1, 2]
    assert properties_model.data(properties_model.index(0)) == "Elm Court", "sorted by name"


def test_unchecking_a_property_signals_once(qtbot: QtBot, properties_model: PropertiesModel) -> None:
    with qtbot.waitSignal(properties_model.selection_changed, timeout=500):
        properties_model.setData(
            properties_model.index(0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
        )
    assert properties_model.selected_ids() == [1]
    assert not properties_model.all_selected()
    with qtbot.assertNotEmitted(properties_model.selection_changed):
        properties_model.set_checked([1], True)
    properties_model.set_checked([1, 2], False)
    assert properties_model.selected_ids() == []


def test_a_long_subject_is_cut_at_a_word_for_a_window_title() -> None:
    """A 300-character subject made a 300-character window title, and a line break in it broke
    the title bar."""
    assert title_text("Sprinkler head broken") == "Sprinkler head broken"
    assert title_text("Two\nlines  and\tspaces") == "Two lines and spaces"
    long = "The irrigation controller by the north gate keeps resetting itself, " * 5
    cut = title_text(long)
    assert len(cut) <= 80 and cut.endswith("…") and long.startswith(cut[:-1])
    assert cut == "The irrigation controller by the north gate keeps resetting itself, The…"
    assert title_text("x" * 200) == "x" * 79 + "…"


def test_the_activity_list_words_its_times_as_the_rest_of_the_app(computer_zone: Callable[[str], None]) -> None:
    """ "Nov 27, 2026 at 3:23 PM", as a request's thread; ISO "2026-11-27 15:23" read as a log file.
    On the branch's clock, as the customer's windows show it: office staff read it out on the phone."""
    computer_zone("Pacific/Auckland")
    at = datetime(2026, 11, 27, 15, 23, tzinfo=UTC)
    model = AuditModel("America/New_York", "USD")
    model.set_page(Page((AuditItem(at, "Olivia Office", 1, "Pat Customer", "assist_start", "", "Call"),), None, 1))
    shown = model.data(model.index(0, model.column_index("at")))
    assert shown == moment_long(at, "America/New_York")
    assert shown.replace("\u202f", " ").replace("\u00a0", " ") == "Nov 27, 2026 at 10:23 AM EST"


def test_every_audited_action_reads_as_words_with_money_as_money() -> None:  # SA-3
    """ "Payment create" and "INV-2611-OAK 300.00; f…" (no currency, the rest cut off), raw names for
    half the actions, and a Customer column repeating the one customer of a per-customer list."""
    at = datetime(2026, 11, 27, 15, 23, tzinfo=UTC)

    def item(action: str, target: str, detail: str) -> AuditItem:
        return AuditItem(at, "Olivia Office", 1, "Pat Customer", action, target, detail)

    entries = (
        item("payment.create", "payment:7f3a", "INV-2611-OAK 300.00; INV-2612-OAK 1200.50; fee 8.70; card ending 4242"),
        item("payment_method.add", "payment_method:3", "Visa ending 4242"),
        item("payment_method.default", "payment_method:3", "Visa ending 4242"),
        item("payment_method.delete", "payment_method:3", "Visa ending 4242"),
        item("proposal.sign", "proposal OPP-1001", "signed as Pat Customer; approved $1,234.00"),
        item("request.create", "request R-1002", "Gate 3 sprinkler"),
        item("request.comment", "request R-1002", "It floods the walkway"),
        item("preferences.update", "contact:1", "email_receipts=off"),
        item("assist.start", "contact:1", "Customer on the phone"),
        item("assist.end", "contact:1", ""),
    )
    model = AuditModel("UTC", "USD", per_customer=True)
    model.set_page(Page(entries, None, len(entries)))
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())] == [
        "When",
        "Staff",
        "Action",
        "Detail",
    ]
    action, detail = model.column_index("action"), model.column_index("detail")
    assert [model.data(model.index(r, action)) for r in range(len(entries))] == [
        "Took a payment",
        "Added a payment method",
        "Made a payment method the default",
        "Removed a payment method",
        "Signed a proposal",
        "Sent a request",
        "Replied to a request",
        "Changed receipt emails",
        "Opened the portal",
        "Ended the assist",
    ]
    paid = "INV-2611-OAK $300.00 · INV-2612-OAK $1,200.50 · fee $8.70 · card ending 4242"
    assert model.data(model.index(0, detail)) == paid
    assert model.data(model.index(0, detail), Qt.ItemDataRole.ToolTipRole) == paid, "whole where the cell cuts it"
    assert model.data(model.index(4, detail)) == "OPP-1001: signed as Pat Customer; approved $1,234.00"
    assert model.data(model.index(5, detail)) == "R-1002: Gate 3 sprinkler"
    assert model.data(model.index(7, detail)) == "Receipt emails turned off"
    assert model.data(model.index(9, detail)) == ""
    assert "Customer" in [
        AuditModel("UTC", "USD").headerData(c, Qt.Orientation.Horizontal)
        for c in range(AuditModel("UTC", "USD").columnCount())
    ], "the branch's activity names each row's customer"
