"""What a contact sees of one visit (VI-2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.errors import not_found
from server.models import Branch, Contact, Property, PropertyContact, Staff, Visit, VisitNote


def visible_visit(session: Session, contact: Contact, visit_id: int) -> Visit:
    """A visit on one of the contact's properties (any date: the windows only shape the lists)."""
    visit = session.scalar(
        select(Visit)
        .join(Property, Property.id == Visit.property_id)
        .join(PropertyContact, PropertyContact.property_id == Property.id)
        .where(Visit.id == visit_id, PropertyContact.contact_id == contact.id, Property.branch_id == contact.branch_id)
        .options(selectinload(Visit.notes), selectinload(Visit.property).selectinload(Property.sales_rep))
    )
    if visit is None:
        raise not_found("That visit")
    return visit


def published_notes(visit: Visit) -> list[VisitNote]:
    """VI-2: only notes staff marked "shown in portal"; gate codes and crew remarks stay internal."""
    return [note for note in visit.notes if note.shown_in_portal]


def contact_phone(staff: Staff, branch: Branch) -> str | None:
    """PR-7 / VI-2: a sales rep's phone is shown only when the branch chose to show it."""
    return staff.phone if branch.show_sales_rep_phone and staff.phone else None
