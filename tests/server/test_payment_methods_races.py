"""Payment methods changed by requests racing each other across server processes (PM-1, PM-5).

One request is paused where the old code had read the contact's methods and not yet written; the
others run meanwhile. Runs on SQLite and, with PORTAL_TEST_DATABASE_URL set, on PostgreSQL, where
the old code let both requests act on what they had read.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from server.api.routes import me
from server.models import PaymentMethod
from server.services import payment_methods
from server.settings import Settings
from tests.server.conftest import NORTH
from tests.server.payment_helpers import MASTERCARD, VISA, add_card, card_body, race
from tests.server.race_helpers import Gate, Meanwhile


def _defaults_and_receipts(client: TestClient, pat: dict[str, str]) -> tuple[list[bool], bool]:
    listed = client.get(f"{NORTH}/payment-methods", headers=pat).json()["items"]
    receipts = client.get(f"{NORTH}/me", headers=pat).json()["preferences"]["email_receipts"]
    return [m["is_default"] for m in listed], receipts


class _HeldConstructor:
    """PaymentMethod as add_method sees it: a new method waits at the gate once the default was looked up."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate

    def __getattr__(self, name: str) -> Any:
        return getattr(PaymentMethod, name)

    def __call__(self, **values: Any) -> PaymentMethod:
        self._gate.hold()
        return PaymentMethod(**values)


def test_two_first_methods_added_at_once_make_one_default(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # PM-1
    gate = Gate(settings, 2)
    monkeypatch.setattr(payment_methods, "PaymentMethod", _HeldConstructor(gate))
    numbers = [VISA, MASTERCARD]

    def add(index: int) -> Response:
        return gate.answered(client.post(f"{NORTH}/payment-methods", headers=pat, json=card_body(numbers[index])))

    assert [a.status_code for a in race(2, add)] == [201, 201]
    monkeypatch.setattr(payment_methods, "PaymentMethod", PaymentMethod)
    defaults, _ = _defaults_and_receipts(client, pat)
    assert sorted(defaults) == [False, True]


def test_the_last_two_methods_removed_at_once_turn_receipts_off(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # PM-5
    cards = [add_card(client, pat, VISA), add_card(client, pat, MASTERCARD)]
    assert client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True}).status_code == 200
    gate = Gate(settings, 2)
    real = payment_methods.active_methods

    def remaining(*args: Any) -> Any:  # what each removal sees left once it marked its own method removed
        gate.hold()
        return real(*args)

    monkeypatch.setattr(payment_methods, "active_methods", remaining)

    def remove(index: int) -> Response:
        return gate.answered(client.delete(f"{NORTH}/payment-methods/{cards[index]}", headers=pat))

    assert [a.status_code for a in race(2, remove)] == [204, 204]
    assert _defaults_and_receipts(client, pat) == ([], False)


def test_receipts_turned_on_as_the_last_method_goes_end_up_off(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # PM-5
    card = add_card(client, pat)
    real = me.set_email_receipts
    removing: list[Meanwhile[Response]] = []

    def turned_on_once_a_method_was_seen(*args: Any) -> None:
        if not removing:
            removing.append(Meanwhile(settings, lambda: client.delete(f"{NORTH}/payment-methods/{card}", headers=pat)))
        real(*args)

    monkeypatch.setattr(me, "set_email_receipts", turned_on_once_a_method_was_seen)
    assert client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True}).status_code == 200
    assert removing[0].result().status_code == 204
    assert _defaults_and_receipts(client, pat) == ([], False)
