"""Helpers for the invoice and payment tests: test numbers, adding methods, paying (also racing, or left
pending by a gateway that gives no usable answer), and direct data setup."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from server.models import Invoice, Payment, SandboxCharge
from server.services.gateway import Charge, GatewayError, GatewayTimeout, SandboxGateway
from server.settings import Settings
from tests.server.conftest import NORTH, database

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"
LOST_ANSWER = "4000000000000119"
ACH_OK = "011000015/000123456789"
ACH_REJECTED = "011000015/000123450002"
NEXT_YEAR = date.today().year + 1


def card_body(number: str = VISA, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "card",
        "card_number": number,
        "exp_month": 12,
        "exp_year": NEXT_YEAR,
        "cvc": "123",
        "holder_name": "Pat Customer",
        "postal_code": "10001",
    }
    body.update(overrides)
    return body


def ach_body(routing_account: str = ACH_OK, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "ach",
        "routing_account": routing_account,
        "holder_name": "Pat Customer",
        "account_type": "checking",
    }
    body.update(overrides)
    return body


def add_method(client: TestClient, headers: dict[str, str], body: dict[str, Any], base: str = NORTH) -> int:
    response = client.post(f"{base}/payment-methods", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def add_card(client: TestClient, headers: dict[str, str], number: str = VISA, base: str = NORTH) -> int:
    return add_method(client, headers, card_body(number), base)


def invoice_ids(client: TestClient, headers: dict[str, str], base: str = NORTH) -> dict[str, int]:
    items = client.get(f"{base}/invoices", headers=headers).json()["items"]
    return {item["number"]: item["id"] for item in items}


def invoice(client: TestClient, headers: dict[str, str], invoice_id: int, base: str = NORTH) -> dict[str, Any]:
    response = client.get(f"{base}/invoices/{invoice_id}", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def balance_of(client: TestClient, headers: dict[str, str], invoice_id: int, base: str = NORTH) -> Decimal:
    return Decimal(invoice(client, headers, invoice_id, base)["balance"])


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}"


def pay(
    client: TestClient,
    headers: dict[str, str],
    invoice_id: int,
    amount: str,
    method_id: int,
    key: str | None = None,
    base: str = NORTH,
) -> Response:
    return client.post(
        f"{base}/invoices/{invoice_id}/payments",
        headers={**headers, "Idempotency-Key": key or new_key()},
        json={"amount": amount, "payment_method_id": method_id},
    )


def pay_many(
    client: TestClient,
    headers: dict[str, str],
    allocations: list[tuple[int, str]],
    method_id: int,
    key: str | None = None,
    base: str = NORTH,
) -> Response:
    return client.post(
        f"{base}/payments",
        headers={**headers, "Idempotency-Key": key or new_key()},
        json={
            "payment_method_id": method_id,
            "allocations": [{"invoice_id": i, "amount": a} for i, a in allocations],
        },
    )


def charges(settings: Settings) -> list[SandboxCharge]:
    """What the sandbox gateway took: the money side of every check."""
    with database(settings) as session:
        return list(session.scalars(select(SandboxCharge).where(SandboxCharge.status == "succeeded")))


def portal_payments(settings: Settings) -> list[Payment]:
    with database(settings) as session:
        return list(session.scalars(select(Payment).where(Payment.import_position.is_(None)).order_by(Payment.id)))


def set_invoice(settings: Settings, number: str, **values: Any) -> None:
    with database(settings) as session:
        row = session.scalar(select(Invoice).where(Invoice.number == number))
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.commit()


def race(count: int, request: Callable[[int], Response]) -> list[Response]:
    """Runs `count` requests as close to simultaneously as threads allow."""
    barrier = threading.Barrier(count)

    def run(index: int) -> Response:
        barrier.wait()
        return request(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


class LookupDown(SandboxGateway):
    """The sandbox whose lookups fail: the charge (if any) happens, but the portal never learns of it."""

    def find_charge(self, idempotency_key: str) -> Charge | None:
        raise GatewayError("lookup unavailable")


class Unreachable(SandboxGateway):
    """The sandbox nobody can reach: nothing is charged and nothing can be looked up."""

    def charge(self, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str) -> Charge:
        raise GatewayTimeout("no route to the card processor")

    def find_charge(self, idempotency_key: str) -> Charge | None:
        raise GatewayError("no route to the card processor")


def abandon(client: TestClient, headers: dict[str, str], gateway: SandboxGateway, *args: Any, base: str = NORTH) -> str:
    """Pays through `gateway` until the request gives up with 503; returns the key the payer never retries."""
    app = client.app
    real = app.state.gateway  # type: ignore[attr-defined]
    app.state.gateway = gateway  # type: ignore[attr-defined]
    key = new_key()
    try:
        response = pay(client, headers, *args, key, base=base)
    finally:
        app.state.gateway = real  # type: ignore[attr-defined]
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "payment_pending"
    return key
