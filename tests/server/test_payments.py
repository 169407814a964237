"""Paying one invoice through the REST API: IN-6 amounts, IN-7 fees, IN-8 settings and idempotency,
IN-9 declines, the lost-answer card, PM-5 receipts and SA-3 audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import AuditEntry, Branch, IdempotencyRecord, SandboxCharge
from server.services.gateway import Charge, GatewayError, SandboxGateway
from server.services.payments import convenience_fee, split_fee
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, database, login, mails
from tests.server.payment_helpers import (
    ACH_REJECTED,
    DECLINED,
    LOST_ANSWER,
    NO_FUNDS,
    ach_body,
    add_card,
    add_method,
    balance_of,
    charges,
    invoice,
    invoice_ids,
    new_key,
    pay,
    portal_payments,
)
from tests.server.staff_helpers import assisted_by_office


def quote(client: TestClient, headers: dict[str, str], invoice_id: int, amount: str, method: int) -> dict[str, str]:
    response = client.post(
        f"{NORTH}/invoices/{invoice_id}/payment-quote",
        headers=headers,
        json={"amount": amount, "payment_method_id": method},
    )
    assert response.status_code == 200, response.text
    result: dict[str, str] = response.json()
    return result


def set_branch(settings: Settings, slug: str, **values: object) -> None:
    with database(settings) as session:
        branch = session.scalar(select(Branch).where(Branch.slug == slug))
        assert branch is not None
        for name, value in values.items():
            setattr(branch, name, value)
        session.commit()


# -- IN-6 amounts ------------------------------------------------------------------------------


def test_full_balance_payment_succeeds_and_lowers_the_balance(client: TestClient, pat: dict[str, str]) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    response = pay(client, pat, due, "120.50", card)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "invoice_id": due,
        "amount": "120.50",
        "convenience_fee": "3.49",
        "total_charged": "123.99",
        "status": "succeeded",
        "receipt_emailed": False,
        "reference": body["reference"],
    }
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["status"], detail["can_pay"]) == ("0.00", "paid", False)
    assert [p["amount"] for p in detail["payments"]] == ["120.50"]
    assert client.get(f"{NORTH}/balance", headers=pat).json()["current_balance"] == "255.00"  # PF-3


def test_partial_payment_when_the_branch_allows_it(client: TestClient, pat: dict[str, str]) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    assert pay(client, pat, due, "20.5", card).status_code == 201
    assert balance_of(client, pat, due) == Decimal("100.00")


@pytest.mark.parametrize(
    ("amount", "code"),
    [("120.51", "amount_exceeds_balance"), ("0.00", "amount_not_positive"), ("-5.00", "amount_not_positive")],
)
def test_amounts_outside_zero_to_balance_are_refused(
    client: TestClient, pat: dict[str, str], settings: Settings, amount: str, code: str
) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    response = pay(client, pat, due, amount, card)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == "amount"
    assert balance_of(client, pat, due) == Decimal("120.50")
    assert charges(settings) == []


def test_amount_with_three_decimals_is_invalid(client: TestClient, pat: dict[str, str]) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    response = pay(client, pat, due, "10.005", add_card(client, pat))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "amount"


def test_full_payments_only_when_partial_payments_are_off(client: TestClient) -> None:  # IN-6
    south = login(client, "pat@example.com", base=SOUTH)
    lake = invoice_ids(client, south, SOUTH)["INV-I-SOUTH"]
    card = add_card(client, south, base=SOUTH)
    response = pay(client, south, lake, "20.00", card, base=SOUTH)
    assert response.status_code == 422
    assert response.json()["code"] == "partial_payments_disabled"
    assert "$55.00" in response.json()["detail"]
    response = pay(client, south, lake, "55.00", card, base=SOUTH)
    assert response.status_code == 201
    assert response.json()["convenience_fee"] == "1.65"  # South: 3.00 %


def test_paid_invoice_cannot_be_paid(client: TestClient, pat: dict[str, str]) -> None:  # IN-6
    paid = invoice_ids(client, pat)["INV-I-PAID"]
    response = pay(client, pat, paid, "1.00", add_card(client, pat))
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_paid"


# -- IN-7 fees ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fee"),
    # 2.90 % of these is exactly half a cent past; binary floats round them down (0.14, 0.43, 0.72).
    [("5.00", "0.15"), ("15.00", "0.44"), ("25.00", "0.73"), ("100.00", "2.90"), ("0.01", "0.00"), ("120.50", "3.49")],
)
def test_card_fee_is_percent_rounded_half_up(
    client: TestClient, pat: dict[str, str], amount: str, fee: str
) -> None:  # IN-7
    due = invoice_ids(client, pat)["INV-I-DUE"]
    result = quote(client, pat, due, amount, add_card(client, pat))
    assert result == {"amount": amount, "convenience_fee": fee, "total": f"{Decimal(amount) + Decimal(fee):.2f}"}


def test_fee_function_on_cases_floats_get_wrong() -> None:  # IN-7
    branch = Branch(card_fee_percent=Decimal("3.00"), ach_fee_flat=Decimal("1.00"))
    assert round(0.5 * 0.03, 2) == 0.01  # what float arithmetic would charge
    assert convenience_fee(branch, "card", Decimal("0.50")) == Decimal("0.02")
    assert convenience_fee(branch, "card", Decimal("1.50")) == Decimal("0.05")
    assert convenience_fee(branch, "card", Decimal("16.50")) == Decimal("0.50")
    assert convenience_fee(branch, "ach", Decimal("16.50")) == Decimal("1.00")
    assert split_fee(Decimal("0.10"), [Decimal("1.00")] * 3) == [Decimal("0.04"), Decimal("0.03"), Decimal("0.03")]


def test_ach_fee_is_flat_and_the_quote_is_what_is_charged(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-7
    due = invoice_ids(client, pat)["INV-I-DUE"]
    ach = add_method(client, pat, ach_body())
    assert quote(client, pat, due, "50.00", ach) == {"amount": "50.00", "convenience_fee": "1.00", "total": "51.00"}
    response = pay(client, pat, due, "50.00", ach)
    assert response.status_code == 201
    assert (response.json()["convenience_fee"], response.json()["total_charged"]) == ("1.00", "51.00")
    assert [c.amount for c in charges(settings)] == [Decimal("51.00")]
    assert invoice(client, pat, due)["payments"][-1]["convenience_fee"] == "1.00"


def test_quote_applies_the_payment_rules(client: TestClient, pat: dict[str, str]) -> None:  # IN-7, IN-6
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    over = client.post(
        f"{NORTH}/invoices/{ids['INV-I-DUE']}/payment-quote",
        headers=pat,
        json={"amount": "500.00", "payment_method_id": card},
    )
    assert over.status_code == 422
    assert over.json()["code"] == "amount_exceeds_balance"
    other = client.post(
        f"{NORTH}/invoices/{ids['INV-I-OTHER']}/payment-quote",
        headers=pat,
        json={"amount": "45.00", "payment_method_id": card},
    )
    assert other.status_code == 403


# -- IN-8 settings and idempotency -------------------------------------------------------------


def test_payments_need_electronic_payments_on(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    set_branch(settings, "north", electronic_payments=False)
    response = pay(client, pat, due, "120.50", card)
    assert response.status_code == 409
    assert response.json()["code"] == "electronic_payments_disabled"


def test_payments_need_an_accepted_method_type(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    ach = add_method(client, pat, ach_body())
    set_branch(settings, "north", accept_ach=False)
    response = pay(client, pat, due, "120.50", ach)
    assert response.status_code == 422
    assert response.json()["code"] == "payment_type_not_accepted"
    assert response.json()["errors"][0]["field"] == "payment_method_id"


def test_someone_elses_method_is_404(client: TestClient, pat: dict[str, str], otto: dict[str, str]) -> None:  # IN-8
    ottos_card = add_card(client, otto)
    due = invoice_ids(client, pat)["INV-I-DUE"]
    assert pay(client, pat, due, "120.50", ottos_card).status_code == 404


@pytest.mark.parametrize(("key", "code"), [(None, "idempotency_key_required"), ("short", "idempotency_key_invalid")])
def test_idempotency_key_is_required(
    client: TestClient, pat: dict[str, str], key: str | None, code: str
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    headers = pat if key is None else {**pat, "Idempotency-Key": key}
    response = client.post(
        f"{NORTH}/invoices/{due}/payments", headers=headers, json={"amount": "1.00", "payment_method_id": card}
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert balance_of(client, pat, due) == Decimal("120.50")


def test_replay_returns_the_first_answer_without_charging(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    key = new_key()
    first = pay(client, pat, due, "20.00", card, key)
    again = pay(client, pat, due, "20.00", card, key)
    same_money = pay(client, pat, due, "20", card, key)  # the same amount written differently
    assert first.status_code == 201
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (same_money.status_code, same_money.json()) == (201, first.json())
    assert len(charges(settings)) == 1
    assert balance_of(client, pat, due) == Decimal("100.50")


def test_same_key_with_another_body_is_409(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # IN-8
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    key = new_key()
    assert pay(client, pat, ids["INV-I-DUE"], "20.00", card, key).status_code == 201
    for invoice_id, amount in ((ids["INV-I-DUE"], "21.00"), (ids["INV-I-PARTIAL"], "20.00")):
        response = pay(client, pat, invoice_id, amount, card, key)
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_reused"
    assert len(charges(settings)) == 1


def test_keys_belong_to_their_contact(client: TestClient, pat: dict[str, str], otto: dict[str, str]) -> None:  # IN-8
    key = new_key()
    pats = pay(client, pat, invoice_ids(client, pat)["INV-I-DUE"], "10.00", add_card(client, pat), key)
    ottos = pay(client, otto, invoice_ids(client, otto)["INV-I-OTTO"], "10.00", add_card(client, otto), key)
    assert (pats.status_code, ottos.status_code) == (201, 201)
    assert pats.json()["id"] != ottos.json()["id"]


def test_a_refused_request_does_not_use_up_its_key(client: TestClient, pat: dict[str, str]) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    key = new_key()
    assert pay(client, pat, due, "500.00", card, key).status_code == 422
    assert pay(client, pat, due, "120.50", card, key).status_code == 201


def test_stored_answers_hold_no_card_data(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8, PM-4
    due = invoice_ids(client, pat)["INV-I-DUE"]
    pay(client, pat, due, "10.00", add_card(client, pat))
    with database(settings) as session:
        record = session.scalars(select(IdempotencyRecord)).one()
    assert record.status_code == 201
    assert "4242424242424242" not in (record.response_body or "")
    assert len(record.fingerprint) == 64


# -- IN-9 declines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "code", "words"),
    [
        ("card:" + DECLINED, "card_declined", "declined by the card issuer"),
        ("card:" + NO_FUNDS, "insufficient_funds", "insufficient funds"),
        ("ach:" + ACH_REJECTED, "ach_rejected", "bank rejected"),
    ],
)
def test_declines_change_nothing_and_say_why(
    client: TestClient, pat: dict[str, str], settings: Settings, method: str, code: str, words: str
) -> None:  # IN-9
    kind, number = method.split(":", 1)
    method_id = add_card(client, pat, number) if kind == "card" else add_method(client, pat, ach_body(number))
    client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    due = invoice_ids(client, pat)["INV-I-DUE"]
    key = new_key()
    response = pay(client, pat, due, "120.50", method_id, key)
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert words in response.json()["detail"]
    assert balance_of(client, pat, due) == Decimal("120.50")
    assert invoice(client, pat, due)["payments"] == []
    assert portal_payments(settings) == []
    assert charges(settings) == []
    assert mails(settings) == []
    # A retry with the same key gets the same decline; the gateway is not asked again.
    again = pay(client, pat, due, "120.50", method_id, key)
    assert (again.status_code, again.json()) == (402, response.json())
    with database(settings) as session:
        assert session.scalar(select(func.count()).select_from(SandboxCharge)) == 1


# -- the lost answer ---------------------------------------------------------------------------


def test_lost_answer_is_found_by_its_key_not_charged_again(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    response = pay(client, pat, due, "120.50", card)
    assert response.status_code == 201, response.text
    assert response.json()["total_charged"] == "123.99"
    assert [c.amount for c in charges(settings)] == [Decimal("123.99")]
    assert [(p.status, p.amount) for p in portal_payments(settings)] == [("succeeded", Decimal("120.50"))]
    assert balance_of(client, pat, due) == Decimal("0.00")
    # Only the first attempt with that card times out.
    partial = invoice_ids(client, pat)["INV-I-PARTIAL"]
    assert pay(client, pat, partial, "10.00", card).status_code == 201
    assert len(charges(settings)) == 2


class LookupDown(SandboxGateway):
    """The sandbox with its lookup failing while `down` is set: the gateway gave no usable answer."""

    down = True

    def find_charge(self, idempotency_key: str) -> Charge | None:
        if self.down:
            raise GatewayError("lookup unavailable")
        return super().find_charge(idempotency_key)


def test_unconfirmed_payment_stays_reserved_and_the_retry_settles_it_once(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8, IN-6
    gateway = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    client.app.state.gateway = gateway  # type: ignore[attr-defined]
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    key = new_key()
    response = pay(client, pat, due, "100.00", card, key)
    assert response.status_code == 503
    assert response.json()["code"] == "payment_pending"
    assert response.headers["Retry-After"] == "5"
    # The money was taken; the amount stays reserved, but nothing is shown as paid until confirmed.
    assert len(charges(settings)) == 1
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"], detail["payments"]) == ("120.50", "100.00", [])
    assert pay(client, pat, due, "20.50", card).status_code == 201  # the rest stays payable
    assert balance_of(client, pat, due) == Decimal("100.00")
    gateway.down = False
    retry = pay(client, pat, due, "100.00", card, key)
    assert retry.status_code == 201, retry.text
    assert retry.json()["amount"] == "100.00"
    assert len(charges(settings)) == 2
    assert [p.status for p in portal_payments(settings)] == ["succeeded", "succeeded"]
    assert balance_of(client, pat, due) == Decimal("0.00")
    assert pay(client, pat, due, "100.00", card, key).json() == retry.json()


# -- PM-5 receipts and SA-3 audit ------------------------------------------------------------


def test_receipt_is_emailed_when_receipts_are_on(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PM-5
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    assert pay(client, pat, due, "20.00", card).json()["receipt_emailed"] is False
    assert mails(settings) == []
    client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    response = pay(client, pat, due, "100.50", card)
    assert response.json()["receipt_emailed"] is True
    [mail] = mails(settings)
    assert "To: pat@example.com" in mail
    assert "Payment receipt from North Branch: $103.41" in mail
    for expected in ("Invoice INV-I-DUE: $100.50", "Convenience fee: $2.91", "card ending in 4242"):
        assert expected in mail
    assert "4242424242424242" not in mail


def test_assisted_payment_is_audited_and_marked(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-3
    helper = assisted_by_office(client)
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, helper)
    client.patch(f"{NORTH}/me/preferences", headers=helper, json={"email_receipts": True})
    assert pay(client, helper, due, "120.50", card).status_code == 201
    with database(settings) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payment.create")).one()
        assert (entry.staff.name, entry.contact.name) == ("Olivia Office", "Pat Customer")
        assert "INV-I-DUE 120.50" in entry.detail
    assert [p.captured_by_id is not None for p in portal_payments(settings)] == [True]
    assert "Taken on your behalf by Olivia Office" in mails(settings)[0]


def test_staff_token_without_assist_cannot_pay(
    client: TestClient, office: dict[str, str], pat: dict[str, str]
) -> None:  # IN-5
    due = invoice_ids(client, pat)["INV-I-DUE"]
    response = pay(client, office, due, "1.00", 1)
    assert response.status_code == 403
    assert response.json()["code"] == "assist_required"


def test_openapi_documents_the_payment_endpoints(client: TestClient) -> None:  # IN-8, IN-10, PM-1
    spec = client.get("/openapi.json").json()
    prefix = "/portal/{branch_slug}/api/v1"
    for path in (
        "/invoices/{invoice_id}",
        "/invoices/{invoice_id}/pdf",
        "/invoices/{invoice_id}/payment-quote",
        "/invoices/{invoice_id}/payments",
        "/payment-quote",
        "/payments",
        "/payment-methods",
        "/payment-methods/{method_id}/default",
        "/payment-methods/{method_id}",
    ):
        assert prefix + path in spec["paths"], path
    for path in ("/invoices/{invoice_id}/payments", "/payments"):
        post = spec["paths"][prefix + path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in post["parameters"] if p["in"] == "header"]
        assert {"201", "402", "409", "422"} <= set(post["responses"])
