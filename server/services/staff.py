"""Staff assistance: finding a customer (SA-1), opening an assist session (SA-2, SA-4) and reading the audit (SA-3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, CompoundSelect, Integer, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, contains_eager

from server.errors import FieldError, invalid, not_found
from server.models import AuditEntry, AuthSession, Contact, Property, PropertyContact, SearchTerm, Staff
from server.models.base import utcnow
from server.models.search import compact, fold
from server.services.access import Caller
from server.services.audit import record_if_assisted
from server.services.secrets import new_token, token_hash
from server.settings import Settings

MIN_QUERY = 2
MAX_QUERY = 200
REASON_LENGTH = 500

# Ranks, best first: the number or email read out in full, then a whole word of a value, then
# the start of a value, then the start of a word, then anywhere inside a name, email, phone or address.
EXACT, EXACT_WORD, PREFIX, WORD_PREFIX, SUBSTRING = range(5)
_SUBSTRING_FIELDS = ("name", "email", "phone", "property", "address")


def search_forms(query: str) -> list[str]:
    """The folded forms a query is looked up by; raises 422 when it is too short to be useful."""
    folded = fold(query)
    if len(folded) < MIN_QUERY:
        raise invalid([FieldError("q", f"Type at least {MIN_QUERY} characters to search.")])
    forms = [folded]
    squeezed = compact(folded)
    if len(squeezed) >= MIN_QUERY and squeezed != folded:
        forms.append(squeezed)
    return forms


def _successor(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (binary order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _matches(branch_id: int, forms: Sequence[str]) -> CompoundSelect[int | None, int | None, int]:
    """(contact_id, property_id, rank) for every indexed term the query matches; each part is one index range scan."""
    parts = []
    for form in forms:
        rank = case(
            (and_(SearchTerm.term == form, SearchTerm.whole), EXACT),
            (SearchTerm.term == form, EXACT_WORD),
            (SearchTerm.whole, PREFIX),
            else_=WORD_PREFIX,
        )
        parts.append(
            select(SearchTerm.contact_id, SearchTerm.property_id, rank.label("rank")).where(
                SearchTerm.branch_id == branch_id,
                SearchTerm.term >= form,
                SearchTerm.term < _successor(form),
            )
        )
    parts.append(
        select(SearchTerm.contact_id, SearchTerm.property_id, literal(SUBSTRING, Integer).label("rank")).where(
            SearchTerm.branch_id == branch_id,
            SearchTerm.field.in_(_SUBSTRING_FIELDS),
            SearchTerm.whole.is_(True),
            or_(*(SearchTerm.term.contains(form, autoescape=True) for form in forms)),
        )
    )
    return union_all(*parts)


@dataclass(frozen=True)
class Search:
    statement: Select[Contact, int]
    order: list[ColumnElement[Any]]


def search_contacts(branch_id: int, query: str) -> Search:
    """The branch's contacts matching `query`, each with its best rank, to be listed by `order` (rank, name, id)."""
    matches = _matches(branch_id, search_forms(query)).subquery("m")
    owner = func.coalesce(matches.c.contact_id, PropertyContact.contact_id)
    ranked = (
        select(owner.label("contact_id"), func.min(matches.c.rank).label("rank"))
        .select_from(matches)
        .outerjoin(PropertyContact, PropertyContact.property_id == matches.c.property_id)
        .where(owner.is_not(None))
        .group_by(owner)
        .subquery("ranked")
    )
    statement = (
        select(Contact, ranked.c.rank)
        .join(ranked, ranked.c.contact_id == Contact.id)
        .where(Contact.branch_id == branch_id)
    )
    return Search(statement, [ranked.c.rank, Contact.name.expression, Contact.id.expression])


class PropertyRole(NamedTuple):
    id: int
    name: str
    role: str


def properties_of(session: Session, contact_ids: Sequence[int]) -> dict[int, list[PropertyRole]]:
    """Each contact's properties with their role there, in one query for a whole page of contacts.

    Plain rows, not ORM objects: a large customer brings a thousand properties into one result.
    """
    found: dict[int, list[PropertyRole]] = {contact_id: [] for contact_id in contact_ids}
    if not contact_ids:
        return found
    rows = (
        session.connection()
        .execute(
            select(PropertyContact.contact_id, Property.id, Property.name, PropertyContact.role)
            .join(Property, Property.id == PropertyContact.property_id)
            .where(PropertyContact.contact_id.in_(contact_ids))
            .order_by(Property.name, Property.id)
        )
        .all()
    )
    for contact_id, property_id, name, role in rows:
        found[contact_id].append(PropertyRole(property_id, name, role))
    return found


def branch_contact(session: Session, branch_id: int, contact_id: int) -> Contact:
    """A contact of this branch, or 404 (contacts of other branches do not exist for this caller)."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.branch_id != branch_id:
        raise not_found("That customer")
    return contact


@dataclass(frozen=True)
class Assist:
    token: str
    session: AuthSession
    contact: Contact


def open_assist(session: Session, settings: Settings, caller: Caller, contact_id: int, reason: str) -> Assist:
    """An assist session: the contact's own permissions (SA-2), bound to the staff session that opened it (SA-4).

    It can never outlive that staff session, so signing the staff member out (or their session
    expiring) ends it too; being idle for `assist_idle_timeout` ends it on its own.
    """
    assert caller.staff is not None
    reason = " ".join(reason.split())
    if not reason:
        raise invalid([FieldError("reason", "Say why you are opening this customer's portal.")])
    contact = branch_contact(session, caller.branch.id, contact_id)
    parent = session.get(AuthSession, caller.session_id)
    assert parent is not None
    now = utcnow()
    token = new_token()
    auth = AuthSession(
        token_hash=token_hash(token),
        identity_id=contact.identity_id,
        branch_id=caller.branch.id,
        kind="contact",
        contact_id=contact.id,
        staff_id=caller.staff.id,
        assisted_by_id=caller.staff.id,
        parent_session_id=parent.id,
        assist_reason=reason[:REASON_LENGTH],
        created_at=now,
        last_used_at=now,
        expires_at=min(now + settings.session_lifetime, parent.expires_at),
    )
    session.add(auth)
    session.flush()
    assisted = Caller(
        session_id=auth.id,
        kind="contact",
        identity_id=contact.identity_id,
        branch=caller.branch,
        contact=contact,
        staff=caller.staff,
        assisted_by=caller.staff,
        client_address=caller.client_address,
    )
    # Who looked at whose account, and why, is part of the trail even when nothing is changed.
    record_if_assisted(session, assisted, "assist.start", f"contact:{contact.id}", reason[:REASON_LENGTH])
    return Assist(token, auth, contact)


def audit_query(branch_id: int, contact_id: int | None) -> Select[AuditEntry, Staff]:
    """The branch's entries (or one contact's) with their staff member and contact, in one query."""
    query = (
        select(AuditEntry, Staff)
        .join(Staff, Staff.id == AuditEntry.staff_id)
        .join(AuditEntry.contact)
        .options(contains_eager(AuditEntry.contact))
        .where(AuditEntry.branch_id == branch_id)
    )
    if contact_id is not None:
        query = query.where(AuditEntry.contact_id == contact_id)
    return query
