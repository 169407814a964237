"""The signed-in person and their preferences (PM-5)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy import exists, select

from server.api.deps import CallerDep, ContactDep, SessionDep
from server.api.routes.auth import UserOut
from server.api.schemas import Body, StaffRef, Timestamp, json_response, staff_ref
from server.errors import conflict
from server.models import Contact, PaymentMethod
from server.services.audit import captured_by_id, record_if_assisted
from server.services.payment_methods import lock_contact, set_email_receipts

router = APIRouter(prefix="/me", tags=["me"])


class ContactOut(BaseModel):
    id: int
    name: str
    email: str
    phone: str | None


class Preferences(BaseModel):
    email_receipts: bool
    email_receipts_changed_at: Timestamp | None = Field(description="the last change of email_receipts, if any")
    email_receipts_changed_by: StaffRef | None = Field(
        description="the office staff member who made that change in an assist session (SA-3); null for the contact's own"
    )


def preferences(contact: Contact | None) -> Preferences:
    if contact is None:  # staff signed in as themselves have no receipts to send
        return Preferences(email_receipts=False, email_receipts_changed_at=None, email_receipts_changed_by=None)
    return Preferences(
        email_receipts=contact.email_receipts,
        email_receipts_changed_at=contact.email_receipts_changed_at,
        email_receipts_changed_by=staff_ref(contact.email_receipts_changed_by),
    )


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
        preferences=preferences(contact),
    )
    return json_response(answer)


@router.patch("/preferences", response_model=Preferences, responses={409: {}})
def update_preferences(body: PreferencesIn, caller: CallerDep, contact: ContactDep, session: SessionDep) -> Preferences:
    lock_contact(session, contact)  # receipts turned on as the last method goes would stay on without one
    if body.email_receipts:
        has_method = session.scalar(
            select(exists().where(PaymentMethod.contact_id == contact.id, PaymentMethod.deleted_at.is_(None)))
        )
        if not has_method:
            raise conflict("no_payment_method", "Add a payment method first; receipts are sent for portal payments.")
    if contact.email_receipts != body.email_receipts:
        set_email_receipts(contact, body.email_receipts, captured_by_id(caller))
        record_if_assisted(
            session,
            caller,
            "preferences.update",
            f"contact:{contact.id}",
            f"email_receipts={'on' if body.email_receipts else 'off'}",
        )
        session.commit()
    return preferences(contact)
