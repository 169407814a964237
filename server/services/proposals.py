"""Proposal rules: visibility, portal status, who may sign and when, the approved amount, signing (PR-1..PR-8)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Select, and_, bindparam, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import FieldError, Problem, conflict, forbidden, invalid, not_found
from server.models import Property, PropertyContact, Proposal, ProposalItem, ProposalSignature
from server.models.base import utcnow
from server.services.access import Caller, ScopeKind, contact_roles, scope_filter
from server.services.audit import captured_by_id, record_if_assisted
from server.services.mail import Mailer
from server.services.pdf_layout import money_text
from server.services.proposal_pdf import RenderedProposal
from server.services.signature_image import SignatureImageError, decode_signature

ACCEPTED_STATUSES = ("won", "approved", "in_production", "complete")
SIGNABLE_STATUSES = ("delivered", "won")
SIGNING_ROLES = ("primary", "billing")
MAX_SIGNER_NAME = 200

_NOT_SIGNABLE = {
    "lost": "This proposal was declined and can no longer be signed.",
    "approved": "This proposal is already approved; it can be viewed but not signed.",
    "in_production": "The work is in production; the proposal can be viewed but not signed.",
    "complete": "The work is complete; the proposal can be viewed but not signed.",
}


class ProposalState(Protocol):
    """What the status and signing rules read: a Proposal, or a list row with the same names."""

    @property
    def is_signed(self) -> bool: ...
    @property
    def opportunity_status(self) -> str: ...


class ProposalFields(ProposalState, Protocol):
    """A proposal list row (see visible_proposals)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def property_id(self) -> int: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def shared_on(self) -> date | None: ...
    @property
    def change_order_of_id(self) -> int | None: ...


class ProposalRow(NamedTuple):
    """A row of visible_proposals, its columns in order: a list reads its rows as these, since a SQLAlchemy
    row's attribute access cost about as much as building the item."""

    id: int
    number: str
    title: str
    property_id: int
    opportunity_status: str
    is_signed: bool
    total: Decimal
    shared_on: date | None
    change_order_of_id: int | None
    property_name: str
    role: str


def portal_status(proposal: ProposalState) -> str:
    """PR-2: lost -> rejected; signed or won/approved/in production/complete -> accepted; else pending."""
    if proposal.opportunity_status == "lost":
        return "rejected"
    if proposal.is_signed or proposal.opportunity_status in ACCEPTED_STATUSES:
        return "accepted"
    return "pending"


def status_filter(status: str) -> ColumnElement[bool]:
    accepted = or_(Proposal.is_signed.is_(True), Proposal.opportunity_status.in_(ACCEPTED_STATUSES))
    lost = Proposal.opportunity_status == "lost"
    if status == "rejected":
        return lost
    if status == "accepted":
        return and_(~lost, accepted)
    if status == "pending":
        return and_(~lost, ~accepted)
    return literal(True)


@dataclass(frozen=True)
class SignBlock:
    """Why a contact cannot sign: a stable code, the HTTP status the signature endpoint answers, a sentence."""

    code: str
    status: int
    reason: str

    def problem(self) -> Problem:
        if self.status == 403:
            return forbidden(self.code, self.reason)
        return conflict(self.code, self.reason)


def sign_block(proposal: ProposalState, role: str) -> SignBlock | None:
    """PR-4 (state: 409 not_signable) is checked before PR-3 (role: 403 not_allowed_to_sign)."""
    if proposal.is_signed:
        return SignBlock("not_signable", 409, "This proposal has already been signed.")
    if proposal.opportunity_status not in SIGNABLE_STATUSES:
        reason = _NOT_SIGNABLE.get(proposal.opportunity_status, "This proposal cannot be signed.")
        return SignBlock("not_signable", 409, reason)
    if role not in SIGNING_ROLES:
        return SignBlock(
            "not_allowed_to_sign", 403, "Only the property's primary or billing contact can sign proposals."
        )
    return None


def sign_blocked_reason(proposal: ProposalState, role: str) -> str | None:
    """Why this contact cannot sign (PR-3, PR-4), as a sentence; None when they can."""
    block = sign_block(proposal, role)
    return block.reason if block else None


@cache
def visible_proposals(scope: ScopeKind, status: str) -> Select[*tuple[Any, ...]]:
    """PR-1: shared, never drafts, on the selected properties; the list's columns (ProposalFields, property_name)
    and the role of the contact bound as `role_contact` on each row's property (for can_sign).

    The role is read with the page's rows (one tie per contact and property, and every listed property
    is the contact's), which spares a query of its own. As a subquery per row, not a join: joined, SQLite
    drove the page from the contact's thousand ties and read every proposal of them (4.6 ms a page).

    Built once per variant, the scope's params bound at execution (see PropertyScope)."""
    role = (
        select(PropertyContact.role)
        .where(
            PropertyContact.property_id == Proposal.property_id, PropertyContact.contact_id == bindparam("role_contact")
        )
        .scalar_subquery()
        .label("role")
    )
    return (
        select(
            Proposal.id,
            Proposal.number,
            Proposal.title,
            Proposal.property_id,
            Proposal.opportunity_status,
            Proposal.is_signed,
            Proposal.total,
            Proposal.shared_on,
            Proposal.change_order_of_id,
            Property.name.label("property_name"),
            role,
        )
        .join(Property, Property.id == Proposal.property_id)
        .where(
            scope_filter(Proposal.property_id, scope),
            Proposal.shared_on.is_not(None),
            Proposal.opportunity_status != "draft",
            status_filter(status),
        )
    )


def visible_proposal(session: Session, contact_id: int, proposal_id: int) -> tuple[Proposal, str]:
    """One proposal the contact may see (PR-1, PR-3: every contact on the property) and their role there.

    Absent, draft, unshared and other customers' proposals all answer the same 404.
    """
    roles = contact_roles(session, contact_id)
    proposal = session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.property_id not in roles
        or proposal.shared_on is None
        or proposal.opportunity_status == "draft"
    ):
        raise not_found("That proposal")
    return proposal, roles[proposal.property_id]


def optional_items(proposal: Proposal) -> list[ProposalItem]:
    return [item for item in proposal.items if item.optional]


def approved_total(proposal: Proposal, selected_ids: set[int]) -> Decimal:
    """PR-5: every non-optional item plus the optional items the signer selected: the total the signer was
    shown (the importer keeps it the sum of the non-optional items, see proposal_total) plus their choices."""
    return proposal.total + sum(
        (item.amount for item in proposal.items if item.optional and item.id in selected_ids), Decimal("0.00")
    )


def check_unchanged(
    proposal: Proposal,
    optional_service_ids: Sequence[int],
    expected_total: Decimal | None,
    expected_revision: int | None = None,
) -> None:
    """409 proposal_changed when the signer was shown another proposal than signing would record (PR-5, PR-9):
    staff re-imported it while it was open. The amount is compared first, as its sentence says what changed;
    the revision catches every other change (wording, quantities, terms). Nothing to compare when the client
    did not say (an older client)."""
    if expected_total is not None:
        _check_amount(proposal, optional_service_ids, expected_total)
    if expected_revision is not None and expected_revision != proposal.revision:
        raise conflict(
            "proposal_changed",
            "This proposal changed since you opened it: the company has updated it. Review it and sign again.",
        )


def _check_amount(proposal: Proposal, optional_service_ids: Sequence[int], expected_total: Decimal) -> None:
    offered = {item.id for item in optional_items(proposal)}
    chosen = set(optional_service_ids)
    currency = proposal.property.branch.currency
    if not chosen <= offered:
        change = "an optional service you chose is no longer offered"
    else:
        total = approved_total(proposal, chosen)
        if total == expected_total:
            return
        amount = money_text(total, currency)
        change = (
            f"with the optional services you chose, the approved amount is now {amount}"
            if chosen
            else f"the total is now {amount}"
        )
    raise conflict(
        "proposal_changed", f"This proposal changed since you opened it: {change}. Review it and sign again."
    )


@dataclass(frozen=True)
class SignatureInput:
    signer_name: str
    png: bytes
    selected_ids: list[int]


_LETTER = re.compile(r"[^\W\d_]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_signature(
    proposal: Proposal, signer_name: str, agree: bool, signature_png: str, optional_service_ids: Sequence[int]
) -> SignatureInput:
    """Every problem with the signature form at once, as 422 field errors a signer can act on."""
    errors: list[FieldError] = []
    name = " ".join(signer_name.split())
    if not name:
        errors.append(FieldError("signer_name", "Type the name of the person signing."))
    elif len(name) > MAX_SIGNER_NAME:
        errors.append(FieldError("signer_name", f"The signer's name can be at most {MAX_SIGNER_NAME} characters."))
    elif _CONTROL.search(signer_name) or not _LETTER.search(name):
        errors.append(FieldError("signer_name", "The signer's name must be a person's name."))
    if agree is not True:
        errors.append(FieldError("agree", "Tick the box to agree to the proposal before signing."))
    png = b""
    try:
        png = decode_signature(signature_png)
    except SignatureImageError as exc:
        errors.append(FieldError("signature_png", str(exc)))
    allowed = {item.id for item in optional_items(proposal)}
    wanted = list(dict.fromkeys(optional_service_ids))
    unknown = [item_id for item_id in wanted if item_id not in allowed]
    if unknown:
        errors.append(
            FieldError(
                "optional_service_ids",
                f"These are not optional services of this proposal: {', '.join(map(str, unknown))}.",
            )
        )
    if errors:
        raise invalid(errors)
    return SignatureInput(name, png, sorted(wanted))


def sign(
    session: Session, caller: Caller, proposal: Proposal, role: str, data: SignatureInput, document: RenderedProposal
) -> ProposalSignature:
    """Records the signature (PR-5); exactly one of two simultaneous signers gets here first (PR-4).

    The conditional UPDATE claims the proposal atomically on SQLite and PostgreSQL alike; the
    unique proposal_id of the signature row backs it up. The caller commits.
    """
    block = sign_block(proposal, role)
    if block is not None:
        raise block.problem()
    assert caller.contact is not None
    claimed = session.execute(  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.is_signed.is_(False),
            Proposal.opportunity_status.in_(SIGNABLE_STATUSES),
            # The revision check_unchanged compared and the document was rendered from: a re-import
            # committed meanwhile (PostgreSQL re-checks the locked row) is not signed for unseen.
            Proposal.revision == proposal.revision,
        )
        .values(is_signed=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise conflict("not_signable", "This proposal has just been signed or changed and can no longer be signed.")
    proposal.is_signed = True
    selected = set(data.selected_ids)
    for item in proposal.items:
        if item.optional:
            item.selected = item.id in selected
    total = approved_total(proposal, selected)
    signature = ProposalSignature(
        proposal=proposal,
        contact_id=caller.contact.id,
        contact_role=role,
        signer_name=data.signer_name,
        signature_png=data.png,
        signed_at=utcnow(),
        approved_total=total,
        selected_item_ids=data.selected_ids,
        captured_by_id=captured_by_id(caller),
        client_address=caller.client_address[:100],
        unsigned_pdf_sha256=hashlib.sha256(document.pdf).hexdigest(),
        unsigned_pdf=document.pdf,
        pdf_anchors=document.anchors_json(),
    )
    session.add(signature)
    record_if_assisted(
        session,
        caller,
        "proposal.sign",
        f"proposal {proposal.number}",
        f"signed as {data.signer_name}; approved {money_text(total, proposal.property.branch.currency)}",
    )
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise conflict("not_signable", "This proposal has just been signed and can no longer be signed.") from exc
    return signature


def notify_sales_rep(mailer: Mailer, proposal: Proposal, signed_pdf: bytes) -> bool:
    """PR-8: the sales rep hears of every signature; a change order says which proposal it revises."""
    signature = proposal.signature
    rep = proposal.sales_rep or proposal.property.sales_rep
    if signature is None or rep is None:
        return False
    branch = proposal.property.branch
    currency = branch.currency
    original = proposal.change_order_of
    kind = "Change order" if original is not None else "Proposal"
    subject = f"{kind} {proposal.number} signed: {proposal.title}"
    if original is not None:
        subject += f" (revises {original.number})"
    chosen = [item for item in optional_items(proposal) if item.id in set(signature.selected_item_ids)]
    lines = [
        f"Hello {rep.name},",
        "",
        f"{signature.signer_name} signed {kind.lower()} {proposal.number} ({proposal.title}) "
        f"in the {branch.name} customer portal.",
    ]
    if original is not None:
        lines.append(f"This change order revises proposal {original.number}.")
    lines += [
        "",
        f"Property: {proposal.property.name}, {proposal.property.address}",
        f"Approved amount: {money_text(signature.approved_total, currency)}",
        "Optional services selected: "
        + (", ".join(f"{i.description} ({money_text(i.amount, currency)})" for i in chosen) or "none"),
        f"Signed at: {signature.signed_at.isoformat(timespec='seconds')}",
    ]
    if signature.captured_by is not None:
        lines.append(f"Captured by {signature.captured_by.name} in an assist session.")
    lines += [
        "",
        "The portal shows it as Accepted. Mark the opportunity as Won when you have reviewed it.",
        "The signed proposal with its signature certificate is attached.",
    ]
    return mailer.send(
        rep.email,
        subject,
        "\n".join(lines),
        attachments=[(f"{safe_filename(proposal.number)}-signed.pdf", "application/pdf", signed_pdf)],
    )


def safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "proposal"
