"""The test company imported into the real server for the integration tests.

Morgan has more invoices on one property than a list page holds (lazy paging), one property
per role, and a second branch (branch switch) where requests are turned off (RQ-5).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

PASSWORD = "test-password-1"
MORGAN = "morgan@example.com"
LOCKOUT = "lockout@example.com"
LEAVER = "leaver@example.com"
OFFICE = "olive@example.com"  # office staff on east (SA-1..SA-4)
TWO_BRANCH_OFFICE = "oscar@example.com"  # office staff on east and west (SA-1: switching branch)
MANY_INVOICES = 250

_CONFIG = {
    "show_line_item_details": True,
    "show_sales_rep_phone": False,
    "electronic_payments": True,
    "partial_payments": True,
    "accepted_payment_types": ["card", "ach"],
    "card_fee_percent": "2.90",
    "ach_fee_flat": "1.00",
}


def _invoice(key: str, prop: str, number: str, day: date, total: Decimal, paid: bool) -> dict[str, Any]:
    return {
        "key": key,
        "property": prop,
        "number": number,
        "billing_contact": "morgan-e",
        "proposal": None,
        "invoice_date": day.isoformat(),
        "net_terms_days": 30,
        "shared": True,
        "applied_credits": "0.00",
        "lines": [{"service": "Mowing", "description": "Weekly mowing", "visit": None, "amount": f"{total:.2f}"}],
        "payments": [{"amount": f"{total:.2f}", "paid_on": day.isoformat()}] if paid else [],
    }


def many_invoice_total(index: int) -> Decimal:
    return Decimal(100 + index)


def many_invoice_paid(index: int) -> bool:
    return index % 2 == 0


# Open balances by property, used by the balance assertions (PF-3).
DUE_BY_PROPERTY = {
    "Maple Court": sum(
        (many_invoice_total(i) for i in range(MANY_INVOICES) if not many_invoice_paid(i)), Decimal("0.00")
    ),
    "Birch Office Park": Decimal("480.00"),
    "Cedar Villas": Decimal("0.00"),
}
UNAPPLIED_BIRCH = Decimal("25.00")


def build(today: date) -> dict[str, Any]:
    def shifted(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    invoices = [
        _invoice(
            f"inv-{i}",
            "maple",
            f"INV-{10000 + i}",
            today - timedelta(days=i),
            many_invoice_total(i),
            many_invoice_paid(i),
        )
        for i in range(MANY_INVOICES)
    ]
    invoices.append(_invoice("inv-birch-1", "birch", "INV-20001", today - timedelta(days=3), Decimal("480"), False))
    invoices.append(_invoice("inv-birch-2", "birch", "INV-20002", today - timedelta(days=40), Decimal("90"), True))
    invoices.append(_invoice("inv-willow", "willow", "INV-30001", today - timedelta(days=5), Decimal("75"), False))
    invoices[-1]["billing_contact"] = "morgan-w"

    def proposal(key: str, prop: str, number: str, title: str, status: str, shared: bool = True) -> dict[str, Any]:
        return {
            "key": key,
            "property": prop,
            "number": number,
            "title": title,
            "opportunity_type": "work_order",
            "opportunity_status": status,
            "shared_on": shifted(-7) if shared else None,
            "sales_rep": "rep",
            "change_order_of": None,
            "items": [
                {
                    "key": f"{key}-1",
                    "description": "Labour",
                    "quantity": "2",
                    "unit_price": "150.00",
                    "optional": False,
                }
            ],
        }

    def visit(key: str, prop: str, days: int, status: str) -> dict[str, Any]:
        return {
            "key": key,
            "property": prop,
            "date": shifted(days),
            "status": status,
            "services": ["Mowing"],
            "notes": [],
        }

    def request(key: str, prop: str, number: str, subject: str) -> dict[str, Any]:
        return {
            "key": key,
            "property": prop,
            "number": number,
            "subject": subject,
            "description": "Please have a look.",
            "include_client": True,
            "status": "open",
            "comments": [{"author": "rep", "body": "We will come Tuesday", "public": True}],
        }

    def contact(key: str, branch: str, name: str, email: str) -> dict[str, Any]:
        return {
            "key": key,
            "branch": branch,
            "name": name,
            "email": email,
            "phone": "555-0101",
            "password": PASSWORD,
        }

    def prop(key: str, branch: str, name: str, links: list[tuple[str, str]], credits: str = "0.00") -> dict[str, Any]:
        return {
            "key": key,
            "branch": branch,
            "name": name,
            "address": f"{len(name)} {name.split()[0]} Street",
            "account_owner": "rep",
            "sales_rep": "rep",
            "contacts": [{"contact": c, "role": role} for c, role in links],
            "unapplied_credits": credits,
        }

    doc = {
        "branches": [
            {
                "slug": "east",
                "name": "East Branch",
                "time_zone": "UTC",
                "config": {**_CONFIG, "requests_enabled": True},
            },
            {
                "slug": "west",
                "name": "West Branch",
                "time_zone": "UTC",
                "config": {**_CONFIG, "requests_enabled": False},
            },
        ],
        "staff": [
            {
                "key": "rep",
                "name": "Riley Rep",
                "email": "riley@example.com",
                "phone": "555-0100",
                "admin": False,
                "branches": ["east", "west"],
            },
            {
                "key": "office",
                "name": "Olive Office",
                "email": OFFICE,
                "password": PASSWORD,
                "branches": ["east"],
            },
            {
                "key": "office-both",
                "name": "Oscar Office",
                "email": TWO_BRANCH_OFFICE,
                "password": PASSWORD,
                "branches": ["east", "west"],
            },
        ],
        "contacts": [
            contact("morgan-e", "east", "Morgan Many", MORGAN),
            contact("morgan-w", "west", "Morgan Many", MORGAN),
            contact("lockout", "east", "Lee Lockout", LOCKOUT),
            contact("leaver", "east", "Lou Leaver", LEAVER),
        ],
        "properties": [
            prop("maple", "east", "Maple Court", [("morgan-e", "primary"), ("leaver", "primary")]),
            prop(
                "birch",
                "east",
                "Birch Office Park",
                [("morgan-e", "billing")],
                credits=f"{UNAPPLIED_BIRCH:.2f}",
            ),
            prop("cedar", "east", "Cedar Villas", [("morgan-e", "other")]),
            prop("lock", "east", "Lockout Lodge", [("lockout", "primary")]),
            prop("willow", "west", "Willow Farm", [("morgan-w", "primary")]),
        ],
        "proposals": [
            proposal("o-maple-1", "maple", "OPP-1001", "Spring cleanup", "delivered"),
            proposal("o-maple-2", "maple", "OPP-1002", "Irrigation repair", "won"),
            proposal("o-birch-1", "birch", "OPP-1003", "Tree removal", "lost"),
            proposal("o-cedar-1", "cedar", "OPP-1004", "Mulch refresh", "delivered"),
            proposal("o-cedar-2", "cedar", "OPP-1005", "Draft idea", "draft", shared=False),
            proposal("o-willow-1", "willow", "OPP-2001", "Fence line", "delivered"),
        ],
        "visits": [
            visit("v1", "maple", 3, "scheduled"),
            visit("v2", "birch", 10, "scheduled"),
            visit("v3", "maple", -5, "completed"),
            visit("v4", "cedar", -2, "completed"),
            visit("v5", "willow", 4, "scheduled"),
        ],
        "invoices": invoices,
        "requests": [
            request("r1", "maple", "REQ-1", "Broken sprinkler"),
            request("r2", "cedar", "REQ-2", "Dead shrubs by the door"),
            request("r3", "willow", "REQ-3", "Gate left open"),
        ],
    }
    _add_requester(doc, today)
    return doc


# Robin has a property of her own, so the visit and request tests can add requests and comments
# without changing what Morgan's tests count.
REQUESTER = "robin@example.com"
REQUESTER_PROPERTY = "Rowan Yard"
REQUESTER_REQUEST = "REQ-50"
PUBLISHED_NOTE = "Hedges trimmed along the drive; clippings hauled away."
INTERNAL_NOTE = "Gate code 9876."
INTERNAL_COMMENT = "Internal: bring spare washers."
# Completed visits on Rowan Yard this many days ago: one per "Show older" window (30, 90, 365).
REQUESTER_COMPLETED_AGO = (1, 45, 200)


def _add_requester(doc: dict[str, Any], today: date) -> None:
    doc["contacts"].append(
        {
            "key": "robin",
            "branch": "east",
            "name": "Robin Requests",
            "email": REQUESTER,
            "phone": "555-0199",
            "password": PASSWORD,
        }
    )
    doc["properties"].append(
        {
            "key": "rowan",
            "branch": "east",
            "name": REQUESTER_PROPERTY,
            "address": "7 Rowan Lane",
            "account_owner": "rep",
            "sales_rep": "rep",
            "contacts": [{"contact": "robin", "role": "primary"}],
            "unapplied_credits": "0.00",
        }
    )
    for ago in REQUESTER_COMPLETED_AGO:
        notes = []
        if ago == REQUESTER_COMPLETED_AGO[0]:
            notes = [
                {"text": PUBLISHED_NOTE, "shown_in_portal": True},
                {"text": INTERNAL_NOTE, "shown_in_portal": False},
            ]
        doc["visits"].append(
            {
                "key": f"rowan-visit-{ago}",
                "property": "rowan",
                "date": (today - timedelta(days=ago)).isoformat(),
                "status": "completed",
                "services": ["Mowing", "Hedge trimming"],
                "notes": notes,
            }
        )
    doc["requests"].append(
        {
            "key": "rowan-request",
            "property": "rowan",
            "number": REQUESTER_REQUEST,
            "subject": "Leaky tap by the shed",
            "description": "The outdoor tap drips all night.",
            "include_client": True,
            "status": "open",
            "comments": [
                {"author": "rep", "body": "We will replace the washer on Tuesday.", "public": True},
                {"author": "rep", "body": INTERNAL_COMMENT, "public": False},
                {"author": "robin", "body": "Thank you!", "public": True},
            ],
        }
    )
