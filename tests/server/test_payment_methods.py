"""Payment methods through the REST API: PM-1 list/add/default/remove, PM-2 cards, PM-3 ACH, PM-4 tokens only, PM-5 receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import AuditEntry, PaymentMethod, Staff
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, database, login
from tests.server.payment_helpers import (
    ACH_REJECTED,
    AMEX,
    DECLINED,
    MASTERCARD,
    NEXT_YEAR,
    VISA,
    ach_body,
    add_card,
    add_method,
    card_body,
)
from tests.server.staff_helpers import assisted_by_office


def methods(client: TestClient, headers: dict[str, str], base: str = NORTH) -> list[dict[str, Any]]:
    response = client.get(f"{base}/payment-methods", headers=headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def field_errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_first_method_becomes_default_and_list_shows_only_token_facts(
    client: TestClient, pat: dict[str, str]
) -> None:  # PM-1
    assert methods(client, pat) == []
    first = client.post(f"{NORTH}/payment-methods", headers=pat, json=card_body(VISA))
    assert first.status_code == 201
    assert first.json() == {
        "id": first.json()["id"],
        "type": "card",
        "brand": "Visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": NEXT_YEAR,
        "holder_name": "Pat Customer",
        "is_default": True,
        "captured_by": None,
    }
    second = add_method(client, pat, ach_body())
    listed = methods(client, pat)
    assert [(m["id"], m["is_default"]) for m in listed] == [(first.json()["id"], True), (second, False)]
    ach = listed[1]
    assert (ach["type"], ach["last4"], ach["exp_month"], ach["exp_year"]) == ("ach", "6789", None, None)


def test_set_default_and_remove(client: TestClient, pat: dict[str, str]) -> None:  # PM-1
    visa = add_card(client, pat, VISA)
    master = add_card(client, pat, MASTERCARD)
    amex = add_card(client, pat, AMEX)
    response = client.post(f"{NORTH}/payment-methods/{master}/default", headers=pat)
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    assert [m["id"] for m in methods(client, pat) if m["is_default"]] == [master]
    assert client.delete(f"{NORTH}/payment-methods/{master}", headers=pat).status_code == 204
    # The newest remaining method inherits the default, so there is always one while any exist.
    assert [(m["id"], m["is_default"]) for m in methods(client, pat)] == [(amex, True), (visa, False)]
    assert client.delete(f"{NORTH}/payment-methods/{master}", headers=pat).status_code == 404
    assert client.post(f"{NORTH}/payment-methods/{master}/default", headers=pat).status_code == 404


def test_methods_are_private_to_their_contact(
    client: TestClient, pat: dict[str, str], otto: dict[str, str]
) -> None:  # PM-1
    visa = add_card(client, pat)
    assert methods(client, otto) == []
    assert client.post(f"{NORTH}/payment-methods/{visa}/default", headers=otto).status_code == 404
    assert client.delete(f"{NORTH}/payment-methods/{visa}", headers=otto).status_code == 404
    # The same person on another branch is another contact with other methods (AC-2).
    south = login(client, "pat@example.com", base=SOUTH)
    assert methods(client, south, SOUTH) == []


def test_only_accepted_types_can_be_added(client: TestClient) -> None:  # PM-1
    south = login(client, "pat@example.com", base=SOUTH)  # South accepts cards only
    response = client.post(f"{SOUTH}/payment-methods", headers=south, json=ach_body())
    assert response.status_code == 422
    assert response.json()["code"] == "payment_type_not_accepted"
    assert "not accepted" in response.json()["detail"]
    assert client.post(f"{SOUTH}/payment-methods", headers=south, json=card_body()).status_code == 201


def test_staff_without_assist_session_cannot_manage_methods(client: TestClient, office: dict[str, str]) -> None:  # PM-1
    response = client.get(f"{NORTH}/payment-methods", headers=office)
    assert response.status_code == 403
    assert response.json()["code"] == "assist_required"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"card_number": "4242424242424241"}, "card_number", "check digit"),
        ({"card_number": "4242-4242-4242-424x"}, "card_number", "digits only"),
        ({"card_number": "42424242"}, "card_number", "12 to 19 digits"),
        ({"exp_month": 13}, "exp_month", "1 to 12"),
        ({"exp_month": 1, "exp_year": 2020}, "exp_year", "expired"),
        ({"exp_year": 31}, "exp_year", "four digits"),
        ({"cvc": "12"}, "cvc", "3 or 4 digits"),
        ({"cvc": "12345"}, "cvc", "3 or 4 digits"),
        ({"cvc": "12a"}, "cvc", "3 or 4 digits"),
        ({"holder_name": " "}, "holder_name", "name on the card"),
        ({"postal_code": "!"}, "postal_code", "postal code"),
    ],
)
def test_card_field_errors(
    client: TestClient, pat: dict[str, str], overrides: dict[str, Any], field: str, words: str
) -> None:  # PM-2
    errors = field_errors(client.post(f"{NORTH}/payment-methods", headers=pat, json=card_body(**overrides)))
    assert list(errors) == [field]
    assert words in errors[field]
    assert methods(client, pat) == []


def test_card_with_spaces_and_four_digit_cvc_is_fine_and_this_month_has_not_expired(
    client: TestClient, pat: dict[str, str]
) -> None:  # PM-2
    from datetime import date

    today = date.today()
    body = card_body("3782 822463 10005", cvc="1234", exp_month=today.month, exp_year=today.year)
    response = client.post(f"{NORTH}/payment-methods", headers=pat, json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["brand"], response.json()["last4"]) == ("American Express", "0005")


def test_missing_and_foreign_fields_are_named(client: TestClient, pat: dict[str, str]) -> None:  # PM-2, PM-3
    errors = field_errors(client.post(f"{NORTH}/payment-methods", headers=pat, json={"type": "card", "cvc": "123"}))
    assert set(errors) == {"holder_name", "card_number", "exp_month", "exp_year", "postal_code"}
    errors = field_errors(client.post(f"{NORTH}/payment-methods", headers=pat, json=ach_body(cvc="123")))
    assert errors == {"cvc": "'cvc' is not used for a bank account."}
    errors = field_errors(client.post(f"{NORTH}/payment-methods", headers=pat, json=card_body(color="red")))
    assert "color" in errors


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("011000016/000123456789", "Routing number 011000016 fails its checksum"),
        ("011000015 /000123456789", "Use digits and one '/', no spaces"),
        ("011000015/0001-2345", "Use digits and one '/', no spaces or other characters (found other characters)"),
        ("011000015000123456789", "Use digits and one '/'"),
        ("011000015/0001/23456789", "Use digits and one '/'"),
        ("01100001/000123456789", "The routing number has 9 digits; this one has 8."),
        ("011000015/123", "The account number has 4 to 17 digits; this one has 3."),
        ("011000015/123456789012345678", "The account number has 4 to 17 digits; this one has 18."),
        ("", "Enter the routing number and the account number separated by '/'."),
    ],
)
def test_ach_routing_account_errors_say_exactly_what_is_wrong(
    client: TestClient, pat: dict[str, str], value: str, message: str
) -> None:  # PM-3
    errors = field_errors(client.post(f"{NORTH}/payment-methods", headers=pat, json=ach_body(value)))
    assert list(errors) == ["routing_account"]
    assert errors["routing_account"].startswith(message)


def test_ach_error_messages_never_repeat_the_account_number(
    client: TestClient, pat: dict[str, str]
) -> None:  # PM-3, PM-4
    response = client.post(f"{NORTH}/payment-methods", headers=pat, json=ach_body("011000016/98765432109876543"))
    assert response.status_code == 422
    assert "011000016" in response.text
    assert "98765432109876543" not in response.text


def test_ach_accepts_four_and_seventeen_digit_accounts(client: TestClient, pat: dict[str, str]) -> None:  # PM-3
    add_method(client, pat, ach_body("011000015/1234"))
    add_method(client, pat, ach_body("011000015/12345678901234567", account_type="savings"))
    assert [(m["brand"], m["last4"]) for m in methods(client, pat)] == [
        ("Checking account", "1234"),
        ("Savings account", "4567"),
    ]


def test_gateway_refusal_is_402_and_stores_nothing(client: TestClient, pat: dict[str, str]) -> None:  # PM-1
    # A Luhn-valid number that is not one of the sandbox's test cards: the sandbox refuses it.
    response = client.post(f"{NORTH}/payment-methods", headers=pat, json=card_body("4111111111111111"))
    assert response.status_code == 402
    assert response.json()["code"] == "card_declined"
    assert methods(client, pat) == []
    # Declining test cards tokenize fine; their charges are what fail.
    add_card(client, pat, DECLINED)


def test_database_keeps_token_brand_last4_expiry_only(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PM-4
    add_card(client, pat, VISA)
    add_method(client, pat, ach_body(ACH_REJECTED))
    with database(settings) as session:
        rows = session.scalars(select(PaymentMethod)).all()
    assert [(r.type, r.last4) for r in rows] == [("card", "4242"), ("ach", "0002")]
    for row in rows:
        assert row.gateway_token.startswith(("tok_", "btok_"))
        assert VISA not in row.gateway_token
        assert "123450002" not in row.gateway_token


def test_receipts_need_a_method_on_file(client: TestClient, pat: dict[str, str]) -> None:  # PM-5
    response = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    assert response.status_code == 409
    assert response.json()["code"] == "no_payment_method"
    visa = add_card(client, pat)
    response = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    assert response.status_code == 200
    assert response.json()["email_receipts"] is True
    assert client.get(f"{NORTH}/me", headers=pat).json()["preferences"]["email_receipts"] is True
    # Removing the last method turns receipts off: they need a method on file.
    assert client.delete(f"{NORTH}/payment-methods/{visa}", headers=pat).status_code == 204
    assert client.get(f"{NORTH}/me", headers=pat).json()["preferences"]["email_receipts"] is False


def test_methods_cannot_be_added_when_the_branch_takes_no_electronic_payments(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PM-1, IN-8
    from server.models import Branch

    with database(settings) as session:
        branch = session.scalar(select(Branch).where(Branch.slug == "north"))
        assert branch is not None
        branch.electronic_payments = False
        session.commit()
    response = client.post(f"{NORTH}/payment-methods", headers=pat, json=card_body())
    assert response.status_code == 409
    assert response.json()["code"] == "electronic_payments_disabled"


def test_assisted_method_changes_are_audited(client: TestClient, settings: Settings) -> None:  # SA-3, PM-1
    helper = assisted_by_office(client)
    visa = add_card(client, helper)
    client.post(f"{NORTH}/payment-methods/{visa}/default", headers=helper)
    client.delete(f"{NORTH}/payment-methods/{visa}", headers=helper)
    with database(settings) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action != "assist.start").order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["payment_method.add", "payment_method.default", "payment_method.delete"]
    assert all(e.detail == "Visa ending 4242" for e in entries)


def office_ref(settings: Settings) -> dict[str, Any]:
    with database(settings) as session:
        office_id = session.scalar(select(Staff.id).where(Staff.key == "office"))
    return {"id": office_id, "name": "Olivia Office"}


def test_a_method_added_in_an_assist_says_who_added_it_to_the_customer(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-3, PM-1
    helper = assisted_by_office(client)
    added = client.post(f"{NORTH}/payment-methods", headers=helper, json=card_body(VISA))
    assert added.status_code == 201
    olivia = office_ref(settings)
    assert added.json()["captured_by"] == olivia
    own = add_method(client, pat, ach_body())
    # The customer's own sign-in sees which method office staff added, and that theirs was their own.
    assert [(m["id"], m["captured_by"]) for m in methods(client, pat)] == [(added.json()["id"], olivia), (own, None)]
    # Making it the default (by the customer) does not change who added it.
    made_default = client.post(f"{NORTH}/payment-methods/{own}/default", headers=pat).json()
    assert made_default["captured_by"] is None
    again = client.post(f"{NORTH}/payment-methods/{added.json()['id']}/default", headers=pat).json()
    assert again["captured_by"] == olivia
    with database(settings) as session:
        rows = {m.id: m.captured_by_id for m in session.scalars(select(PaymentMethod))}
    assert rows == {added.json()["id"]: olivia["id"], own: None}


def test_receipts_changed_in_an_assist_say_who_changed_them_until_the_customer_does(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-3, PM-5
    before = client.get(f"{NORTH}/me", headers=pat).json()["preferences"]
    assert before == {"email_receipts": False, "email_receipts_changed_at": None, "email_receipts_changed_by": None}
    helper = assisted_by_office(client)
    add_card(client, helper)
    olivia = office_ref(settings)
    on = client.patch(f"{NORTH}/me/preferences", headers=helper, json={"email_receipts": True})
    assert on.status_code == 200
    assert on.json()["email_receipts"] is True
    assert on.json()["email_receipts_changed_by"] == olivia
    changed_at = datetime.fromisoformat(on.json()["email_receipts_changed_at"])
    assert changed_at.tzinfo is not None
    seen = client.get(f"{NORTH}/me", headers=pat).json()["preferences"]
    assert seen == on.json()
    # Sending the same value changes nothing, so the staff member stays named.
    same = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    assert same.json() == on.json()
    # The customer's own change clears the mark: the setting is theirs again.
    off = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": False})
    assert off.json()["email_receipts_changed_by"] is None
    assert datetime.fromisoformat(off.json()["email_receipts_changed_at"]) >= changed_at
    assert client.get(f"{NORTH}/me", headers=pat).json()["preferences"] == off.json()


def test_receipts_turned_off_by_removing_the_last_method_in_an_assist_name_the_staff_member(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-3, PM-5
    visa = add_card(client, pat)
    assert client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True}).status_code == 200
    helper = assisted_by_office(client)
    assert client.delete(f"{NORTH}/payment-methods/{visa}", headers=helper).status_code == 204
    seen = client.get(f"{NORTH}/me", headers=pat).json()["preferences"]
    assert seen["email_receipts"] is False
    assert seen["email_receipts_changed_by"] == office_ref(settings)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (card_body("4242 4242 4242 424\u00b2"), "card_number"),  # superscript two: int() refuses it
        (card_body("4242424242424242", cvc="12\u0663"), "cvc"),  # Arabic-Indic three
        (ach_body("011000015/0001234567\u0668\u0669"), "routing_account"),
        (ach_body("01100001\u2075/000123456789"), "routing_account"),
    ],
)
def test_only_ascii_digits_are_digits(
    client: TestClient, pat: dict[str, str], caplog: pytest.LogCaptureFixture, body: dict[str, Any], field: str
) -> None:  # PM-2, PM-3, PM-4
    typed = body.get("card_number") or body["routing_account"]
    response = client.post(f"{NORTH}/payment-methods", headers=pat, json=body)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert "digits" in response.json()["detail"]
    assert typed not in response.text and typed not in caplog.text
    assert methods(client, pat) == []
