"""The branch's own "today": visit windows and due dates follow the branch's time zone, not the server's."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.models import Branch
from server.models.base import utcnow


def branch_today(branch: Branch) -> date:
    try:
        zone = ZoneInfo(branch.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return utcnow().astimezone(zone).date()
