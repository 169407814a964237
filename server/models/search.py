"""The staff search index (SA-1): folded search terms kept in step with contacts, properties, invoices,
proposals and portal payments.

Staff look a customer up while the customer waits on the phone, by whatever the customer reads
out: a name (either way round: "Lee, Jordan"), an email, a phone number in any formatting, a property
name or street, an invoice or proposal number (with or without its prefix), a payment reference
from a receipt. A LIKE '%...%' over the invoices would scan tens of thousands of rows per
keystroke, so every searchable value is stored here, case- and accent-folded, whole and word by
word, and a search is a handful of B-tree range scans on (branch_id, term).

The index is derived data and cannot drift: a flush listener rewrites the terms of every
contact, property, invoice, proposal or payment whose searchable columns changed in that flush, in
the same transaction, whoever wrote it (the importer, an API endpoint, a script). Writes that bypass
the flush call `write_terms` themselves: the importer's bulk inserts of invoices and proposals, and a
payment's settlement (a bulk update that makes it succeeded). Payments the importer inserts in bulk
or deletes are the office's, which have no reference and so no terms; housekeeping never deletes
payments (their idempotency records may go: the reference lives on the payment's group_id).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Connection, ForeignKey, Index, Integer, String, delete, event, insert, inspect, select
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from server.models.base import Base
from server.models.billing import PAYMENT_SUCCEEDED, REFERENCE_PREFIX, Invoice, Payment
from server.models.company import Contact, Property
from server.models.work import Proposal

TERM_LENGTH = 200
# A binary collation on PostgreSQL, so `term >= 'ab' AND term < 'ac'` is exactly "starts with ab"
# (SQLite's default collation is already binary); linguistic collations would break that.
TermText = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")

# The shortest tail of a phone number worth indexing: "the last four digits".
PHONE_TAIL = 4
# Names of up to this many words are also stored in every rotation ("lee jordan" for "Jordan Lee"),
# which is what surname first ("Lee, Jordan") folds to as well; longer ones only as written.
ROTATED_WORDS = 4


class SearchTerm(Base):
    """One searchable form of one value. `whole` terms are the entire value; the others are its words."""

    __tablename__ = "search_terms"
    __table_args__ = (
        # Prefix lookups: one range scan per query form, answered from the index alone.
        Index("ix_search_terms_branch_term", "branch_id", "term", "whole", "contact_id", "property_id"),
        # The substring pass scans only the whole values of one branch's short text fields (never the
        # invoice numbers), straight from this index without visiting the table.
        Index("ix_search_terms_substring", "branch_id", "field", "whole", "term", "contact_id", "property_id"),
        Index("ix_search_terms_source", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(TermText)
    whole: Mapped[bool] = mapped_column(Boolean)
    field: Mapped[str] = mapped_column(String(10))  # name|email|phone|property|address|invoice|proposal|payment
    source: Mapped[str] = mapped_column(String(10))  # contact|property|invoice|proposal|payment
    source_id: Mapped[int] = mapped_column(Integer)
    # Exactly one is set: a contact's own fields, and the references of payments they made, name the
    # contact; everything else names the property, whose contacts are found through property_contacts
    # at search time.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form: "  Émile  O'Brien" -> "emile o'brien"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())[:TERM_LENGTH]


_ALNUM = re.compile(r"[^\W_]+")
_LETTERS_OR_DIGITS = re.compile(r"\d+|[^\W\d_]+")
_NAME_WORD = re.compile(r"[^\s,]+")


def compact(folded: str) -> str:
    """Only letters and digits: "(555) 010-0101" -> "5550100101", "inv-2001" -> "inv2001"."""
    return "".join(_ALNUM.findall(folded))


def _words(folded: str) -> set[str]:
    """Every alphanumeric run, and its letter and digit parts: "inv-2001b" -> inv, 2001b, 2001, b."""
    words: set[str] = set()
    for word in _ALNUM.findall(folded):
        words.add(word)
        words.update(_LETTERS_OR_DIGITS.findall(word))
    return words


def _alternatives(field: str, folded: str) -> set[str]:
    """Other orders a caller may read a value in, stored as words (so never in the substring pass).

    A name's rotations: "Lee Jordan" and "Customer, Pat" (whose compact form is "customerpat") find
    "Jordan Lee" and "Pat Customer". A number's tails from each word on: "2611-OAK" finds
    "INV-2611-OAK" read out without its prefix. Both in spaced and compact form."""
    if field == "name":
        # Split where a person would ("smith-jones" and "o'brien" stay one word), commas included.
        words = _NAME_WORD.findall(folded)
        if not 1 < len(words) <= ROTATED_WORDS:
            return set()
        forms = {" ".join(words[i:] + words[:i]) for i in range(1, len(words))}
    elif field in ("invoice", "proposal"):
        forms = {folded[match.start() :] for match in list(_ALNUM.finditer(folded))[1:-1]}
    else:
        return set()
    return forms | {compact(form) for form in forms}


def _payment_terms(reference: str) -> set[tuple[str, bool]]:
    """The reference whole and compact ("pay-3f9a0c21b7", "pay3f9a0c21b7"), and its code alone as a
    word; never "pay" by itself, which every payment of the branch would share."""
    folded = fold(reference)
    return {(folded, True), (compact(folded), True), (folded.removeprefix(fold(REFERENCE_PREFIX)), False)}


def terms_for(field: str, value: str | None) -> set[tuple[str, bool]]:
    """The (term, whole) pairs stored for one value of one field."""
    if field == "payment":
        return _payment_terms(value) if value else set()
    if field == "phone":
        digits = "".join(ch for ch in value or "" if ch.isdigit())
        if not digits:
            return set()
        # Tails, so "the last four digits" or a number typed without its area code still match.
        return {(digits, True)} | {(digits[-n:], False) for n in range(PHONE_TAIL, len(digits))}
    folded = fold(value or "")
    if not folded:
        return set()
    terms = {(folded, True)}
    squeezed = compact(folded)
    if squeezed and squeezed != folded:
        terms.add((squeezed, True))
    if field == "email":
        local, _, domain = folded.partition("@")
        words = _words(local) | ({domain} if domain else set())
    else:
        words = _words(folded)
    terms.update((word, False) for word in words | _alternatives(field, folded) if word != folded)
    return terms


class _Wanted(NamedTuple):
    source: str
    source_id: int
    branch_id: int
    contact_id: int | None
    property_id: int | None
    fields: dict[str, str | None]


# The columns each indexed class is searched by; a change to any other column leaves its terms alone.
_WATCHED: dict[type[Any], tuple[str, ...]] = {
    Contact: ("name", "email", "phone", "branch_id", "branch"),
    Property: ("name", "address", "branch_id", "branch"),
    Invoice: ("number", "shared", "property_id", "property"),
    Proposal: ("number", "shared_on", "opportunity_status", "property_id", "property"),
    Payment: ("group_id", "status", "payer_contact_id"),
}
_SOURCE_NAMES = {
    Contact: "contact",
    Property: "property",
    Invoice: "invoice",
    Proposal: "proposal",
    Payment: "payment",
}


def _needs_update(obj: Any, is_new: bool) -> bool:
    if is_new:
        return True
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in _WATCHED[type(obj)])


def _branches(connection: Connection, model: type[Property] | type[Contact], ids: set[int]) -> dict[int, int]:
    """id -> branch_id of these properties or contacts."""
    branch_of: dict[int, int] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):
        rows = connection.execute(select(model.id, model.branch_id).where(model.id.in_(ordered[start : start + 900])))
        branch_of.update({row.id: row.branch_id for row in rows})
    return branch_of


def _wanted(connection: Connection, objects: list[Any]) -> list[_Wanted]:
    """What the index should hold for each object. Invoices and proposals only when the customer sees
    them; a payment once it succeeded (a pending one may yet be declined and deleted), naming its payer."""
    property_ids = {obj.property_id for obj in objects if isinstance(obj, (Invoice, Proposal))}
    branch_of = _branches(connection, Property, property_ids)
    payers = {
        obj.payer_contact_id
        for obj in objects
        if isinstance(obj, Payment) and obj.payer_contact_id is not None and obj.status == PAYMENT_SUCCEEDED
    }
    branch_of_payer = _branches(connection, Contact, payers)
    wanted: list[_Wanted] = []
    for obj in objects:
        if isinstance(obj, Contact):
            fields = {"name": obj.name, "email": obj.email, "phone": obj.phone}
            wanted.append(_Wanted("contact", obj.id, obj.branch_id, obj.id, None, fields))
        elif isinstance(obj, Property):
            fields = {"property": obj.name, "address": obj.address}
            wanted.append(_Wanted("property", obj.id, obj.branch_id, None, obj.id, fields))
        elif isinstance(obj, Invoice):
            fields = {"invoice": obj.number if obj.shared else None}
            wanted.append(_Wanted("invoice", obj.id, branch_of[obj.property_id], None, obj.property_id, fields))
        elif isinstance(obj, Payment):
            # Office-recorded payments have no payer (and no reference) and pending ones may yet be declined
            # and deleted: no terms for either.
            payer = obj.payer_contact_id
            if payer is None or obj.status != PAYMENT_SUCCEEDED:
                wanted.append(_Wanted("payment", obj.id, 0, None, None, {}))
            else:
                fields = {"payment": obj.reference}
                wanted.append(_Wanted("payment", obj.id, branch_of_payer[payer], payer, None, fields))
        else:
            visible = obj.shared_on is not None and obj.opportunity_status != "draft"
            fields = {"proposal": obj.number if visible else None}
            wanted.append(_Wanted("proposal", obj.id, branch_of[obj.property_id], None, obj.property_id, fields))
    return wanted


def _delete_terms(connection: Connection, source: str, ids: Iterable[int]) -> None:
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):
        connection.execute(
            delete(SearchTerm).where(
                SearchTerm.source == source, SearchTerm.source_id.in_(ordered[start : start + 900])
            )
        )


def write_terms(connection: Connection, changed: list[Any], removed: list[Any]) -> None:
    """Replaces the terms of `changed` objects with their current ones and drops those of `removed` ones."""
    stale: dict[str, set[int]] = {}
    for obj in removed:
        stale.setdefault(_SOURCE_NAMES[type(obj)], set()).add(obj.id)
    rows: list[dict[str, Any]] = []
    for item in _wanted(connection, changed):
        stale.setdefault(item.source, set()).add(item.source_id)
        for field, value in item.fields.items():
            for term, whole in sorted(terms_for(field, value)):
                rows.append(
                    {
                        "branch_id": item.branch_id,
                        "term": term,
                        "whole": whole,
                        "field": field,
                        "source": item.source,
                        "source_id": item.source_id,
                        "contact_id": item.contact_id,
                        "property_id": item.property_id,
                    }
                )
    for source, ids in stale.items():
        _delete_terms(connection, source, ids)
    if rows:
        connection.execute(insert(SearchTerm), rows)


@event.listens_for(Session, "after_flush")
def _keep_search_terms_in_step(session: Session, _context: UOWTransaction) -> None:
    # After the flush the new rows have their ids, and attribute history still says what changed.
    new = set(map(id, session.new))
    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if type(obj) in _WATCHED and _needs_update(obj, id(obj) in new) and obj not in session.deleted
    ]
    removed = [obj for obj in session.deleted if type(obj) in _WATCHED]
    if changed or removed:
        write_terms(session.connection(), changed, removed)
