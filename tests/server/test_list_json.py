"""A list page's JSON, byte for byte, as the contract (shared/spec/api.md) writes it: money as a string with two
decimals, dates as ISO days, timestamps to the second with their offset, every field of the item.

The list routes hand pydantic plain dicts built from named-tuple rows (page_response) rather than a model
per row; these expectations are written from the stored records, apart from that code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Contact, Invoice, PropertyContact, Proposal, ServiceRequest, Visit
from server.services.listing import InvoiceRow, RequestRow, VisitRow, invoices_query, requests_query, visits_query
from server.services.proposals import ProposalRow, portal_status, sign_blocked_reason, visible_proposals
from tests.server.conftest import NORTH


def _money(value: Any) -> str:
    return f"{value:.2f}"


def _invoice(invoice: Invoice, _role: str) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "property": {"id": invoice.property_id, "name": invoice.property.name},
        "services": list(invoice.services),
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "total": _money(invoice.total),
        "balance": _money(invoice.balance),
        "status": "due" if invoice.balance > 0 else "paid",
    }


def _visit(visit: Visit, _role: str) -> dict[str, Any]:
    return {
        "id": visit.id,
        "date": visit.date.isoformat(),
        "property": {"id": visit.property_id, "name": visit.property.name},
        "services": list(visit.services),
        "status": visit.status,
    }


def _request(request: ServiceRequest, _role: str) -> dict[str, Any]:
    return {
        "id": request.id,
        "number": request.number,
        "subject": request.subject,
        "property": {"id": request.property_id, "name": request.property.name},
        "status": request.status,
        "created_at": request.created_at.isoformat(timespec="seconds"),
        "last_activity_at": request.last_activity_at.isoformat(timespec="seconds"),
        "comment_count": request.public_comment_count,
    }


def _proposal(proposal: Proposal, role: str) -> dict[str, Any]:
    assert proposal.shared_on is not None
    return {
        "id": proposal.id,
        "number": proposal.number,
        "title": proposal.title,
        "property": {"id": proposal.property_id, "name": proposal.property.name},
        "status": portal_status(proposal),
        "total": _money(proposal.total),
        "shared_on": proposal.shared_on.isoformat(),
        "is_change_order": proposal.change_order_of_id is not None,
        "can_sign": sign_blocked_reason(proposal, role) is None,
    }


LISTS: dict[str, tuple[type[Any], Callable[[Any, str], dict[str, Any]], dict[str, str]]] = {
    "invoices": (Invoice, _invoice, {"status": "all"}),
    "invoices?due": (Invoice, _invoice, {"status": "due"}),
    "visits": (Visit, _visit, {"when": "upcoming"}),
    "visits?completed": (Visit, _visit, {"when": "completed", "days": "365"}),
    "requests": (ServiceRequest, _request, {}),
    "proposals": (Proposal, _proposal, {}),
}


@pytest.mark.parametrize("name", LISTS)
def test_a_list_page_is_the_contracts_json_byte_for_byte(client: TestClient, pat: dict[str, str], name: str) -> None:
    model, expected_item, params = LISTS[name]
    path = name.split("?")[0]
    first = client.get(f"{NORTH}/{path}", headers=pat, params={**params, "limit": 2})
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json()["items"], "the test company has rows in every list"
    pages = [first]
    while (cursor := pages[-1].json()["next_cursor"]) is not None:
        pages.append(client.get(f"{NORTH}/{path}", headers=pat, params={**params, "limit": 2, "cursor": cursor}))
    factory: Any = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "pat@example.com"))
        assert contact is not None
        roles = dict(
            session.execute(
                select(PropertyContact.property_id, PropertyContact.role).where(
                    PropertyContact.contact_id == contact.id
                )
            ).all()
        )
        for page in pages:
            body = page.json()
            items = [session.get(model, item["id"]) for item in body["items"]]
            expected = {
                "items": [expected_item(record, roles[record.property_id]) for record in items],
                "next_cursor": body["next_cursor"],
                "total": body["total"],
            }
            assert page.content == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()


def test_each_list_row_type_names_its_querys_columns_in_order() -> None:
    """The list routes read rows positionally through these named tuples: a column moved in a query must
    move in its row type too."""
    queries = [
        (invoices_query("all", "all"), InvoiceRow),
        (invoices_query("picked", "due", walk_order=True), InvoiceRow),
        (visits_query("all"), VisitRow),
        (requests_query("picked"), RequestRow),
        (visible_proposals("all", "pending"), ProposalRow),
    ]
    for query, row in queries:
        assert [column.key for column in query.selected_columns] == list(row._fields)


def test_the_property_list_is_the_contracts_json_byte_for_byte(client: TestClient, pat: dict[str, str]) -> None:
    answer = client.get(f"{NORTH}/properties", headers=pat)
    factory: Any = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "pat@example.com"))
        assert contact is not None
        ties = session.scalars(select(PropertyContact).where(PropertyContact.contact_id == contact.id)).all()
        items = [
            {"id": tie.property.id, "name": tie.property.name, "address": tie.property.address, "role": tie.role}
            for tie in sorted(ties, key=lambda tie: (tie.property.name, tie.property.id))
        ]
    assert len(items) == 3
    expected = {"items": items, "next_cursor": None, "total": len(items)}
    assert answer.content == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()
