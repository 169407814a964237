"""A large customer for the client's layout and scale tests: a property manager with many properties
whose names differ only at the end (as real portfolios name them: "Aspen Campus Hall 0001"), one
invoice due on each (more than a payment may hold, IN-10) besides paid ones (over a thousand in
all), and a balance in the millions (PF-3).

Small enough to import in a few seconds; the bench (bench/generator.py) has the full-size one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.client.live_server import LivePortal, ServerProcess

SLUG = "big"
MANAGER = "manager@big.example"
PASSWORD = "big-password-1"
PROPERTIES = 120
PAID_EACH = 8  # paid invoices per property besides the one due: the list holds over a thousand
INVOICES = PROPERTIES * (1 + PAID_EACH)
NAME_PREFIX = "Aspen Campus Hall North Entrance "
# The first property's invoice: the balance runs into eight figures, as a portfolio's does.
HUGE_INVOICE = Decimal("12345678.90")


def property_name(n: int) -> str:
    return f"{NAME_PREFIX}{n:04d}"


def invoice_total(n: int) -> Decimal:
    return HUGE_INVOICE if n == 1 else Decimal(100 + n) + Decimal("0.25")


BALANCE = sum((invoice_total(n) for n in range(1, PROPERTIES + 1)), Decimal("0.00"))


def build(today: date) -> dict[str, Any]:
    properties = [
        {
            "key": f"p-{n}",
            "branch": SLUG,
            "name": property_name(n),
            "address": f"{n} Aspen Street, Springfield",
            "account_owner": "rep",
            "sales_rep": "rep",
            "contacts": [{"contact": "manager", "role": "primary" if n % 3 else "billing"}],
            "unapplied_credits": "0.00",
        }
        for n in range(1, PROPERTIES + 1)
    ]
    invoices = [
        {
            "key": f"i-{n}",
            "property": f"p-{n}",
            "number": f"INV-{50000 + n}",
            "billing_contact": "manager",
            "proposal": None,
            "invoice_date": (today - timedelta(days=n % 40)).isoformat(),
            "net_terms_days": 30,
            "shared": True,
            "applied_credits": "0.00",
            "lines": [
                {
                    "service": "Mowing",
                    "description": "Weekly mowing",
                    "visit": None,
                    "amount": f"{invoice_total(n):.2f}",
                }
            ],
            "payments": [],
        }
        for n in range(1, PROPERTIES + 1)
    ]
    paid = [
        {
            **invoice,
            "key": f"i-{n}-paid-{k}",
            "number": f"INV-{60000 + n * PAID_EACH + k}",
            "invoice_date": (today - timedelta(days=60 + k * 30)).isoformat(),
            "payments": [{"amount": "150.00", "paid_on": (today - timedelta(days=50 + k * 30)).isoformat()}],
            "lines": [{"service": "Mowing", "description": "Weekly mowing", "visit": None, "amount": "150.00"}],
        }
        for n, invoice in enumerate(invoices, start=1)
        for k in range(PAID_EACH)
    ]
    return {
        "branches": [
            {
                "slug": SLUG,
                "name": "Big Landscaping",
                "time_zone": "UTC",
                "config": {
                    "show_line_item_details": True,
                    "show_sales_rep_phone": False,
                    "electronic_payments": True,
                    "partial_payments": True,
                    "accepted_payment_types": ["card", "ach"],
                    "card_fee_percent": "2.90",
                    "ach_fee_flat": "1.00",
                    "requests_enabled": True,
                },
            }
        ],
        "staff": [
            {"key": "rep", "name": "Riley Rep", "email": "riley@big.example", "phone": "555-0100", "branches": [SLUG]}
        ],
        "contacts": [
            {
                "key": "manager",
                "branch": SLUG,
                "name": "Harbor Property Management",
                "email": MANAGER,
                "phone": "555-0101",
                "password": PASSWORD,
            }
        ],
        "properties": properties,
        "proposals": [],
        "visits": [],
        "invoices": invoices + paid,
        "requests": [],
    }


@pytest.fixture(scope="session")
def big_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    server = ServerProcess(tmp_path_factory.mktemp("big-server"), slug=SLUG)
    server.load(build(date.today()))
    server.start()
    try:
        yield server.portal
    finally:
        server.stop()
