"""Staff search at scale (SA-1): `python -m tests.server.bench_staff_search [--database-url URL]`.

Generates one branch with 1,000 properties, 60,000 invoices and 6,000 proposals (one large
customer tied to every property, plus 200 other contacts), imports it, then times
GET /staff/contacts through the API for the kinds of query staff type, and prints p50/p95.
Not a test (pytest does not collect it); the issue-8 benchmark can reuse `generate`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.api.app import create_app
from server.db import make_engine, make_session_factory
from server.models import SearchTerm
from server.schema import upgrade
from server.services.importer import import_document
from server.settings import load_settings

PASSWORD = "benchmark-password-1"
STREETS = [
    "Oak",
    "Maple",
    "Birch",
    "Cedar",
    "Elm",
    "Pine",
    "Willow",
    "Aspen",
    "Spruce",
    "Walnut",
    "Chestnut",
    "Hickory",
]
KINDS = ["Plaza", "Court", "Commons", "Park", "Center", "Tower", "Gardens", "Square", "Campus", "Village"]
FIRST = ["Pat", "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew"]
LAST = ["Smith", "Johnson", "Lee", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore", "Clark", "Lewis", "Young"]


def generate(
    properties: int = 1000, invoices: int = 60_000, proposals: int = 6_000, others: int = 200
) -> dict[str, Any]:
    """A company with a fixed seed, in the import format."""
    rng = random.Random(7)
    start = date(2025, 1, 1)
    contacts = [
        {
            "key": "big",
            "branch": "main",
            "name": "Morgan Manager",
            "email": "morgan@bigco.example",
            "phone": "(555) 200-0000",
            "password": PASSWORD,
        }
    ]
    for n in range(others):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        contacts.append(
            {
                "key": f"c{n}",
                "branch": "main",
                "name": name,
                "email": f"{name.lower().replace(' ', '.')}{n}@example.com",
                "phone": f"555-{rng.randrange(1000):03d}-{n:04d}",
            }
        )
    props = []
    for n in range(properties):
        links = [{"contact": "big", "role": "primary" if n < 600 else "billing" if n < 800 else "other"}]
        links.append({"contact": f"c{n % others}", "role": rng.choice(["primary", "billing", "other"])})
        props.append(
            {
                "key": f"p{n}",
                "branch": "main",
                "name": f"{rng.choice(STREETS)} {rng.choice(KINDS)} {n}",
                "address": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} St, Springfield",
                "contacts": links,
            }
        )
    invs = [
        {
            "key": f"i{n}",
            "property": f"p{n % properties}",
            "number": f"INV-{100000 + n}",
            "invoice_date": (start + timedelta(days=n % 700)).isoformat(),
            "net_terms_days": 30,
            "shared": n % 50 != 0,
            "lines": [{"service": "Mowing", "amount": "120.00"}],
        }
        for n in range(invoices)
    ]
    statuses = ["draft", "delivered", "won", "lost", "approved", "in_production", "complete"]
    opps = [
        {
            "key": f"o{n}",
            "property": f"p{n % properties}",
            "number": f"OPP-{50000 + n}",
            "title": "Work",
            "opportunity_type": "work_order",
            "opportunity_status": statuses[n % len(statuses)],
            "shared_on": None if n % 7 == 0 else start.isoformat(),
            "items": [{"key": f"o{n}-1", "description": "Labor", "quantity": "1", "unit_price": "100.00"}],
        }
        for n in range(proposals)
    ]
    return {
        "branches": [{"slug": "main", "name": "Main"}],
        "staff": [
            {
                "key": "office",
                "name": "Office",
                "email": "office@bench.example",
                "password": PASSWORD,
                "branches": ["main"],
            }
        ],
        "contacts": contacts,
        "properties": props,
        "proposals": opps,
        "invoices": invs,
    }


QUERIES = {
    "invoice number, exact": "INV-123456",
    "invoice number, digits only": "123456",
    "invoice number, prefix": "INV-1234",
    "proposal number": "OPP-53210",
    "contact name": "Morgan Manager",
    "email": "morgan@bigco.example",
    "phone, other formatting": "555.200.0000",
    "phone, last four": "0042",
    "property name word (many hits)": "maple",
    "two characters (many hits)": "ma",
    "substring of a name": "anage",
}


def measure(client: TestClient, headers: dict[str, str], q: str, runs: int) -> tuple[float, float, int]:
    url = "/portal/main/api/v1/staff/contacts"
    for _ in range(5):
        client.get(url, params={"q": q}, headers=headers)
    times = []
    total = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, params={"q": q}, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        total = response.json()["total"]
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="staff-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    settings = load_settings(url)
    upgrade(url)
    document = generate()
    started = time.perf_counter()
    report = import_document(settings, document)
    seconds = time.perf_counter() - started
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        terms = session.scalar(select(func.count()).select_from(SearchTerm))
    engine.dispose()
    print(f"import: {report.records} records in {seconds:.1f} s; {terms} search terms")
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/portal/main/api/v1/auth/login", json={"email": "office@bench.example", "password": PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        print(f"{'query':40} {'q':24} {'p50 ms':>7} {'p95 ms':>7} {'hits':>5}")
        for label, q in QUERIES.items():
            p50, p95, total = measure(client, headers, q, args.runs)
            print(f"{label:40} {q:24} {p50:7.1f} {p95:7.1f} {total:5}")


if __name__ == "__main__":
    main()
