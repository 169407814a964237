"""Display text for money and dates, following the user's locale."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from PySide6.QtCore import QDate, QLocale, QTime

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}
_CENT = Decimal("0.01")


def display_locale() -> QLocale:
    """The system locale, except the bare "C" locale (headless boxes), which prints 1234.5 as
    "1234.5"; customers expect grouped thousands, so fall back to US English there."""
    system = QLocale()
    if system.language() == QLocale.Language.C:
        return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    return system


def money_text(amount: Decimal, currency: str, locale: QLocale | None = None) -> str:
    """QLocale formats only binary floats; a cent-rounded Decimal below 2**53 cents converts
    exactly to the same printed cents, so this is the one place a float is acceptable."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    symbol = _SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    return (locale or display_locale()).toCurrencyString(float(cents), symbol, 2)


def date_text(day: date | None, locale: QLocale | None = None) -> str:
    if day is None:
        return ""
    return (locale or display_locale()).toString(QDate(day.year, day.month, day.day), "MMM d, yyyy")


def moment_text(moment: datetime | None, locale: QLocale | None = None) -> str:
    """Timestamps are shown as the local calendar day; the time of day adds noise to a list."""
    if moment is None:
        return ""
    return date_text(moment.astimezone().date(), locale)


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def clock_text(moment: datetime, locale: QLocale | None = None) -> str:
    """Time of day, for "as loaded at 2:14 PM"; the date is added when it is not today."""
    clock = (locale or display_locale()).toString(QTime(moment.hour, moment.minute), "h:mm AP")
    if moment.date() != date.today():
        return f"{date_text(moment.date(), locale)}, {clock}"
    return clock
