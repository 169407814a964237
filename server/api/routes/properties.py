"""The property filter's choices (PF-1) and the balance of a selection (PF-3)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from server.api.deps import ContactDep, SelectionDep, SessionDep
from server.api.schemas import MoneyOut, json_response, page_response
from server.services.access import contact_properties
from server.services.balance import balance_of

router = APIRouter(tags=["properties"])


class PropertyOut(BaseModel):
    id: int
    name: str
    address: str
    role: str


class PropertyList(BaseModel):
    items: list[PropertyOut]
    next_cursor: str | None = None
    total: int


class BalanceOut(BaseModel):
    current_balance: MoneyOut
    due_invoice_count: int
    unapplied_credits: MoneyOut


@router.get("/properties", response_model=PropertyList)
def properties(contact: ContactDep, session: SessionDep) -> Response:
    # Plain columns, not ORM objects: a portfolio of a thousand properties is one cheap read.
    rows = contact_properties(session, contact.id)
    items = [{"id": pid, "name": name, "address": address, "role": role} for pid, name, address, role in rows]
    return page_response(PropertyList, items, None, len(items))


@router.get("/balance", response_model=BalanceOut, responses={404: {}})
def balance(selection: SelectionDep, session: SessionDep) -> Response:
    result = balance_of(session, selection.scope)
    return json_response(
        BalanceOut(
            current_balance=result.current_balance,
            due_invoice_count=result.due_invoice_count,
            unapplied_credits=result.unapplied_credits,
        )
    )
