"""Inputs that once broke the server or broke its OpenAPI promises, found by fuzzing (test_fuzz.py) and kept as plain tests.

Each test names the input class it guards; all must hold on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from server.api.schemas import MoneyIn
from tests.server.conftest import NORTH, property_ids


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def assert_problem(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


LISTS = ("proposals", "visits", "invoices", "requests")


def test_preference_refuses_numbers_and_strings_for_a_boolean(client: TestClient, pat: dict[str, str]) -> None:
    for value in (0, 1, "true", "yes", None):
        response = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": value})
        assert_problem(response, 422)


@pytest.mark.parametrize("value", ["99999999999999999999", str(2**63), str(2**31), "-1", "0", "-99999999999999999999"])
def test_out_of_range_property_ids_are_404_or_422(client: TestClient, pat: dict[str, str], value: str) -> None:
    for path in ("balance", *LISTS):
        assert_problem(client.get(f"{NORTH}/{path}", headers=pat, params={"property_id": value}), 404, 422)


# 2**31: past PostgreSQL's `integer` ("integer out of range"); 2**64: past what SQLite can bind.
HUGE_NUMBERS = [str(2**31), str(-(2**31) - 1), str(2**63), str(2**64), "2_147_483_648", f"{2**64}.0", "9" * 400]
# Every route with an id in its path. PostgreSQL answered "integer out of range" (500) to ids past
# 2**31 here before the bound, SQLite "Python int too large" to ids past 2**63.
ID_ROUTES = [
    ("GET", "proposals/{}"),
    ("GET", "proposals/{}/pdf"),
    ("GET", "proposals/{}/signed-pdf"),
    ("POST", "proposals/{}/signature"),
    ("GET", "visits/{}"),
    ("GET", "invoices/{}"),
    ("GET", "invoices/{}/pdf"),
    ("POST", "invoices/{}/payment-quote"),
    ("POST", "invoices/{}/payments"),
    ("GET", "requests/{}"),
    ("POST", "requests/{}/comments"),
    ("GET", "attachments/{}"),
    ("POST", "payment-methods/{}/default"),
    ("DELETE", "payment-methods/{}"),
]


@pytest.mark.parametrize("number", HUGE_NUMBERS)
def test_ids_past_32_bits_in_a_path_are_404(client: TestClient, pat: dict[str, str], number: str) -> None:
    headers = {**pat, "Idempotency-Key": "fuzz-regression-1"}
    for method, template in ID_ROUTES:
        response = client.request(method, f"{NORTH}/{template.format(number)}", headers=headers, json={})
        body = assert_problem(response, 404)
        assert body["detail"] == "That item was not found."


@pytest.mark.parametrize("number", HUGE_NUMBERS)
def test_integers_past_32_bits_in_a_query_are_422(
    client: TestClient, pat: dict[str, str], office: dict[str, str], number: str
) -> None:
    for path, name, headers in [
        ("invoices", "property_id", pat),
        ("visits", "days", pat),
        ("proposals", "limit", pat),
        ("staff/audit", "contact_id", office),
    ]:
        body = assert_problem(client.get(f"{NORTH}/{path}", headers=headers, params={name: number}), 422)
        assert body["errors"][0]["field"].startswith(name)


@pytest.mark.parametrize("limit", ["-1", "0", "501", "-99999999999999999999", "99999999999999999999", "1.5", "x"])
def test_bad_limits_are_422(client: TestClient, pat: dict[str, str], limit: str) -> None:
    for path in LISTS:
        assert_problem(client.get(f"{NORTH}/{path}", headers=pat, params={"limit": limit}), 422)


BAD_CURSORS = [
    "!!!",
    "=",
    "a",
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    cursor_of({"a": 1}),
    cursor_of([1]),
    cursor_of([1, 2, 3]),
    cursor_of(["2020-01-01", 1]),
    cursor_of([{"d": "2020-01-01"}, "x"]),
    cursor_of([{"d": "2020-01-01"}, 2**31]),
    cursor_of([{"d": "2020-01-01"}, 2**64]),
    cursor_of([{"d": "2020-01-01"}, -(2**64)]),
    cursor_of([{"d": "2020-01-01"}, 1.5]),
    cursor_of([{"d": "2020-01-01"}, True]),
    cursor_of([{"d": "2020-01-01"}, None]),
    cursor_of([{"d": "2020-01-01"}, [1]]),
    cursor_of([{"d": "2020-01-01"}, {"d": "2020-01-01"}]),
    cursor_of([{"d": "not a date"}, 1]),
    cursor_of([{"d": 5}, 1]),
    cursor_of([{"dt": "2020-01-01T00:00:00"}, 1]),
    cursor_of([{"d": "2020-01-01", "dt": "2020-01-01T00:00:00+00:00"}, 1]),
    cursor_of([{"x": 1}, 1]),
    cursor_of([{"d": "2020-01-01"}, "1\x00"]),
    cursor_of([1e308, 1]),
    "W3siZCI6IjIwMjAtMDEtMDEifSwxXQ" + "A" * 990,
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_malformed_cursors_are_400_or_422(client: TestClient, pat: dict[str, str], cursor: str) -> None:
    for path in LISTS:
        body = assert_problem(client.get(f"{NORTH}/{path}", headers=pat, params={"cursor": cursor}), 400, 422)
        assert body["code"] in ("bad_cursor", "validation_failed")


def test_a_cursor_of_another_lists_shape_is_400(client: TestClient, pat: dict[str, str]) -> None:
    by_date = cursor_of([{"d": "2030-01-01"}, 1])
    by_timestamp = cursor_of([{"dt": "2030-01-01T00:00:00+00:00"}, 1])
    for path in ("proposals", "visits", "invoices"):
        assert client.get(f"{NORTH}/{path}", headers=pat, params={"cursor": by_date}).status_code == 200
        assert_problem(client.get(f"{NORTH}/{path}", headers=pat, params={"cursor": by_timestamp}), 400)
    assert client.get(f"{NORTH}/requests", headers=pat, params={"cursor": by_timestamp}).status_code == 200
    assert_problem(client.get(f"{NORTH}/requests", headers=pat, params={"cursor": by_date}), 400)


NUL_QUERIES = [
    {"cursor": "\x00"},
    {"cursor": "abc\x00def"},
    {"property_id": "\x00"},
    {"status": "all\x00"},
    {"limit": "1\x00"},
    {"when": "completed\x00"},
]


@pytest.mark.parametrize("params", NUL_QUERIES)
def test_nul_bytes_in_the_query_are_refused(client: TestClient, pat: dict[str, str], params: dict[str, str]) -> None:
    for path in LISTS:
        assert_problem(client.get(f"{NORTH}/{path}", headers=pat, params=params), 400, 422)


@pytest.mark.parametrize("slug", ["north%00", "%00", "x" * 5000, "%F0%9F%98%80", "north%2F..", "..", "%E2%80%AE"])
def test_odd_branch_slugs_are_404(client: TestClient, slug: str) -> None:
    assert_problem(client.get(f"/portal/{slug}/api/v1/version"), 400, 404)
    assert_problem(client.post(f"/portal/{slug}/api/v1/auth/login", json={"email": "a", "password": "b"}), 400, 404)


NASTY_TEXT = [
    "pat@example.com\x00",
    "\x00",
    "\ud800",
    "pat@example.com\udfff",
    "\u202epat@example.com",
    "😀@example.com",
    "a" * 100_000,
    "' OR 1=1 --",
    "%00",
]


@pytest.mark.parametrize("text", NASTY_TEXT)
def test_odd_text_in_sign_in_is_refused_without_a_server_error(client: TestClient, text: str) -> None:
    for body in ({"email": text, "password": "x"}, {"email": "pat@example.com", "password": text}):
        payload = json.dumps(body)  # keeps lone surrogates as \\ud800 escapes, as a hostile client could send
        response = client.post(f"{NORTH}/auth/login", content=payload, headers={"Content-Type": "application/json"})
        assert_problem(response, 401, 422, 429)


@pytest.mark.parametrize("text", NASTY_TEXT)
def test_odd_text_in_tokens_and_passwords_is_refused(client: TestClient, pat: dict[str, str], text: str) -> None:
    requests = [
        ("/auth/password-reset", {"email": text}, None, (202, 422)),
        ("/auth/password-reset/confirm", {"token": text, "new_password": "long-enough-password"}, None, (422,)),
        ("/auth/password-reset/confirm", {"token": "abc", "new_password": text + "long-enough-password"}, None, (422,)),
        ("/auth/invitations/accept", {"token": text, "password": "long-enough-password"}, None, (422,)),
        ("/auth/password-change", {"current_password": text, "new_password": "long-enough-password"}, pat, (422,)),
    ]
    for path, body, headers, statuses in requests:
        response = client.post(
            f"{NORTH}{path}",
            content=json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        assert response.status_code in statuses, (path, response.status_code, response.text)


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"", "application/json", 422),
        (b"", None, 422),
        (b"null", "application/json", 422),
        (b"[]", "application/json", 422),
        (b'"x"', "application/json", 422),
        (b"{", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b'{"email": 1e999, "password": "b"}', "application/json", 422),
        (b'{"email": NaN, "password": "b"}', "application/json", 422),
        (b'{"email": "a", "password": "b", "email": "c"}', "application/json", 401),
        (b'{"email": "a", "password": "b"}', "application/problem+json", 401),
        (b'{"email": "a", "password": "b"}', "text/plain", 415),
        (b'{"email": "a", "password": "b"}', "application/xml", 415),
        (b'{"email": "a", "password": "b"}', None, 415),
        (b"email=a&password=b", "application/x-www-form-urlencoded", 415),
        (b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415),
        (b"", "text/plain", 415),
    ],
)
def test_malformed_or_mistyped_bodies_are_4xx(
    client: TestClient, content: bytes, content_type: str | None, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert_problem(client.post(f"{NORTH}/auth/login", content=content, headers=headers), status)


def test_repeated_query_parameters_take_the_last_single_value(client: TestClient, pat: dict[str, str]) -> None:
    ids = sorted(property_ids(client, pat).values())
    query = f"property_id={ids[0]}&property_id={ids[0]}&limit=1&limit=2&status=due&status=all&cursor=x&cursor="
    response = client.get(f"{NORTH}/invoices?{query}", headers=pat)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) <= 2
    assert_problem(client.get(f"{NORTH}/invoices?limit=2&limit=0", headers=pat), 422)


def test_errors_never_echo_secrets(client: TestClient, pat: dict[str, str]) -> None:
    password = "my-secret-password-1234"
    token = pat["Authorization"].removeprefix("Bearer ")
    answers = [
        client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": password}),
        client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": password, "extra": password}),
        client.post(f"{NORTH}/auth/login", json={"email": ["pat"], "password": [password]}),
        client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": password * 100}),
        client.post(f"{NORTH}/auth/password-reset/confirm", json={"token": password, "new_password": "short"}),
        client.post(f"{NORTH}/auth/password-reset/confirm", json={"token": password, "new_password": password}),
        client.post(f"{NORTH}/auth/invitations/accept", json={"token": password, "password": password}),
        client.post(
            f"{NORTH}/auth/password-change",
            headers=pat,
            json={"current_password": password, "new_password": password},
        ),
        client.post(
            f"{NORTH}/auth/password-change", headers=pat, json={"current_password": password, "new_password": 5}
        ),
        client.get(f"{NORTH}/me", headers={"Authorization": f"Bearer {token}x"}),
        client.get(f"{NORTH}/me", headers={"Authorization": f"Basic {password}"}),
        client.get(f"{NORTH}/invoices", headers=pat, params={"cursor": password}),
    ]
    for response in answers:
        assert 400 <= response.status_code < 500, response.text
        assert password not in response.text
        assert token not in response.text
        assert "my-secret" not in response.text


CARD = "4242424242424242"


@pytest.mark.parametrize(
    "body",
    [
        {
            "type": "card",
            "card_number": CARD + "1",
            "exp_month": 12,
            "exp_year": 2099,
            "cvc": "987",
            "holder_name": "P",
            "postal_code": "1",
        },
        {
            "type": "card",
            "card_number": CARD,
            "exp_month": 13,
            "exp_year": 1999,
            "cvc": "98765",
            "holder_name": "",
            "postal_code": "?",
        },
        {
            "type": "card",
            "card_number": CARD[:-1] + "3",
            "exp_month": 1,
            "exp_year": 2099,
            "cvc": "987",
            "holder_name": "P",
            "postal_code": "1",
        },
        {
            "type": "card",
            "card_number": f"{CARD}x987",
            "exp_month": "12",
            "exp_year": "2099",
            "cvc": 987,
            "holder_name": "P",
            "postal_code": "1",
        },
        {
            "type": "card",
            "card_number": CARD,
            "exp_month": 12,
            "exp_year": 2099,
            "cvc": "987",
            "holder_name": "P",
            "postal_code": "1",
            "account_type": "checking",
        },
        {"type": "ach", "routing_account": "011000015/000123456789x", "holder_name": "P", "account_type": "checking"},
        {
            "type": "ach",
            "routing_account": "011000015/000123456789000000",
            "holder_name": "P",
            "account_type": "savings",
        },
        {"type": "ach", "routing_account": "011000015/000123456789", "holder_name": "P", "account_type": "other"},
        {
            "type": "ach",
            "routing_account": "011000015/000123456789",
            "holder_name": "P",
            "account_type": "checking",
            "cvc": "987",
        },
    ],
)
def test_payment_method_errors_never_echo_card_or_account_numbers(
    client: TestClient, pat: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post(f"{NORTH}/payment-methods", headers=pat, json=body)
    assert 400 <= response.status_code < 500, response.text
    for secret in (CARD[4:], "000123456789", "987"):
        assert secret not in response.text


@pytest.mark.parametrize(
    "text", ["1e999", "100000000000000000000000000", "1000000000000", "12.345", " 5", "5\n", "٣", "NaN", "Infinity", ""]
)
def test_money_in_refuses_what_is_not_a_two_decimal_amount(text: str) -> None:
    # Found fuzzing POST /payment-quote: "1e999" and 27-digit amounts made Decimal.quantize raise (500).
    with pytest.raises(ValidationError):
        TypeAdapter(MoneyIn).validate_python(text)


@pytest.mark.parametrize("value", [5, 5.5, True, None, ["5.00"]])
def test_money_in_refuses_json_numbers(value: Any) -> None:
    # The contract: money is a JSON string, never a number (a float cannot hold cents exactly).
    with pytest.raises(ValidationError):
        TypeAdapter(MoneyIn).validate_python(value)


def test_money_in_keeps_the_sign_for_the_routes_to_judge() -> None:
    adapter = TypeAdapter(MoneyIn)
    assert adapter.validate_python("-5.00") == Decimal("-5.00")
    assert adapter.validate_python("0") == Decimal("0.00")
    assert adapter.validate_python("999999999999.99") == Decimal("999999999999.99")
