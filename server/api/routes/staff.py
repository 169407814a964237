"""Staff endpoints: find a customer (SA-1), act as them (SA-2, SA-4), read the audit trail (SA-3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from server.api.deps import PagingDep, SessionDep, SettingsDep, StaffDep
from server.api.paging import paginate
from server.api.schemas import Body, ItemList, Timestamp
from server.models import AuditEntry, Contact
from server.models.billing import PAYMENT_TARGET, payment_reference
from server.services import staff as staff_service

router = APIRouter(prefix="/staff", tags=["staff"])


class ContactPropertyOut(BaseModel):
    id: int
    name: str
    role: str


class StaffContactOut(BaseModel):
    id: int
    name: str
    email: str
    phone: str | None
    properties: list[ContactPropertyOut]


class AssistIn(Body):
    contact_id: int
    reason: str = Field(min_length=1, max_length=staff_service.REASON_LENGTH)


class AssistOut(BaseModel):
    token: str
    expires_at: Timestamp
    idle_seconds: int = Field(
        description="SA-4: the assist ends after this many seconds without a request (PORTAL_ASSIST_IDLE_SECONDS), "
        "so a client can show it ending when it does, not at the next click"
    )
    contact: StaffContactOut


class PersonRef(BaseModel):
    id: int
    name: str


class AuditItemOut(BaseModel):
    at: Timestamp
    staff: PersonRef
    contact: PersonRef
    action: str
    target: str
    detail: str
    reference: str | None = Field(description="the payment's reference when the target is a payment, else null")


def _contact_out(contact: Contact, properties: list[staff_service.PropertyRole]) -> StaffContactOut:
    return StaffContactOut(
        id=contact.id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        properties=[ContactPropertyOut(id=p.id, name=p.name, role=p.role) for p in properties],
    )


@router.get("/contacts", response_model=ItemList[StaffContactOut], responses={403: {}, 422: {}})
def search_contacts(
    caller: StaffDep,
    session: SessionDep,
    paging: PagingDep,
    q: Annotated[str, Query(max_length=staff_service.MAX_QUERY, description="2 or more characters")],
) -> ItemList[StaffContactOut]:
    """Best matches first: an exact number, email or phone, then whole words, then starts, then anywhere."""
    search = staff_service.search_contacts(caller.branch.id, q)
    page = paginate(session, search.statement, search.order, descending=False, cursor=paging.cursor, limit=paging.limit)
    contacts: list[Contact] = [row[0] for row in page.items]
    properties = staff_service.properties_of(session, [c.id for c in contacts])
    items = [_contact_out(contact, properties[contact.id]) for contact in contacts]
    return ItemList[StaffContactOut](items=items, next_cursor=page.next_cursor, total=page.total)


@router.post(
    "/assist", response_model=AssistOut, status_code=status.HTTP_201_CREATED, responses={403: {}, 404: {}, 422: {}}
)
def assist(body: AssistIn, caller: StaffDep, session: SessionDep, settings: SettingsDep) -> AssistOut:
    opened = staff_service.open_assist(session, settings, caller, body.contact_id, body.reason)
    properties = staff_service.properties_of(session, [opened.contact.id])
    session.commit()
    return AssistOut(
        token=opened.token,
        expires_at=opened.session.expires_at,
        idle_seconds=round(settings.assist_idle_timeout.total_seconds()),
        contact=_contact_out(opened.contact, properties[opened.contact.id]),
    )


@router.get("/audit", response_model=ItemList[AuditItemOut], responses={403: {}, 404: {}})
def audit(
    caller: StaffDep,
    session: SessionDep,
    paging: PagingDep,
    contact_id: Annotated[int | None, Query()] = None,
) -> ItemList[AuditItemOut]:
    """Newest first."""
    if contact_id is not None:
        staff_service.branch_contact(session, caller.branch.id, contact_id)
    page = paginate(
        session,
        staff_service.audit_query(caller.branch.id, contact_id),
        [AuditEntry.at, AuditEntry.id],
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    items = [
        AuditItemOut(
            at=entry.at,
            staff=PersonRef(id=staff.id, name=staff.name),
            contact=PersonRef(id=entry.contact.id, name=entry.contact.name),
            action=entry.action,
            target=entry.target,
            detail=entry.detail,
            reference=payment_reference(entry.target.removeprefix(PAYMENT_TARGET))
            if entry.target.startswith(PAYMENT_TARGET)
            else None,
        )
        for entry, staff in page.items
    ]
    return ItemList[AuditItemOut](items=items, next_cursor=page.next_cursor, total=page.total)
