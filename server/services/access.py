"""Who may see which property: the one place the portal's visibility rules start from (PF-1, AC-2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.errors import not_found
from server.models import Branch, Contact, Property, PropertyContact, Staff

PAYING_ROLES = frozenset({"primary", "billing"})

# The properties a list or the balance covers, for `column.in_(...)`: the ids the caller picked, or, with no
# filter, a subquery for all the contact's properties, so a thousand-property portfolio is not a thousand
# bound parameters in every query (PF-2).
PropertyScope = Sequence[int] | Select[int]


@dataclass(frozen=True)
class Caller:
    """The signed-in party of one request, resolved from its bearer token."""

    session_id: int
    kind: str  # contact | staff
    identity_id: int
    branch: Branch
    contact: Contact | None  # the contact whose portal this is (also in an assist session)
    staff: Staff | None
    assisted_by: Staff | None  # the staff member acting for `contact` (SA-2)
    client_address: str


def contact_roles(session: Session, contact_id: int, among: Sequence[int] | None = None) -> dict[int, str]:
    """Property id -> this contact's role there, for every property the contact is tied to (or those `among`)."""
    query = select(PropertyContact.property_id, PropertyContact.role).where(PropertyContact.contact_id == contact_id)
    if among is not None:
        query = query.where(PropertyContact.property_id.in_(among))
    return {property_id: role for property_id, role in session.execute(query)}


def all_properties_of(contact_id: int) -> Select[int]:
    return select(PropertyContact.property_id).where(PropertyContact.contact_id == contact_id)


def visible_property(session: Session, contact_id: int, property_id: int) -> tuple[Property, str]:
    row = session.execute(
        select(Property, PropertyContact.role)
        .join(PropertyContact, PropertyContact.property_id == Property.id)
        .where(PropertyContact.contact_id == contact_id, Property.id == property_id)
    ).first()
    if row is None:
        raise not_found("That property")
    return row[0], row[1]
