"""Non-secret preferences in QSettings: portals used, window geometry, sidebar width, column
widths, last tab, appearance (light, dark or following the system), office staff's recent customers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from PySide6.QtCore import QByteArray, QSettings

_MAX_PORTALS = 10
# Staff's "Recent customers": as many as the list shows.
RECENT_CUSTOMERS_KEPT = 8
# Lists kept for this many (branch portal, staff member) pairs, the most recently updated: the demo
# server's portal gets a new address each run, and its lists would otherwise pile up.
_MAX_RECENT_LISTS = 10
Appearance = Literal["system", "light", "dark"]
APPEARANCES: dict[str, Appearance] = {"system": "system", "light": "light", "dark": "dark"}


@dataclass(frozen=True)
class SavedPortal:
    url: str
    branch_name: str
    email: str


@dataclass(frozen=True)
class RecentCustomer:
    """A customer a staff member opened, as kept between runs: what the list shows of them (name,
    email) and the id that opens them again; nothing more of their personal data is written to disk."""

    id: int
    name: str
    email: str


def _recent_key(portal_url: str, staff_email: str) -> str:
    return f"{staff_email.strip().lower()} {portal_url}"


class AppSettings:
    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings()

    def portals(self) -> list[SavedPortal]:
        """Most recently used first."""
        raw = self._store.value("portals", "[]")
        try:
            items = json.loads(str(raw))
            return [SavedPortal(str(p["url"]), str(p["branch_name"]), str(p["email"])) for p in items]
        except (ValueError, KeyError, TypeError):
            return []

    def remember_portal(self, portal: SavedPortal) -> None:
        others = [p for p in self.portals() if (p.url, p.email) != (portal.url, portal.email)]
        items = [portal, *others][:_MAX_PORTALS]
        self._store.setValue("portals", json.dumps([asdict(p) for p in items]))

    def recent_customers(self, portal_url: str, staff_email: str) -> list[RecentCustomer]:
        """Newest first, for this branch's portal and this staff sign-in only: another staff member
        on the same computer, or another branch, has a list of its own."""
        try:
            items = self._all_recent_customers().get(_recent_key(portal_url, staff_email), [])
            return [RecentCustomer(int(c["id"]), str(c["name"]), str(c["email"])) for c in items]
        except (ValueError, KeyError, TypeError):  # edited by hand, or written by a later version
            return []

    def set_recent_customers(self, portal_url: str, staff_email: str, customers: list[RecentCustomer]) -> None:
        everyone = self._all_recent_customers()
        key = _recent_key(portal_url, staff_email)
        everyone.pop(key, None)  # moved to the end: the most recently updated list
        everyone[key] = [asdict(c) for c in customers[:RECENT_CUSTOMERS_KEPT]]
        kept = dict(list(everyone.items())[-_MAX_RECENT_LISTS:])
        self._store.setValue("staff/recent_customers", json.dumps(kept))

    def _all_recent_customers(self) -> dict[str, Any]:
        try:
            everyone = json.loads(str(self._store.value("staff/recent_customers", "{}")))
        except ValueError:
            return {}
        return everyone if isinstance(everyone, dict) else {}

    def window_geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)

    def find_window_geometry(self) -> QByteArray | None:
        """Office staff's Find customer window: its own size, apart from the customer window's."""
        value = self._store.value("find_window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_find_window_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue("find_window/geometry", geometry)

    def splitter_state(self) -> QByteArray | None:
        value = self._store.value("window/splitter")
        return value if isinstance(value, QByteArray) else None

    def set_splitter_state(self, state: QByteArray) -> None:
        self._store.setValue("window/splitter", state)

    def column_widths(self, table: str) -> list[int]:
        try:
            widths = json.loads(str(self._store.value(f"columns/{table}", "[]")))
            return [int(w) for w in widths]
        except (ValueError, TypeError):
            return []

    def set_column_widths(self, table: str, widths: list[int]) -> None:
        self._store.setValue(f"columns/{table}", json.dumps(widths))

    def last_tab(self) -> str:
        return str(self._store.value("window/last_tab", "proposals"))

    def set_last_tab(self, tab: str) -> None:
        self._store.setValue("window/last_tab", tab)

    def appearance(self) -> Appearance:
        """Anything but "light" or "dark" in the file (e.g. edited by hand) means following the system."""
        return APPEARANCES.get(str(self._store.value("appearance", "system")), "system")

    def set_appearance(self, appearance: Appearance) -> None:
        self._store.setValue("appearance", appearance)

    def sync(self) -> None:
        self._store.sync()
