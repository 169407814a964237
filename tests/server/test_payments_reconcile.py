"""Reconciling payments their request abandoned (IN-8, IN-6): settled from the gateway's record or released.

A payment is left pending the way a crash leaves it: the gateway gives no usable answer, the request
ends with 503 `payment_pending`, and the payer never retries. The reconciler then runs against the
real sandbox gateway; the money side (what the gateway took) is checked each time.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.cli import main as cli_main
from server.models import AuditEntry, IdempotencyRecord
from server.models.base import utcnow
from server.services.reconcile import ReconcileReport, reconcile_pending_payments
from server.settings import Settings
from tests.server.conftest import NORTH, database, mails
from tests.server.payment_helpers import (
    LOST_ANSWER,
    VISA,
    LookupDown,
    Unreachable,
    abandon,
    add_card,
    balance_of,
    charges,
    invoice,
    invoice_ids,
    pay,
    portal_payments,
)
from tests.server.staff_helpers import assisted_by_office


def reconcile(client: TestClient, older_than: timedelta = timedelta(0)) -> ReconcileReport:
    state = client.app.state  # type: ignore[attr-defined]
    return reconcile_pending_payments(state.session_factory, state.gateway, state.mailer, older_than)


def test_pending_payment_with_money_taken_is_settled(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8, IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    key = abandon(client, pat, lookup_down, due, "100.00", card)
    assert len(charges(settings)) == 1
    assert [p.status for p in portal_payments(settings)] == ["pending"]

    report = reconcile(client)
    assert (report.settled, report.released, report.left_pending) == (1, 0, 0)
    assert [c.amount for c in charges(settings)] == [Decimal("102.90")]  # one charge: 100.00 + 2.9 % fee
    payments = portal_payments(settings)
    assert [(p.status, p.amount) for p in payments] == [("succeeded", Decimal("100.00"))]
    assert payments[0].gateway_charge_id == charges(settings)[0].id
    assert balance_of(client, pat, due) == Decimal("20.50")
    assert [p["amount"] for p in invoice(client, pat, due)["payments"]] == ["100.00"]

    # The payer's late retry gets the settled answer; the gateway is not charged again.
    replay = pay(client, pat, due, "100.00", card, key)
    assert replay.status_code == 201, replay.text
    assert replay.json()["amount"] == "100.00"
    assert replay.json()["total_charged"] == "102.90"
    assert len(charges(settings)) == 1
    assert reconcile(client) == ReconcileReport()  # nothing left to do


def test_pending_payment_never_charged_is_released(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8, IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, VISA)
    unreachable = Unreachable(client.app.state.session_factory)  # type: ignore[attr-defined]
    key = abandon(client, pat, unreachable, due, "120.50", card)
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"], detail["can_pay"]) == ("120.50", "120.50", False)

    report = reconcile(client)
    assert (report.settled, report.released) == (0, 1)
    assert charges(settings) == []  # the reconciler never charges
    assert portal_payments(settings) == []
    detail = invoice(client, pat, due)
    assert (detail["balance"], detail["pending_payment_amount"], detail["can_pay"]) == ("120.50", None, True)
    replay = pay(client, pat, due, "120.50", card, key)
    assert replay.status_code == 402
    assert replay.json()["code"] == "payment_not_completed"
    assert charges(settings) == []
    # A new payment (new key) goes through normally.
    assert pay(client, pat, due, "120.50", card).status_code == 201
    assert len(charges(settings)) == 1


def test_payment_whose_request_still_holds_the_lease_is_left_alone(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    key = abandon(client, pat, lookup_down, due, "100.00", card)
    with database(settings) as session:
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope.endswith(f":{key}")))
        assert record is not None
        record.locked_until = utcnow() + timedelta(seconds=60)  # its request is (still) working on it
        session.commit()

    assert reconcile(client) == ReconcileReport()
    assert [p.status for p in portal_payments(settings)] == ["pending"]
    assert invoice(client, pat, due)["pending_payment_amount"] == "100.00"
    assert balance_of(client, pat, due) == Decimal("120.50")

    # Too recent for the margin: left alone too, even once the lease ran out.
    with database(settings) as session:
        record = session.get(IdempotencyRecord, record.id)
        assert record is not None
        record.locked_until = utcnow()
        session.commit()
    assert reconcile(client, older_than=timedelta(minutes=15)) == ReconcileReport()
    assert [p.status for p in portal_payments(settings)] == ["pending"]
    assert len(charges(settings)) == 1


def test_two_reconcilers_at_once_settle_once(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    key = abandon(client, pat, lookup_down, due, "100.00", card)
    barrier = threading.Barrier(3)

    def run(index: int) -> Any:
        barrier.wait()
        if index == 2:
            return pay(client, pat, due, "100.00", card, key)  # the payer comes back at the same moment
        return reconcile(client)

    with ThreadPoolExecutor(max_workers=3) as pool:
        first, second, retry = pool.map(run, range(3))
    assert first.settled + second.settled <= 1
    assert retry.status_code == 201, retry.text
    assert len(charges(settings)) == 1
    assert [p.status for p in portal_payments(settings)] == ["succeeded"]
    assert balance_of(client, pat, due) == Decimal("20.50")


def test_settled_payment_mails_the_receipt_and_keeps_the_assist_audit(
    client: TestClient, settings: Settings
) -> None:  # PM-5, SA-3
    helper = assisted_by_office(client)
    due = invoice_ids(client, helper)["INV-I-DUE"]
    card = add_card(client, helper, LOST_ANSWER)
    receipts_on = client.patch(f"{NORTH}/me/preferences", headers=helper, json={"email_receipts": True})
    assert receipts_on.status_code == 200, receipts_on.text
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    abandon(client, helper, lookup_down, due, "100.00", card)

    assert reconcile(client).settled == 1
    [mail] = mails(settings)
    assert "Payment receipt from North Branch: $102.90" in mail
    assert "Taken on your behalf by Olivia Office" in mail
    with database(settings) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payment.create")).one()
        assert (entry.staff.name, entry.contact.name) == ("Olivia Office", "Pat Customer")
        assert "INV-I-DUE 100.00" in entry.detail


def test_command_line_reconciles(
    client: TestClient, pat: dict[str, str], settings: Settings, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PORTAL_DATA_DIR", str(settings.data_dir))
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    abandon(client, pat, lookup_down, due, "100.00", card)
    url = settings.database_url
    assert cli_main(["reconcile-payments", "--database-url", url]) == 0  # too recent for the default margin
    assert "0 pending payment(s) settled" in capsys.readouterr().out
    assert cli_main(["reconcile-payments", "--database-url", url, "--older-than-minutes", "0"]) == 0
    assert "1 pending payment(s) settled" in capsys.readouterr().out
    assert [p.status for p in portal_payments(settings)] == ["succeeded"]
    assert len(charges(settings)) == 1


def test_serve_reconciles_at_start_up_on_sqlite(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: Any
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("serve reconciles at start-up on SQLite only; PostgreSQL runs reconcile-payments on a schedule")
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    abandon(client, pat, lookup_down, due, "100.00", card)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # start up, but do not listen
    assert cli_main(["serve", "--database-url", settings.database_url]) == 0
    assert [p.status for p in portal_payments(settings)] == ["succeeded"]
    assert len(charges(settings)) == 1


def test_serve_on_sqlite_finishes_a_crashed_request_without_waiting_for_its_lease(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: Any
) -> None:  # IN-8
    """The crash leaves the lease of a request that died with the process; start-up must not wait for it
    (regression: the payment stayed unrecorded, and the payer's retry answered "in progress", for 90 s)."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("serve reconciles at start-up on SQLite only; PostgreSQL runs reconcile-payments on a schedule")
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    key = abandon(client, pat, lookup_down, due, "100.00", card)
    with database(settings) as session:
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope.endswith(f":{key}")))
        assert record is not None
        record.locked_until = utcnow() + timedelta(seconds=90)  # as the killed request left it
        session.commit()
    assert reconcile(client) == ReconcileReport()  # a live server (or the cron job) does wait for it

    monkeypatch.setenv("PORTAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # start up, but do not listen
    assert cli_main(["serve", "--database-url", settings.database_url]) == 0
    assert [p.status for p in portal_payments(settings)] == ["succeeded"]
    assert len(charges(settings)) == 1
    replay = pay(client, pat, due, "100.00", card, key)
    assert replay.status_code == 201, replay.text
    assert replay.json()["id"] == portal_payments(settings)[0].id
