"""The test company every server test starts from: small, with every role, status and branch setting."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

PASSWORD = "correct-horse-battery"


def build_company(today: date) -> dict[str, Any]:
    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    def item(key: str, description: str, quantity: str, price: str, optional: bool = False) -> dict[str, Any]:
        return {"key": key, "description": description, "quantity": quantity, "unit_price": price, "optional": optional}

    def proposal(key: str, prop: str, status: str, shared: str | None = day(-5), **extra: Any) -> dict[str, Any]:
        return {
            "key": key,
            "property": prop,
            "number": f"OPP-{key.upper()}",
            "title": f"Proposal {key}",
            "opportunity_type": "work_order",
            "opportunity_status": status,
            "shared_on": shared,
            "sales_rep": "rep",
            "items": [
                item(f"{key}-1", "Labor", "2", "150.00"),
                item(f"{key}-2", "Materials", "1", "99.99"),
                item(f"{key}-3", "Optional lights", "1", "250.00", optional=True),
                item(f"{key}-4", "Optional mulch", "2", "40.00", optional=True),
            ],
            **extra,
        }

    def invoice(key: str, prop: str, amounts: list[str], paid: list[str] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
        return {
            "key": key,
            "property": prop,
            "number": f"INV-{key.upper()}",
            "invoice_date": extra.pop("invoice_date", day(-10)),
            "net_terms_days": 30,
            "shared": True,
            "lines": [{"service": "Mowing", "description": f"Visit {n}", "amount": a} for n, a in enumerate(amounts)],
            "payments": [{"amount": a, "paid_on": day(-3)} for a in paid],
            **extra,
        }

    return {
        "branches": [
            {
                "slug": "north",
                "name": "North Branch",
                "time_zone": "America/New_York",
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
            },
            {
                "slug": "south",
                "name": "South Branch",
                "time_zone": "UTC",
                "config": {
                    "show_line_item_details": False,
                    "show_sales_rep_phone": True,
                    "electronic_payments": True,
                    "partial_payments": False,
                    "accepted_payment_types": ["card"],
                    "card_fee_percent": "3.00",
                    "ach_fee_flat": "0.00",
                    "requests_enabled": False,
                },
            },
        ],
        "staff": [
            {"key": "rep", "name": "Sam Rep", "email": "sam@example.com", "phone": "555-0100", "branches": ["north"]},
            {"key": "owner", "name": "Alex Owner", "email": "alex@example.com", "branches": ["north"]},
            {
                "key": "office",
                "name": "Olivia Office",
                "email": "office@example.com",
                "password": PASSWORD,
                "branches": ["north"],
            },
            {
                "key": "southrep",
                "name": "Sofia South",
                "email": "sofia@example.com",
                "phone": "555-0300",
                "password": PASSWORD,
                "branches": ["south"],
            },
        ],
        "contacts": [
            {
                "key": "pat",
                "branch": "north",
                "name": "Pat Customer",
                "email": "pat@example.com",
                "phone": "(555) 010-0101",
                "password": PASSWORD,
            },
            {
                "key": "pat-south",
                "branch": "south",
                "name": "Pat Customer",
                "email": "pat@example.com",
                "password": PASSWORD,
            },
            {
                "key": "bill",
                "branch": "north",
                "name": "Billie Payer",
                "email": "billie@example.com",
                "password": PASSWORD,
            },
            {"key": "otto", "branch": "north", "name": "Otto Other", "email": "otto@example.com", "password": PASSWORD},
            {
                "key": "newbie",
                "branch": "north",
                "name": "Nora New",
                "email": "nora@example.com",
                "invitation_token": "invite-nora-0123456789",
            },
        ],
        "properties": [
            {
                "key": "p1",
                "branch": "north",
                "name": "Oak Plaza",
                "address": "1 Oak St",
                "account_owner": "owner",
                "sales_rep": "rep",
                "contacts": [{"contact": "pat", "role": "primary"}],
                "unapplied_credits": "40.00",
            },
            {
                "key": "p2",
                "branch": "north",
                "name": "Birch Court",
                "address": "2 Birch Ct",
                "account_owner": "owner",
                "sales_rep": "rep",
                "contacts": [{"contact": "pat", "role": "billing"}, {"contact": "bill", "role": "primary"}],
            },
            {
                "key": "p3",
                "branch": "north",
                "name": "Cedar House",
                "address": "3 Cedar Rd",
                "account_owner": "owner",
                "sales_rep": "rep",
                "contacts": [{"contact": "pat", "role": "other"}, {"contact": "newbie", "role": "primary"}],
            },
            {
                "key": "p4",
                "branch": "north",
                "name": "Otto's Lot",
                "address": "4 Elm St",
                "account_owner": "owner",
                "sales_rep": "rep",
                "contacts": [{"contact": "otto", "role": "primary"}],
            },
            {
                "key": "p5",
                "branch": "south",
                "name": "Lake House",
                "address": "5 Lake Dr",
                "account_owner": "southrep",
                "sales_rep": "southrep",
                "contacts": [{"contact": "pat-south", "role": "primary"}],
            },
        ],
        "proposals": [
            proposal("o-delivered", "p1", "delivered"),
            proposal("o-won", "p1", "won"),
            proposal("o-lost", "p1", "lost"),
            proposal("o-approved", "p1", "approved"),
            proposal("o-production", "p1", "in_production"),
            proposal("o-complete", "p1", "complete"),
            proposal("o-draft", "p1", "draft", shared=None),
            proposal("o-unshared", "p1", "delivered", shared=None),
            proposal("o-change", "p1", "delivered", change_order_of="o-won"),
            proposal("o-billing", "p2", "delivered"),
            proposal("o-other", "p3", "delivered"),
            proposal("o-otto", "p4", "delivered"),
            proposal("o-south", "p5", "delivered"),
        ],
        "visits": [
            {
                "key": "v-today",
                "property": "p1",
                "date": day(0),
                "status": "scheduled",
                "services": ["Mowing"],
                "notes": [{"text": "Gate code 1234", "shown_in_portal": False}],
            },
            {"key": "v-soon", "property": "p2", "date": day(10), "status": "scheduled", "services": ["Pruning"]},
            {"key": "v-far", "property": "p1", "date": day(31), "status": "scheduled", "services": ["Mowing"]},
            {
                "key": "v-done",
                "property": "p1",
                "date": day(-3),
                "status": "completed",
                "services": ["Mowing", "Edging"],
                "notes": [
                    {"text": "Mowed and edged", "shown_in_portal": True},
                    {"text": "Dog bit rake", "shown_in_portal": False},
                ],
            },
            {"key": "v-old", "property": "p1", "date": day(-45), "status": "completed", "services": ["Cleanup"]},
            {"key": "v-otto", "property": "p4", "date": day(2), "status": "scheduled", "services": ["Mowing"]},
        ],
        "invoices": [
            invoice("i-due", "p1", ["100.00", "20.50"], proposal="o-won"),
            invoice("i-partial", "p1", ["300.00"], paid=["100.00"], applied_credits="50.00"),
            invoice("i-paid", "p1", ["80.00"], paid=["80.00"]),
            invoice("i-billing", "p2", ["60.00"], billing_contact="pat"),
            invoice("i-other", "p3", ["45.00"]),
            invoice("i-unshared", "p1", ["999.00"], shared=False),
            invoice("i-otto", "p4", ["70.00"]),
            invoice("i-south", "p5", ["55.00"]),
        ],
        "requests": [
            {
                "key": "r-open",
                "property": "p1",
                "number": "REQ-1",
                "subject": "Broken sprinkler",
                "description": "Near the gate",
                "include_client": True,
                "status": "open",
                "comments": [
                    {"author": "rep", "body": "We will come Tuesday", "public": True},
                    {"author": "rep", "body": "Internal: order part", "public": False},
                    {"author": "pat", "body": "Thanks!", "public": True},
                ],
            },
            {"key": "r-hidden", "property": "p1", "number": "REQ-2", "subject": "Crew note", "include_client": False},
            {"key": "r-otto", "property": "p4", "number": "REQ-3", "subject": "Otto's request"},
            {"key": "r-south", "property": "p5", "number": "REQ-4", "subject": "South request"},
        ],
    }
