"""Invoices a contact can see and pay (IN-1..IN-10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.api.deps import PagingDep, SelectionDep, SessionDep
from server.api.paging import paginate
from server.api.schemas import ItemList, MoneyOut, PropertyRef
from server.models import Invoice
from server.services.listing import invoices_query

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


def invoice_item(invoice: Invoice, property_name: str) -> InvoiceItemOut:
    return InvoiceItemOut(
        id=invoice.id,
        number=invoice.number,
        property=PropertyRef(id=invoice.property_id, name=property_name),
        services=list(invoice.services),
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        total=invoice.total,
        balance=invoice.balance,
        status="due" if invoice.balance > Decimal("0.00") else "paid",
    )


@router.get("", response_model=ItemList[InvoiceItemOut], responses={404: {}})
def list_invoices(
    selection: SelectionDep,
    paging: PagingDep,
    session: SessionDep,
    status: Annotated[Literal["all", "due", "paid"], Query()] = "all",
) -> ItemList[InvoiceItemOut]:
    page = paginate(
        session,
        invoices_query(selection.scope, status),
        [Invoice.invoice_date, Invoice.id],
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [invoice_item(i, name) for i, name in page.items]
    return ItemList[InvoiceItemOut](items=items, next_cursor=page.next_cursor, total=page.total)
