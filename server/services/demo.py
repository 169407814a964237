"""The demo company: a believable landscaping business, built as an import document relative to today."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select

from server.db import make_engine, make_session_factory
from server.models import Branch
from server.services.importer import ImportReport, import_document
from server.settings import Settings

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed for people trying the demo
DEMO_SIGN_INS = [
    ("Customer with several properties", "pat@example.com", DEMO_PASSWORD),
    ("Billing contact", "jordan@example.com", DEMO_PASSWORD),
    ("Contact in the 'other' role", "casey@example.com", DEMO_PASSWORD),
    ("Office staff (assists customers)", "office@example.com", DEMO_PASSWORD),
    ("Administrator", "admin@example.com", DEMO_PASSWORD),
]

_SERVICES = {
    "Mowing": Decimal("65.00"),
    "Edging & trimming": Decimal("35.00"),
    "Shrub pruning": Decimal("120.00"),
    "Leaf cleanup": Decimal("180.00"),
    "Irrigation check": Decimal("85.00"),
    "Fertilization": Decimal("95.00"),
}
_PUBLIC_NOTES = [
    "Mowed and edged all turf areas; clippings blown off walks.",
    "Irrigation zone 3 head replaced; system running normally.",
    "Pruned shrubs along the entrance; debris hauled away.",
    "Applied slow-release fertilizer to front and side lawns.",
]
_INTERNAL_NOTES = ["Gate code 4411.", "Dog in back yard: call before entering.", "Customer prefers morning visits."]


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=UTC).isoformat()


def build_demo(today: date) -> dict[str, Any]:
    """The demo document; keys are stable so seeding again refreshes the same records."""
    rng = random.Random(20261126)
    branches = [
        {
            "slug": "north",
            "name": "Greenleaf North",
            "time_zone": "America/New_York",
            "config": {
                "show_line_item_details": True,
                "show_sales_rep_phone": True,
                "electronic_payments": True,
                "partial_payments": True,
                "accepted_payment_types": ["card", "ach"],
                "card_fee_percent": "2.90",
                "ach_fee_flat": "1.00",
                "requests_enabled": True,
            },
        },
        {
            "slug": "south",
            "name": "Greenleaf South",
            "time_zone": "America/Chicago",
            "config": {
                "show_line_item_details": False,
                "show_sales_rep_phone": False,
                "electronic_payments": True,
                "partial_payments": False,
                "accepted_payment_types": ["card"],
                "card_fee_percent": "3.00",
                "ach_fee_flat": "0.00",
                "requests_enabled": False,
            },
        },
    ]
    staff = [
        {
            "key": "demo-sam",
            "name": "Sam Rivera",
            "email": "sam.rivera@example.com",
            "phone": "(555) 010-2001",
            "branches": ["north"],
        },
        {
            "key": "demo-alex",
            "name": "Alex Morgan",
            "email": "alex.morgan@example.com",
            "phone": "(555) 010-2002",
            "branches": ["north"],
        },
        {
            "key": "demo-sofia",
            "name": "Sofia Reyes",
            "email": "sofia.reyes@example.com",
            "phone": "(555) 010-3001",
            "branches": ["south"],
        },
        {
            "key": "demo-olivia",
            "name": "Olivia Office",
            "email": "office@example.com",
            "phone": "(555) 010-1000",
            "password": DEMO_PASSWORD,
            "branches": ["north", "south"],
        },
        {
            "key": "demo-ada",
            "name": "Ada Admin",
            "email": "admin@example.com",
            "password": DEMO_PASSWORD,
            "admin": True,
            "branches": ["north", "south"],
        },
    ]
    contacts = [
        {
            "key": "demo-pat-n",
            "branch": "north",
            "name": "Pat Customer",
            "email": "pat@example.com",
            "phone": "(555) 010-0101",
            "password": DEMO_PASSWORD,
        },
        {
            "key": "demo-pat-s",
            "branch": "south",
            "name": "Pat Customer",
            "email": "pat@example.com",
            "phone": "(555) 010-0101",
            "password": DEMO_PASSWORD,
        },
        {
            "key": "demo-jordan",
            "branch": "north",
            "name": "Jordan Lee",
            "email": "jordan@example.com",
            "phone": "555.010.0202",
            "password": DEMO_PASSWORD,
        },
        {
            "key": "demo-casey",
            "branch": "north",
            "name": "Casey Kim",
            "email": "casey@example.com",
            "phone": "555-010-0303",
            "password": DEMO_PASSWORD,
        },
        {
            "key": "demo-morgan",
            "branch": "north",
            "name": "Morgan Hill",
            "email": "morgan@example.com",
            "phone": "555 010 0404",
            "invitation_token": "demo-invitation-morgan-hill",
        },
    ]
    properties = [
        (
            "demo-oak",
            "north",
            "Oak Plaza",
            "1 Oak Street, Springfield",
            [("demo-pat-n", "primary"), ("demo-casey", "other")],
        ),
        (
            "demo-maple",
            "north",
            "Maple Court HOA",
            "200 Maple Court, Springfield",
            [("demo-pat-n", "primary"), ("demo-jordan", "billing")],
        ),
        (
            "demo-river",
            "north",
            "Riverside Office Park",
            "45 River Road, Springfield",
            [("demo-pat-n", "billing"), ("demo-jordan", "primary")],
        ),
        (
            "demo-cedar",
            "north",
            "Cedar Ridge Clubhouse",
            "9 Cedar Ridge Drive, Shelbyville",
            [("demo-pat-n", "other"), ("demo-casey", "primary")],
        ),
        ("demo-pine", "north", "Pine Street Duplex", "72 Pine Street, Springfield", [("demo-morgan", "primary")]),
        ("demo-lake", "south", "Lakeside Villas", "300 Lakeshore Drive, Capital City", [("demo-pat-s", "primary")]),
    ]
    doc: dict[str, Any] = {
        "branches": branches,
        "staff": staff,
        "contacts": contacts,
        "properties": [],
        "proposals": [],
        "visits": [],
        "invoices": [],
        "requests": [],
    }
    for key, branch, name, address, links in properties:
        rep = "demo-sofia" if branch == "south" else "demo-sam"
        owner = "demo-sofia" if branch == "south" else "demo-alex"
        doc["properties"].append(
            {
                "key": key,
                "branch": branch,
                "name": name,
                "address": address,
                "account_owner": owner,
                "sales_rep": rep,
                "contacts": [{"contact": c, "role": r} for c, r in links],
                "unapplied_credits": "150.00" if key == "demo-maple" else "0.00",
            }
        )
        _add_work(doc, rng, today, key, rep, branch)
    return doc


def _add_work(doc: dict[str, Any], rng: random.Random, today: date, prop: str, rep: str, branch: str) -> None:
    """Proposals in every status, weekly visits, monthly invoices and a few requests for one property."""
    slug = prop.removeprefix("demo-")
    proposals = [
        ("spring", "Spring cleanup and mulch", "work_order", "delivered", 12),
        ("irrigation", "Irrigation system upgrade", "work_order", "won", 40),
        ("trees", "Remove two dead oaks", "work_order", "lost", 70),
        ("maint", "Annual grounds maintenance", "contract", "in_production", 120),
        ("lighting", "Landscape lighting", "work_order", "draft", 0),
        ("snow", "Snow and ice management", "contract", "approved", 200),
        ("patio", "Paver patio repair", "work_order", "complete", 300),
    ]
    for index, (code, title, kind, status, age) in enumerate(proposals):
        items = [
            {
                "key": f"demo-{slug}-{code}-1",
                "description": f"{title}: labor",
                "quantity": str(rng.randint(4, 16)),
                "unit_price": "65.00",
            },
            {
                "key": f"demo-{slug}-{code}-2",
                "description": "Materials and disposal",
                "quantity": "1",
                "unit_price": _money(Decimal(rng.randint(120, 900))),
            },
            {
                "key": f"demo-{slug}-{code}-3",
                "description": "Optional: seasonal color beds",
                "quantity": "3",
                "unit_price": "85.00",
                "optional": True,
            },
            {
                "key": f"demo-{slug}-{code}-4",
                "description": "Optional: extra mulch refresh in fall",
                "quantity": "1",
                "unit_price": "240.00",
                "optional": True,
            },
        ]
        doc["proposals"].append(
            {
                "key": f"demo-{slug}-{code}",
                "property": prop,
                "number": f"OPP-{branch[0].upper()}{1000 + index}-{slug[:3].upper()}",
                "title": title,
                "opportunity_type": kind,
                "opportunity_status": status,
                "shared_on": None if status == "draft" else (today - timedelta(days=age)).isoformat(),
                "sales_rep": rep,
                "terms": "Net 30. Prices valid for 60 days. Work scheduled on acceptance.",
                "items": items,
            }
        )
    doc["proposals"].append(
        {
            "key": f"demo-{slug}-irrigation-co",
            "property": prop,
            "number": f"OPP-{branch[0].upper()}1099-{slug[:3].upper()}-CO1",
            "title": "Change order: add drip line to beds",
            "opportunity_type": "work_order",
            "opportunity_status": "delivered",
            "shared_on": (today - timedelta(days=3)).isoformat(),
            "sales_rep": rep,
            "change_order_of": f"demo-{slug}-irrigation",
            "items": [
                {
                    "key": f"demo-{slug}-irrigation-co-1",
                    "description": "Drip line, 120 ft installed",
                    "quantity": "1",
                    "unit_price": "480.00",
                }
            ],
        }
    )

    visits_by_month: dict[tuple[int, int], list[str]] = {}
    first = today - timedelta(days=180 + today.weekday())
    day = first + timedelta(days=rng.randint(0, 4))
    while day <= today + timedelta(days=30):
        done = day < today
        services = ["Mowing", "Edging & trimming"] + (["Shrub pruning"] if day.day < 8 else [])
        key = f"demo-{slug}-visit-{day.isoformat()}"
        notes = []
        if done:
            notes.append({"text": rng.choice(_PUBLIC_NOTES), "shown_in_portal": True, "created_at": _at(day, 16)})
        notes.append({"text": rng.choice(_INTERNAL_NOTES), "shown_in_portal": False, "created_at": _at(day, 8)})
        doc["visits"].append(
            {
                "key": key,
                "property": prop,
                "date": day.isoformat(),
                "status": "completed" if done else "scheduled",
                "services": services,
                "notes": notes,
            }
        )
        if done:
            visits_by_month.setdefault((day.year, day.month), []).append(key)
        day += timedelta(days=7)

    months = sorted(visits_by_month)
    for index, (year, month) in enumerate(months):
        visit_keys = visits_by_month[(year, month)]
        lines = [
            {"service": "Mowing", "description": "Weekly mowing", "visit": v, "amount": "65.00"} for v in visit_keys
        ]
        lines.append(
            {
                "service": "Edging & trimming",
                "description": f"{len(visit_keys)} visits",
                "amount": _money(Decimal(35 * len(visit_keys))),
            }
        )
        total = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
        invoice_date = min(date(year, month, 28), today)
        age = len(months) - index
        payments: list[dict[str, str]] = []
        credits = Decimal("0.00")
        if age > 2:
            payments = [{"amount": _money(total), "paid_on": (invoice_date + timedelta(days=20)).isoformat()}]
        elif age == 2:
            credits = Decimal("25.00")
            payments = [
                {
                    "amount": _money((total / 2).quantize(Decimal("0.01"))),
                    "paid_on": (invoice_date + timedelta(days=10)).isoformat(),
                }
            ]
        billing = {"demo-river": "demo-jordan", "demo-maple": "demo-jordan"}.get(prop)
        doc["invoices"].append(
            {
                "key": f"demo-{slug}-inv-{year}{month:02d}",
                "property": prop,
                "number": f"INV-{year % 100}{month:02d}-{slug[:3].upper()}",
                "billing_contact": billing,
                "proposal": f"demo-{slug}-maint",
                "invoice_date": invoice_date.isoformat(),
                "net_terms_days": 30,
                "shared": True,
                "applied_credits": _money(credits),
                "lines": lines,
                "payments": payments,
            }
        )

    author_contact = {"demo-pine": "demo-morgan", "demo-lake": "demo-pat-s", "demo-cedar": "demo-casey"}.get(
        prop, "demo-pat-n"
    )
    for index, (subject, status, public_reply) in enumerate(
        [
            (
                "Broken sprinkler head by the entrance",
                "open",
                "Thanks for letting us know: a technician will stop by Tuesday.",
            ),
            ("Please skip mowing next week", "closed", "Done: next week's visit is skipped."),
            ("Question about the fall cleanup price", "open", "Sam will call you today to go over it."),
        ]
    ):
        created = today - timedelta(days=20 - index * 6)
        doc["requests"].append(
            {
                "key": f"demo-{slug}-req-{index}",
                "property": prop,
                "number": f"REQ-{slug[:3].upper()}-{101 + index}",
                "subject": subject,
                "description": f"{subject}. Reported from the portal.",
                "include_client": True,
                "status": status,
                "created_at": _at(created, 9),
                "comments": [
                    {
                        "author": author_contact,
                        "body": "Could you take a look when you are next on site?",
                        "public": True,
                        "created_at": _at(created, 10),
                    },
                    {
                        "author": rep,
                        "body": public_reply,
                        "public": True,
                        "created_at": _at(created + timedelta(days=1), 11),
                    },
                    {
                        "author": rep,
                        "body": "Internal: parts on order, check van stock.",
                        "public": False,
                        "created_at": _at(created + timedelta(days=1), 12),
                    },
                ],
            }
        )
    doc["requests"].append(
        {
            "key": f"demo-{slug}-req-internal",
            "property": prop,
            "number": f"REQ-{slug[:3].upper()}-199",
            "subject": "Crew vehicle damaged curb (internal)",
            "include_client": False,
            "status": "open",
            "created_at": _at(today - timedelta(days=2), 9),
            "comments": [],
        }
    )


def seed_demo(settings: Settings, today: date | None = None) -> ImportReport:
    return import_document(settings, build_demo(today or date.today()))


def seed_demo_if_empty(settings: Settings) -> ImportReport | None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            has_branches = session.scalar(select(exists().where(Branch.id.is_not(None))))
    finally:
        engine.dispose()
    return None if has_branches else seed_demo(settings)
