"""Upcoming and completed visits (VI-1, VI-2)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from server.api.deps import ContactDep, PagingDep, SelectionDep, SessionDep
from server.api.paging import paginate
from server.api.schemas import ItemList, PersonContact, PropertyRef, Timestamp, json_response, page_response
from server.models import Visit
from server.services.clock import branch_today
from server.services.listing import VisitFields, VisitRow, visit_window, visits_query
from server.services.visits import contact_phone, published_notes, visible_visit

router = APIRouter(prefix="/visits", tags=["visits"])


class VisitItemOut(BaseModel):
    id: int
    date: date
    property: PropertyRef
    services: list[str]
    status: Literal["scheduled", "completed"]


class VisitNoteOut(BaseModel):
    text: str
    created_at: Timestamp


class VisitDetailOut(VisitItemOut):
    notes: list[VisitNoteOut]
    service_contact: PersonContact | None  # the property's sales rep; null when it has none


def visit_item(visit: VisitFields, property_name: str) -> dict[str, Any]:
    """VisitItemOut's fields (see page_response)."""
    return {
        "id": visit.id,
        "date": visit.date,
        "property": {"id": visit.property_id, "name": property_name},
        "services": list(visit.services),
        "status": visit.status,
    }


VISIT_ORDER = (Visit.date, Visit.id)


@router.get("", response_model=ItemList[VisitItemOut], responses={404: {}})
def list_visits(
    contact: ContactDep,
    selection: SelectionDep,
    paging: PagingDep,
    session: SessionDep,
    when: Annotated[Literal["upcoming", "completed"], Query()] = "upcoming",
    days: Annotated[int, Query(ge=1, le=365, description="Completed visits only: how many days back")] = 30,
) -> Response:
    scope = selection.scope
    page = paginate(
        session,
        visits_query(scope.kind),
        VISIT_ORDER,
        params={**scope.params, **visit_window(when, branch_today(contact.branch), days)},
        descending=when != "upcoming",
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [visit_item(row, row.property_name) for row in map(VisitRow._make, page.items)]
    return page_response(ItemList[VisitItemOut], items, page.next_cursor, page.total)


@router.get("/{visit_id}", response_model=VisitDetailOut, responses={404: {}})
def get_visit(visit_id: int, contact: ContactDep, session: SessionDep) -> Response:
    """VI-2: date, services, published notes and the service contact."""
    visit = visible_visit(session, contact, visit_id)
    rep = visit.property.sales_rep
    service_contact = (
        PersonContact(name=rep.name, email=rep.email, phone=contact_phone(rep, contact.branch)) if rep else None
    )
    return json_response(
        VisitDetailOut(
            **visit_item(visit, visit.property.name),
            notes=[VisitNoteOut(text=n.text, created_at=n.created_at) for n in published_notes(visit)],
            service_contact=service_contact,
        )
    )
