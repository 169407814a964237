"""Invoice list and detail through the REST API: IN-1 visibility, IN-2 filters, IN-3 due date, IN-4 detail, IN-5 who may pay; the PDF."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pymupdf
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Branch, Contact
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, database, login
from tests.server.payment_helpers import (
    add_card,
    invoice,
    invoice_ids,
    pay,
    set_invoice,
)
from tests.server.staff_helpers import assisted_by_office


def test_only_shared_invoices_of_own_properties_appear(
    client: TestClient, pat: dict[str, str], otto: dict[str, str]
) -> None:  # IN-1
    numbers = set(invoice_ids(client, pat))
    assert numbers == {"INV-I-DUE", "INV-I-PARTIAL", "INV-I-PAID", "INV-I-BILLING", "INV-I-OTHER"}
    ottos = invoice_ids(client, otto)["INV-I-OTTO"]
    assert client.get(f"{NORTH}/invoices/{ottos}", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/invoices/{ottos}/pdf", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/invoices/999999", headers=pat).status_code == 404


def test_unshared_invoice_is_404_even_by_id(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-1
    due = invoice_ids(client, pat)["INV-I-DUE"]
    set_invoice(settings, "INV-I-DUE", shared=False)
    assert client.get(f"{NORTH}/invoices/{due}", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/invoices/{due}/pdf", headers=pat).status_code == 404


def test_every_contact_on_the_property_can_view(client: TestClient, pat: dict[str, str]) -> None:  # IN-1
    other = invoice_ids(client, pat)["INV-I-OTHER"]  # Pat is "other" on Cedar House
    assert invoice(client, pat, other)["number"] == "INV-I-OTHER"


def test_list_filters_due_and_paid(client: TestClient, pat: dict[str, str]) -> None:  # IN-2
    due = client.get(f"{NORTH}/invoices", headers=pat, params={"status": "due"}).json()["items"]
    paid = client.get(f"{NORTH}/invoices", headers=pat, params={"status": "paid"}).json()["items"]
    assert {i["number"] for i in due} == {"INV-I-DUE", "INV-I-PARTIAL", "INV-I-BILLING", "INV-I-OTHER"}
    assert [(i["number"], i["balance"], i["status"]) for i in paid] == [("INV-I-PAID", "0.00", "paid")]


def test_due_date_is_invoice_date_plus_net_terms(client: TestClient, pat: dict[str, str]) -> None:  # IN-3
    detail = invoice(client, pat, invoice_ids(client, pat)["INV-I-DUE"])
    assert date.fromisoformat(detail["due_date"]) == date.fromisoformat(detail["invoice_date"]) + timedelta(days=30)


def test_detail_shows_balance_lines_credits_payments_contacts_and_proposal(
    client: TestClient, pat: dict[str, str]
) -> None:  # IN-4
    ids = invoice_ids(client, pat)
    detail = invoice(client, pat, ids["INV-I-PARTIAL"])
    assert (detail["total"], detail["applied_credits"], detail["balance"]) == ("300.00", "50.00", "150.00")
    assert detail["lines"] == [{"service": "Mowing", "description": "Visit 0", "visit": None, "amount": "300.00"}]
    assert [(p["amount"], p["method"], p["captured_by"]) for p in detail["payments"]] == [("100.00", None, None)]
    assert detail["property"]["name"] == "Oak Plaza"
    # The service contact is the property's sales rep; North hides the rep's phone.
    assert detail["service_contact"] == {"name": "Sam Rep", "email": "sam@example.com", "phone": None}
    assert detail["proposal"] is None
    linked = invoice(client, pat, ids["INV-I-DUE"])
    assert linked["proposal"]["number"] == "OPP-O-WON"
    assert client.get(f"{NORTH}/proposals", headers=pat).status_code == 200
    billing = invoice(client, pat, ids["INV-I-BILLING"])
    assert billing["billing_contact"] == {"name": "Pat Customer"}


def test_lines_name_their_visit(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # IN-4
    from server.models import InvoiceLine, Visit

    with database(settings) as session:
        visit = session.scalar(select(Visit).where(Visit.key == "v-done"))
        line = session.scalar(select(InvoiceLine).where(InvoiceLine.description == "Visit 0").limit(1))
        assert visit is not None
        assert line is not None
        line.visit_id = visit.id
        visit_id, visit_date, invoice_id = visit.id, visit.date, line.invoice_id
        session.commit()
    detail = invoice(client, pat, invoice_id)
    assert detail["lines"][0]["visit"] == {"id": visit_id, "date": visit_date.isoformat()}


def test_service_contact_phone_follows_the_branch_setting(client: TestClient) -> None:  # IN-4
    south = login(client, "pat@example.com", base=SOUTH)
    ids = invoice_ids(client, south, SOUTH)
    detail = invoice(client, south, ids["INV-I-SOUTH"], SOUTH)
    assert detail["service_contact"] == {"name": "Sofia South", "email": "sofia@example.com", "phone": "555-0300"}


def test_only_primary_or_the_invoices_billing_contact_can_pay(client: TestClient, pat: dict[str, str]) -> None:  # IN-5
    ids = invoice_ids(client, pat)
    assert invoice(client, pat, ids["INV-I-DUE"])["can_pay"] is True  # primary on Oak Plaza
    assert invoice(client, pat, ids["INV-I-BILLING"])["can_pay"] is True  # the invoice's billing contact
    other = invoice(client, pat, ids["INV-I-OTHER"])  # "other" on Cedar House
    assert other["can_pay"] is False
    assert other["pay_blocked_reason"] == (
        "Only the property's primary contact or the invoice's billing contact can pay this invoice."
    )
    card = add_card(client, pat)
    response = pay(client, pat, ids["INV-I-OTHER"], "45.00", card)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed_to_pay"


def test_billing_role_on_the_property_is_not_enough_when_the_invoice_names_another_billing_contact(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-5
    with database(settings) as session:
        billie = session.scalar(select(Contact).where(Contact.key == "bill"))
        assert billie is not None
        billie_id = billie.id
    set_invoice(settings, "INV-I-BILLING", billing_contact_id=billie_id)
    billing = invoice_ids(client, pat)["INV-I-BILLING"]  # Pat has the "billing" role on Birch Court
    assert invoice(client, pat, billing)["can_pay"] is False
    billie_headers = login(client, "billie@example.com")  # primary on Birch Court
    assert invoice(client, billie_headers, billing)["can_pay"] is True


def test_pay_blocked_reasons_are_sentences(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-5, IN-8
    ids = invoice_ids(client, pat)
    paid = invoice(client, pat, ids["INV-I-PAID"])
    assert (paid["can_pay"], paid["pay_blocked_reason"]) == (False, "Invoice INV-I-PAID is already paid in full.")
    with database(settings) as session:
        branch = session.scalar(select(Branch).where(Branch.slug == "north"))
        assert branch is not None
        branch.electronic_payments = False
        session.commit()
    due = invoice(client, pat, ids["INV-I-DUE"])
    assert (due["can_pay"], due["pay_blocked_reason"]) == (False, "North Branch does not take payments in the portal.")


def test_assisted_payment_shows_who_captured_it(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-4, SA-3
    helper = assisted_by_office(client)
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, helper)
    assert pay(client, helper, due, "20.50", card).status_code == 201
    payment = invoice(client, pat, due)["payments"][-1]
    assert payment["captured_by"]["name"] == "Olivia Office"
    assert payment["method"] == {"type": "card", "last4": "4242"}
    assert len(payment["group_id"]) == 32


def test_invoice_pdf_is_a_real_document(client: TestClient, pat: dict[str, str]) -> None:  # IN-3, IN-4
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    assert pay(client, pat, ids["INV-I-PARTIAL"], "25.00", card).status_code == 201
    response = client.get(f"{NORTH}/invoices/{ids['INV-I-PARTIAL']}/pdf", headers=pat)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "INV-I-PARTIAL" in response.headers["content-disposition"]
    document = pymupdf.open("pdf", response.content)
    text = " ".join(page.get_text() for page in document)
    detail = invoice(client, pat, ids["INV-I-PARTIAL"])
    due = date.fromisoformat(detail["due_date"])
    for expected in (
        "Invoice INV-I-PARTIAL",
        "North Branch",
        "Oak Plaza",
        "Mowing",
        f"{due:%B} {due.day}, {due.year}",
        "NET 30 DAYS",
        "Credits applied",
        "-$50.00",
        "Card ending 4242",
        "$25.00",
        "Balance due",
        f"${Decimal(detail['balance']):,.2f}",
        "/portal/north",
        "Sam Rep",
    ):
        assert expected in text, expected
    assert document.metadata["title"] == "Invoice INV-I-PARTIAL"
    # Same invoice, same bytes: the document is dated by the invoice, not by the clock.
    again = client.get(f"{NORTH}/invoices/{ids['INV-I-PARTIAL']}/pdf", headers=pat)
    assert again.content == response.content


def test_paid_invoice_pdf_says_so(client: TestClient, pat: dict[str, str]) -> None:  # IN-4
    paid = invoice_ids(client, pat)["INV-I-PAID"]
    text = pymupdf.open("pdf", client.get(f"{NORTH}/invoices/{paid}/pdf", headers=pat).content)[0].get_text()
    assert "PAID IN FULL" in text
