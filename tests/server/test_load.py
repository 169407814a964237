"""Load test: concurrent clients against real server processes for a bounded time (IN-6, IN-8, IN-9, IN-10).

PORTAL_LOAD_CLIENTS clients (default 20) run for PORTAL_LOAD_SECONDS (default 15) against
`python -m server serve` on 127.0.0.1: one process on SQLite (a SQLite database has one server),
two processes on one PostgreSQL database (how production scales out). Each client signs in as its
own contact; contacts come in pairs that may both pay the same invoices (primary and billing
contact), so payments race for the same balances all the time. They mix reads (lists, details,
balance, quotes, a PDF now and then) with payments: single and several invoices, a declined card,
the same key resent after its answer and sent twice at once, the full balance of a small invoice
both partners try to settle.

At the end: no 5xx and no dropped connection; every payment answer is one api.md allows; the books
add up (tests/server/live_helpers.check_books: balances, no negatives, one charge per payment);
every recorded payment was answered 201 to someone; GET /balance agrees with the invoices. The
figures (requests/s, latencies, payments, answers by status) are printed (`pytest -s`) and written
to load_figures.json in the test's tmp folder.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from server.models import IdempotencyRecord, Identity, Invoice, Payment, Property
from server.services.importer import import_document
from server.services.payments import INVOICE_PAYMENT
from server.settings import Settings
from tests.server.company import PASSWORD
from tests.server.conftest import database
from tests.server.live_helpers import check_books, serving
from tests.server.payment_helpers import DECLINED, VISA, card_body
from tests.server.pgbouncer import POOLED_SERVER_ENV, pgbouncer_binary, pgbouncer_in_front

CLIENTS = int(os.environ.get("PORTAL_LOAD_CLIENTS", "20"))
SECONDS = float(os.environ.get("PORTAL_LOAD_SECONDS", "15"))
PAIRS = max(1, CLIENTS // 2)
BIG, SMALL = Decimal("2500.00"), Decimal("60.00")
# Answers api.md allows a payment: paid (201, or 200/201 replayed), declined, conflict, invalid, slowed down.
PAYMENT_ANSWERS = {200, 201, 402, 409, 422, 429}
CENT = Decimal("0.01")


def load_company(today: date) -> dict[str, Any]:
    """PAIRS properties on the test company's north branch, each with a primary and a billing contact who
    may both pay all of its invoices: four big ones that never run out and one small one that does.
    The contacts come without a password: see give_load_contacts_pats_password."""
    contacts, properties, invoices = [], [], []
    for pair in range(PAIRS):
        for role in ("primary", "billing"):
            contacts.append(
                {
                    "key": f"load-{role}-{pair}",
                    "branch": "north",
                    "name": f"Load {role.title()} {pair}",
                    "email": f"load-{role}-{pair}@example.com",
                }
            )
        properties.append(
            {
                "key": f"load-p{pair}",
                "branch": "north",
                "name": f"Load Property {pair}",
                "address": f"{pair} Load St",
                "account_owner": "owner",
                "sales_rep": "rep",
                "contacts": [
                    {"contact": f"load-primary-{pair}", "role": "primary"},
                    {"contact": f"load-billing-{pair}", "role": "billing"},
                ],
            }
        )
        for n, amount in enumerate([BIG, BIG, BIG, BIG, SMALL]):
            invoices.append(
                {
                    "key": f"load-i{pair}-{n}",
                    "property": f"load-p{pair}",
                    "number": f"LOAD-{pair}-{n}",
                    "billing_contact": f"load-billing-{pair}",
                    "invoice_date": (today - timedelta(days=5)).isoformat(),
                    "net_terms_days": 30,
                    "shared": True,
                    "lines": [{"service": "Mowing", "description": "Season", "amount": f"{amount}"}],
                    "payments": [],
                }
            )
    return {"contacts": contacts, "properties": properties, "invoices": invoices}


def give_load_contacts_pats_password(settings: Settings) -> None:
    """Pat's password hash for every load contact: 20 Argon2 hashings in the import would take a loaded
    CI machine longer than the load itself, and signing in still verifies the hash for real."""
    with database(settings) as session:
        pats = session.scalar(select(Identity.password_hash).where(Identity.email == "pat@example.com"))
        session.execute(update(Identity).where(Identity.email.startswith("load-")).values(password_hash=pats))
        session.commit()


@dataclass
class Tally:
    """Everything the clients saw, shared by all of them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    by_status: Counter[int] = field(default_factory=Counter)
    payment_answers: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    paid_references: set[str] = field(default_factory=set)

    def add(self, what: str, status: int, seconds: float, payment: bool, body: Any) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_kind.setdefault(what, []).append(seconds)
            self.by_status[status] += 1
            if status >= 500:
                self.server_errors.append(f"{what}: {status} {body}")
            if payment:
                code = body.get("code", "") if isinstance(body, dict) and status >= 400 else ""
                self.payment_answers[f"{status} {code}".strip()] += 1
                if status not in PAYMENT_ANSWERS:
                    self.unexpected.append(f"{what}: {status} {body}")
                if status in (200, 201):
                    self.paid_references.add(str(body["id"]))


class LoadClient:
    """One signed-in contact with a requests session of its own, doing what a payer does."""

    def __init__(self, index: int, api: str, email: str, tally: Tally) -> None:
        self.api = api
        self.tally = tally
        self.random = random.Random(index)  # reproducible mix per client
        self.http = requests.Session()
        token = self.http.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['token']}"
        self.card = self._method(VISA)
        self.declined = self._method(DECLINED)
        items = self.http.get(f"{api}/invoices", timeout=30).json()["items"]
        self.invoices = [item["id"] for item in items if item["number"].startswith("LOAD-")]
        self.small = next(
            item["id"] for item in items if item["number"].startswith("LOAD-") and item["total"] == "60.00"
        )

    def _method(self, number: str) -> int:
        response = self.http.post(f"{self.api}/payment-methods", json=card_body(number), timeout=30)
        response.raise_for_status()
        return int(response.json()["id"])

    def call(self, what: str, method: str, path: str, *, payment: bool = False, **kwargs: Any) -> tuple[int, Any]:
        """One request, sent again (same headers, so a payment keeps its key) when the connection drops,
        as the desktop client does: a kept-alive connection the server closes just as a request goes
        out is ordinary HTTP/1.1 life. Each such resend is counted; three drops in a row fail the test."""
        started = time.perf_counter()
        for attempt in range(3):
            try:
                response = self.http.request(method, self.api + path, timeout=60, **kwargs)
                break
            except requests.RequestException as error:
                with self.tally.lock:
                    (self.tally.dropped if attempt == 2 else self.tally.resent).append(f"{what}: {error!r}")
        else:
            return 0, None
        seconds = time.perf_counter() - started
        is_json = response.headers.get("content-type", "").endswith("json")
        body = response.json() if is_json else None
        self.tally.add(what, response.status_code, seconds, payment, body)
        return response.status_code, body

    def amount(self) -> str:
        return f"{Decimal(self.random.randint(100, 2500)) * CENT}"

    def pay(self, invoice_id: int, amount: str, method_id: int, key: str | None = None) -> tuple[int, Any]:
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        body = {"amount": amount, "payment_method_id": method_id}
        return self.call("pay", "POST", f"/invoices/{invoice_id}/payments", payment=True, headers=headers, json=body)

    # -- the mix -----------------------------------------------------------------------------
    def run(self, until: float) -> None:
        actions = [
            (self.list_invoices, 20),
            (self.invoice_detail, 15),
            (self.balance, 10),
            (self.properties, 5),
            (self.quote, 5),
            (self.pdf, 1),
            (self.pay_one, 20),
            (self.pay_declined, 4),
            (self.pay_and_resend, 6),
            (self.pay_several, 8),
            (self.pay_twice_at_once, 3),
            (self.settle_small_invoice, 3),
        ]
        steps, weights = zip(*actions, strict=True)
        while time.monotonic() < until:
            self.random.choices(steps, weights)[0]()

    def list_invoices(self) -> None:
        self.call("list invoices", "GET", "/invoices", params={"status": self.random.choice(["all", "due", "paid"])})

    def invoice_detail(self) -> None:
        self.call("invoice detail", "GET", f"/invoices/{self.random.choice(self.invoices)}")

    def balance(self) -> None:
        self.call("balance", "GET", "/balance")

    def properties(self) -> None:
        self.call("properties", "GET", "/properties")

    def quote(self) -> None:
        body = {"amount": self.amount(), "payment_method_id": self.card}
        self.call("quote", "POST", f"/invoices/{self.random.choice(self.invoices)}/payment-quote", json=body)

    def pdf(self) -> None:
        self.call("invoice pdf", "GET", f"/invoices/{self.random.choice(self.invoices)}/pdf")

    def pay_one(self) -> None:
        self.pay(self.random.choice(self.invoices), self.amount(), self.card)

    def pay_declined(self) -> None:
        status, body = self.pay(self.random.choice(self.invoices), self.amount(), self.declined)
        if status != 402 and not (
            status in (409, 422) and body.get("code") in ("invoice_paid", "amount_exceeds_balance")
        ):
            self.tally.unexpected.append(f"declined card: {status} {body}")

    def pay_and_resend(self) -> None:
        """A lost answer: the same key and body again must give the same answer and never a second charge."""
        invoice_id, amount, key = self.random.choice(self.invoices), self.amount(), str(uuid.uuid4())
        first = self.pay(invoice_id, amount, self.card, key)
        second = self.pay(invoice_id, amount, self.card, key)
        if first[0] in (201, 402) and second != first:
            self.tally.unexpected.append(f"resend answered {second}, first {first}")

    def pay_several(self) -> None:
        chosen = self.random.sample(self.invoices, self.random.randint(2, 3))
        body = {
            "payment_method_id": self.card,
            "allocations": [{"invoice_id": invoice_id, "amount": self.amount()} for invoice_id in chosen],
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        self.call("pay several", "POST", "/payments", payment=True, headers=headers, json=body)

    def pay_twice_at_once(self) -> None:
        """A double click: one key sent twice at the same moment charges once; both answers agree."""
        invoice_id, amount, key = self.random.choice(self.invoices), self.amount(), str(uuid.uuid4())
        start = threading.Barrier(2)

        def send() -> tuple[int, Any]:
            start.wait()
            return self.pay(invoice_id, amount, self.card, key)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda _: send(), range(2)))
        paid = [body["id"] for status, body in answers if status in (200, 201)]
        if len(set(paid)) > 1:
            self.tally.unexpected.append(f"one key, two payments: {answers}")

    def settle_small_invoice(self) -> None:
        """Both partners try to pay the small invoice's whole open balance: one of them wins."""
        status, body = self.call("invoice detail", "GET", f"/invoices/{self.small}")
        if status == 200 and Decimal(body["balance"]) > 0:
            self.pay(self.small, body["balance"], self.card)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@pytest.mark.parametrize("through", ["direct", "pgbouncer"])
def test_concurrent_clients_reads_and_payments_add_up(settings: Settings, tmp_path: Path, through: str) -> None:
    """`through` PgBouncer: the two processes reach PostgreSQL through a transaction pooler, as a scaled-out
    deployment may (tests/server/pgbouncer.py)."""
    if through == "pgbouncer" and settings.database_url.startswith("sqlite"):
        pytest.skip("a pooler in front of PostgreSQL")
    if through == "pgbouncer" and pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed (.ci/run installs it)")
    started = time.monotonic()
    import_document(settings, load_company(date.today()))
    give_load_contacts_pats_password(settings)
    phases: dict[str, float] = {"import": time.monotonic() - started}
    processes = 1 if settings.database_url.startswith("sqlite") else 2
    tally = Tally()
    with ExitStack() as stack:
        served, env = settings, None
        if through == "pgbouncer":
            pooled_url = stack.enter_context(pgbouncer_in_front(settings.database_url, tmp_path / "pgbouncer"))
            served, env = replace(settings, database_url=pooled_url), POOLED_SERVER_ENV
        servers = stack.enter_context(serving(served, tmp_path, count=processes, env=env))
        phases["servers"] = time.monotonic() - started
        apis = [server.portal.api("north") for server in servers]
        emails = [f"load-{role}-{pair}@example.com" for pair in range(PAIRS) for role in ("primary", "billing")]
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            clients = list(
                pool.map(
                    lambda n: LoadClient(n, apis[n % len(apis)], emails[n % len(emails)], tally),
                    range(CLIENTS),
                )
            )
            phases["setup"] = time.monotonic() - started
            load_started = time.monotonic()
            until = load_started + SECONDS
            list(pool.map(lambda client: client.run(until), clients))
            elapsed = time.monotonic() - load_started
        primaries = clients[0 : 2 * PAIRS : 2]  # one client per property (its primary contact)
        reported_balances = [
            Decimal(c.http.get(f"{c.api}/balance", timeout=30).json()["current_balance"]) for c in primaries
        ]

    assert tally.server_errors == []
    assert tally.dropped == []
    assert tally.unexpected == []
    books = check_books(settings)
    with database(settings) as session:
        load_property_ids = list(session.scalars(select(Property.id).where(Property.key.startswith("load-"))))
        by_property = {
            pid: sum(session.scalars(select(Invoice.balance).where(Invoice.property_id == pid)), Decimal(0))
            for pid in load_property_ids
        }
        rows = session.execute(select(IdempotencyRecord.group_id, IdempotencyRecord.operation))
        operations = {group_id: operation for group_id, operation in rows}
        recorded = {
            str(p.id if operations[p.group_id] == INVOICE_PAYMENT else p.group_id)
            for p in session.scalars(select(Payment).where(Payment.import_position.is_(None)))
        }
    assert recorded == tally.paid_references  # every recorded payment was answered 201, nothing else was
    assert sum(reported_balances, Decimal(0)) == sum(by_property.values(), Decimal(0))
    assert sorted(reported_balances) == sorted(by_property.values())

    payments = sum(tally.payment_answers.values())
    figures = {
        "database": "sqlite" if processes == 1 else f"postgresql ({through})",
        "server_processes": processes,
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "requests": len(tally.latencies),
        "requests_per_second": round(len(tally.latencies) / elapsed, 1),
        "latency_ms_p50": round(percentile(tally.latencies, 0.50) * 1000, 1),
        "latency_ms_p95": round(percentile(tally.latencies, 0.95) * 1000, 1),
        "latency_ms_max": round(max(tally.latencies, default=0.0) * 1000, 1),
        "latency_ms_p50_p95_max_by_request": {
            what: [round(percentile(values, q) * 1000) for q in (0.5, 0.95, 1.0)]
            for what, values in sorted(tally.by_kind.items())
        },
        "resent_after_a_dropped_connection": tally.resent,
        "payment_requests": payments,
        "payments_recorded": len(tally.paid_references),
        "charges": books.charges,
        "answers_by_status": {str(k): v for k, v in sorted(tally.by_status.items())},
        "payment_answers": dict(sorted(tally.payment_answers.items())),
        "test_seconds": round(time.monotonic() - started, 1),
        "setup_seconds": {name: round(at, 1) for name, at in phases.items()},
    }
    (tmp_path / "load_figures.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("\nload test figures:", json.dumps(figures, indent=2))
    assert payments > 0 and tally.paid_references
