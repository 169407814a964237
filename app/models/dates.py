"""Day headings and times for the visit list and the detail pages, and the branch's "today".

"Today" is the branch's calendar day in its time zone (from /config), as the server decides visit
windows and due dates (api.md), not the computer's: office staff serve branches in other zones, and
a customer travelling saw "Tomorrow" on the morning of a visit. Times of day are the branch's
clock too (moment_long), so a window never dates a record otherwise than its list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QDate, QLocale, QTime

from app.models.formatting import date_text, display_locale

Clock = Callable[[], datetime]  # an aware instant: injected by the tests, utc_now in the app


def utc_now() -> datetime:
    return datetime.now(UTC)


def branch_zone(name: str) -> tzinfo:
    """The branch's zone; a name this computer does not know is UTC, as on the server
    (server/services/clock.py), so both sides agree on the day. "America" (a folder of the zone
    database, OSError) must not stop the app either."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def branch_today(time_zone: str, now: datetime | None = None) -> date:
    """The branch's calendar day at `now` (an aware instant; the current one by default)."""
    return branch_date(now or utc_now(), time_zone)


def branch_date(moment: datetime, time_zone: str) -> date:
    """The business day an instant falls on: the branch's, as the server dates its documents (the
    signed PDF's date), not the computer's. Signed at 23:30 in New York on a computer set to UTC,
    the app said the 28th and the signed copy the 27th."""
    return moment.astimezone(branch_zone(time_zone)).date()


def branch_date_text(moment: datetime | None, time_zone: str, locale: QLocale | None = None) -> str:
    """A timestamp shown as the branch's calendar day; the time of day adds noise to a list."""
    if moment is None:
        return ""
    return date_text(branch_date(moment, time_zone), locale)


def until_branch_midnight(time_zone: str, now: datetime) -> timedelta:
    """How long until the branch's next day starts, so day labels turn at its midnight. Where a
    clock change skips midnight, the day starts at the first instant that exists."""
    zone = branch_zone(time_zone)
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=zone)
    return midnight.astimezone(UTC) - now.astimezone(UTC)


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


def moment_long(moment: datetime, time_zone: str, locale: QLocale | None = None) -> str:
    """A timestamp as the branch's clock read it, "Jun 3, 2025 at 4:05 PM", on the day its lists
    show (they date by the branch's calendar). Where this computer's clock read otherwise at that
    instant, the zone is named ("4:05 PM EST"): a customer abroad and office staff on the phone
    (SA-2) then read the same time, and neither takes it for their own clock's. The computer's zone
    had put a request opened on Nov 1 in the list at "Nov 2 at 12:00 AM" in its window."""
    local = moment.astimezone(branch_zone(time_zone))
    loc = locale or display_locale()
    clock = loc.toString(QTime(local.hour, local.minute), QLocale.FormatType.ShortFormat)
    text = f"{date_text(local.date(), loc)} at {clock}"
    if local.utcoffset() != moment.astimezone().utcoffset():
        text += f"\u00a0{local.strftime('%Z')}"  # never wrapped apart from the time
    return text
