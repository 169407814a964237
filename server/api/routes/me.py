"""The signed-in person and their preferences (PM-5)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, StrictBool
from sqlalchemy import exists, select

from server.api.deps import CallerDep, ContactDep, SessionDep
from server.api.routes.auth import UserOut
from server.api.schemas import Body, StaffRef, json_response, staff_ref
from server.errors import conflict
from server.models import PaymentMethod
from server.services.audit import record_if_assisted

router = APIRouter(prefix="/me", tags=["me"])


class ContactOut(BaseModel):
    id: int
    name: str
    email: str
    phone: str | None


class Preferences(BaseModel):
    email_receipts: bool


class PreferencesIn(Body):
    # Strict: `0` or `"yes"` is a client bug to report, not a choice to guess at.
    email_receipts: StrictBool


class MeOut(BaseModel):
    user: UserOut
    contact: ContactOut | None
    assisted_by: StaffRef | None
    preferences: Preferences


@router.get("", response_model=MeOut)
def me(caller: CallerDep) -> Response:
    contact = caller.contact
    if caller.kind == "staff" and caller.staff is not None:
        user = UserOut(id=caller.staff.id, kind="staff", name=caller.staff.name, email=caller.staff.email)
    else:
        assert contact is not None
        user = UserOut(id=contact.id, kind="contact", name=contact.name, email=contact.email)
    answer = MeOut(
        user=user,
        contact=ContactOut(id=contact.id, name=contact.name, email=contact.email, phone=contact.phone)
        if contact
        else None,
        assisted_by=staff_ref(caller.assisted_by),
        preferences=Preferences(email_receipts=contact.email_receipts if contact else False),
    )
    return json_response(answer)


@router.patch("/preferences", response_model=Preferences, responses={409: {}})
def update_preferences(body: PreferencesIn, caller: CallerDep, contact: ContactDep, session: SessionDep) -> Preferences:
    if body.email_receipts:
        has_method = session.scalar(
            select(exists().where(PaymentMethod.contact_id == contact.id, PaymentMethod.deleted_at.is_(None)))
        )
        if not has_method:
            raise conflict("no_payment_method", "Add a payment method first; receipts are sent for portal payments.")
    if contact.email_receipts != body.email_receipts:
        contact.email_receipts = body.email_receipts
        record_if_assisted(
            session,
            caller,
            "preferences.update",
            f"contact:{contact.id}",
            f"email_receipts={'on' if body.email_receipts else 'off'}",
        )
        session.commit()
    return Preferences(email_receipts=body.email_receipts)
