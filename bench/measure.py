"""The server measurements: one table entry per endpoint, each timed over N requests after a warm-up.

An endpoint the server does not have yet (absent from /openapi.json, or answering 404/405) is skipped with
a "not available yet" line, so entries light up by themselves when the feature lands.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench import floor as sql
from bench.dataset import Dataset
from bench.floor import ALL, Floor
from bench.server import Api

# 30 % of 60,000 invoices are due: about 18,000 rows, so limit 50 gives 360 pages (100 would not reach 200).
INVOICE_LIMIT = 50
LIST_LIMIT = 100  # the API's default page size
DEEP_PAGES = 200
UPCOMING_DAYS = 30


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far: the server's work per request, whatever else loads the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    kind: str
    available: bool
    note: str = ""
    n: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    server_cpu_ms: float | None = None
    floor_p50_ms: float | None = None
    floor_p95_ms: float | None = None
    ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, Any]] = field(default_factory=list)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Case:
    """One measured endpoint. `route` is its OpenAPI path under the API base, `{}` standing for any parameter."""

    name: str
    kind: str  # reference | list | balance | detail | search | payment
    method: str
    route: str
    request: Callable[[], Request]  # called for every request (payments need a fresh Idempotency-Key each time)
    floor: tuple[str, list[Any]] | None = None
    staff: bool = False
    note: str = ""


class Context:
    """What the cases are built from: ids, cursors and keysets found through the API before timing starts."""

    def __init__(self, api: Api, staff_api: Api, db: Floor, dataset: Dataset, today: date) -> None:
        self.api = api
        self.staff_api = staff_api
        self.db = db
        self.dataset = dataset
        self.today = today
        properties = api.call("GET", "/properties").json()["items"]
        self.property_ids = sorted(p["id"] for p in properties)
        self.contact_id = int(db.one("SELECT id FROM contacts WHERE email = ?", [dataset.facts["contact_email"]])[0])
        self.largest = int(db.one("SELECT id FROM properties WHERE key = ?", [dataset.facts["largest_property"]])[0])
        self.hundred = self.property_ids[:100]
        self.paths = self._paths()

    def _paths(self) -> set[tuple[str, str]]:
        spec = self.api.call("GET", "/openapi.json", absolute=True).json()
        prefix = self.api.base.replace(self.dataset.facts["branch"], "{branch_slug}")
        found: set[tuple[str, str]] = set()
        for path, methods in spec["paths"].items():
            if path.startswith(prefix):
                generic = re.sub(r"\{[^}]+\}", "{}", path.removeprefix(prefix))
                found.update((method.upper(), generic) for method in methods)
        return found

    def has(self, method: str, route: str) -> bool:
        return (method, route) in self.paths

    @staticmethod
    def scope_query(scope: str | list[int]) -> list[tuple[str, Any]]:
        return [] if scope == ALL else [("property_id", pid) for pid in scope]

    def walk(self, path: str, query: list[tuple[str, Any]], pages: int) -> tuple[str | None, int, int | None]:
        """Follows next_cursor up to `pages` pages: (cursor of the last page reached, its page number, id of
        the row before it)."""
        cursor: str | None = None
        page, last_id = 1, None
        for _ in range(pages - 1):
            answer = self.api.call("GET", path, [*query, *([("cursor", cursor)] if cursor else [])]).json()
            if answer["next_cursor"] is None:
                break
            cursor, page, last_id = answer["next_cursor"], page + 1, answer["items"][-1]["id"]
        return cursor, page, last_id

    def keyset(self, table: str, row_id: int | None) -> tuple[Any, Any] | None:
        if row_id is None:
            return None
        first, second, _ = sql.ORDER[table]
        row = self.db.one(f"SELECT {first}, {second} FROM {table} WHERE id = ?", [row_id])  # noqa: S608
        return row[0], row[1]

    def floor_query(
        self,
        template: str,
        table: str,
        alias: str,
        scope: str | list[int],
        limit: int,
        after_id: int | None = None,
        extra: Sequence[Any] = (),
        walk: bool = False,
    ) -> tuple[str, list[Any]]:
        where, params = sql.scope_clause(f"{alias}.property_id", scope, self.contact_id, walk)
        first, second, descending = sql.ORDER[table]
        after, after_params = sql.keyset_clause(
            f"{alias}.{first}", f"{alias}.{second}", self.keyset(table, after_id), descending
        )
        return template.format(scope=where, after=after), [*params, *extra, *after_params, limit]

    def first_id(self, path: str, query: list[tuple[str, Any]] | None = None) -> int | None:
        answer = self.api.call("GET", path, query or [("limit", 1)])
        if answer.status != 200 or not answer.json()["items"]:
            return None
        return int(answer.json()["items"][0]["id"])


def invoice_cases(ctx: Context) -> list[Case]:
    """The floor of the 1,000-property selection walks the date index (see floor.scope_clause), as its fastest plan."""
    cases = []
    for label, scope in (("all 1,000 properties", ALL), ("1 property", [ctx.largest]), ("100 properties", ctx.hundred)):
        query = [("status", "due"), ("limit", INVOICE_LIMIT), *ctx.scope_query(scope)]
        cases.append(
            Case(
                f"invoices due, first page, {label}",
                "list",
                "GET",
                "/invoices",
                partial(Request, "GET", "/invoices", query),
                ctx.floor_query(sql.INVOICES, "invoices", "k", scope, INVOICE_LIMIT, walk=scope == ALL),
            )
        )
        cursor, page, last_id = ctx.walk("/invoices", query, DEEP_PAGES)
        if cursor is None:
            continue
        deep = [*query, ("cursor", cursor)]
        cases.append(
            Case(
                f"invoices due, page {page}, {label}",
                "list",
                "GET",
                "/invoices",
                partial(Request, "GET", "/invoices", deep),
                ctx.floor_query(sql.INVOICES, "invoices", "k", scope, INVOICE_LIMIT, last_id, walk=scope == ALL),
                note="" if page == DEEP_PAGES else f"the last page: {page} pages of {INVOICE_LIMIT} exist",
            )
        )
    return cases


def other_list_cases(ctx: Context) -> list[Case]:
    upcoming = (ctx.db.value(ctx.today), ctx.db.value(ctx.today + timedelta(days=UPCOMING_DAYS)))
    return [
        Case(
            "properties (the filter's 1,000 choices)",
            "list",
            "GET",
            "/properties",
            lambda: Request("GET", "/properties"),
            (sql.PROPERTIES, [ctx.contact_id]),
        ),
        Case(
            "proposals, first page",
            "list",
            "GET",
            "/proposals",
            lambda: Request("GET", "/proposals"),
            ctx.floor_query(sql.PROPOSALS, "proposals", "k", ALL, LIST_LIMIT),
        ),
        Case(
            "visits upcoming, first page",
            "list",
            "GET",
            "/visits",
            lambda: Request("GET", "/visits", [("when", "upcoming")]),
            ctx.floor_query(sql.VISITS_UPCOMING, "visits", "k", ALL, LIST_LIMIT, extra=upcoming),
        ),
        Case(
            "requests, first page",
            "list",
            "GET",
            "/requests",
            lambda: Request("GET", "/requests"),
            ctx.floor_query(sql.REQUESTS, "requests", "k", ALL, LIST_LIMIT),
        ),
    ]


def balance_cases(ctx: Context) -> list[Case]:
    cases = []
    for label, scope in (("no filter (all 1,000)", ALL), ("1,000 property_ids", ctx.property_ids)):
        where, params = sql.scope_clause("i.property_id", scope, ctx.contact_id)
        property_where, property_params = sql.scope_clause("p.id", scope, ctx.contact_id)
        query = ctx.scope_query(scope)
        cases.append(
            Case(
                f"balance, {label}",
                "balance",
                "GET",
                "/balance",
                partial(Request, "GET", "/balance", query),
                (sql.BALANCE.format(scope=where, property_scope=property_where), [*property_params, *params]),
            )
        )
    return cases


def detail_cases(ctx: Context) -> list[Case]:
    cases = []
    for name, path, query in (
        ("invoice detail", "/invoices", [("status", "due"), ("limit", 1)]),
        ("proposal detail", "/proposals", None),
        ("visit detail", "/visits", [("when", "completed"), ("days", 365), ("limit", 1)]),
        ("request detail", "/requests", None),
    ):
        row_id = ctx.first_id(path, query) if ctx.has("GET", path + "/{}") else None
        cases.append(Case(name, "detail", "GET", path + "/{}", partial(Request, "GET", f"{path}/{row_id}")))
    return cases


def search_cases(ctx: Context) -> list[Case]:
    number = ctx.dataset.facts["search_invoice_number"]
    return [
        Case(
            f"staff search q={number}",
            "search",
            "GET",
            "/staff/contacts",
            lambda: Request("GET", "/staff/contacts", [("q", number)]),
            staff=True,
        )
    ]


def payment_cases(ctx: Context) -> list[Case]:
    if not (ctx.has("POST", "/invoices/{}/payments") and ctx.has("POST", "/payment-methods")):
        return [
            Case(
                "pay one invoice (sandbox card)",
                "payment",
                "POST",
                "/invoices/{}/payments",
                lambda: Request("POST", "/"),
            )
        ]
    method = ctx.api.call(
        "POST",
        "/payment-methods",
        body={
            "type": "card",
            "card_number": "4242424242424242",
            "exp_month": 12,
            "exp_year": ctx.today.year + 3,
            "cvc": "123",
            "holder_name": "Bench Payer",
            "postal_code": "12345",
        },
    )
    if method.status != 201:
        raise RuntimeError(f"adding a sandbox card failed: {method.status} {method.body[:300]!r}")
    method_id = method.json()["id"]
    # The largest due balances first, so every timed payment of 1.00 fits.
    invoice_id = int(
        ctx.db.one(
            "SELECT i.id FROM invoices i JOIN property_contacts pc ON pc.property_id = i.property_id "
            "WHERE pc.contact_id = ? AND pc.role = 'primary' AND i.shared AND i.balance > 10000 ORDER BY i.balance DESC LIMIT 1",
            [ctx.contact_id],
        )[0]
    )

    def pay() -> Request:
        return Request(
            "POST",
            f"/invoices/{invoice_id}/payments",
            body={"amount": "1.00", "payment_method_id": method_id},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    return [Case("pay one invoice (sandbox card)", "payment", "POST", "/invoices/{}/payments", pay)]


def reference_cases(ctx: Context) -> list[Case]:
    """What any request costs before it does its own work: the HTTP exchange alone, then with the
    caller's sign-in checked. They put the API / floor ratios in scale (a floor of 0.3 ms is a tenth
    of a bare request), and have no target of their own."""
    return [
        Case(
            "reference: GET /version (HTTP only)", "reference", "GET", "/version", partial(Request, "GET", "/version")
        ),
        Case("reference: GET /me (HTTP + sign-in check)", "reference", "GET", "/me", partial(Request, "GET", "/me")),
    ]


CASE_BUILDERS: tuple[Callable[[Context], list[Case]], ...] = (
    reference_cases,
    invoice_cases,
    other_list_cases,
    balance_cases,
    detail_cases,
    search_cases,
    payment_cases,
)


def run_case(case: Case, ctx: Context, server_pid: int, warmup: int, n: int, log: Callable[[str], None]) -> Result:
    result = Result(case.name, case.kind, available=False, note=case.note)
    if not ctx.has(case.method, case.route):
        result.note = "not available yet (not in /openapi.json)"
        log(f"  {case.name}: {result.note}")
        return result
    api = ctx.staff_api if case.staff else ctx.api
    first = case.request()
    probe = api.call(first.method, first.path, first.query, first.body, first.headers)
    if probe.status in (404, 405):
        result.note = f"not available yet ({probe.status})"
        log(f"  {case.name}: {result.note}")
        return result
    if probe.status >= 400:
        raise RuntimeError(f"{case.name}: {probe.status} {probe.body[:300]!r}")
    for _ in range(warmup - 1):
        req = case.request()
        api.call(req.method, req.path, req.query, req.body, req.headers)
    times = []
    cpu_before = _cpu_seconds(server_pid)
    for _ in range(n):
        req = case.request()
        answer = api.call(req.method, req.path, req.query, req.body, req.headers)
        if answer.status >= 400:
            raise RuntimeError(f"{case.name}: {answer.status} {answer.body[:300]!r}")
        times.append(answer.seconds)
    cpu = _cpu_seconds(server_pid) - cpu_before
    result.available = True
    result.n = n
    result.p50_ms = percentile(times, 0.5) * 1000
    result.p95_ms = percentile(times, 0.95) * 1000
    result.server_cpu_ms = cpu / n * 1000
    body = probe.json() if probe.body else {}
    if isinstance(body, dict) and "items" in body and "total" in body:
        result.extra = {"total": body["total"], "items": len(body["items"])}
    if case.floor is not None:
        statement, params = case.floor
        rows: list[Any] = []
        for _ in range(warmup):
            rows, _seconds = ctx.db.run(statement, params)
        floor_times = [ctx.db.run(statement, params)[1] for _ in range(n)]
        result.floor_p50_ms = percentile(floor_times, 0.5) * 1000
        result.floor_p95_ms = percentile(floor_times, 0.95) * 1000
        result.ratio = result.p50_ms / result.floor_p50_ms if result.floor_p50_ms else None
        if "items" in result.extra and case.kind == "list" and len(rows) != result.extra["items"]:
            raise RuntimeError(
                f"{case.name}: the floor query read {len(rows)} rows, the API sent {result.extra['items']}"
            )
    log(
        f"  {case.name}: p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms"
        + (f", floor {result.floor_p50_ms:.2f} ms, x{result.ratio:.1f}" if result.ratio else "")
    )
    return result


def measure_server(ctx: Context, server_pid: int, warmup: int, n: int, log: Callable[[str], None]) -> list[Result]:
    results = []
    for build in CASE_BUILDERS:
        for case in build(ctx):
            started = time.perf_counter()
            results.append(run_case(case, ctx, server_pid, warmup, n, log))
            results[-1].extra["seconds"] = round(time.perf_counter() - started, 2)
    return results


BARE_APP = "reference: bare FastAPI route (no database, no middleware)"


def measure_bare_app(port: int, warmup: int, n: int, log: Callable[[str], None]) -> Result:
    """bench.bare_app's one route, timed as the portal's endpoints are: the least a FastAPI answer costs."""
    api = Api(port, "")
    try:
        for _ in range(warmup):
            api.call("GET", "/ping", absolute=True)
        times = [api.call("GET", "/ping", absolute=True).seconds for _ in range(n)]
    finally:
        api.close()
    result = Result(BARE_APP, "reference", available=True, n=n)
    result.p50_ms = percentile(times, 0.5) * 1000
    result.p95_ms = percentile(times, 0.95) * 1000
    log(f"  {BARE_APP}: p50 {result.p50_ms:.2f} ms, p95 {result.p95_ms:.2f} ms")
    return result


def best_possible_ratios(results: Sequence[Result], bare: Result) -> None:
    """Each list's API / floor had its route cost no more than the bare one (extra["best_possible_ratio"]):
    a ratio target below it cannot be met by any FastAPI server on this machine."""
    for result in results:
        if result.floor_p50_ms and bare.p50_ms:
            result.extra["best_possible_ratio"] = round(bare.p50_ms / result.floor_p50_ms, 2)
