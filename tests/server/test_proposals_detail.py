"""GET /proposals/{id} and GET /proposals/{id}/pdf (PR-1..PR-4, PR-6, PR-7)."""

from __future__ import annotations

import json

import pymupdf
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import NORTH, SOUTH, login
from tests.server.proposal_helpers import pdf_text, proposal_id_by_key, proposal_ids, sha256


def detail(client: TestClient, headers: dict[str, str], number: str, base: str = NORTH) -> dict[str, object]:
    response = client.get(f"{base}/proposals/{proposal_ids(client, headers, base)[number]}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_detail_has_every_contract_field(client: TestClient, pat: dict[str, str]) -> None:
    body = detail(client, pat, "OPP-O-DELIVERED")
    assert set(body) == {
        "id", "number", "title", "property", "status", "total", "shared_on", "is_change_order", "can_sign",
        "opportunity_type", "opportunity_status", "line_items", "optional_services", "approved_total", "sales_rep",
        "signature", "change_order_of", "sign_blocked_reason", "revision",
    }  # fmt: skip
    assert body["total"] == "399.99"
    assert body["revision"] == 1
    assert body["opportunity_type"] == "work_order"
    assert body["approved_total"] is None
    assert body["signature"] is None
    assert body["change_order_of"] is None
    assert body["property"] == {"id": body["property"]["id"], "name": "Oak Plaza"}  # type: ignore[index]


@pytest.mark.parametrize("key", ["o-draft", "o-unshared", "o-otto", "o-south"])
def test_drafts_unshared_and_other_customers_proposals_are_not_found(
    client: TestClient, pat: dict[str, str], key: str
) -> None:  # PR-1
    proposal_id = proposal_id_by_key(client, key)
    for suffix in ("", "/pdf", "/signed-pdf"):
        response = client.get(f"{NORTH}/proposals/{proposal_id}{suffix}", headers=pat)
        assert response.status_code == 404, (suffix, response.text)
        assert response.json()["code"] == "not_found"
    assert client.get(f"{NORTH}/proposals/999999", headers=pat).status_code == 404


def test_a_proposal_is_not_reachable_through_another_branchs_portal(client: TestClient) -> None:  # PR-1, AC-2
    south = login(client, "pat@example.com", base=SOUTH)
    south_id = proposal_ids(client, south, SOUTH)["OPP-O-SOUTH"]
    north = login(client, "pat@example.com")
    assert client.get(f"{NORTH}/proposals/{south_id}", headers=north).status_code == 404


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("OPP-O-DELIVERED", "pending"),
        ("OPP-O-WON", "accepted"),
        ("OPP-O-LOST", "rejected"),
        ("OPP-O-APPROVED", "accepted"),
        ("OPP-O-PRODUCTION", "accepted"),
        ("OPP-O-COMPLETE", "accepted"),
    ],
)
def test_detail_status_follows_the_opportunity_status(
    client: TestClient, pat: dict[str, str], number: str, status: str
) -> None:  # PR-2
    assert detail(client, pat, number)["status"] == status


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("OPP-O-LOST", "declined"),
        ("OPP-O-APPROVED", "approved"),
        ("OPP-O-PRODUCTION", "production"),
        ("OPP-O-COMPLETE", "complete"),
    ],
)
def test_view_only_statuses_say_why_they_cannot_be_signed(
    client: TestClient, pat: dict[str, str], number: str, reason: str
) -> None:  # PR-4
    body = detail(client, pat, number)
    assert body["can_sign"] is False
    assert reason in str(body["sign_blocked_reason"])


@pytest.mark.parametrize("number", ["OPP-O-DELIVERED", "OPP-O-WON", "OPP-O-CHANGE", "OPP-O-BILLING"])
def test_delivered_and_won_can_be_signed_by_primary_and_billing(
    client: TestClient, pat: dict[str, str], number: str
) -> None:  # PR-3, PR-4
    body = detail(client, pat, number)
    assert body["can_sign"] is True
    assert body["sign_blocked_reason"] is None


def test_a_contact_in_the_other_role_can_view_but_not_sign(client: TestClient, pat: dict[str, str]) -> None:  # PR-3
    body = detail(client, pat, "OPP-O-OTHER")
    assert body["can_sign"] is False
    assert body["sign_blocked_reason"] == "Only the property's primary or billing contact can sign proposals."
    assert client.get(f"{NORTH}/proposals/{body['id']}/pdf", headers=pat).status_code == 200


def test_line_items_and_optional_services_when_the_branch_shows_details(
    client: TestClient, pat: dict[str, str]
) -> None:  # PR-6
    body = detail(client, pat, "OPP-O-DELIVERED")
    items = body["line_items"]
    assert isinstance(items, list)
    assert [(i["description"], i["quantity"], i["unit_price"], i["amount"], i["optional"]) for i in items] == [
        ("Labor", "2", "150.00", "300.00", False),
        ("Materials", "1", "99.99", "99.99", False),
        ("Optional lights", "1", "250.00", "250.00", True),
        ("Optional mulch", "2", "40.00", "80.00", True),
    ]
    assert all(i["selected"] is False for i in items)
    optional = body["optional_services"]
    assert isinstance(optional, list)
    assert [(o["description"], o["amount"], o["selected"]) for o in optional] == [
        ("Optional lights", "250.00", False),
        ("Optional mulch", "80.00", False),
    ]
    assert [o["id"] for o in optional] == [i["id"] for i in items if i["optional"]]


def test_hidden_line_items_are_not_sent_at_all(client: TestClient) -> None:  # PR-6
    south = login(client, "pat@example.com", base=SOUTH)
    proposal_id = proposal_ids(client, south, SOUTH)["OPP-O-SOUTH"]
    response = client.get(f"{SOUTH}/proposals/{proposal_id}", headers=south)
    body = response.json()
    assert "line_items" in body
    assert body["line_items"] is None
    assert body["total"] == "399.99"
    # Optional services are always listed: the signer must be able to choose them.
    assert [o["description"] for o in body["optional_services"]] == ["Optional lights", "Optional mulch"]
    text = json.dumps(body)
    for hidden in ("Labor", "Materials", "unit_price", "quantity", '"150.00"', '"99.99"'):
        assert hidden not in text


def test_sales_rep_phone_only_when_the_branch_allows_it(client: TestClient, pat: dict[str, str]) -> None:  # PR-7
    north_rep = detail(client, pat, "OPP-O-DELIVERED")["sales_rep"]
    assert north_rep == {"name": "Sam Rep", "email": "sam@example.com", "phone": None}
    south = login(client, "pat@example.com", base=SOUTH)
    south_rep = detail(client, south, "OPP-O-SOUTH", SOUTH)["sales_rep"]
    assert south_rep == {"name": "Sam Rep", "email": "sam@example.com", "phone": "555-0100"}


def test_a_change_order_names_the_proposal_it_revises(client: TestClient, pat: dict[str, str]) -> None:  # PR-8
    ids = proposal_ids(client, pat)
    body = detail(client, pat, "OPP-O-CHANGE")
    assert body["is_change_order"] is True
    assert body["change_order_of"] == {"id": ids["OPP-O-WON"], "number": "OPP-O-WON"}


def test_staff_without_an_assist_session_are_asked_to_open_one(client: TestClient, office: dict[str, str]) -> None:
    proposal_id = proposal_id_by_key(client, "o-delivered")
    response = client.get(f"{NORTH}/proposals/{proposal_id}", headers=office)
    assert response.status_code == 403
    assert response.json()["code"] == "assist_required"


def test_detail_needs_sign_in(client: TestClient) -> None:
    assert client.get(f"{NORTH}/proposals/1").status_code == 401


def test_proposal_pdf_is_a_real_text_document(client: TestClient, pat: dict[str, str]) -> None:
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    response = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="OPP-O-DELIVERED.pdf"' in response.headers["content-disposition"]
    text = pdf_text(response.content)
    for expected in (
        "North Branch", "OPP-O-DELIVERED", "Proposal o-delivered", "Oak Plaza", "1 Oak St", "Sam Rep",
        "sam@example.com", "Labor", "$150.00", "$300.00", "Materials", "$99.99", "Optional lights", "OPTIONAL",
        "$399.99", "Terms", "Acceptance", "Signature", "Page 1 of",
    ):  # fmt: skip
        assert expected in text, expected
    assert "555-0100" not in text  # PR-7 applies to the document too
    with pymupdf.open("pdf", response.content) as document:
        assert document.metadata["title"].startswith("Proposal OPP-O-DELIVERED")
        assert document.metadata["creationDate"].startswith("D:")
        for page in document:
            assert page.get_text().strip(), "every page carries text, not only images"
            assert not page.get_images()


def test_proposal_pdf_bytes_are_deterministic(client: TestClient, pat: dict[str, str]) -> None:  # PR-9
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    first = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat)
    second = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat)
    assert first.content == second.content
    assert first.headers["etag"] == f'"{sha256(first.content)}"'


def test_lump_sum_pdf_when_line_items_are_hidden(client: TestClient) -> None:  # PR-6
    south = login(client, "pat@example.com", base=SOUTH)
    proposal_id = proposal_ids(client, south, SOUTH)["OPP-O-SOUTH"]
    text = pdf_text(client.get(f"{SOUTH}/proposals/{proposal_id}/pdf", headers=south).content)
    assert "Lump-sum total" in text
    assert "$399.99" in text
    assert "Optional lights" in text
    assert "$250.00" in text
    assert "Labor" not in text
    assert "Materials" not in text
    assert "$150.00" not in text
    assert "555-0100" in text  # PR-7: this branch shows the rep's phone


def test_change_order_pdf_says_it_is_a_change_order(client: TestClient, pat: dict[str, str]) -> None:  # PR-8
    proposal_id = proposal_ids(client, pat)["OPP-O-CHANGE"]
    text = pdf_text(client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content)
    assert "change order" in text
    assert "OPP-O-WON" in text


def test_signed_pdf_is_a_conflict_while_unsigned(client: TestClient, pat: dict[str, str]) -> None:  # PR-9
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    response = client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat)
    assert response.status_code == 409
    assert response.json()["code"] == "not_signed"
