"""Day headings and times for the visit list and the detail pages."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, QLocale, QTime

from app.models.formatting import display_locale


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def day_heading(day: date, today: date, locale: QLocale | None = None) -> str:
    """ "Tue, Jun 3" for this year; other years carry the year so December never reads as next month."""
    pattern = "ddd, MMM d" if day.year == today.year else "ddd, MMM d, yyyy"
    return (locale or display_locale()).toString(_qdate(day), pattern)


def long_day(day: date, locale: QLocale | None = None) -> str:
    return (locale or display_locale()).toString(_qdate(day), "dddd, MMMM d, yyyy")


def relative_day(day: date, today: date) -> str:
    """How far away a visit is, in the words people use on the phone."""
    delta = (day - today).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Tomorrow"
    if delta == -1:
        return "Yesterday"
    if delta > 0:
        return f"In {delta} days"
    ago = -delta
    if ago < 14:
        return f"{ago} days ago"
    if ago < 60:
        return f"{ago // 7} weeks ago"
    return f"{ago // 30} months ago"


def moment_long(moment: datetime, locale: QLocale | None = None) -> str:
    """A timestamp in the computer's time zone: "Jun 3, 2025 at 4:05 PM"."""
    local = moment.astimezone()
    shown = QDateTime(_qdate(local.date()), QTime(local.hour, local.minute))
    loc = locale or display_locale()
    return (
        f"{loc.toString(shown.date(), 'MMM d, yyyy')} at {loc.toString(shown.time(), QLocale.FormatType.ShortFormat)}"
    )
