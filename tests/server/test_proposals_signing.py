"""POST /proposals/{id}/signature and GET /proposals/{id}/signed-pdf (PR-3..PR-5, PR-8, PR-9, SA-3)."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from datetime import date
from email.message import Message
from typing import Any

import pymupdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import AuditEntry, Proposal
from server.services.importer import import_document
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import NORTH, SOUTH, login, mails
from tests.server.proposal_helpers import (
    b64,
    drawn_png,
    pdf_text,
    proposal_id_by_key,
    proposal_ids,
    sha256,
    sign_body,
)
from tests.server.staff_helpers import assisted_by_office


def sign(client: TestClient, headers: dict[str, str], proposal_id: int, base: str = NORTH, **body: Any) -> Any:
    return client.post(f"{base}/proposals/{proposal_id}/signature", headers=headers, json=sign_body(**body))


def optional_ids(client: TestClient, headers: dict[str, str], proposal_id: int, base: str = NORTH) -> dict[str, int]:
    body = client.get(f"{base}/proposals/{proposal_id}", headers=headers).json()
    return {o["description"]: o["id"] for o in body["optional_services"]}


def test_signing_records_signer_selection_and_approved_amount(client: TestClient, pat: dict[str, str]) -> None:
    """PR-5: approved = non-optional items + the selected optional ones; accepted; opportunity status unchanged."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    options = optional_ids(client, pat, proposal_id)
    response = sign(client, pat, proposal_id, optional_service_ids=[options["Optional lights"]])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert body["opportunity_status"] == "delivered"
    assert body["approved_total"] == "649.99"  # 300.00 + 99.99 + 250.00
    assert body["total"] == "399.99"
    assert body["can_sign"] is False
    assert body["sign_blocked_reason"] == "This proposal has already been signed."
    assert body["signature"]["signer_name"] == "Pat Customer"
    assert body["signature"]["captured_by"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", body["signature"]["signed_at"])
    assert [(o["description"], o["selected"]) for o in body["optional_services"]] == [
        ("Optional lights", True),
        ("Optional mulch", False),
    ]
    assert [i["selected"] for i in body["line_items"]] == [False, False, True, False]
    # The list agrees, and the detail read afterwards is the same answer.
    listed = client.get(f"{NORTH}/proposals", params={"status": "accepted"}, headers=pat).json()["items"]
    assert proposal_id in [item["id"] for item in listed]
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json() == body


def test_approved_amount_with_every_and_no_optional_service(client: TestClient, pat: dict[str, str]) -> None:  # PR-5
    ids = proposal_ids(client, pat)
    all_options = list(optional_ids(client, pat, ids["OPP-O-WON"]).values())
    assert sign(client, pat, ids["OPP-O-WON"], optional_service_ids=all_options).json()["approved_total"] == "729.99"
    assert sign(client, pat, ids["OPP-O-DELIVERED"]).json()["approved_total"] == "399.99"


def test_the_billing_contact_can_sign(client: TestClient, pat: dict[str, str]) -> None:  # PR-3
    response = sign(client, pat, proposal_ids(client, pat)["OPP-O-BILLING"], signer_name="Pat as billing")
    assert response.status_code == 200, response.text


def test_a_contact_in_the_other_role_cannot_sign(client: TestClient, pat: dict[str, str]) -> None:  # PR-3
    proposal_id = proposal_ids(client, pat)["OPP-O-OTHER"]
    response = sign(client, pat, proposal_id)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed_to_sign"
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()["signature"] is None


def test_staff_in_an_assist_session_cannot_sign_where_the_contact_may_not(
    client: TestClient, pat: dict[str, str]
) -> None:  # PR-3, SA-2
    assisted = assisted_by_office(client)
    response = sign(client, assisted, proposal_ids(client, pat)["OPP-O-OTHER"])
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed_to_sign"


@pytest.mark.parametrize("number", ["OPP-O-LOST", "OPP-O-APPROVED", "OPP-O-PRODUCTION", "OPP-O-COMPLETE"])
def test_view_only_proposals_cannot_be_signed(client: TestClient, pat: dict[str, str], number: str) -> None:  # PR-4
    response = sign(client, pat, proposal_ids(client, pat)[number])
    assert response.status_code == 409
    assert response.json()["code"] == "not_signable"


def test_a_signed_proposal_cannot_be_signed_again(client: TestClient, pat: dict[str, str]) -> None:  # PR-4
    proposal_id = proposal_ids(client, pat)["OPP-O-WON"]
    assert sign(client, pat, proposal_id).status_code == 200
    again = sign(client, pat, proposal_id, signer_name="Someone Else")
    assert again.status_code == 409
    assert again.json()["code"] == "not_signable"
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()["signature"]["signer_name"] == (
        "Pat Customer"
    )


def test_two_signers_at_once_exactly_one_wins(client: TestClient, pat: dict[str, str]) -> None:  # PR-4
    """Separate clients, released together; on PostgreSQL the conditional UPDATE and unique row decide."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    barrier = threading.Barrier(2)
    results: list[tuple[int, str]] = []

    def attempt(name: str) -> None:
        with TestClient(client.app, raise_server_exceptions=False) as own:
            barrier.wait()
            response = sign(own, pat, proposal_id, signer_name=name)
            results.append((response.status_code, response.json().get("code", "")))

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("First Signer", "Second Signer")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _ in results) == [200, 409]
    assert [code for status, code in results if status == 409] == ["not_signable"]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        assert proposal.is_signed
        assert proposal.signature is not None


def _assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    assert field in [error["field"] for error in body["errors"]], body


@pytest.mark.parametrize(
    ("png", "message"),
    [
        (b64(drawn_png(ink=False)), "empty"),  # transparent, nothing drawn
        (b64(drawn_png(ink=False, transparent=False)), "empty"),  # all white
        ("not base64 at all!", "base64"),
        (b64(b"GIF89a not a png"), "PNG"),
        (b64(drawn_png()[:80]), "cut short"),
        ("", "empty"),
    ],
)
def test_the_signature_must_be_a_png_with_something_drawn(
    client: TestClient, pat: dict[str, str], png: str, message: str
) -> None:  # PR-5
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    response = sign(client, pat, proposal_id, signature_png=png)
    _assert_invalid(response, "signature_png")
    assert message in response.json()["errors"][0]["message"]
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()["status"] == "pending"


def test_a_white_signature_with_ink_and_a_data_url_are_accepted(client: TestClient, pat: dict[str, str]) -> None:
    ids = proposal_ids(client, pat)
    assert sign(client, pat, ids["OPP-O-WON"], signature_png=b64(drawn_png(transparent=False))).status_code == 200
    data_url = "data:image/png;base64," + b64(drawn_png())
    assert sign(client, pat, ids["OPP-O-DELIVERED"], signature_png=data_url).status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "12345", "x" * 201, "Pat\x00Customer"])
def test_the_signer_name_is_required_and_must_be_a_name(client: TestClient, pat: dict[str, str], name: str) -> None:
    _assert_invalid(sign(client, pat, proposal_ids(client, pat)["OPP-O-DELIVERED"], signer_name=name), "signer_name")


@pytest.mark.parametrize("agree", [False, "true", 1, None])
def test_the_signer_must_agree(client: TestClient, pat: dict[str, str], agree: object) -> None:
    _assert_invalid(sign(client, pat, proposal_ids(client, pat)["OPP-O-DELIVERED"], agree=agree), "agree")


def test_optional_services_must_be_this_proposals_optional_items(client: TestClient, pat: dict[str, str]) -> None:
    ids = proposal_ids(client, pat)
    detail = client.get(f"{NORTH}/proposals/{ids['OPP-O-DELIVERED']}", headers=pat).json()
    required_item = detail["line_items"][0]["id"]
    foreign_option = next(iter(optional_ids(client, pat, ids["OPP-O-WON"]).values()))
    for wrong in ([required_item], [foreign_option], [999999]):
        response = sign(client, pat, ids["OPP-O-DELIVERED"], optional_service_ids=wrong)
        _assert_invalid(response, "optional_service_ids")


def test_every_form_error_is_reported_at_once_and_unknown_fields_are_refused(
    client: TestClient, pat: dict[str, str]
) -> None:
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    response = sign(client, pat, proposal_id, signer_name="", agree=False, signature_png=b64(drawn_png(ink=False)))
    assert {e["field"] for e in response.json()["errors"]} == {"signer_name", "agree", "signature_png"}
    response = client.post(
        f"{NORTH}/proposals/{proposal_id}/signature", headers=pat, json={**sign_body(), "approved_total": "1.00"}
    )
    assert response.status_code == 422


def test_state_is_checked_before_the_form(client: TestClient, pat: dict[str, str]) -> None:  # PR-4
    response = sign(client, pat, proposal_ids(client, pat)["OPP-O-LOST"], signer_name="", agree=False)
    assert response.status_code == 409


def test_hidden_proposals_cannot_be_signed(client: TestClient, pat: dict[str, str]) -> None:  # PR-1
    for key in ("o-draft", "o-unshared", "o-otto"):
        assert sign(client, pat, proposal_id_by_key(client, key)).status_code == 404


def _mail(settings: Settings) -> Message:
    sent = mails(settings)
    assert len(sent) == 1, sent
    return email.message_from_string(sent[0], policy=email.policy.default)


def _mail_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def test_the_sales_rep_is_emailed_with_the_signed_proposal(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-8
    ids = proposal_ids(client, pat)
    options = optional_ids(client, pat, ids["OPP-O-DELIVERED"])
    assert mails(settings) == []
    sign(client, pat, ids["OPP-O-DELIVERED"], optional_service_ids=[options["Optional mulch"]])
    message = _mail(settings)
    assert message["To"] == "sam@example.com"
    assert "OPP-O-DELIVERED" in message["Subject"]
    assert "signed" in message["Subject"]
    assert not message["Subject"].strip().startswith("Change order")
    text = _mail_text(message)
    assert "Pat Customer" in text
    assert "$479.99" in text
    assert "Optional mulch" in text
    assert "Oak Plaza" in text
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert [part.get_filename() for part in attachments] == ["OPP-O-DELIVERED-signed.pdf"]
    pdf = attachments[0].get_payload(decode=True)
    assert isinstance(pdf, bytes)
    assert "Signature certificate" in pdf_text(pdf)


def test_a_signed_change_order_says_so_to_the_sales_rep(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-8
    sign(client, pat, proposal_ids(client, pat)["OPP-O-CHANGE"])
    message = _mail(settings)
    assert message["To"] == "sam@example.com"
    assert message["Subject"].strip().startswith("Change order OPP-O-CHANGE signed")
    assert "revises OPP-O-WON" in message["Subject"]
    assert "change order revises proposal OPP-O-WON" in _mail_text(message)


def test_a_refused_signature_sends_no_mail(client: TestClient, pat: dict[str, str], settings: Settings) -> None:
    sign(client, pat, proposal_ids(client, pat)["OPP-O-OTHER"])
    sign(client, pat, proposal_ids(client, pat)["OPP-O-DELIVERED"], agree=False)
    assert mails(settings) == []


def test_signed_pdf_has_the_signature_and_an_audit_page(client: TestClient, pat: dict[str, str]) -> None:  # PR-9
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    unsigned = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content
    options = optional_ids(client, pat, proposal_id)
    sign(client, pat, proposal_id, signer_name="Pat Q. Customer", optional_service_ids=[options["Optional lights"]])
    # The unsigned document does not change by being signed: its hash stays true.
    assert client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content == unsigned
    response = client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    with pymupdf.open("pdf", response.content) as document:
        with pymupdf.open("pdf", unsigned) as original:
            assert document.page_count == original.page_count + 1
        signature_page = next(page for page in document if "Approved amount" in page.get_text())
        assert signature_page.get_images(), "the drawn signature is on the proposal"
        stamped = signature_page.get_text()
        assert "Pat Q. Customer" in stamped
        assert "$649.99" in stamped
        body = "\n".join(document[i].get_text() for i in range(document.page_count - 1))
        assert "ACCEPTED" in body
        assert body.count("SELECTED BY THE SIGNER") == 1
        assert body.count("NOT SELECTED") == 1
        audit = document[-1]
        assert audit.get_images(), "the audit page repeats the signature"
        audit_text = audit.get_text()
    assert "Signature certificate" in audit_text
    assert "Pat Q. Customer" in audit_text
    assert "Pat Customer <pat@example.com>, Primary contact" in audit_text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[45]:00 \(America/New_York\)", audit_text)
    assert "The signing contact, in the customer portal" in audit_text
    assert "testclient" in audit_text  # the client address the request came from
    assert "Optional lights ($250.00)" in audit_text
    assert sha256(unsigned) in audit_text.replace("\n", "")


def test_signed_pdf_is_stable(client: TestClient, pat: dict[str, str]) -> None:  # PR-9
    proposal_id = proposal_ids(client, pat)["OPP-O-WON"]
    sign(client, pat, proposal_id)
    first = client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat).content
    assert client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat).content == first


def test_other_contacts_on_the_property_see_the_signature(client: TestClient, pat: dict[str, str]) -> None:  # PR-3
    proposal_id = proposal_ids(client, pat)["OPP-O-BILLING"]
    sign(client, pat, proposal_id)
    billie = login(client, "billie@example.com")
    body = client.get(f"{NORTH}/proposals/{proposal_id}", headers=billie).json()
    assert body["status"] == "accepted"
    assert body["signature"]["signer_name"] == "Pat Customer"
    assert client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=billie).status_code == 200


def test_an_assisted_signature_is_captured_by_staff_and_audited(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-3, PR-9
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    assisted = assisted_by_office(client)
    response = sign(client, assisted, proposal_id)
    assert response.status_code == 200, response.text
    captured = response.json()["signature"]["captured_by"]
    assert captured["name"] == "Olivia Office"
    # The customer's own view shows it too.
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()["signature"]["captured_by"] == captured
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action != "assist.start")).all()
        assert [(e.action, e.target, e.staff.name) for e in entries] == [
            ("proposal.sign", "proposal OPP-O-DELIVERED", "Olivia Office")
        ]
    audit_text = pdf_text(client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat).content)
    assert "Olivia Office, company staff, in an assist session" in audit_text
    assert "Captured by Olivia Office" in _mail_text(_mail(settings))


def test_a_contacts_own_signature_writes_no_audit_entry(client: TestClient, pat: dict[str, str]) -> None:  # SA-3
    sign(client, pat, proposal_ids(client, pat)["OPP-O-DELIVERED"])
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert session.scalars(select(AuditEntry)).all() == []


def test_signing_on_a_branch_that_hides_line_items(client: TestClient) -> None:  # PR-5, PR-6
    south = login(client, "pat@example.com", base=SOUTH)
    proposal_id = proposal_ids(client, south, SOUTH)["OPP-O-SOUTH"]
    options = optional_ids(client, south, proposal_id, SOUTH)
    response = sign(client, south, proposal_id, SOUTH, optional_service_ids=[options["Optional mulch"]])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["line_items"] is None
    assert body["approved_total"] == "479.99"
    text = pdf_text(client.get(f"{SOUTH}/proposals/{proposal_id}/signed-pdf", headers=south).content)
    assert "Labor" not in text
    assert "SELECTED BY THE SIGNER" in text


def test_the_signed_document_survives_later_changes_to_the_proposal(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-9
    """Staff re-import a changed price after signing: the signed document and its hash do not move."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    before = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content
    sign(client, pat, proposal_id)
    document = build_company(date.today())
    proposal = next(p for p in document["proposals"] if p["key"] == "o-delivered")
    proposal["items"][0]["unit_price"] = "175.00"
    import_document(settings, document)
    after = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content
    assert after == before
    signed_text = pdf_text(client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat).content)
    assert sha256(before) in signed_text.replace("\n", "")
    assert "$150.00" in signed_text
    assert "$175.00" not in signed_text


def reprice(settings: Settings, key: str, unit_price: str, *, drop_option: bool = False) -> None:
    """Staff re-import the proposal `key` with its first item at `unit_price` (and without its first option)."""
    document = build_company(date.today())
    proposal = next(p for p in document["proposals"] if p["key"] == key)
    proposal["items"][0]["unit_price"] = unit_price
    if drop_option:
        del proposal["items"][2]
    import_document(settings, document)


def test_a_proposal_repriced_while_open_is_not_signed_for_an_amount_never_shown(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-5, PR-9
    """The reviewer's case: shown $399.99, staff re-import a new price, the signer signs: 200 with
    approved_total 649.99 (unseen). The signer now says what they were shown, and a 409 says what it is."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    shown = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    assert shown["total"] == "399.99"
    reprice(settings, "o-delivered", "275.00")
    response = sign(client, pat, proposal_id, expected_approved_total=shown["total"])
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "proposal_changed"
    assert response.json()["detail"] == (
        "This proposal changed since you opened it: the total is now $649.99. Review it and sign again."
    )
    now = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    assert now["signature"] is None and now["can_sign"] is True, "nothing was signed"
    assert now["total"] == "649.99"
    again = sign(client, pat, proposal_id, expected_approved_total="649.99")
    assert again.status_code == 200, again.text
    assert again.json()["approved_total"] == "649.99"
    certificate = pdf_text(client.get(f"{NORTH}/proposals/{proposal_id}/signed-pdf", headers=pat).content)
    assert "$649.99" in certificate and "$399.99" not in certificate


def test_the_expected_amount_includes_the_chosen_optional_services(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-5
    ids = proposal_ids(client, pat)
    lights = optional_ids(client, pat, ids["OPP-O-DELIVERED"])["Optional lights"]
    reprice(settings, "o-delivered", "160.00")
    response = sign(
        client, pat, ids["OPP-O-DELIVERED"], optional_service_ids=[lights], expected_approved_total="649.99"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This proposal changed since you opened it: with the optional services you chose, the approved amount "
        "is now $669.99. Review it and sign again."
    )
    ok = sign(client, pat, ids["OPP-O-DELIVERED"], optional_service_ids=[lights], expected_approved_total="669.99")
    assert ok.status_code == 200, ok.text
    assert ok.json()["approved_total"] == "669.99"


def test_an_optional_service_withdrawn_while_open_is_a_change_not_a_form_error(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-5
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    lights = optional_ids(client, pat, proposal_id)["Optional lights"]
    reprice(settings, "o-delivered", "150.00", drop_option=True)
    response = sign(client, pat, proposal_id, optional_service_ids=[lights], expected_approved_total="649.99")
    assert response.status_code == 409
    assert response.json()["code"] == "proposal_changed"
    assert "an optional service you chose is no longer offered" in response.json()["detail"]


def test_clients_that_do_not_say_what_they_showed_still_sign(client: TestClient, pat: dict[str, str]) -> None:
    """An older client sends no expected_approved_total: signing works as before (api.md: optional)."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    assert "expected_approved_total" not in sign_body()
    response = sign(client, pat, proposal_id)
    assert response.status_code == 200, response.text
    bad = sign(client, pat, proposal_ids(client, pat)["OPP-O-WON"], expected_approved_total=399.99)
    assert bad.status_code == 422, "money is a string, never a JSON number"


def reword(proposal: dict[str, Any]) -> None:
    proposal["items"][0]["description"] = "Labor, including haul-away"


def requantify(proposal: dict[str, Any]) -> None:
    """3 at $100.00 instead of 2 at $150.00: the same $300.00."""
    proposal["items"][0].update(quantity="3", unit_price="100.00")


def new_terms(proposal: dict[str, Any]) -> None:
    proposal["terms"] = "Half of the approved amount is due before the work starts."


def rename_option(proposal: dict[str, Any]) -> None:
    proposal["items"][2]["description"] = "Optional lights (solar)"


def retitle(proposal: dict[str, Any]) -> None:
    proposal["title"] = "Front beds only"


def reimport(settings: Settings, key: str, change: Any = None) -> None:
    """Staff re-import the company file with the proposal `key` changed by `change` (none: the same file)."""
    document = build_company(date.today())
    if change is not None:
        change(next(p for p in document["proposals"] if p["key"] == key))
    import_document(settings, document)


@pytest.mark.parametrize("change", [reword, requantify, new_terms, rename_option, retitle])
def test_a_change_that_keeps_the_total_is_not_signed_for_unseen(
    client: TestClient, pat: dict[str, str], settings: Settings, change: Any
) -> None:  # PR-5, PR-9
    """The amount alone let a reworded item, 3 at $100 for 2 at $150, new terms or a renamed optional service
    through: the signer now also says which revision they were shown."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    shown = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    shown_pdf = client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat)
    reimport(settings, "o-delivered", change)
    now = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    assert now["total"] == shown["total"] == "399.99"
    assert now["revision"] == shown["revision"] + 1
    assert client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).headers["ETag"] != shown_pdf.headers["ETag"]
    response = sign(
        client, pat, proposal_id, expected_approved_total=shown["total"], expected_revision=shown["revision"]
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "proposal_changed"
    assert response.json()["detail"] == (
        "This proposal changed since you opened it: the company has updated it. Review it and sign again."
    )
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json() == now, "nothing was signed"
    again = sign(client, pat, proposal_id, expected_approved_total=now["total"], expected_revision=now["revision"])
    assert again.status_code == 200, again.text
    assert again.json()["revision"] == now["revision"]


def test_a_signer_shown_the_current_revision_signs(client: TestClient, pat: dict[str, str]) -> None:
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    shown = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    assert shown["revision"] == 1, "a proposal as first imported"
    response = sign(client, pat, proposal_id, expected_revision=1)
    assert response.status_code == 200, response.text
    assert response.json()["signature"]["signer_name"] == "Pat Customer"


def test_a_reimport_that_changes_nothing_a_signer_reads_keeps_the_revision(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:
    """The same file again (api.md: changes nothing), or only a new opportunity status: the signer's
    window is not refused for a change they could not see."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    reimport(settings, "o-delivered")
    reimport(settings, "o-delivered", lambda proposal: proposal.update(opportunity_status="won"))
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()["revision"] == 1
    response = sign(client, pat, proposal_id, expected_revision=1)
    assert response.status_code == 200, response.text


def test_a_proposal_rekeyed_by_the_office_keeping_its_items_imports(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:
    """A proposal new under its key that takes over another's items (the office re-keyed it) failed the
    whole import (KeyError): it was looked up as already shown. It is new, at revision 1."""
    document = build_company(date.today())
    rekeyed = next(p for p in document["proposals"] if p["key"] == "o-delivered")
    rekeyed.update(key="o-delivered-again", number="OPP-O-DELIVERED-2")
    import_document(settings, document)
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED-2"]
    assert client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()["revision"] == 1


def test_clients_that_do_not_send_the_revision_still_sign(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:
    """An older client sends only expected_approved_total (or nothing): a same-total change is signed as
    before; a revision that is not a whole number is a 422."""
    proposal_id = proposal_ids(client, pat)["OPP-O-DELIVERED"]
    reimport(settings, "o-delivered", reword)
    assert "expected_revision" not in sign_body()
    bad = sign(client, pat, proposal_id, expected_revision="2")
    assert bad.status_code == 422, bad.text
    response = sign(client, pat, proposal_id, expected_approved_total="399.99")
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
