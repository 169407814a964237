"""Proposals a contact can see and sign (PR-1..PR-9)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.api.deps import PagingDep, SelectionDep, SessionDep
from server.api.paging import paginate
from server.api.schemas import ItemList, MoneyOut, PropertyRef
from server.models import Proposal
from server.services.proposals import portal_status, sign_blocked_reason, visible_proposals

router = APIRouter(prefix="/proposals", tags=["proposals"])

ProposalStatus = Literal["all", "pending", "accepted", "rejected"]


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


def proposal_item(proposal: Proposal, property_name: str, role: str) -> ProposalItemOut:
    assert proposal.shared_on is not None
    return ProposalItemOut(
        id=proposal.id,
        number=proposal.number,
        title=proposal.title,
        property=PropertyRef(id=proposal.property_id, name=property_name),
        status=portal_status(proposal),  # type: ignore[arg-type]
        total=proposal.total,
        shared_on=proposal.shared_on,
        is_change_order=proposal.change_order_of_id is not None,
        can_sign=sign_blocked_reason(proposal, role) is None,
    )


@router.get("", response_model=ItemList[ProposalItemOut], responses={404: {}})
def list_proposals(
    selection: SelectionDep,
    paging: PagingDep,
    session: SessionDep,
    status: Annotated[ProposalStatus, Query()] = "all",
) -> ItemList[ProposalItemOut]:
    page = paginate(
        session,
        visible_proposals(selection.scope, status),
        [Proposal.shared_on, Proposal.id],
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [proposal_item(p, name, selection.roles[p.property_id]) for p, name in page.items]
    return ItemList[ProposalItemOut](items=items, next_cursor=page.next_cursor, total=page.total)
