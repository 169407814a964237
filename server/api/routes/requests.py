"""Requests a contact can see, open and comment on (RQ-1..RQ-5)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from server.api.deps import CallerDep, PagingDep, SelectionDep, SessionDep
from server.api.paging import paginate
from server.api.schemas import ItemList, PropertyRef, Timestamp
from server.errors import not_found
from server.models import ServiceRequest
from server.services.listing import requests_query


def requests_enabled(caller: CallerDep) -> None:
    """RQ-5: with requests off for the branch, every requests endpoint is absent."""
    if not caller.branch.requests_enabled:
        raise not_found("That page")


router = APIRouter(prefix="/requests", tags=["requests"], dependencies=[Depends(requests_enabled)])


class RequestItemOut(BaseModel):
    id: int
    number: str
    subject: str
    property: PropertyRef
    status: str
    created_at: Timestamp
    last_activity_at: Timestamp
    comment_count: int


def request_item(request: ServiceRequest, property_name: str) -> RequestItemOut:
    return RequestItemOut(
        id=request.id,
        number=request.number,
        subject=request.subject,
        property=PropertyRef(id=request.property_id, name=property_name),
        status=request.status,
        created_at=request.created_at,
        last_activity_at=request.last_activity_at,
        comment_count=request.public_comment_count,
    )


@router.get("", response_model=ItemList[RequestItemOut], responses={404: {}})
def list_requests(selection: SelectionDep, paging: PagingDep, session: SessionDep) -> ItemList[RequestItemOut]:
    page = paginate(
        session,
        requests_query(selection.scope),
        [ServiceRequest.last_activity_at, ServiceRequest.id],
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [request_item(r, name) for r, name in page.items]
    return ItemList[RequestItemOut](items=items, next_cursor=page.next_cursor, total=page.total)
