"""Proposal visibility and status rules (PR-1..PR-4)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select

from server.models import Property, Proposal
from server.services.access import PropertyScope

ACCEPTED_STATUSES = ("won", "approved", "in_production", "complete")
SIGNABLE_STATUSES = ("delivered", "won")
SIGNING_ROLES = ("primary", "billing")


def portal_status(proposal: Proposal) -> str:
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


def sign_blocked_reason(proposal: Proposal, role: str) -> str | None:
    """Why this contact cannot sign (PR-3, PR-4), as a sentence; None when they can."""
    if proposal.is_signed:
        return "This proposal has already been signed."
    if proposal.opportunity_status not in SIGNABLE_STATUSES:
        return {
            "lost": "This proposal was declined and can no longer be signed.",
            "approved": "This proposal is already approved; it can be viewed but not signed.",
            "in_production": "The work is in production; the proposal can be viewed but not signed.",
            "complete": "The work is complete; the proposal can be viewed but not signed.",
        }.get(proposal.opportunity_status, "This proposal cannot be signed.")
    if role not in SIGNING_ROLES:
        return "Only the property's primary or billing contact can sign proposals."
    return None


def visible_proposals(property_ids: PropertyScope, status: str) -> Select[Proposal, str]:
    """PR-1: shared, never drafts, on the selected properties."""
    return (
        select(Proposal, Property.name)
        .join(Property, Property.id == Proposal.property_id)
        .where(
            Proposal.property_id.in_(property_ids),
            Proposal.shared_on.is_not(None),
            Proposal.opportunity_status != "draft",
            status_filter(status),
        )
    )
