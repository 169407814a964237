"""Table models of the staff screens: customer search results (SA-1) and the audit trail (SA-3)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.models.paged_table import Column, PagedTableModel
from app.services.records import AuditItem, StaffContact

ACTION_LABELS = {
    "assist.start": "Opened the portal",
    "assist.end": "Ended the assist",
    "preferences.update": "Changed receipt emails",
}


def _properties_text(contact: StaffContact) -> str:
    names = [p.name for p in contact.properties[:3]]
    more = len(contact.properties) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


class StaffContactsModel(PagedTableModel):
    """Search results in the server's rank order (best match first): sorting is left to the server."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column("name", "Customer", lambda c: c.name, lambda c: c.name.casefold()),
                Column(
                    "contact",
                    "Email and phone",
                    lambda c: " · ".join(filter(None, [c.email, c.phone])),
                    lambda c: c.email,
                ),
                Column("roles", "Roles", lambda c: c.summary(), lambda c: len(c.properties)),
                Column(
                    "properties",
                    "Properties",
                    _properties_text,
                    lambda c: _properties_text(c).casefold(),
                    tooltip=lambda c: "\n".join(f"{p.name} ({p.role})" for p in c.properties),
                ),
            ],
            parent,
        )

    def contact(self, row: int) -> StaffContact:
        record = self.record(row)
        assert isinstance(record, StaffContact)
        return record


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())


class AuditModel(PagedTableModel):
    """Newest first, as the server sends it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column("at", "When", lambda e: e.at.astimezone().strftime("%Y-%m-%d %H:%M"), lambda e: e.at),
                Column("staff", "Staff", lambda e: e.staff_name, lambda e: e.staff_name.casefold()),
                Column("contact", "Customer", lambda e: e.contact_name, lambda e: e.contact_name.casefold()),
                Column("action", "Action", lambda e: action_label(e.action), lambda e: e.action),
                Column(
                    "detail",
                    "Detail",
                    lambda e: e.detail,
                    lambda e: e.detail.casefold(),
                    tooltip=lambda e: f"{e.target}\n{e.detail}",
                ),
            ],
            parent,
        )

    def entry(self, row: int) -> AuditItem:
        record = self.record(row)
        assert isinstance(record, AuditItem)
        return record
