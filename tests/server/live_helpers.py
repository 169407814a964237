"""Real server processes over a server test's database, and the books check every fault test ends with.

The processes are `python -m server serve` (tests/client/live_server.py's ServerProcess), serving the
database the `database_url` fixture cloned for the test: SQLite, or PostgreSQL when
PORTAL_TEST_DATABASE_URL is set, so the fault tests run on both like the rest of the server suite.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import select

from server.models import IdempotencyRecord, Invoice, Payment, SandboxCharge
from server.models.billing import PAYMENT_SUCCEEDED
from server.settings import Settings
from tests.client.live_server import ServerProcess
from tests.server.conftest import database

ZERO = Decimal("0.00")


@contextmanager
def smtp_server(handler: object) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 handing every message to `handler`; yields its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    settings: Settings, work: Path, count: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[list[ServerProcess]]:
    """`count` server processes on the test's database (one data folder, like a scaled-out deployment)."""
    shared = {"PORTAL_DATA_DIR": str(settings.data_dir), "PORTAL_MAIL_URL": settings.mail_url, **(env or {})}
    servers = [
        ServerProcess(work / f"server-{n}", database_url=settings.database_url, env=shared, slug="north")
        for n in range(count)
    ]
    with ExitStack() as stack:
        for server in servers:
            stack.callback(server.stop)
        with ThreadPoolExecutor(max_workers=count) as starting:  # they start side by side, as a deployment's do
            list(starting.map(ServerProcess.start, servers))
        yield servers


def wait_for(condition_name: str, check: Callable[[], object], timeout: float) -> None:
    """Polls `check()` until it holds; fails naming what never happened."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition_name} did not happen within {timeout:g} s")
        time.sleep(0.02)


def succeeded_charges(settings: Settings) -> list[SandboxCharge]:
    with database(settings) as session:
        return list(session.scalars(select(SandboxCharge).where(SandboxCharge.status == "succeeded")))


@dataclass(frozen=True)
class Books:
    """What the database holds once the dust settled, for the report."""

    invoices: int
    portal_payments: int
    charges: int
    open_balance: Decimal


def check_sqlite_file(database_url: str) -> None:
    """The file itself: pages intact, and no row pointing at a missing one (foreign keys were on)."""
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def check_books(settings: Settings) -> Books:
    """Money and records agree: every invoice's balance is its total less credits and succeeded payments,
    never negative; nothing is left pending or reserved or unanswered; every charge the gateway took is exactly one
    recorded payment (a group counts once) for exactly the amount charged, and nothing is recorded
    that the gateway did not charge."""
    if settings.database_url.startswith("sqlite"):
        check_sqlite_file(settings.database_url)
    with database(settings) as session:
        invoices = list(session.scalars(select(Invoice)))
        payments = list(session.scalars(select(Payment)))
        charges = {c.id: c for c in session.scalars(select(SandboxCharge).where(SandboxCharge.status == "succeeded"))}
        unanswered = list(
            session.scalars(
                select(IdempotencyRecord.scope).where(
                    IdempotencyRecord.group_id.is_not(None), IdempotencyRecord.status_code.is_(None)
                )
            )
        )
    assert [p.id for p in payments if p.status != PAYMENT_SUCCEEDED] == [], "payments left pending"
    assert unanswered == [], "payment requests left unanswered"
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for payment in payments:
        paid[payment.invoice_id] += payment.amount
    for invoice in invoices:
        assert invoice.balance >= ZERO, invoice.number
        assert invoice.balance == invoice.total - invoice.applied_credits - paid[invoice.id], invoice.number
        assert invoice.reserved == ZERO, f"{invoice.number}: a reservation outlived its payment"
    groups: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        if payment.import_position is None:
            groups[payment.group_id or f"no group: payment {payment.id}"].append(payment)
    assert len(groups) == len(charges), "charges taken and payments recorded differ in number"
    for group_id, members in groups.items():
        charge_ids = {p.gateway_charge_id for p in members}
        assert len(charge_ids) == 1, group_id
        charge = charges[str(charge_ids.pop())]
        assert charge.idempotency_key == f"portal-{group_id}"
        assert charge.amount == sum((p.amount + p.convenience_fee for p in members), ZERO), group_id
    return Books(
        invoices=len(invoices),
        portal_payments=sum(len(members) for members in groups.values()),
        charges=len(charges),
        open_balance=sum((i.balance for i in invoices), ZERO),
    )
