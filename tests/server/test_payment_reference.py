"""One payment reference everywhere (SA-3, PM-5): the payment answers (also replayed), the receipt,
the invoice's payments, the staff audit and the staff search all name a portal payment the same way,
so a customer quoting the receipt is matched to what staff and the app show."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Payment, SandboxCharge, SearchTerm
from server.models.billing import payment_reference
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, database, login, mails
from tests.server.payment_helpers import DECLINED, add_card, invoice, invoice_ids, new_key, pay, pay_many
from tests.server.staff_helpers import assisted_by_office, audit_entries

REFERENCE = re.compile(r"PAY-[0-9A-F]{10}")


def group_id_of(settings: Settings, payment_id: int) -> str:
    with database(settings) as session:
        group_id = session.scalar(select(Payment.group_id).where(Payment.id == payment_id))
        assert group_id is not None
        return group_id


def test_reference_is_derived_from_the_group_id() -> None:
    assert payment_reference("3f9a0c21b7d4e5f60718293a4b5c6d7e") == "PAY-3F9A0C21B7"
    assert payment_reference(None) is None  # office-recorded payments have none


def test_one_invoice_payment_answers_with_the_receipts_reference(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8, PM-5, SA-3
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    key = new_key()
    first = pay(client, pat, due, "20.00", card, key)
    assert first.status_code == 201, first.text
    body = first.json()
    reference = body["reference"]
    assert reference == payment_reference(group_id_of(settings, body["id"]))
    assert REFERENCE.fullmatch(reference)
    again = pay(client, pat, due, "20.00", card, key)
    assert (again.headers["Idempotent-Replayed"], again.json()) == ("true", body)

    [mail] = mails(settings)
    with database(settings) as session:
        charge_id = session.scalars(select(SandboxCharge.id)).one()
    assert f"Reference: {reference}\n" in mail
    assert f"Processor reference: {charge_id}" in mail
    assert group_id_of(settings, body["id"]) not in mail  # the raw id is no longer a second "reference"

    payments = invoice(client, pat, due)["payments"]
    assert [p["reference"] for p in payments] == [reference]


def test_several_invoices_share_one_reference(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-10, PM-5
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    allocations = [(ids["INV-I-DUE"], "120.50"), (ids["INV-I-BILLING"], "60.00")]
    key = new_key()
    response = pay_many(client, pat, allocations, card, key)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reference"] == payment_reference(body["id"])
    assert pay_many(client, pat, allocations, card, key).json() == body
    assert f"Reference: {body['reference']}\n" in mails(settings)[0]
    for invoice_id, _ in allocations:
        assert invoice(client, pat, invoice_id)["payments"][-1]["reference"] == body["reference"]


def test_office_recorded_payments_have_no_reference(client: TestClient, pat: dict[str, str]) -> None:  # IN-4
    payments = invoice(client, pat, invoice_ids(client, pat)["INV-I-PARTIAL"])["payments"]
    assert [(p["amount"], p["group_id"], p["reference"]) for p in payments] == [("100.00", None, None)]


def test_the_audit_names_the_payment_by_its_reference(
    client: TestClient, pat: dict[str, str], office: dict[str, str]
) -> None:  # SA-3
    helper = assisted_by_office(client)
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, helper)
    reference = pay(client, helper, due, "20.50", card).json()["reference"]
    [entry] = audit_entries(client, office, action="payment.create")
    assert entry["reference"] == reference
    assert {e["reference"] for e in audit_entries(client, office, action="assist.start")} == {None}


def staff_search(client: TestClient, headers: dict[str, str], q: str, base: str = NORTH) -> list[str]:
    response = client.get(f"{base}/staff/contacts", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_staff_find_the_payer_by_the_reference(
    client: TestClient, pat: dict[str, str], office: dict[str, str], settings: Settings
) -> None:  # SA-1
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    # Birch Court's invoice: Billie is its other contact, but Pat paid.
    reference = pay(client, pat, ids["INV-I-BILLING"], "60.00", card).json()["reference"]
    code = reference.removeprefix("PAY-")
    for query in (reference, reference.lower(), f"PAY {code}", f"PAY{code}", code, reference[:8]):
        assert staff_search(client, office, query) == ["Pat Customer"], query
    # Only on the payer's branch.
    assert staff_search(client, login(client, "sofia@example.com", base=SOUTH), reference, SOUTH) == []


def test_a_declined_payment_leaves_nothing_to_find(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-1, IN-9
    """A pending payment is not indexed (its rows may yet be deleted by a decline, which bypasses the flush)."""
    due = invoice_ids(client, pat)["INV-I-DUE"]
    declined = add_card(client, pat, DECLINED)
    assert pay(client, pat, due, "20.00", declined).status_code == 402
    card = add_card(client, pat)
    paid = pay(client, pat, due, "20.00", card).json()
    with database(settings) as session:
        indexed = session.scalars(select(SearchTerm.source_id).where(SearchTerm.source == "payment")).all()
    assert set(indexed) == {paid["id"]}
