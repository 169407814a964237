"""Fault test: the server process is killed between the gateway's charge and the database commit (IN-8).

A real `python -m server serve` takes the payment; the sandbox gateway answers
PORTAL_SANDBOX_CHARGE_LATENCY_MS after it has taken the money, and the test SIGKILLs the server
the moment the charge is visible in the database: money taken, payment reserved but not recorded.
The server is started again on the same database, and the desktop client's own REST layer
(app.services.portal_client) retries the way the pay dialog does: same Idempotency-Key, again
for as long as the outcome is unknown (unreachable, 5xx, "in progress").

On SQLite the restart's own reconcile records the payment (retries meanwhile find the port
closed); on PostgreSQL, where several processes share the database and nothing can tell a dead
request's lease from a live one, the retry takes the payment over once the lease ran out (a
short PORTAL_PAYMENT_LEASE_SECONDS keeps that bounded). Either way: one payment, one charge.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services.billing_records import Allocation, PaymentResult
from app.services.errors import PortalError, UnreachableError, payment_outcome_unknown
from app.services.portal_client import PortalClient, Timeouts
from server.models import IdempotencyRecord, Payment
from server.models.billing import PAYMENT_PENDING
from server.settings import Settings, load_settings
from tests.server.company import PASSWORD
from tests.server.conftest import database
from tests.server.live_helpers import check_books, serving, succeeded_charges, wait_for
from tests.server.payment_helpers import VISA, card_body

# Long enough that the kill surely lands inside the window; the killed request never sees it end.
CHARGE_LATENCY_MS = 8000
# PostgreSQL only: how long the dead request's lease blocks the retry.
LEASE_SECONDS = 3
RETRY_FOR_SECONDS = 45

CASES = {
    "one invoice": [("INV-I-DUE", "100.00")],
    "three invoices in one charge": [("INV-I-DUE", "20.50"), ("INV-I-PARTIAL", "150.00"), ("INV-I-BILLING", "60.00")],
}


def pay_like_the_dialog(client: PortalClient, allocations: list[Allocation], method_id: int, key: str) -> PaymentResult:
    """The pay dialog's "Try again": the same key while the outcome is unknown, a short pause between tries."""
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        try:
            return client.pay(allocations, method_id, key)
        except PortalError as error:
            if not payment_outcome_unknown(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.25)


@pytest.mark.parametrize("case", list(CASES))
def test_killed_between_charge_and_commit_the_retry_records_it_once(
    case: str, settings: Settings, tmp_path: Path
) -> None:  # IN-8, IN-6, IN-10
    on_sqlite = settings.database_url.startswith("sqlite")
    env = {"PORTAL_SANDBOX_CHARGE_LATENCY_MS": str(CHARGE_LATENCY_MS)}
    if not on_sqlite:
        env["PORTAL_PAYMENT_LEASE_SECONDS"] = str(LEASE_SECONDS)
    with serving(settings, tmp_path, env=env) as (server,), ThreadPoolExecutor(max_workers=1) as background:
        client = PortalClient(server.portal.portal_url("north"), timeouts=Timeouts(connect=2, read=30))
        client.login("pat@example.com", PASSWORD)
        method = client.add_payment_method(card_body(VISA))
        ids = {invoice.number: invoice.id for invoice in client.invoices().items}
        allocations = [Allocation(ids[number], Decimal(amount)) for number, amount in CASES[case]]
        before = {a.invoice_id: client.invoice(a.invoice_id).balance for a in allocations}
        key = str(uuid.uuid4())

        first = background.submit(client.pay, allocations, method.id, key)
        wait_for("the sandbox charge", lambda: succeeded_charges(settings), timeout=30)
        server.kill()
        with pytest.raises(UnreachableError):
            first.result(timeout=10)

        # The crash's leftovers: the money is taken, the payments are reserved but not recorded.
        [charge] = succeeded_charges(settings)
        with database(settings) as session:
            states = list(session.scalars(select(Payment.status).where(Payment.import_position.is_(None))))
            record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope.endswith(f":{key}")))
        assert states == [PAYMENT_PENDING] * len(allocations)
        assert record is not None and record.status_code is None

        retry = background.submit(pay_like_the_dialog, client, allocations, method.id, key)
        time.sleep(0.3)  # the first retries find the port closed while the server starts again
        server.start()
        result = retry.result(timeout=RETRY_FOR_SECONDS + 5)
        again = client.pay(allocations, method.id, key)  # and any later retry: the same answer

        total = sum((a.amount for a in allocations), Decimal(0))
        assert (result.amount, result.total_charged) == (total, charge.amount)
        assert again == result
        with database(settings) as session:
            payments = list(session.scalars(select(Payment).where(Payment.import_position.is_(None))))
        assert [p.status for p in payments] == ["succeeded"] * len(allocations)
        assert {p.gateway_charge_id for p in payments} == {charge.id}
        assert result.reference == payments[0].reference
        for allocation in allocations:
            detail = client.invoice(allocation.invoice_id)
            assert detail.balance == before[allocation.invoice_id] - allocation.amount
            assert [p.amount for p in detail.payments if p.id in {q.id for q in payments}] == [allocation.amount]
        if on_sqlite:
            assert "1 pending payment(s) settled" in server.log_text()  # by the restart, before it listened
    assert len(succeeded_charges(settings)) == 1
    check_books(settings)


def test_lease_and_sandbox_latency_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_PAYMENT_LEASE_SECONDS", "2.5")
    monkeypatch.setenv("PORTAL_SANDBOX_CHARGE_LATENCY_MS", "250")
    loaded = load_settings("sqlite:///unused.sqlite3")
    assert (loaded.payment_lease, loaded.sandbox_charge_latency) == (
        timedelta(seconds=2.5),
        timedelta(milliseconds=250),
    )
    for variable, wrong in [("PORTAL_PAYMENT_LEASE_SECONDS", "0"), ("PORTAL_SANDBOX_CHARGE_LATENCY_MS", "-1")]:
        monkeypatch.setenv(variable, wrong)
        with pytest.raises(ValueError, match=variable):
            load_settings("sqlite:///unused.sqlite3")
        monkeypatch.setenv(variable, "1")
    monkeypatch.delenv("PORTAL_PAYMENT_LEASE_SECONDS")
    assert load_settings("sqlite:///unused.sqlite3").payment_lease == timedelta(seconds=90)
