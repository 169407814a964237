"""Payments racing each other (IN-6, IN-8, IN-10): threads sending real requests at once.

Runs on SQLite and, with PORTAL_TEST_DATABASE_URL set, on PostgreSQL. Every test also checks the
money side: what the sandbox gateway charged equals what the portal recorded.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from server.settings import Settings
from tests.server.payment_helpers import (
    LOST_ANSWER,
    add_card,
    balance_of,
    charges,
    invoice_ids,
    new_key,
    pay,
    pay_many,
    portal_payments,
    race,
)


def assert_books_balance(settings: Settings) -> None:
    """Every charge the gateway took is recorded, and every recorded payment was charged."""
    taken = sorted(c.amount for c in charges(settings))
    payments = [p for p in portal_payments(settings) if p.status == "succeeded"]
    by_group: dict[str, Decimal] = {}
    for payment in payments:
        by_group[payment.group_id or ""] = by_group.get(payment.group_id or "", Decimal(0)) + payment.amount
        by_group[payment.group_id or ""] += payment.convenience_fee
    assert sorted(by_group.values()) == taken
    assert [p for p in portal_payments(settings) if p.status != "succeeded"] == []


def test_eight_payments_against_a_balance_that_fits_three(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]  # 120.50
    card = add_card(client, pat)
    responses = race(8, lambda _: pay(client, pat, due, "40.00", card))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 3, 422: 5}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"amount_exceeds_balance"}
    assert balance_of(client, pat, due) == Decimal("0.50")
    assert len(charges(settings)) == 3
    assert_books_balance(settings)


def test_full_balance_twice_at_once_pays_once(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    responses = race(4, lambda _: pay(client, pat, due, "120.50", card))
    assert Counter(r.status_code for r in responses)[201] == 1
    # The losers saw either the paid invoice (409) or their reservation fail (422); never a 5xx.
    assert {r.json()["code"] for r in responses if r.status_code != 201} <= {"invoice_paid", "amount_exceeds_balance"}
    assert balance_of(client, pat, due) == Decimal("0.00")
    assert len(charges(settings)) == 1
    assert_books_balance(settings)


def test_one_key_sent_eight_times_at_once_charges_once(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    key = new_key()
    responses = race(8, lambda _: pay(client, pat, due, "40.00", card, key))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1  # every duplicate got the first answer
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert len(charges(settings)) == 1
    assert balance_of(client, pat, due) == Decimal("80.50")
    assert_books_balance(settings)


def test_one_key_with_the_lost_answer_card_at_once_charges_once(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    key = new_key()
    responses = race(4, lambda _: pay(client, pat, due, "120.50", card, key))
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    assert len(charges(settings)) == 1
    assert balance_of(client, pat, due) == Decimal("0.00")
    assert_books_balance(settings)


def test_group_and_single_payments_racing_for_the_same_invoices(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-10, IN-6
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    due, partial, billing = ids["INV-I-DUE"], ids["INV-I-PARTIAL"], ids["INV-I-BILLING"]

    def attempt(index: int) -> Response:
        # Orders differ on purpose: row locks must still be taken in one order (no deadlock).
        if index % 3 == 0:
            return pay_many(client, pat, [(due, "120.50"), (partial, "150.00")], card)
        if index % 3 == 1:
            return pay_many(client, pat, [(billing, "60.00"), (partial, "150.00"), (due, "120.50")], card)
        return pay(client, pat, partial, "150.00", card)

    responses = race(9, attempt)
    assert all(r.status_code in (201, 409, 422) for r in responses), [r.text for r in responses]
    winners: list[dict[str, Any]] = [r.json() for r in responses if r.status_code == 201]
    paid: Counter[int] = Counter()
    for body in winners:
        for allocation in body.get("allocations", [{"invoice_id": body.get("invoice_id")}]):
            paid[allocation["invoice_id"]] += 1
    assert paid[partial] == 1  # exactly one request got INV-I-PARTIAL, whichever it was
    assert paid[due] <= 1
    assert paid[billing] <= 1
    assert balance_of(client, pat, partial) == Decimal("0.00")
    assert balance_of(client, pat, due) == (Decimal("0.00") if paid[due] else Decimal("120.50"))
    assert len(charges(settings)) == len(winners)
    assert_books_balance(settings)
