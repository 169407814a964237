"""Upcoming and completed visits (VI-1, VI-2)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.api.deps import ContactDep, PagingDep, SelectionDep, SessionDep
from server.api.paging import paginate
from server.api.schemas import ItemList, PropertyRef
from server.models import Visit
from server.services.clock import branch_today
from server.services.listing import visits_query

router = APIRouter(prefix="/visits", tags=["visits"])


class VisitItemOut(BaseModel):
    id: int
    date: date
    property: PropertyRef
    services: list[str]
    status: Literal["scheduled", "completed"]


def visit_item(visit: Visit, property_name: str) -> VisitItemOut:
    return VisitItemOut(
        id=visit.id,
        date=visit.date,
        property=PropertyRef(id=visit.property_id, name=property_name),
        services=list(visit.services),
        status=visit.status,  # type: ignore[arg-type]
    )


@router.get("", response_model=ItemList[VisitItemOut], responses={404: {}})
def list_visits(
    contact: ContactDep,
    selection: SelectionDep,
    paging: PagingDep,
    session: SessionDep,
    when: Annotated[Literal["upcoming", "completed"], Query()] = "upcoming",
    days: Annotated[int, Query(ge=1, le=365, description="Completed visits only: how many days back")] = 30,
) -> ItemList[VisitItemOut]:
    upcoming = when == "upcoming"
    page = paginate(
        session,
        visits_query(selection.scope, when, branch_today(contact.branch), days),
        [Visit.date, Visit.id],
        descending=not upcoming,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [visit_item(v, name) for v, name in page.items]
    return ItemList[VisitItemOut](items=items, next_cursor=page.next_cursor, total=page.total)
