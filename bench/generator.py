"""The large commercial customer as an import document (api.md "Import format"), the same for a given seed.

One branch; one property manager tied to every one of the company's big-customer properties (primary on
60 %, billing on 20 %, other on 20 %); invoices, visits, proposals and requests spread over those
properties with a skew (a few campus-sized properties hold far more than the rest, as in real portfolios);
and other contacts, each with a small property of their own and some tied to a few of the big customer's
properties, so the authorization filters have rows to leave out.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from server.models import OPPORTUNITY_STATUSES

BRANCH = "bench"
MAIN_CONTACT = "c-main"
MAIN_EMAIL = "manager@bench.example"
STAFF_EMAIL = "office@bench.example"
PASSWORD = "bench-password-1"
DEFAULT_SEED = 20261201

_SERVICES = ("Mowing", "Edging", "Shrub pruning", "Leaf cleanup", "Irrigation check", "Fertilization", "Snow removal")
_STREETS = ("Oak", "Maple", "Cedar", "Birch", "Elm", "Willow", "Aspen", "Pine", "Spruce", "Walnut", "Hickory")
_KINDS = ("Plaza", "Court", "Commons", "Residences", "Office Park", "Campus Hall", "Clubhouse", "Villas")
_FIRST = ("Alex", "Sam", "Jordan", "Casey", "Riley", "Taylor", "Morgan", "Avery", "Quinn", "Jamie", "Drew")
_LAST = ("Nguyen", "Smith", "Garcia", "Brown", "Lee", "Patel", "Kim", "Lopez", "Clark", "Young", "Hall")
_NOTES = (
    "Mowed and edged all turf areas; clippings blown off walks.",
    "Irrigation zone 3 head replaced; system running normally.",
    "Pruned shrubs along the entrance; debris hauled away.",
    "Gate code 4411; call the site manager before entering.",
)
_REQUEST_STATUSES = ("open", "in_progress", "waiting_on_client", "closed")
# How often each opportunity status occurs (drafts exist but are never shared, PR-1).
_STATUS_WEIGHTS = {
    "draft": 5,
    "delivered": 30,
    "won": 15,
    "lost": 15,
    "approved": 10,
    "in_production": 10,
    "complete": 15,
}


@dataclass(frozen=True)
class Sizes:
    properties: int = 1000
    invoices: int = 60_000
    paid_share: float = 0.7
    visits: int = 30_000
    proposals: int = 6_000
    requests: int = 6_000
    comments: int = 30_000
    other_contacts: int = 200
    staff: int = 8

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SIZES = Sizes()
SMALL_SIZES = Sizes(
    properties=20,
    invoices=600,
    visits=300,
    proposals=60,
    requests=60,
    comments=300,
    other_contacts=5,
    staff=3,
)


def anchor_date(today: date) -> date:
    """Dates are generated around the first of the month, so one database serves a whole month of runs."""
    return today.replace(day=1)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def _at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour % 24), tzinfo=UTC).isoformat()


class _Builder:
    def __init__(self, sizes: Sizes, seed: int, anchor: date) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.staff_keys = [f"s-rep-{n}" for n in range(1, sizes.staff + 1)]
        self.main_properties: list[str] = []
        self.weights: list[int] = []
        self.completed_visits: dict[str, list[str]] = {}

    def day_between(self, start: int, end: int) -> date:
        return self.anchor + timedelta(days=self.rng.randint(start, end))

    def pick_property(self) -> str:
        return self.rng.choices(self.main_properties, cum_weights=self.weights)[0]

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def build(self) -> dict[str, Any]:
        sizes = self.sizes
        staff: list[dict[str, Any]] = [
            {"key": key, "name": self.person(), "email": f"{key}@bench.example", "branches": [BRANCH]}
            for key in self.staff_keys
        ]
        staff.append(
            {
                "key": "s-office",
                "name": "Olive Office",
                "email": STAFF_EMAIL,
                "phone": "555-010-1000",
                "password": PASSWORD,
                "branches": [BRANCH],
            }
        )
        contacts: list[dict[str, Any]] = [
            {
                "key": MAIN_CONTACT,
                "branch": BRANCH,
                "name": "Harbor Property Management",
                "email": MAIN_EMAIL,
                "phone": "555-010-0001",
                "password": PASSWORD,
            }
        ]
        for n in range(1, sizes.other_contacts + 1):
            contacts.append(
                {
                    "key": f"c-{n:04d}",
                    "branch": BRANCH,
                    "name": self.person(),
                    "email": f"contact-{n:04d}@bench.example",
                    "phone": f"555-02{n % 100:02d}-{n:04d}",
                }
            )
        roles = self._roles(sizes.properties)
        properties: list[dict[str, Any]] = []
        for n in range(1, sizes.properties + 1):
            key = f"p-{n:05d}"
            self.main_properties.append(key)
            links = [{"contact": MAIN_CONTACT, "role": roles[n - 1]}]
            properties.append(self._property(key, n, links))
        # A few campus-sized properties hold many times more work than the rest.
        big = max(1, sizes.properties // 100)
        running = 0
        for n in range(sizes.properties):
            running += 20 if n < big else 1
            self.weights.append(running)
        for n in range(1, sizes.other_contacts + 1):
            contact = f"c-{n:04d}"
            properties.append(
                self._property(f"p-own-{n:04d}", sizes.properties + n, [{"contact": contact, "role": "primary"}])
            )
            if n % 4 == 0:  # site managers who see a handful of the big customer's properties too
                for key in self.rng.sample(self.main_properties, min(5, sizes.properties)):
                    properties[int(key[2:]) - 1]["contacts"].append({"contact": contact, "role": "other"})
        own = [p["key"] for p in properties[sizes.properties :]]
        visits = self._visits(sizes.visits, own)
        return {
            "branches": [
                {
                    "slug": BRANCH,
                    "name": "Benchmark Landscaping",
                    "time_zone": "UTC",
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
                }
            ],
            "staff": staff,
            "contacts": contacts,
            "properties": properties,
            "proposals": self._proposals(sizes.proposals, own),
            "visits": visits,
            "invoices": self._invoices(sizes.invoices, own),
            "requests": self._requests(sizes.requests, sizes.comments, own),
        }

    def _roles(self, count: int) -> list[str]:
        primary, billing = count * 6 // 10, count * 2 // 10
        roles = ["primary"] * primary + ["billing"] * billing + ["other"] * (count - primary - billing)
        self.rng.shuffle(roles)
        return roles

    def _property(self, key: str, n: int, links: list[dict[str, str]]) -> dict[str, Any]:
        street = self.rng.choice(_STREETS)
        return {
            "key": key,
            "branch": BRANCH,
            "name": f"{street} {self.rng.choice(_KINDS)} {n:04d}",
            "address": f"{self.rng.randint(1, 9999)} {street} Street, Springfield",
            "account_owner": self.rng.choice(self.staff_keys),
            "sales_rep": self.rng.choice(self.staff_keys),
            "contacts": links,
            "unapplied_credits": _money(_cents(self.rng, 0, 300)) if self.rng.random() < 0.1 else "0.00",
        }

    def _targets(self, count: int, own: list[str], extra_each: int) -> list[str]:
        """The property of each record: the big customer's (skewed), then `extra_each` per other contact."""
        return [self.pick_property() for _ in range(count)] + [key for key in own for _ in range(extra_each)]

    def _visits(self, count: int, own: list[str]) -> list[dict[str, Any]]:
        visits = []
        for n, prop in enumerate(self._targets(count, own, 2), start=1):
            day = self.day_between(-365, 365)
            status = "completed" if day < self.anchor else "scheduled"
            key = f"v-{n:06d}"
            if status == "completed":
                self.completed_visits.setdefault(prop, []).append(key)
            notes = [
                {
                    "text": self.rng.choice(_NOTES),
                    "shown_in_portal": self.rng.random() < 0.7,
                    "created_at": _at(day, 15),
                }
                for _ in range(self.rng.randint(0, 2))
            ]
            services = self.rng.sample(_SERVICES, self.rng.randint(1, 3))
            visits.append(
                {
                    "key": key,
                    "property": prop,
                    "date": day.isoformat(),
                    "status": status,
                    "services": services,
                    "notes": notes,
                }
            )
        return visits

    def _invoices(self, count: int, own: list[str]) -> list[dict[str, Any]]:
        invoices = []
        for n, prop in enumerate(self._targets(count, own, 3), start=1):
            rng = self.rng
            day = self.day_between(-730, 0)
            lines: list[dict[str, Any]] = []
            for _ in range(rng.randint(1, 3)):
                done = self.completed_visits.get(prop)
                lines.append(
                    {
                        "service": rng.choice(_SERVICES),
                        "description": "Scheduled service",
                        "visit": rng.choice(done) if done and rng.random() < 0.5 else None,
                        "amount": _money(_cents(rng, 40, 900)),
                    }
                )
            total = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))
            credits = (
                (total * Decimal(rng.randint(1, 20)) / 100).quantize(Decimal("0.01"))
                if rng.random() < 0.1
                else Decimal(0)
            )
            remaining = total - credits
            paid_on = min(day + timedelta(days=rng.randint(0, 40)), self.anchor)
            payments: list[Decimal] = []
            if rng.random() < self.sizes.paid_share:
                first = (remaining * Decimal(rng.randint(30, 70)) / 100).quantize(Decimal("0.01"))
                payments = [first, remaining - first] if rng.random() < 0.3 and first > 0 else [remaining]
            elif rng.random() < 0.25:
                payments = [(remaining * Decimal(rng.randint(10, 50)) / 100).quantize(Decimal("0.01"))]
            invoices.append(
                {
                    "key": f"i-{n:06d}",
                    "property": prop,
                    "number": f"INV-{100000 + n}",
                    "billing_contact": MAIN_CONTACT if not prop.startswith("p-own") else None,
                    "invoice_date": day.isoformat(),
                    "net_terms_days": rng.choice((0, 15, 30, 30, 45)),
                    "shared": rng.random() < 0.97,
                    "applied_credits": _money(credits),
                    "lines": lines,
                    "payments": [{"amount": _money(p), "paid_on": paid_on.isoformat()} for p in payments if p > 0],
                }
            )
        return invoices

    def _proposals(self, count: int, own: list[str]) -> list[dict[str, Any]]:
        statuses = [s for s in OPPORTUNITY_STATUSES for _ in range(_STATUS_WEIGHTS[s])]
        last_on: dict[str, str] = {}
        proposals = []
        for n, prop in enumerate(self._targets(count, own, 1), start=1):
            rng = self.rng
            key = f"o-{n:06d}"
            status = rng.choice(statuses)
            items = []
            for j in range(rng.randint(2, 5)):
                items.append(
                    {
                        "key": f"{key}-{j}",
                        "description": f"{rng.choice(_SERVICES)} ({rng.choice(('front', 'rear', 'courtyard', 'lot'))})",
                        "quantity": str(rng.randint(1, 12)),
                        "unit_price": _money(_cents(rng, 20, 600)),
                        "optional": j > 0 and rng.random() < 0.2,
                    }
                )
            base = last_on.get(prop)
            proposals.append(
                {
                    "key": key,
                    "property": prop,
                    "number": f"OPP-{200000 + n}",
                    "title": f"{rng.choice(_SERVICES)} program {n}",
                    "opportunity_type": rng.choice(("work_order", "contract")),
                    "opportunity_status": status,
                    "shared_on": None if status == "draft" else self.day_between(-730, 0).isoformat(),
                    "sales_rep": rng.choice(self.staff_keys),
                    "change_order_of": base if base and rng.random() < 0.05 else None,
                    "items": items,
                }
            )
            last_on[prop] = key
        return proposals

    def _requests(self, count: int, comments: int, own: list[str]) -> list[dict[str, Any]]:
        targets = self._targets(count, own, 1)
        per_request = [0] * len(targets)
        for index in self.rng.choices(range(count), k=comments):
            per_request[index] += 1
        requests = []
        for n, prop in enumerate(targets, start=1):
            rng = self.rng
            created = datetime.combine(self.day_between(-730, 0), time(rng.randint(7, 17)), tzinfo=UTC)
            author_contact = MAIN_CONTACT if not prop.startswith("p-own") else f"c-{prop[-4:]}"
            thread = [
                {
                    "author": rng.choice(self.staff_keys) if j % 2 else author_contact,
                    "body": f"Update {j + 1} on this request.",
                    "public": rng.random() < 0.85,
                    "created_at": (created + timedelta(hours=4 * (j + 1))).isoformat(),
                }
                for j in range(per_request[n - 1])
            ]
            requests.append(
                {
                    "key": f"r-{n:06d}",
                    "property": prop,
                    "number": f"REQ-{300000 + n}",
                    "subject": f"{rng.choice(_SERVICES)} question {n}",
                    "description": "Please take a look when the crew is next on site.",
                    "include_client": rng.random() < 0.9,
                    "status": rng.choice(_REQUEST_STATUSES),
                    "created_at": created.isoformat(),
                    "comments": thread,
                }
            )
        return requests


def build_company(sizes: Sizes = DEFAULT_SIZES, seed: int = DEFAULT_SEED, today: date | None = None) -> dict[str, Any]:
    """The import document; the same sizes, seed and month always give the same document."""
    return _Builder(sizes, seed, anchor_date(today or date.today())).build()


def count_records(document: dict[str, Any]) -> int:
    """Every row the document describes, children included (the figure records/second is computed from)."""
    total = 0
    for section, rows in document.items():
        total += len(rows)
        for row in rows:
            if section == "properties":
                total += len(row["contacts"])
            for child in ("items", "notes", "lines", "payments", "comments"):
                total += len(row.get(child, ()))
    return total
