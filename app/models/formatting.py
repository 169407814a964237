"""Display text for money and dates, following the user's locale."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from PySide6.QtCore import QDate, QLocale, QTime

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}
_CENT = Decimal("0.01")


_US_ENGLISH = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)  # made once: 4 us a cell


def display_locale() -> QLocale:
    """The system locale, except the bare "C" locale (headless boxes), which prints 1234.5 as
    "1234.5"; customers expect grouped thousands, so fall back to US English there."""
    system = QLocale()
    if system.language() == QLocale.Language.C:
        return _US_ENGLISH
    return system


def count_text(count: int, locale: QLocale | None = None) -> str:
    """A number of things with the locale's grouping: "3,884 invoices", not "3884"."""
    return (locale or display_locale()).toString(count)


def money_text(amount: Decimal, currency: str, locale: QLocale | None = None) -> str:
    """QLocale formats only binary floats; a cent-rounded Decimal below 2**53 cents converts
    exactly to the same printed cents, so this is the one place a float is acceptable."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    symbol = _SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    return (locale or display_locale()).toCurrencyString(float(cents), symbol, 2)


def amount_input_text(amount: Decimal, locale: QLocale | None = None) -> str:
    """An amount as the payer would type it: the locale's decimal mark, no grouping, no symbol."""
    mark = (locale or display_locale()).decimalPoint()
    return f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP):f}".replace(".", mark)


def parse_amount(text: str, locale: QLocale | None = None) -> Decimal | None:
    """What the payer typed, read with the locale's decimal mark and grouping: "1,234.5" (en-US)
    or "1.234,5" (de-DE) -> 1234.50. None for anything else, including a group mark where the
    decimal mark was meant ("25,50" in en-US, "25.50" in de-DE): read as grouping, that was
    2550.00, a hundred times the amount, and a payer reads past it on the confirm step."""
    chosen = locale or display_locale()
    mark, group = chosen.decimalPoint(), chosen.groupSeparator()
    cleaned = re.sub(r"\s+", " ", text).strip()
    for symbol in {*_SYMBOLS.values(), chosen.currencySymbol()}:
        cleaned = cleaned.replace(symbol, "")
    cleaned = cleaned.strip()
    sign = ""
    if cleaned[:1] in ("-", chosen.negativeSign()):
        sign, cleaned = "-", cleaned[1:].strip()
    if group.isspace():
        group = " "
    whole, _, cents = cleaned.partition(mark)
    grouping = re.escape(group)
    plain_or_grouped = rf"[0-9]*|[0-9]{{1,3}}(?:{grouping}[0-9]{{2,3}})*{grouping}[0-9]{{3}}"
    if not re.fullmatch(plain_or_grouped, whole) or not re.fullmatch(r"[0-9]{0,2}", cents) or not whole + cents:
        return None
    return Decimal(f"{sign}{whole.replace(group, '') or '0'}.{cents or '0'}").quantize(_CENT)


def date_text(day: date | None, locale: QLocale | None = None) -> str:
    if day is None:
        return ""
    return (locale or display_locale()).toString(QDate(day.year, day.month, day.day), "MMM d, yyyy")


def short_date_text(day: date | None, locale: QLocale | None = None) -> str:
    """The locale's numeric date ("11/1/26" in en-US), for a list column on a small screen."""
    if day is None:
        return ""
    return (locale or display_locale()).toString(QDate(day.year, day.month, day.day), QLocale.FormatType.ShortFormat)


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def clock_text(moment: datetime, locale: QLocale | None = None) -> str:
    """Time of day, for "as loaded at 2:14 PM"; the date is added when it is not today."""
    clock = (locale or display_locale()).toString(QTime(moment.hour, moment.minute), "h:mm AP")
    if moment.date() != date.today():
        return f"{date_text(moment.date(), locale)}, {clock}"
    return clock


TITLE_TEXT_LIMIT = 80


def title_text(text: str, limit: int = TITLE_TEXT_LIMIT) -> str:
    """A customer's own words (a request's subject, a proposal's title) as part of a window title:
    one line, cut at a word with "…" past `limit` characters. A 300-character subject made a title
    the task bar and the window menu could not show, and a line break in it broke the title bar."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:-—") + "…"
