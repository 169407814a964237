"""Who may see which property: the one place the portal's visibility rules start from (PF-1, AC-2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.errors import not_found
from server.models import Branch, Contact, Property, PropertyContact, Proposal, Staff

PAYING_ROLES = frozenset({"primary", "billing"})
# A selection holding at least 1/WIDE_SHARE of the branch's properties is "wide" (see wide_scope).
WIDE_SHARE = 4

# How a query names the properties it covers: all of one contact's, the ids the caller picked, or all of
# the contact's but the ids the caller left out.
ScopeKind = Literal["all", "picked", "all_but"]


@dataclass(frozen=True)
class PropertyScope:
    """The properties a list or the balance covers (PF-2): all of the contact's, or the ids the caller picked.

    Queries filter by it through bind parameters (scope_filter for the scope's `kind`, its values from
    `params`): a list's statement is then built once per kind, and a request only binds values, where
    rebuilding the statement and SQLAlchemy's cache key for it cost more than many a query. With no filter,
    a subquery stands for the contact's properties, so a thousand-property portfolio is not a thousand bound
    parameters in every query; leaving a few out binds only those few (binding the other 999 of 1,000 cost
    about 3 ms per list).
    """

    contact_id: int
    branch_id: int
    picked: tuple[int, ...] = ()  # empty: every property of the contact, but `excluded`
    excluded: tuple[int, ...] = ()  # only with no `picked`

    @property
    def kind(self) -> ScopeKind:
        if self.picked:
            return "picked"
        return "all_but" if self.excluded else "all"

    @property
    def params(self) -> dict[str, Any]:
        """The values of scope_filter's and wide_scope's bind parameters for this scope."""
        if self.picked:
            return {
                "scope_property_ids": list(self.picked),
                "scope_size": len(self.picked),
                "scope_branch": self.branch_id,
            }
        params: dict[str, Any] = {"scope_contact": self.contact_id, "scope_branch": self.branch_id}
        if self.excluded:
            params["scope_excluded"] = list(self.excluded)
        return params


def _contacts_ties(
    kind: ScopeKind, column: ColumnElement[int] | InstrumentedAttribute[int] = PropertyContact.property_id
) -> Select[int]:
    """`column` (the property ids, or their count) of the contact's ties for an "all" or "all_but" scope."""
    ties = select(column).where(PropertyContact.contact_id == bindparam("scope_contact"))
    if kind == "all_but":
        ties = ties.where(PropertyContact.property_id.not_in(bindparam("scope_excluded", expanding=True)))
    return ties


def scope_filter(column: InstrumentedAttribute[int] | ColumnElement[int], kind: ScopeKind) -> ColumnElement[bool]:
    """`column` (a property id) within a PropertyScope of this kind, its values left to the scope's params."""
    if kind == "picked":
        return column.in_(bindparam("scope_property_ids", expanding=True))
    return column.in_(_contacts_ties(kind))


def wide_scope(kind: ScopeKind) -> ColumnElement[bool]:
    """True when the scope holds at least 1/WIDE_SHARE of its branch's properties: most rows of a list in its
    own order are then in the scope, and walking that order finds a page after a few rows (paginate's Walk).

    A SQL expression, so a list reads it in the same round trip as its total."""
    branch = (
        select(func.count())
        .select_from(Property)
        .where(Property.branch_id == bindparam("scope_branch"))
        .scalar_subquery()
    )
    if kind == "picked":
        size: ColumnElement[int] = bindparam("scope_size", type_=Integer)
    else:
        size = _contacts_ties(kind, func.count()).scalar_subquery()
    return size * WIDE_SHARE >= branch


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


# Built once (read on most portal requests): the contact and the properties are bind parameters.
_ROLES = select(PropertyContact.property_id, PropertyContact.role).where(
    PropertyContact.contact_id == bindparam("contact_id")
)
_ROLES_AMONG = _ROLES.where(PropertyContact.property_id.in_(bindparam("among", expanding=True)))
_PROPERTY_COUNT = (
    select(func.count()).select_from(PropertyContact).where(PropertyContact.contact_id == bindparam("contact_id"))
)
_PROPERTIES = (
    select(Property.id, Property.name, Property.address, PropertyContact.role)
    .join(PropertyContact, PropertyContact.property_id == Property.id)
    .where(PropertyContact.contact_id == bindparam("contact_id"))
    .order_by(Property.name, Property.id)
)


def contact_roles(session: Session, contact_id: int, among: Sequence[int] | None = None) -> dict[int, str]:
    """Property id -> this contact's role there, for every property the contact is tied to (or those `among`).

    Read on the session's connection: these are plain columns, and the ORM's result machinery cost about
    0.3 ms for a hundred picked properties (no route changes a tie before reading roles, so skipping the
    autoflush reads the same rows)."""
    connection = session.connection()
    if among is None:
        rows = connection.execute(_ROLES, {"contact_id": contact_id})
    else:
        rows = connection.execute(_ROLES_AMONG, {"contact_id": contact_id, "among": list(among)})
    return {property_id: role for property_id, role in rows}


def contact_property_count(session: Session, contact_id: int) -> int:
    count: int = session.connection().execute(_PROPERTY_COUNT, {"contact_id": contact_id}).scalar_one()
    return count


def contact_properties(session: Session, contact_id: int) -> list[tuple[int, str, str, str]]:
    """(id, name, address, role) of every property the contact is tied to, by name (the filter's choices, PF-1)."""
    rows = session.connection().execute(_PROPERTIES, {"contact_id": contact_id})
    return [(pid, name, address, role) for pid, name, address, role in rows]


def visible_property(session: Session, contact_id: int, property_id: int) -> tuple[Property, str]:
    row = session.execute(
        select(Property, PropertyContact.role)
        .join(PropertyContact, PropertyContact.property_id == Property.id)
        .where(PropertyContact.contact_id == contact_id, Property.id == property_id)
    ).first()
    if row is None:
        raise not_found("That property")
    return row[0], row[1]


def linked_proposal(target: Proposal | None, property_id: int) -> Proposal | None:
    """The proposal a record of `property_id` names (a change order's original, an invoice's proposal), when
    everyone who sees that record may open it: on the same property (PR-3), shared and not a draft (PR-1).
    Otherwise None: a draft's or another customer's proposal is never named (api.md: ids are not revealed),
    whatever an import once wrote."""
    if (
        target is None
        or target.property_id != property_id
        or target.shared_on is None
        or target.opportunity_status == "draft"
    ):
        return None
    return target
