"""Pay selected (IN-10): several invoices, one charge, one fee, all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, login, mails
from tests.server.payment_helpers import (
    DECLINED,
    NO_FUNDS,
    add_card,
    balance_of,
    charges,
    invoice,
    invoice_ids,
    new_key,
    pay,
    pay_many,
    portal_payments,
)

OPEN = {"INV-I-DUE": Decimal("120.50"), "INV-I-PARTIAL": Decimal("150.00"), "INV-I-BILLING": Decimal("60.00")}


def balances(client: TestClient, headers: dict[str, str]) -> dict[str, Decimal]:
    ids = invoice_ids(client, headers)
    return {number: balance_of(client, headers, ids[number]) for number in OPEN}


def test_one_charge_one_fee_for_several_invoices(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-10
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    allocations = [(ids["INV-I-DUE"], "120.50"), (ids["INV-I-PARTIAL"], "50.00"), (ids["INV-I-BILLING"], "60.00")]
    quote = client.post(
        f"{NORTH}/payment-quote",
        headers=pat,
        json={"payment_method_id": card, "allocations": [{"invoice_id": i, "amount": a} for i, a in allocations]},
    )
    assert quote.status_code == 200
    # 2.90 % of 230.50 = 6.6845: one fee on the total, rounded once.
    assert quote.json() == {"amount": "230.50", "convenience_fee": "6.68", "total": "237.18"}
    response = pay_many(client, pat, allocations, card)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {
        "id": body["id"],
        "amount": "230.50",
        "convenience_fee": "6.68",
        "total_charged": "237.18",
        "status": "succeeded",
        "receipt_emailed": True,
        "reference": body["reference"],
        "allocations": [{"invoice_id": i, "amount": a} for i, a in allocations],
    }
    assert [c.amount for c in charges(settings)] == [Decimal("237.18")]
    assert balances(client, pat) == {
        "INV-I-DUE": Decimal("0.00"),
        "INV-I-PARTIAL": Decimal("100.00"),
        "INV-I-BILLING": Decimal("0.00"),
    }
    shares = [invoice(client, pat, i)["payments"][-1] for i, _ in allocations]
    assert {s["group_id"] for s in shares} == {body["id"]}
    assert [s["amount"] for s in shares] == ["120.50", "50.00", "60.00"]
    assert sum(Decimal(s["convenience_fee"]) for s in shares) == Decimal("6.68")
    [mail] = mails(settings)
    for number in ("INV-I-DUE", "INV-I-PARTIAL", "INV-I-BILLING"):
        assert f"Invoice {number}" in mail


@pytest.mark.parametrize("number", [DECLINED, NO_FUNDS])
def test_declined_group_changes_no_invoice(
    client: TestClient, pat: dict[str, str], settings: Settings, number: str
) -> None:  # IN-10, IN-9
    ids = invoice_ids(client, pat)
    card = add_card(client, pat, number)
    response = pay_many(client, pat, [(ids["INV-I-DUE"], "120.50"), (ids["INV-I-BILLING"], "60.00")], card)
    assert response.status_code == 402
    assert response.json()["code"] in ("card_declined", "insufficient_funds")
    assert balances(client, pat) == OPEN
    assert portal_payments(settings) == []


def test_one_allocation_over_its_balance_changes_nothing_and_is_named(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-10, IN-6
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    response = pay_many(client, pat, [(ids["INV-I-DUE"], "120.50"), (ids["INV-I-BILLING"], "60.01")], card)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "amount_exceeds_balance"
    assert [e["field"] for e in problem["errors"]] == ["allocations[1].amount"]
    assert "INV-I-BILLING" in problem["errors"][0]["message"]
    assert balances(client, pat) == OPEN
    assert charges(settings) == []


def test_allocation_that_stopped_fitting_since_the_quote_changes_nothing(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-10
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    allocations = [(ids["INV-I-DUE"], "120.50"), (ids["INV-I-BILLING"], "60.00")]
    assert pay(client, pat, ids["INV-I-BILLING"], "10.00", card).status_code == 201  # someone paid a bit meanwhile
    response = pay_many(client, pat, allocations, card)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "allocations[1].amount"
    assert balance_of(client, pat, ids["INV-I-DUE"]) == Decimal("120.50")
    assert len(charges(settings)) == 1


def test_every_failing_allocation_is_named(
    client: TestClient, pat: dict[str, str], otto: dict[str, str]
) -> None:  # IN-10, IN-5
    ids = invoice_ids(client, pat)
    ottos = invoice_ids(client, otto)["INV-I-OTTO"]
    card = add_card(client, pat)
    response = pay_many(
        client,
        pat,
        [(ids["INV-I-DUE"], "120.50"), (ids["INV-I-OTHER"], "45.00"), (ottos, "70.00"), (ids["INV-I-PAID"], "1.00")],
        card,
    )
    problem = response.json()
    assert response.status_code == 403
    assert problem["code"] == "not_allowed_to_pay"
    assert [e["field"] for e in problem["errors"]] == [
        "allocations[1].invoice_id",
        "allocations[2].invoice_id",
        "allocations[3].invoice_id",
    ]
    assert "INV-I-OTTO" not in response.text  # someone else's invoice stays unknown
    assert "nothing was charged" in problem["detail"]
    assert balances(client, pat) == OPEN


def test_an_invoice_may_appear_only_once(client: TestClient, pat: dict[str, str]) -> None:  # IN-10
    due = invoice_ids(client, pat)["INV-I-DUE"]
    response = pay_many(client, pat, [(due, "20.00"), (due, "20.00")], add_card(client, pat))
    assert response.status_code == 422
    assert response.json()["code"] == "duplicate_invoice"
    assert [e["field"] for e in response.json()["errors"]] == ["allocations[1].invoice_id"]
    assert balance_of(client, pat, due) == Decimal("120.50")


@pytest.mark.parametrize("count", [0, 101])
def test_one_to_a_hundred_invoices(client: TestClient, pat: dict[str, str], count: int) -> None:  # IN-10
    due = invoice_ids(client, pat)["INV-I-DUE"]
    response = pay_many(client, pat, [(due + n, "1.00") for n in range(count)], add_card(client, pat))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "allocations"


def test_invoices_of_another_branch_are_not_found(client: TestClient, pat: dict[str, str]) -> None:  # IN-10, AC-2
    south = login(client, "pat@example.com", base=SOUTH)
    lake = invoice_ids(client, south, SOUTH)["INV-I-SOUTH"]
    due = invoice_ids(client, pat)["INV-I-DUE"]
    response = pay_many(client, pat, [(due, "120.50"), (lake, "55.00")], add_card(client, pat))
    assert response.status_code == 404
    assert [e["field"] for e in response.json()["errors"]] == ["allocations[1].invoice_id"]


def test_full_balances_only_when_partial_payments_are_off(client: TestClient) -> None:  # IN-10, IN-6
    south = login(client, "pat@example.com", base=SOUTH)
    lake = invoice_ids(client, south, SOUTH)["INV-I-SOUTH"]
    card = add_card(client, south, base=SOUTH)
    response = pay_many(client, south, [(lake, "50.00")], card, base=SOUTH)
    assert response.status_code == 422
    assert response.json()["code"] == "partial_payments_disabled"
    assert pay_many(client, south, [(lake, "55.00")], card, base=SOUTH).status_code == 201


def test_group_payment_is_idempotent(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-10, IN-8
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    allocations: list[tuple[int, str]] = [(ids["INV-I-DUE"], "20.00"), (ids["INV-I-PARTIAL"], "30.00")]
    key = new_key()
    first = pay_many(client, pat, allocations, card, key)
    again = pay_many(client, pat, allocations, card, key)
    assert first.status_code == 201
    assert (again.status_code, again.json()) == (201, first.json())
    assert len(charges(settings)) == 1
    other: list[tuple[int, str]] = [(ids["INV-I-DUE"], "20.00")]
    assert pay_many(client, pat, other, card, key).json()["code"] == "idempotency_key_reused"
    # The same key on the single-invoice endpoint is another request too.
    single: Any = pay(client, pat, ids["INV-I-DUE"], "20.00", card, key)
    assert single.json()["code"] == "idempotency_key_reused"
    assert len(charges(settings)) == 1
