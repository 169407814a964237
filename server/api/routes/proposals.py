"""Proposals a contact can see and sign (PR-1..PR-9)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictBool

from server.api.deps import CallerDep, ContactDep, PagingDep, SelectionDep, SessionDep
from server.api.paging import paginate
from server.api.schemas import (
    Body,
    ItemList,
    MoneyIn,
    MoneyOut,
    PersonContact,
    PropertyRef,
    StaffRef,
    Timestamp,
    json_response,
    page_response,
    staff_ref,
)
from server.errors import conflict
from server.models import Proposal
from server.services.access import linked_proposal
from server.services.proposal_pdf import render_proposal, render_signed_proposal, sales_rep, signed_document
from server.services.proposals import (
    ProposalFields,
    ProposalRow,
    check_unchanged,
    notify_sales_rep,
    portal_status,
    safe_filename,
    sign,
    sign_block,
    sign_blocked_reason,
    validate_signature,
    visible_proposal,
    visible_proposals,
)

router = APIRouter(prefix="/proposals", tags=["proposals"])

ProposalStatus = Literal["all", "pending", "accepted", "rejected"]
OpportunityStatus = Literal["delivered", "won", "lost", "approved", "in_production", "complete"]
PDF_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF document"},
    404: {},
}


class ProposalItemOut(BaseModel):
    id: int
    number: str
    title: str
    property: PropertyRef
    status: Literal["pending", "accepted", "rejected"]
    total: MoneyOut
    shared_on: date
    is_change_order: bool
    can_sign: bool


class LineItemOut(BaseModel):
    id: int
    description: str
    quantity: str = Field(examples=["2", "1.5"])
    unit_price: MoneyOut
    amount: MoneyOut
    optional: bool
    selected: bool


class OptionalServiceOut(BaseModel):
    id: int
    description: str
    amount: MoneyOut
    selected: bool


class SignatureOut(BaseModel):
    signer_name: str
    signed_at: Timestamp
    captured_by: StaffRef | None = Field(description="The staff member who captured it in an assist session (SA-3)")


class ProposalRef(BaseModel):
    id: int
    number: str


class ProposalDetailOut(ProposalItemOut):
    opportunity_type: Literal["work_order", "contract"]
    opportunity_status: OpportunityStatus
    line_items: list[LineItemOut] | None = Field(description="null when the branch hides line items (PR-6)")
    optional_services: list[OptionalServiceOut]
    approved_total: MoneyOut | None
    sales_rep: PersonContact | None = Field(description="Phone only when the branch shows it (PR-7)")
    signature: SignatureOut | None
    change_order_of: ProposalRef | None
    sign_blocked_reason: str | None
    revision: int = Field(
        description="Goes up whenever staff change what a signer reads (title, items, prices, terms, totals…); "
        "a signature sends the one it showed as expected_revision"
    )


class SignatureIn(Body):
    signer_name: Annotated[str, Field(max_length=1000)]
    signature_png: Annotated[str, Field(max_length=2_000_000, description="base64 PNG with a visible signature")]
    optional_service_ids: Annotated[list[int], Field(max_length=500)] = []
    agree: StrictBool
    expected_approved_total: Annotated[
        MoneyIn | None,
        Field(
            description="The approved amount the signer was shown (total plus the chosen optional services); "
            "when the proposal now comes to another amount: 409 proposal_changed. Optional, for older clients."
        ),
    ] = None
    expected_revision: Annotated[
        int | None,
        Field(
            strict=True,
            ge=1,
            description="The revision of the proposal the signer was shown; when the proposal has changed since "
            "(even with the same amount): 409 proposal_changed. Optional, for older clients.",
        ),
    ] = None


def proposal_item(proposal: ProposalFields, property_name: str, role: str) -> dict[str, Any]:
    """ProposalItemOut's fields (see page_response)."""
    assert proposal.shared_on is not None
    return {
        "id": proposal.id,
        "number": proposal.number,
        "title": proposal.title,
        "property": {"id": proposal.property_id, "name": property_name},
        "status": portal_status(proposal),
        "total": proposal.total,
        "shared_on": proposal.shared_on,
        "is_change_order": proposal.change_order_of_id is not None,
        "can_sign": sign_blocked_reason(proposal, role) is None,
    }


def proposal_detail(proposal: Proposal, role: str) -> ProposalDetailOut:
    branch = proposal.property.branch
    item = proposal_item(proposal, proposal.property.name, role)
    line_items = None
    if branch.show_line_item_details:  # PR-6: otherwise the items never leave the server
        line_items = [
            LineItemOut(
                id=line.id,
                description=line.description,
                quantity=f"{line.quantity.normalize():f}",
                unit_price=line.unit_price,
                amount=line.amount,
                optional=line.optional,
                selected=line.selected,
            )
            for line in proposal.items
        ]
    rep = sales_rep(proposal)
    signature = proposal.signature
    original = linked_proposal(proposal.change_order_of, proposal.property_id)
    return ProposalDetailOut(
        **item,
        opportunity_type=proposal.opportunity_type,  # type: ignore[arg-type]
        opportunity_status=proposal.opportunity_status,  # type: ignore[arg-type]
        line_items=line_items,
        optional_services=[
            OptionalServiceOut(id=line.id, description=line.description, amount=line.amount, selected=line.selected)
            for line in proposal.items
            if line.optional
        ],
        approved_total=signature.approved_total if signature else None,
        sales_rep=PersonContact(
            name=rep.name, email=rep.email, phone=rep.phone if branch.show_sales_rep_phone else None
        )
        if rep
        else None,
        signature=SignatureOut(
            signer_name=signature.signer_name,
            signed_at=signature.signed_at,
            captured_by=staff_ref(signature.captured_by),
        )
        if signature
        else None,
        change_order_of=ProposalRef(id=original.id, number=original.number) if original else None,
        sign_blocked_reason=sign_blocked_reason(proposal, role),
        revision=proposal.revision,
    )


def pdf_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Cache-Control": "private, no-cache",
        },
    )


PROPOSAL_ORDER = (Proposal.shared_on, Proposal.id)


@router.get("", response_model=ItemList[ProposalItemOut], responses={404: {}})
def list_proposals(
    selection: SelectionDep,
    paging: PagingDep,
    session: SessionDep,
    status: Annotated[ProposalStatus, Query()] = "all",
) -> Response:
    scope = selection.scope
    page = paginate(
        session,
        visible_proposals(scope.kind, status),
        PROPOSAL_ORDER,
        params={**scope.params, "role_contact": scope.contact_id},
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [proposal_item(row, row.property_name, row.role) for row in map(ProposalRow._make, page.items)]
    return page_response(ItemList[ProposalItemOut], items, page.next_cursor, page.total)


@router.get("/{proposal_id}", response_model=ProposalDetailOut, responses={404: {}})
def get_proposal(proposal_id: int, contact: ContactDep, session: SessionDep) -> Response:
    proposal, role = visible_proposal(session, contact.id, proposal_id)
    return json_response(proposal_detail(proposal, role))


@router.get("/{proposal_id}/pdf", response_class=Response, responses=PDF_RESPONSES)
def get_proposal_pdf(proposal_id: int, contact: ContactDep, session: SessionDep) -> Response:
    proposal, _ = visible_proposal(session, contact.id, proposal_id)
    # Once signed, the document that was signed, byte for byte (its SHA-256 is on the audit page).
    return pdf_response(signed_document(proposal).pdf, f"{safe_filename(proposal.number)}.pdf")


@router.get("/{proposal_id}/signed-pdf", response_class=Response, responses={**PDF_RESPONSES, 409: {}})
def get_signed_proposal_pdf(proposal_id: int, contact: ContactDep, session: SessionDep) -> Response:
    """PR-9: the signed proposal with its signature certificate; 409 while it is not signed."""
    proposal, _ = visible_proposal(session, contact.id, proposal_id)
    if proposal.signature is None:
        raise conflict("not_signed", "This proposal has not been signed yet, so there is no signed copy.")
    return pdf_response(render_signed_proposal(proposal), f"{safe_filename(proposal.number)}-signed.pdf")


@router.post(
    "/{proposal_id}/signature",
    response_model=ProposalDetailOut,
    responses={
        403: {},
        404: {},
        409: {
            "description": "not_signable; proposal_changed (expected_approved_total is no longer the amount, "
            "or expected_revision no longer the revision)"
        },
        422: {},
    },
)
def sign_proposal(
    proposal_id: int, body: SignatureIn, request: Request, caller: CallerDep, contact: ContactDep, session: SessionDep
) -> ProposalDetailOut:
    """PR-3..PR-5, PR-8: the state and role are checked first, then whether the signer saw what would be
    signed, then the form; the sales rep is mailed after commit.

    The amount is checked before the form, as a changed proposal may no longer offer an optional service the
    signer chose (a 422 for that would hide why)."""
    proposal, role = visible_proposal(session, contact.id, proposal_id)
    block = sign_block(proposal, role)
    if block is not None:
        raise block.problem()
    check_unchanged(proposal, body.optional_service_ids, body.expected_approved_total, body.expected_revision)
    data = validate_signature(proposal, body.signer_name, body.agree, body.signature_png, body.optional_service_ids)
    sign(session, caller, proposal, role, data, render_proposal(proposal))
    session.commit()
    session.refresh(proposal)
    notify_sales_rep(request.app.state.mailer, proposal, render_signed_proposal(proposal))
    return proposal_detail(proposal, role)
