"""The branch's own "today": visit windows and due dates follow the branch's time zone, not the server's."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.models import Branch
from server.models.base import utcnow

UTC = ZoneInfo("UTC")


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None. A folder of the zone database ("America") raises
    IsADirectoryError rather than ZoneInfoNotFoundError, and a malformed name ValueError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def branch_zone(time_zone: str) -> ZoneInfo:
    """A branch's zone; UTC (api.md's default) for a name that is none."""
    return zone_named(time_zone) or UTC


def branch_today(branch: Branch) -> date:
    return utcnow().astimezone(branch_zone(branch.time_zone)).date()
