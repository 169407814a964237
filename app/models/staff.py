"""Table models of the staff screens: customer search results (SA-1) and the audit trail (SA-3)."""

from __future__ import annotations

import re
from decimal import Decimal

from PySide6.QtCore import QObject

from app.models.dates import moment_long
from app.models.formatting import money_text
from app.models.paged_table import Column, PagedTableModel
from app.models.properties import ROLE_CHIPS
from app.services.records import AuditItem, ContactProperty, StaffContact

# Every action the portal records (SA-3), as the staff member would say it on the phone.
ACTION_LABELS = {
    "assist.start": "Opened the portal",
    "assist.end": "Ended the assist",
    "payment.create": "Took a payment",
    "payment_method.add": "Added a payment method",
    "payment_method.default": "Made a payment method the default",
    "payment_method.delete": "Removed a payment method",
    "preferences.update": "Changed receipt emails",
    "proposal.sign": "Signed a proposal",
    "request.create": "Sent a request",
    "request.comment": "Replied to a request",
}
# "INV-2611-OAK 300.00", "fee 8.70": one part of a payment's detail that ends in an amount.
_AMOUNT_PART = re.compile(r"^(?P<label>.*?) ?(?P<amount>-?\d+\.\d{2})$")
_RECEIPTS = {"email_receipts=on": "Receipt emails turned on", "email_receipts=off": "Receipt emails turned off"}


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


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())


def detail_text(entry: AuditItem, currency: str) -> str:
    """The portal's detail as words: a payment's amounts as money ("$300.00", not "300.00"), its
    parts apart; the receipts switch as a sentence; a request or proposal led by its number."""
    detail = entry.detail
    if entry.action == "payment.create":
        # Led by its reference, the one on the customer's receipt.
        parts = [f"Reference {entry.reference}"] if entry.reference else []
        return " · ".join(parts + [_money_part(part, currency) for part in detail.split("; ")])
    if entry.action == "preferences.update":
        return _RECEIPTS.get(detail, detail)
    number = entry.target.partition(" ")[2] if entry.target.startswith(("request ", "proposal ")) else ""
    return f"{number}: {detail}" if number and detail else number or detail


def _money_part(part: str, currency: str) -> str:
    match = _AMOUNT_PART.match(part)
    if match is None:
        return part
    money = money_text(Decimal(match["amount"]), currency)
    return f"{match['label']} {money}" if match["label"] else money


class AuditModel(PagedTableModel):
    """Newest first, as the server sends it; its times on the branch's clock (`time_zone`). One
    customer's activity (`per_customer`) has no Customer column: it named the same person on every
    row, in the width the detail needed."""

    def __init__(
        self, time_zone: str, currency: str, parent: QObject | None = None, *, per_customer: bool = False
    ) -> None:
        self.time_zone = time_zone
        customer = Column("contact", "Customer", lambda e: e.contact_name, lambda e: e.contact_name.casefold())
        super().__init__(
            [
                # As every other timestamp in the app ("Nov 27, 2026 at 3:23 PM"), not ISO "2026-11-27 15:23".
                Column("at", "When", lambda e: moment_long(e.at, self.time_zone), lambda e: e.at),
                Column("staff", "Staff", lambda e: e.staff_name, lambda e: e.staff_name.casefold()),
                *([] if per_customer else [customer]),
                Column("action", "Action", lambda e: action_label(e.action), lambda e: e.action),
                Column(
                    "detail",
                    "Detail",
                    lambda e: detail_text(e, currency),
                    lambda e: detail_text(e, currency).casefold(),
                    # Whole, where the cell cuts it short.
                    tooltip=lambda e: detail_text(e, currency),
                ),
            ],
            parent,
        )

    def entry(self, row: int) -> AuditItem:
        record = self.record(row)
        assert isinstance(record, AuditItem)
        return record
