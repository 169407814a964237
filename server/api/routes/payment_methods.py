"""A contact's saved payment methods (PM-1..PM-4)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from server.api.deps import CallerDep, ContactDep, SessionDep
from server.api.routes.payments import get_gateway
from server.api.schemas import Body, StaffRef, staff_ref
from server.errors import FieldError, invalid
from server.models import PaymentMethod
from server.services.audit import captured_by_id, record_if_assisted
from server.services.clock import branch_today
from server.services.gateway import Gateway
from server.services.payment_methods import (
    NewBankAccount,
    NewCard,
    active_methods,
    add_method,
    make_default,
    remove_method,
)

router = APIRouter(prefix="/payment-methods", tags=["payment methods"])

GatewayDep = Annotated[Gateway, Depends(get_gateway)]


class PaymentMethodOut(BaseModel):
    id: int
    type: Literal["card", "ach"]
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    holder_name: str
    is_default: bool
    captured_by: StaffRef | None = Field(description="the office staff member who added it in an assist session (SA-3)")


class PaymentMethodList(BaseModel):
    items: list[PaymentMethodOut]


CARD_FIELDS = ("card_number", "exp_month", "exp_year", "cvc", "postal_code")
ACH_FIELDS = ("routing_account", "account_type")


class PaymentMethodIn(Body):
    """A card or a bank account. One flat shape (rather than a union) so field errors carry plain names."""

    type: Literal["card", "ach"]
    holder_name: str | None = Field(None, max_length=200)
    card_number: str | None = Field(None, max_length=40, description="card: sent to the gateway only (PM-4)")
    exp_month: int | None = Field(None, description="card: 1-12")
    exp_year: int | None = Field(None, description="card: four digits")
    cvc: str | None = Field(None, max_length=8, description="card: sent to the gateway only (PM-4)")
    postal_code: str | None = Field(None, max_length=20, description="card: billing postal code")
    routing_account: str | None = Field(
        None,
        max_length=60,
        description='ach: "routing/account", digits and one "/" (PM-3)',
        examples=["011000015/000123456789"],
    )
    account_type: Literal["checking", "savings"] | None = Field(None, description="ach")

    def details(self) -> NewCard | NewBankAccount:
        """The typed details, or 422 naming each missing field and each field of the other type."""
        own, other = (CARD_FIELDS, ACH_FIELDS) if self.type == "card" else (ACH_FIELDS, CARD_FIELDS)
        label = "a card" if self.type == "card" else "a bank account"
        required = ("holder_name", *own)
        errors = [
            FieldError(name, f"'{name}' is required for {label}.") for name in required if getattr(self, name) is None
        ]
        errors += [
            FieldError(name, f"'{name}' is not used for {label}.") for name in other if getattr(self, name) is not None
        ]
        if errors:
            raise invalid(errors)
        card_number, exp_month, exp_year, cvc, postal_code = (getattr(self, name) for name in CARD_FIELDS)
        if self.type == "card":
            return NewCard(card_number, exp_month, exp_year, cvc, self.holder_name or "", postal_code)
        assert self.routing_account is not None
        assert self.account_type is not None
        return NewBankAccount(self.routing_account, self.holder_name or "", self.account_type)


def method_out(method: PaymentMethod) -> PaymentMethodOut:
    return PaymentMethodOut(
        id=method.id,
        type=method.type,  # type: ignore[arg-type]
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        holder_name=method.holder_name,
        is_default=method.is_default,
        captured_by=staff_ref(method.captured_by),
    )


@router.get("", response_model=PaymentMethodList)
def list_methods(contact: ContactDep, session: SessionDep) -> PaymentMethodList:
    return PaymentMethodList(items=[method_out(m) for m in active_methods(session, contact.id)])


@router.post("", status_code=201, response_model=PaymentMethodOut, responses={402: {}, 409: {}, 422: {}, 503: {}})
def add(
    body: PaymentMethodIn, caller: CallerDep, contact: ContactDep, session: SessionDep, gateway: GatewayDep
) -> PaymentMethodOut:
    """PM-2/PM-3 checks, then the number goes to the gateway and only its token is kept (PM-4)."""
    details = body.details()
    session.commit()  # the gateway writes on its own connection; hold no lock while it does
    method = add_method(
        session, gateway, caller.branch, contact, details, branch_today(caller.branch), captured_by_id(caller)
    )
    record_if_assisted(
        session, caller, "payment_method.add", f"payment_method:{method.id}", f"{method.brand} ending {method.last4}"
    )
    session.commit()
    return method_out(method)


@router.post("/{method_id}/default", response_model=PaymentMethodOut, responses={404: {}})
def set_default(method_id: int, caller: CallerDep, contact: ContactDep, session: SessionDep) -> PaymentMethodOut:
    method = make_default(session, contact, method_id)
    record_if_assisted(
        session,
        caller,
        "payment_method.default",
        f"payment_method:{method.id}",
        f"{method.brand} ending {method.last4}",
    )
    session.commit()
    return method_out(method)


@router.delete("/{method_id}", status_code=204, response_class=Response, responses={404: {}})
def delete(method_id: int, caller: CallerDep, contact: ContactDep, session: SessionDep) -> Response:
    method = remove_method(session, contact, method_id, captured_by_id(caller))
    record_if_assisted(
        session,
        caller,
        "payment_method.delete",
        f"payment_method:{method.id}",
        f"{method.brand} ending {method.last4}",
    )
    session.commit()
    return Response(status_code=204)
