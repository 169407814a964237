"""The branch's "today" (api.md: a branch's time_zone decides it), not the computer's: fixed
instants either side of a branch's midnight, with the clock injected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from pytestqt.qtbot import QtBot

from app.models.branch_day import BranchDay
from app.models.dates import branch_date, branch_date_text, branch_today, moment_long, until_branch_midnight
from app.models.formatting import date_text
from app.models.lists import InvoicesModel, RequestsModel
from app.services.records import Page, PropertyRef, RequestSummary

NEW_YORK = "America/New_York"
# 00:00 on Nov 27 in New York (UTC-5): 05:00 UTC.
BEFORE = datetime(2026, 11, 27, 4, 59, 59, tzinfo=UTC)
AFTER = datetime(2026, 11, 27, 5, 0, 0, tzinfo=UTC)
# 23:30 on Nov 27 in New York: Nov 28 in UTC and in Tokyo.
LATE_EVENING = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)


def test_branch_today_turns_at_the_branch_midnight_not_utc_or_the_computer() -> None:
    assert branch_today(NEW_YORK, BEFORE) == date(2026, 11, 26)  # already the 27th in UTC
    assert branch_today(NEW_YORK, AFTER) == date(2026, 11, 27)
    assert branch_today("Pacific/Kiritimati", datetime(2026, 11, 27, 10, 0, tzinfo=UTC)) == date(2026, 11, 28)


def test_an_unknown_zone_is_utc_as_on_the_server() -> None:
    for name in ("Mars/Olympus", "", "America", "../etc/passwd"):
        assert branch_today(name, datetime(2026, 11, 27, 23, 30, tzinfo=UTC)) == date(2026, 11, 27), name


def test_time_until_the_branch_midnight() -> None:
    assert until_branch_midnight(NEW_YORK, BEFORE) == timedelta(seconds=1)
    assert until_branch_midnight(NEW_YORK, AFTER) == timedelta(days=1)
    # Clocks go back on Nov 1, 2026 at 02:00 in New York: that day lasts 25 hours.
    assert until_branch_midnight(NEW_YORK, datetime(2026, 11, 1, 4, 0, tzinfo=UTC)) == timedelta(hours=25)
    # Santiago skips 00:00 on Sep 6, 2026 (-04 to -03): the day starts at the first instant that exists.
    assert until_branch_midnight("America/Santiago", datetime(2026, 9, 6, 3, 0, tzinfo=UTC)) == timedelta(hours=1)


def plain(text: str) -> str:
    """The text with Qt's and our no-break spaces as plain ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_a_time_is_on_the_branch_clock_and_names_its_zone_where_the_computer_reads_otherwise(
    computer_zone: Callable[[str], None],
) -> None:
    """The day a time falls on is the day the lists show, and a time not on this computer's clock
    says whose it is: office staff and the customer read "11:00 AM EST" alike (SA-2)."""
    computer_zone("Pacific/Auckland")  # 5:00 AM on Nov 21 here
    moment = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    shown = plain(moment_long(moment, NEW_YORK))
    assert shown == "Nov 20, 2026 at 11:00 AM EST"
    assert shown.startswith(branch_date_text(moment, NEW_YORK))
    assert plain(moment_long(moment, "UTC")) == "Nov 20, 2026 at 4:00 PM UTC"
    # The computer's own zone (or one whose clock reads the same then) needs no name.
    assert plain(moment_long(moment, "Pacific/Auckland")) == "Nov 21, 2026 at 5:00 AM"
    computer_zone("America/Toronto")
    assert plain(moment_long(moment, NEW_YORK)) == "Nov 20, 2026 at 11:00 AM"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_branch_day_says_when_its_day_turns(qtbot: QtBot) -> None:
    clock = FakeClock(BEFORE)
    day = BranchDay(NEW_YORK, clock)
    assert day.today() == date(2026, 11, 26)
    with qtbot.assertNotEmitted(day.changed):
        day.check()
    clock.now = AFTER
    with qtbot.waitSignal(day.changed, timeout=100):
        day.check()
    assert day.today() == date(2026, 11, 27)
    with qtbot.waitSignal(day.changed, timeout=100):
        day.time_zone = "Pacific/Pago_Pago"  # another branch, UTC-11: still the 26th there
    assert day.today() == date(2026, 11, 26)


def test_branch_day_looks_again_at_the_branch_midnight(qtbot: QtBot) -> None:
    """The timer that turns the labels is set for the branch's midnight (here 1 s away), and
    never more than a minute ahead (a sleeping computer's timers stop)."""
    day = BranchDay(NEW_YORK, FakeClock(BEFORE))
    assert day._timer.isActive() and day._timer.interval() == 1001
    later = BranchDay(NEW_YORK, FakeClock(AFTER))
    assert later._timer.interval() == 60_000


def test_overdue_follows_the_branch_day(qtbot: QtBot) -> None:
    from tests.client.test_models import invoice, page

    clock = FakeClock(BEFORE)
    model = InvoicesModel("USD", BranchDay(NEW_YORK, clock))
    model.set_page(page([invoice(1, due=date(2026, 11, 26))], None, 1))
    status = model.index(0, model.column_index("status"))
    assert model.data(status) == "Due"  # the 26th in New York, though the 27th in UTC
    clock.now = AFTER
    with qtbot.waitSignal(model.dataChanged, timeout=100):  # the list is painted again
        model.day.check()
    assert model.data(status) == "Overdue"


def test_a_timestamp_s_business_day_is_the_branch_s_not_the_computer_s(
    computer_zone: Callable[[str], None],
) -> None:
    """The signed PDF dates a signature in the branch's zone; the app used the computer's."""
    for zone in ("UTC", "Asia/Tokyo"):
        computer_zone(zone)
        assert LATE_EVENING.astimezone().date() == date(2026, 11, 28), "the computer's day differs"
        assert branch_date(LATE_EVENING, NEW_YORK) == date(2026, 11, 27)
        assert branch_date_text(LATE_EVENING, NEW_YORK) == date_text(date(2026, 11, 27))
    assert branch_date_text(None, NEW_YORK) == ""


def test_requests_are_dated_by_the_branch_day(computer_zone: Callable[[str], None]) -> None:
    computer_zone("Asia/Tokyo")
    model = RequestsModel(BranchDay(NEW_YORK, FakeClock(LATE_EVENING)))
    request = RequestSummary(1, "REQ-1", "Gate", PropertyRef(1, "Oak"), "open", LATE_EVENING, LATE_EVENING, 0)
    model.set_page(Page(items=(request,), next_cursor=None, total=1))
    for column in ("created_at", "last_activity_at"):
        assert model.data(model.index(0, model.column_index(column))) == date_text(date(2026, 11, 27)), column
