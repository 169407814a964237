"""A payment the card processor has not confirmed yet (PF-3, IN-2, IN-6): not paid, but not payable twice.

A payment is left pending the way a slow or unreachable gateway leaves it: the request ends with 503
`payment_pending`. While it is, the invoice stays due with its whole balance (nothing is listed as paid),
the current balance does not move, and a new payment may take only the balance less the pending amount.
The payment's success then takes its amount off the balance; a decline or the reconciler releases it.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Invoice
from server.services.reconcile import reconcile_pending_payments
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, database, login
from tests.server.payment_helpers import (
    DECLINED,
    LOST_ANSWER,
    LookupDown,
    Unreachable,
    abandon,
    add_card,
    charges,
    invoice,
    invoice_ids,
    pay,
    pay_many,
    portal_payments,
    race,
)


def reserved(settings: Settings, number: str) -> Decimal:
    with database(settings) as session:
        return session.scalars(select(Invoice.reserved).where(Invoice.number == number)).one()


def listed(client: TestClient, headers: dict[str, str], status: str, base: str = NORTH) -> dict[str, str]:
    """The list's invoices with this status filter, number to open balance (IN-2)."""
    items = client.get(f"{base}/invoices", headers=headers, params={"status": status}).json()["items"]
    return {item["number"]: item["balance"] for item in items}


def current_balance(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"{NORTH}/balance", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def leave_pending(client: TestClient, headers: dict[str, str], *args: Any, base: str = NORTH) -> str:
    """A payment the processor never answered: nothing charged, the payment pending; returns its key."""
    unreachable = Unreachable(client.app.state.session_factory)  # type: ignore[attr-defined]
    return abandon(client, headers, unreachable, *args, base=base)


def test_pending_payment_leaves_the_invoice_due_with_its_whole_balance(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PF-3, IN-2
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    before = current_balance(client, pat)
    leave_pending(client, pat, due, "100.00", card)
    assert [p.status for p in portal_payments(settings)] == ["pending"]

    detail = invoice(client, pat, due)
    assert (detail["status"], detail["balance"], detail["payments"]) == ("due", "120.50", [])
    assert detail["pending_payment_amount"] == "100.00"
    assert detail["can_pay"] is True  # the 20.50 not held by the payment in flight
    assert listed(client, pat, "due")["INV-I-DUE"] == "120.50"
    assert "INV-I-DUE" not in listed(client, pat, "paid")
    assert current_balance(client, pat) == before
    assert reserved(settings, "INV-I-DUE") == Decimal("100.00")


def test_a_payment_beside_one_in_flight_takes_at_most_what_it_leaves(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-6, IN-10
    ids = invoice_ids(client, pat)
    due, partial = ids["INV-I-DUE"], ids["INV-I-PARTIAL"]
    card = add_card(client, pat)
    leave_pending(client, pat, due, "100.00", card)

    too_much = pay(client, pat, due, "20.51", card)
    assert too_much.status_code == 422, too_much.text
    assert too_much.json()["code"] == "amount_exceeds_balance"
    assert too_much.json()["detail"] == (
        "$20.51 is more than the $20.50 that can be paid on invoice INV-I-DUE now: a payment of $100.00 "
        "on it is in progress (the card processor has not confirmed it yet)."
    )
    quote = client.post(
        f"{NORTH}/invoices/{due}/payment-quote", headers=pat, json={"amount": "20.51", "payment_method_id": card}
    )
    assert (quote.status_code, quote.json()["code"]) == (422, "amount_exceeds_balance")
    # All or nothing: the invoice beside it is not paid either.
    group = pay_many(client, pat, [(partial, "150.00"), (due, "20.51")], card)
    assert (group.status_code, group.json()["code"]) == (422, "amount_exceeds_balance")
    assert [e["field"] for e in group.json()["errors"]] == ["allocations[1].amount"]
    assert invoice(client, pat, partial)["balance"] == "150.00"
    assert charges(settings) == []

    assert pay(client, pat, due, "20.50", card).status_code == 201
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"], detail["can_pay"]) == ("100.00", "100.00", False)
    assert detail["pay_blocked_reason"] == (
        "A payment of $100.00 on invoice INV-I-DUE is in progress: the card processor has not confirmed it yet, "
        "so nothing more can be paid on it until it does."
    )
    cent = pay(client, pat, due, "0.01", card)
    assert (cent.status_code, cent.json()["detail"]) == (422, detail["pay_blocked_reason"])
    assert listed(client, pat, "due")["INV-I-DUE"] == "100.00"
    assert [c.amount for c in charges(settings)] == [Decimal("21.09")]  # 20.50 + 2.9 % fee


def test_success_takes_the_pending_amount_off_the_balance(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PF-3, IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    key = abandon(client, pat, lookup_down, due, "100.00", card)  # the money is taken, the portal not told
    assert len(charges(settings)) == 1
    assert invoice(client, pat, due)["balance"] == "120.50"

    retry = pay(client, pat, due, "100.00", card, key)  # finds the charge by its key
    assert retry.status_code == 201, retry.text
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"]) == ("20.50", None)
    assert [p["amount"] for p in detail["payments"]] == ["100.00"]
    assert listed(client, pat, "due")["INV-I-DUE"] == "20.50"
    assert reserved(settings, "INV-I-DUE") == Decimal("0.00")
    assert len(charges(settings)) == 1


def test_decline_of_a_pending_payment_releases_it(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-9
    due = invoice_ids(client, pat)["INV-I-DUE"]
    declined_card = add_card(client, pat, DECLINED)
    key = leave_pending(client, pat, due, "120.50", declined_card)
    assert invoice(client, pat, due)["can_pay"] is False

    retry = pay(client, pat, due, "120.50", declined_card, key)  # the processor answers now: declined
    assert (retry.status_code, retry.json()["code"]) == (402, "card_declined")
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"], detail["can_pay"]) == ("120.50", None, True)
    assert reserved(settings, "INV-I-DUE") == Decimal("0.00")
    assert pay(client, pat, due, "120.50", add_card(client, pat)).status_code == 201


def test_reconciler_releases_a_payment_never_charged(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-6, IN-8
    ids = invoice_ids(client, pat)
    card = add_card(client, pat)
    leave_pending(client, pat, ids["INV-I-DUE"], "50.00", card)
    leave_pending(client, pat, ids["INV-I-PARTIAL"], "150.00", card)
    state = client.app.state  # type: ignore[attr-defined]
    report = reconcile_pending_payments(state.session_factory, state.gateway, state.mailer, timedelta(0))
    assert (report.settled, report.released) == (0, 2)
    for number, balance in (("INV-I-DUE", "120.50"), ("INV-I-PARTIAL", "150.00")):
        detail = invoice(client, pat, ids[number])
        assert (detail["balance"], detail["pending_payment_amount"], detail["can_pay"]) == (balance, None, True)
        assert reserved(settings, number) == Decimal("0.00")


def test_full_payments_only_branch_holds_the_whole_balance(client: TestClient, settings: Settings) -> None:  # IN-6
    south = login(client, "pat@example.com", base=SOUTH)
    lake = invoice_ids(client, south, SOUTH)["INV-I-SOUTH"]
    card = add_card(client, south, base=SOUTH)
    leave_pending(client, south, lake, "55.00", card, base=SOUTH)
    detail = invoice(client, south, lake, SOUTH)
    assert (detail["balance"], detail["pending_payment_amount"], detail["can_pay"]) == ("55.00", "55.00", False)
    again = pay(client, south, lake, "55.00", card, base=SOUTH)
    assert (again.status_code, again.json()["code"]) == (422, "amount_exceeds_balance")
    assert "in progress" in again.json()["detail"]
    assert listed(client, south, "due", SOUTH)["INV-I-SOUTH"] == "55.00"
    assert charges(settings) == []


def test_payments_racing_beside_one_in_flight_never_exceed_what_it_leaves(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat)
    leave_pending(client, pat, due, "100.00", card)  # leaves 20.50: room for two payments of 10.00
    responses = race(8, lambda _: pay(client, pat, due, "10.00", card))
    assert Counter(r.status_code for r in responses) == {201: 2, 422: 6}, [r.text for r in responses]
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"]) == ("100.50", "100.00")
    assert reserved(settings, "INV-I-DUE") == Decimal("100.00")
    assert len(charges(settings)) == 2
