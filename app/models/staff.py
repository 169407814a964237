"""Table models of the staff screens: customer search results (SA-1) and the audit trail (SA-3)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.models.dates import moment_long
from app.models.paged_table import Column, PagedTableModel
from app.models.properties import ROLE_CHIPS
from app.services.records import AuditItem, ContactProperty, StaffContact

ACTION_LABELS = {
    "assist.start": "Opened the portal",
    "assist.end": "Ended the assist",
    "preferences.update": "Changed receipt emails",
}


PROPERTIES_NAMED = 3  # names in the Properties cell; the tooltip and the reason prompt name more
PROPERTIES_LISTED = 12  # lines in the tooltip and the reason prompt before "and N more"


def roles_text(contact: StaffContact) -> str:
    """The contact's roles alone, named as the customer's own portal names them ("Contact", not
    "Other"): the property count beside them crowded the Properties column out of view."""
    return ", ".join(contact.role_names())


def _contact_text(contact: StaffContact) -> str:
    return " · ".join(filter(None, [contact.email, contact.phone]))


def properties_first_matching(contact: StaffContact, query: str) -> list[ContactProperty]:
    """The properties whose name contains the query come first: a caller who says "I'm calling
    about Oak Plaza" sees Oak Plaza in the row, not cut off behind three other names."""
    needle = query.strip().casefold()
    if not needle:
        return list(contact.properties)
    return sorted(contact.properties, key=lambda p: needle not in p.name.casefold())


def properties_text(contact: StaffContact, query: str = "") -> str:
    properties = properties_first_matching(contact, query)
    names = [p.name for p in properties[:PROPERTIES_NAMED]]
    more = len(properties) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def property_lines(contact: StaffContact, query: str = "") -> list[str]:
    """ "Oak Plaza — Primary", one a property, as many as a tooltip or a dialog can show."""
    properties = properties_first_matching(contact, query)
    lines = [f"{p.name} — {ROLE_CHIPS.get(p.role, p.role.capitalize())}" for p in properties[:PROPERTIES_LISTED]]
    more = len(properties) - len(lines)
    return [*lines, f"and {more} more"] if more > 0 else lines


class StaffContactsModel(PagedTableModel):
    """Search results in the server's rank order (best match first): sorting is left to the server.
    `query` is the search the rows answer; it puts the matching properties first."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.query = ""
        super().__init__(
            [
                Column("name", "Customer", lambda c: c.name, lambda c: c.name.casefold(), tooltip=lambda c: c.name),
                Column(
                    "contact",
                    "Email and phone",
                    _contact_text,
                    lambda c: c.email,
                    tooltip=lambda c: "\n".join(filter(None, [c.email, c.phone])),
                ),
                Column("roles", "Roles", roles_text, roles_text),
                Column(
                    "properties",
                    "Properties",
                    lambda c: properties_text(c, self.query),
                    lambda c: properties_text(c, self.query).casefold(),
                    tooltip=lambda c: "\n".join(property_lines(c, self.query)),
                ),
            ],
            parent,
        )

    def contact(self, row: int) -> StaffContact:
        record = self.record(row)
        assert isinstance(record, StaffContact)
        return record


def detail_text(entry: AuditItem) -> str:
    """A payment's entry leads with its reference, the one on the customer's receipt."""
    return f"Reference {entry.reference}; {entry.detail}" if entry.reference else entry.detail


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())


class AuditModel(PagedTableModel):
    """Newest first, as the server sends it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                # As every other timestamp in the app ("Nov 27, 2026 at 3:23 PM"), not ISO "2026-11-27 15:23".
                Column("at", "When", lambda e: moment_long(e.at), lambda e: e.at),
                Column("staff", "Staff", lambda e: e.staff_name, lambda e: e.staff_name.casefold()),
                Column("contact", "Customer", lambda e: e.contact_name, lambda e: e.contact_name.casefold()),
                Column("action", "Action", lambda e: action_label(e.action), lambda e: e.action),
                Column(
                    "detail",
                    "Detail",
                    detail_text,
                    lambda e: detail_text(e).casefold(),
                    tooltip=lambda e: f"{e.target}\n{detail_text(e)}",
                ),
            ],
            parent,
        )

    def entry(self, row: int) -> AuditItem:
        record = self.record(row)
        assert isinstance(record, AuditItem)
        return record
