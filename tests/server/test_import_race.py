"""A re-import racing a portal payment on the same invoice (PF-3): neither may undo the other.

The importer computes each invoice's balance from the payments it read; a payment that succeeds or
reserves between that read and the write must either land first (and be counted) or wait for the
import. On PostgreSQL (READ COMMITTED) this needs the invoice row locks; SQLite serialises writers.
Runs on SQLite and, with PORTAL_TEST_DATABASE_URL set, on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from server.models import Invoice
from server.services import importer
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import database
from tests.server.payment_helpers import Unreachable, abandon, add_card, invoice_ids, pay
from tests.server.race_helpers import waiting_on_a_lock


def _import_while(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, payer: Callable[[], Response], cheque: str
) -> Response:
    """Imports the test company with a `cheque` recorded on INV-I-DUE, running `payer` once the importer has
    read that invoice: the import goes on when the payer has finished or is seen waiting for it."""
    original = importer._Writer._existing
    started: list[threading.Thread] = []
    answers: list[Response] = []

    def hooked(self: Any, model: Any, column: str, keys: list[str], *children: Any) -> Any:
        found = original(self, model, column, keys, *children)
        if model is Invoice and not started:
            started.append(threading.Thread(target=lambda: answers.append(payer())))
            started[0].start()
            # SQLite: the payer cannot begin while the import holds the write lock; a moment suffices.
            deadline = time.monotonic() + (10 if settings.database_url.startswith("postgresql") else 1)
            while started[0].is_alive() and not waiting_on_a_lock(settings) and time.monotonic() < deadline:
                time.sleep(0.05)
        return found

    monkeypatch.setattr(importer._Writer, "_existing", hooked)
    doc = build_company(date.today())
    for inv in doc["invoices"]:
        if inv["key"] == "i-due":
            inv["payments"] = [{"amount": cheque, "paid_on": date.today().isoformat()}]
    try:
        importer.import_document(settings, doc)
    finally:
        for thread in started:
            thread.join(60)
    assert answers, "the payer never answered"
    return answers[0]


def _due(settings: Settings) -> tuple[Decimal, Decimal]:
    with database(settings) as session:
        row = session.scalars(select(Invoice).where(Invoice.number == "INV-I-DUE")).one()
        return row.balance, row.reserved


def test_payment_succeeding_during_a_reimport_stays_off_the_balance(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = invoice_ids(client, pat)["INV-I-DUE"]  # 120.50
    card = add_card(client, pat)
    key = abandon(client, pat, Unreachable(client.app.state.session_factory), due, "100.00", card)  # type: ignore[attr-defined]
    retry = _import_while(settings, monkeypatch, lambda: pay(client, pat, due, "100.00", card, key), "10.00")
    assert retry.status_code == 201, retry.text
    assert _due(settings) == (Decimal("10.50"), Decimal("0.00"))  # 120.50 - 100.00 by card - 10.00 cheque


def test_reservation_during_a_reimport_sees_the_new_balance(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = invoice_ids(client, pat)["INV-I-DUE"]  # 120.50, the cheque takes it to 110.50
    card = add_card(client, pat)
    app = client.app
    real = app.state.gateway  # type: ignore[attr-defined]
    app.state.gateway = Unreachable(app.state.session_factory)  # type: ignore[attr-defined]
    try:  # were the 115.00 reserved against the old balance, the import would fail on the reservation
        answer = _import_while(settings, monkeypatch, lambda: pay(client, pat, due, "115.00", card), "10.00")
    finally:
        app.state.gateway = real  # type: ignore[attr-defined]
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "amount_exceeds_balance"
    assert _due(settings) == (Decimal("110.50"), Decimal("0.00"))
