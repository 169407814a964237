"""Invoices a contact can see and pay (IN-1..IN-9); paying several at once is in routes/payments.py (IN-10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.api.deps import CallerDep, ContactDep, PagingDep, SelectionDep, SessionDep
from server.api.paging import Walk, paginate
from server.api.routes.payments import (
    PAYMENT_RESPONSES,
    IdempotencyKeyHeader,
    PaymentServiceDep,
    outcome_response,
)
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
from server.models import Invoice, InvoiceLine, Payment, Visit
from server.models.billing import PAYMENT_SUCCEEDED
from server.services.access import ScopeKind, linked_proposal, wide_scope
from server.services.invoice_pdf import InvoiceDocument, PdfLine, PdfPayment, render_invoice
from server.services.invoices import ZERO, pay_block, visible_invoice
from server.services.listing import InvoiceFields, InvoiceRow, invoices_query
from server.services.payments import INVOICE_PAYMENT, Allocation, PaymentRequest, check_idempotency_key

router = APIRouter(prefix="/invoices", tags=["invoices"])


class InvoiceItemOut(BaseModel):
    id: int
    number: str
    property: PropertyRef
    services: list[str]
    invoice_date: date
    due_date: date
    total: MoneyOut
    balance: MoneyOut
    status: Literal["due", "paid"]


def invoice_item(invoice: InvoiceFields, property_name: str) -> dict[str, Any]:
    """InvoiceItemOut's fields (see page_response)."""
    return {
        "id": invoice.id,
        "number": invoice.number,
        "property": {"id": invoice.property_id, "name": property_name},
        "services": list(invoice.services),
        "invoice_date": invoice.invoice_date,
        "due_date": invoice.due_date,
        "total": invoice.total,
        "balance": invoice.balance,
        "status": "due" if invoice.balance > Decimal("0.00") else "paid",
    }


INVOICE_ORDER = (Invoice.invoice_date, Invoice.id)


@cache
def _walk(scope: ScopeKind, status: str) -> Walk:
    """The list walking the date order, once the selection holds much of the branch (wide_scope)."""
    return Walk(invoices_query(scope, status, walk_order=True), wide_scope(scope))


@router.get("", response_model=ItemList[InvoiceItemOut], responses={404: {}})
def list_invoices(
    selection: SelectionDep,
    paging: PagingDep,
    session: SessionDep,
    status: Annotated[Literal["all", "due", "paid"], Query()] = "all",
) -> Response:
    scope = selection.scope
    page = paginate(
        session,
        invoices_query(scope.kind, status),
        INVOICE_ORDER,
        params=scope.params,
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
        walk=_walk(scope.kind, status),
    )
    items = [invoice_item(row, row.property_name) for row in map(InvoiceRow._make, page.items)]
    return page_response(ItemList[InvoiceItemOut], items, page.next_cursor, page.total)


class VisitRef(BaseModel):
    id: int
    date: date


class InvoiceLineOut(BaseModel):
    service: str
    description: str
    visit: VisitRef | None
    amount: MoneyOut


class MethodRef(BaseModel):
    type: Literal["card", "ach"]
    last4: str


class InvoicePaymentOut(BaseModel):
    id: int
    amount: MoneyOut
    convenience_fee: MoneyOut
    paid_at: Timestamp
    method: MethodRef | None = Field(description="null for payments recorded by the office (cheque, cash)")
    captured_by: StaffRef | None = Field(description="the staff member who took it in an assist session (SA-3)")
    group_id: str | None = Field(description="names the charge shared by invoices paid together (IN-10)")
    reference: str | None = Field(
        description='what the receipt and the payment answer call the charge ("PAY-3F9A0C21B7"), null for '
        "payments recorded by the office"
    )


class ProposalRef(BaseModel):
    id: int
    number: str


class NameRef(BaseModel):
    name: str


class InvoiceDetailOut(InvoiceItemOut):
    lines: list[InvoiceLineOut]
    applied_credits: MoneyOut
    payments: list[InvoicePaymentOut]
    proposal: ProposalRef | None
    service_contact: PersonContact | None
    billing_contact: NameRef | None
    can_pay: bool
    pay_blocked_reason: str | None
    pending_payment_amount: MoneyOut | None = Field(
        description="the amount of payments the card processor has not confirmed yet, null when none: not "
        "paid (the balance still includes it) and not payable again, so at most balance less this can be paid"
    )


def _service_contact(invoice: Invoice) -> PersonContact | None:
    """The property's sales rep; the phone only when the branch shows it (as PR-7 / VI-2)."""
    rep = invoice.property.sales_rep
    if rep is None:
        return None
    phone = rep.phone if invoice.property.branch.show_sales_rep_phone else None
    return PersonContact(name=rep.name, email=rep.email, phone=phone)


def _visible_proposal(invoice: Invoice) -> ProposalRef | None:
    """IN-4's link, only to a proposal every viewer of the invoice may open (PR-1, PR-3; see linked_proposal)."""
    proposal = linked_proposal(invoice.proposal, invoice.property_id)
    return ProposalRef(id=proposal.id, number=proposal.number) if proposal else None


def _line_visit(invoice: Invoice, line: InvoiceLine) -> Visit | None:
    """A line's visit, when it is one of the invoice's property (another property's visit is another customer's)."""
    visit = line.visit
    return visit if visit is not None and visit.property_id == invoice.property_id else None


def succeeded_payments(invoice: Invoice) -> list[Payment]:
    return [p for p in invoice.payments if p.status == PAYMENT_SUCCEEDED]


@router.get("/{invoice_id}", response_model=InvoiceDetailOut, responses={404: {}})
def invoice_detail(invoice_id: int, contact: ContactDep, caller: CallerDep, session: SessionDep) -> Response:
    invoice, role = visible_invoice(session, contact.id, invoice_id)
    blocked = pay_block(invoice, contact, role, caller.branch)
    detail = InvoiceDetailOut(
        **invoice_item(invoice, invoice.property.name),
        lines=[
            InvoiceLineOut(
                service=line.service,
                description=line.description,
                visit=VisitRef(id=visit.id, date=visit.date) if (visit := _line_visit(invoice, line)) else None,
                amount=line.amount,
            )
            for line in invoice.lines
        ],
        applied_credits=invoice.applied_credits,
        payments=[
            InvoicePaymentOut(
                id=p.id,
                amount=p.amount,
                convenience_fee=p.convenience_fee,
                paid_at=p.paid_at,
                method=MethodRef(type=p.method_type, last4=p.method_last4)  # type: ignore[arg-type]
                if p.method_type and p.method_last4
                else None,
                captured_by=staff_ref(p.captured_by),
                group_id=p.group_id,
                reference=p.reference,
            )
            for p in succeeded_payments(invoice)
        ],
        proposal=_visible_proposal(invoice),
        service_contact=_service_contact(invoice),
        billing_contact=NameRef(name=invoice.billing_contact.name) if invoice.billing_contact else None,
        can_pay=blocked is None,
        pay_blocked_reason=blocked.detail if blocked else None,
        pending_payment_amount=invoice.reserved if invoice.reserved > ZERO else None,
    )
    return json_response(detail)


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The invoice document"}, 404: {}},
)
def invoice_pdf(invoice_id: int, contact: ContactDep, request: Request, session: SessionDep) -> Response:
    invoice, _role = visible_invoice(session, contact.id, invoice_id)
    branch = invoice.property.branch
    contact_info = _service_contact(invoice)
    proposal = _visible_proposal(invoice)
    document = InvoiceDocument(
        company=branch.name,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        net_terms_days=invoice.net_terms_days,
        due_date=invoice.due_date,
        property_name=invoice.property.name,
        property_address=invoice.property.address,
        bill_to=invoice.billing_contact.name if invoice.billing_contact else None,
        proposal_number=proposal.number if proposal else None,
        lines=[
            PdfLine(
                line.service,
                line.description,
                visit.date if (visit := _line_visit(invoice, line)) else None,
                line.amount,
            )
            for line in invoice.lines
        ],
        total=invoice.total,
        applied_credits=invoice.applied_credits,
        payments=[
            PdfPayment(
                p.paid_at,
                f"{'Card' if p.method_type == 'card' else 'Bank account'} ending {p.method_last4}"
                if p.method_type
                else "Payment",
                p.amount,
                p.captured_by.name if p.captured_by else None,
            )
            for p in succeeded_payments(invoice)
        ],
        balance=invoice.balance,
        currency=branch.currency,
        portal_url=str(request.base_url).rstrip("/") + f"/portal/{branch.slug}",
        contact_name=contact_info.name if contact_info else None,
        contact_email=contact_info.email if contact_info else None,
        contact_phone=contact_info.phone if contact_info else None,
    )
    filename = f"Invoice {invoice.number}.pdf".replace('"', "")
    return Response(
        render_invoice(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


class PaymentIn(Body):
    amount: MoneyIn
    payment_method_id: int


class QuoteOut(BaseModel):
    amount: MoneyOut
    convenience_fee: MoneyOut
    total: MoneyOut


class PaymentOut(BaseModel):
    id: int
    invoice_id: int
    amount: MoneyOut
    convenience_fee: MoneyOut
    total_charged: MoneyOut
    status: Literal["succeeded"]
    receipt_emailed: bool
    reference: str = Field(description="what the receipt calls this payment, for the customer to quote")


@router.post("/{invoice_id}/payment-quote", response_model=QuoteOut, responses={403: {}, 404: {}, 409: {}, 422: {}})
def invoice_payment_quote(invoice_id: int, body: PaymentIn, payments: PaymentServiceDep) -> QuoteOut:
    """IN-7: the fee and total the payer confirms, for this amount and method; the same rules as paying."""
    plan = payments.quote(
        PaymentRequest(INVOICE_PAYMENT, body.payment_method_id, (Allocation(invoice_id, body.amount),))
    )
    return QuoteOut(amount=plan.amount, convenience_fee=plan.fee, total=plan.total)


@router.post(
    "/{invoice_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    responses=PAYMENT_RESPONSES,
)
def pay_invoice(
    invoice_id: int, body: PaymentIn, payments: PaymentServiceDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    """IN-6..IN-9: charges once per Idempotency-Key; a replay answers what the first request answered."""
    key = check_idempotency_key(idempotency_key)
    request = PaymentRequest(INVOICE_PAYMENT, body.payment_method_id, (Allocation(invoice_id, body.amount),))
    return outcome_response(payments.pay(key, request))
