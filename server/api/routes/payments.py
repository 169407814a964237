"""Paying several invoices in one charge (IN-10), and the pieces every payment endpoint shares."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.api.deps import CallerDep, ContactDep, SessionDep
from server.api.problems import PROBLEM_MEDIA_TYPE
from server.api.schemas import Body, MoneyIn, MoneyOut
from server.services.gateway import Gateway
from server.services.payments import (
    GROUP_PAYMENT,
    MAX_ALLOCATIONS,
    Allocation,
    Outcome,
    PaymentRequest,
    PaymentService,
    check_idempotency_key,
)

router = APIRouter(tags=["payments"])


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def get_payment_service(
    request: Request, session: SessionDep, caller: CallerDep, contact: ContactDep
) -> PaymentService:
    lease = request.app.state.settings.payment_lease
    return PaymentService(session, get_gateway(request), request.app.state.mailer, caller, contact, lease)


PaymentServiceDep = Annotated[PaymentService, Depends(get_payment_service)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required, 8-255 characters; one key per payment, reused on every retry of it (IN-8).",
    ),
]
PAYMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A replay: the answer the first request with this key got"},
    400: {"description": "Idempotency-Key missing or malformed"},
    402: {"description": "Declined: card_declined, insufficient_funds or ach_rejected; nothing changed"},
    403: {"description": "not_allowed_to_pay"},
    404: {},
    409: {"description": "electronic_payments_disabled, invoice_paid, idempotency_key_reused, payment_in_progress"},
    422: {
        "description": "amount_exceeds_balance, partial_payments_disabled, amount_not_positive, "
        "payment_type_not_accepted, duplicate_invoice"
    },
    503: {"description": "payment_pending: the gateway did not confirm yet; retry with the same key"},
}


def outcome_response(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    media_type = PROBLEM_MEDIA_TYPE if outcome.status_code >= 400 else "application/json"
    return JSONResponse(outcome.body, status_code=outcome.status_code, media_type=media_type, headers=headers)


class AllocationIn(Body):
    invoice_id: int
    amount: MoneyIn


class GroupPaymentIn(Body):
    payment_method_id: int
    allocations: list[AllocationIn] = Field(min_length=1, max_length=MAX_ALLOCATIONS)

    def to_request(self) -> PaymentRequest:
        allocations = tuple(Allocation(a.invoice_id, a.amount) for a in self.allocations)
        return PaymentRequest(GROUP_PAYMENT, self.payment_method_id, allocations)


class GroupQuoteOut(BaseModel):
    amount: MoneyOut
    convenience_fee: MoneyOut
    total: MoneyOut


class AllocationOut(BaseModel):
    invoice_id: int
    amount: MoneyOut


class GroupPaymentOut(BaseModel):
    id: str
    amount: MoneyOut
    convenience_fee: MoneyOut
    total_charged: MoneyOut
    status: Literal["succeeded"]
    receipt_emailed: bool
    reference: str = Field(description="what the receipt calls this payment, for the customer to quote")
    allocations: list[AllocationOut]


@router.post("/payment-quote", response_model=GroupQuoteOut, responses={403: {}, 404: {}, 409: {}, 422: {}})
def group_payment_quote(body: GroupPaymentIn, payments: PaymentServiceDep) -> GroupQuoteOut:
    """IN-10 with IN-7: one fee on the total of the selected invoices."""
    plan = payments.quote(body.to_request())
    return GroupQuoteOut(amount=plan.amount, convenience_fee=plan.fee, total=plan.total)


@router.post("/payments", status_code=201, response_model=GroupPaymentOut, responses=PAYMENT_RESPONSES)
def pay_invoices(
    body: GroupPaymentIn, payments: PaymentServiceDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    """IN-10: one charge for several invoices, all or nothing; errors name each allocation that failed."""
    key = check_idempotency_key(idempotency_key)
    return outcome_response(payments.pay(key, body.to_request()))
