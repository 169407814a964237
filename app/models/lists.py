"""The four list models of the main window, each a column set over PagedTableModel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QObject

from app.models.branch_day import BranchDay
from app.models.dates import branch_date, branch_date_text
from app.models.formatting import date_text, money_text, short_date_text, status_label
from app.models.paged_table import Column, PagedTableModel
from app.services.records import InvoiceSummary, ProposalSummary, RequestSummary, VisitSummary

_NO_DATE = date.min


class MoneyTableModel(PagedTableModel):
    """A paged table that shows amounts in the branch's currency (from /config)."""

    def __init__(self, columns: list[Column], currency: str, parent: QObject | None) -> None:
        super().__init__(columns, parent)
        self._currency = currency

    @property
    def currency(self) -> str:
        return self._currency

    @currency.setter
    def currency(self, currency: str) -> None:
        if currency != self._currency:
            self._currency = currency
            self.forget_texts()

    def money(self, amount: Decimal) -> str:
        return money_text(amount, self.currency)


def invoice_status(invoice: InvoiceSummary, today: date) -> str:
    """ "overdue" is the client's own refinement of "due", so the chip can warn in red; `today` is
    the branch's (BranchDay), whose due dates these are."""
    if invoice.status == "due" and invoice.due_date < today:
        return "overdue"
    return invoice.status


class ProposalsModel(MoneyTableModel):
    def __init__(self, currency: str = "USD", parent: QObject | None = None) -> None:
        def title(p: ProposalSummary) -> str:
            """A change order is marked as one, unless its title says so already ("Change order:
            add drip line  ·  change order" spent the column's room on saying it twice)."""
            if not p.is_change_order or "change order" in p.title.casefold():
                return p.title
            return f"{p.title}  ·  change order"

        super().__init__(
            [
                Column("number", "Number", lambda p: p.number, lambda p: p.number),
                Column("title", "Title", title, lambda p: p.title.casefold(), tooltip=title, elastic=True),
                _property_column(),
                Column(
                    "shared_on",
                    "Shared",
                    lambda p: date_text(p.shared_on),
                    lambda p: p.shared_on or _NO_DATE,
                    short=lambda p: short_date_text(p.shared_on),
                ),
                _status_column(_status),
                Column("total", "Total", lambda p: self.money(p.total), lambda p: p.total, numeric=True),
            ],
            currency,
            parent,
        )


class VisitsModel(PagedTableModel):
    """Visits, worded against the branch's day (`day`: "Today", "Tomorrow"; the Visits tab paints them)."""

    def __init__(self, day: BranchDay | None = None, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column("date", "Date", lambda v: date_text(v.date), lambda v: v.date),
                _property_column(),
                _services_column(),
                _status_column(_status),
            ],
            parent,
        )
        self.day = _follow(day, self)


class InvoicesModel(MoneyTableModel):
    def __init__(self, currency: str = "USD", day: BranchDay | None = None, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column("number", "Number", lambda i: i.number, lambda i: i.number),
                _property_column(),
                _services_column(),
                Column(
                    "invoice_date",
                    "Issued",  # as the invoice itself words it; "Invoice date" cost a 1000 px window its fit
                    lambda i: date_text(i.invoice_date),
                    lambda i: i.invoice_date,
                    short=lambda i: short_date_text(i.invoice_date),
                ),
                Column(
                    "due_date",
                    "Due date",
                    lambda i: date_text(i.due_date),
                    lambda i: i.due_date,
                    short=lambda i: short_date_text(i.due_date),
                ),
                _status_column(lambda i: invoice_status(i, self.day.today())),
                Column("total", "Total", lambda i: self.money(i.total), lambda i: i.total, numeric=True),
                Column("balance", "Balance", lambda i: self.money(i.balance), lambda i: i.balance, numeric=True),
            ],
            currency,
            parent,
        )
        self.day = _follow(day, self)


class RequestsModel(PagedTableModel):
    """Opened and last-activity dates are the branch's days (`day`'s zone), as for every business date."""

    def __init__(self, day: BranchDay | None = None, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column("number", "Number", lambda r: r.number, lambda r: r.number),
                Column(
                    "subject",
                    "Subject",
                    lambda r: r.subject,
                    lambda r: r.subject.casefold(),
                    tooltip=lambda r: r.subject,
                    elastic=True,
                ),
                _property_column(),
                _status_column(_status),
                Column(
                    "created_at",
                    "Opened",
                    lambda r: self.day_text(r.created_at),
                    lambda r: r.created_at,
                    short=lambda r: self.short_day_text(r.created_at),
                ),
                Column(
                    "last_activity_at",
                    "Last activity",
                    lambda r: self.day_text(r.last_activity_at),
                    lambda r: r.last_activity_at or r.created_at,
                    short=lambda r: self.short_day_text(r.last_activity_at),
                ),
                Column(
                    "comments",
                    "Comments",
                    lambda r: str(r.comment_count),
                    lambda r: r.comment_count,
                    numeric=True,
                ),
            ],
            parent,
        )
        self.day = _follow(day, self)

    def day_text(self, moment: datetime | None) -> str:
        return branch_date_text(moment, self.day.time_zone)

    def short_day_text(self, moment: datetime | None) -> str:
        return short_date_text(branch_date(moment, self.day.time_zone)) if moment is not None else ""


def _follow(day: BranchDay | None, model: PagedTableModel) -> BranchDay:
    """The branch's day `model` words its rows against ("Overdue", "Tomorrow"); they are shown again
    when it turns, so a list left open overnight does not keep yesterday's words. Without one (a
    model on its own), UTC, the server's default zone."""
    day = day if day is not None else BranchDay(parent=model)
    day.changed.connect(model.show_rows_again)
    return day


def _property_name(item: ProposalSummary | VisitSummary | InvoiceSummary | RequestSummary) -> str:
    return item.property.name


def _services(item: VisitSummary | InvoiceSummary) -> str:
    return ", ".join(item.services)


def _property_column() -> Column:
    """The property a record belongs to, in every list: descriptive, so it may be elided (in
    the middle: a large customer's names share their start)."""
    return Column(
        "property",
        "Property",
        _property_name,
        lambda item: _property_name(item).casefold(),
        tooltip=_property_name,
        elastic=True,
        elide_middle=True,
    )


def _status(item: ProposalSummary | VisitSummary | RequestSummary) -> str:
    return item.status


def _status_column(status: Callable[[Any], str]) -> Column:
    """A record's status as a coloured chip; sorted by its key, so "due" and "paid" group."""
    return Column("status", "Status", lambda item: status_label(status(item)), status, status=status)


def _services_column() -> Column:
    """The services of a visit or an invoice, joined; descriptive, so it may be elided."""
    return Column(
        "services", "Services", _services, lambda item: _services(item).casefold(), tooltip=_services, elastic=True
    )
