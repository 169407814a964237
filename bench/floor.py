"""The floor: a list page's rows read with one hand-written SQL query through the server's own driver.

The API's time divided by this one says how much the server adds on top of what the database must do.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from server.db import postgres_options

ALL = "all"  # the scope meaning "every property of the signed-in contact"


class Floor:
    """sqlite3 for SQLite, psycopg for PostgreSQL: the same DB-API drivers SQLAlchemy uses in the server,
    with the planner settings the server's sessions have and, like them, no statement prepared on the
    server (server.db), so both ask the same database the same way."""

    def __init__(self, database_url: str) -> None:
        self.postgres = database_url.startswith("postgresql")
        if self.postgres:
            import psycopg

            options = postgres_options(database_url)
            self._conn: Any = psycopg.connect(database_url, autocommit=True, options=options, prepare_threshold=None)
        else:
            self._conn = sqlite3.connect(database_url.split("///", 1)[1], check_same_thread=False)

    def close(self) -> None:
        self._conn.close()

    def value(self, day: date) -> Any:
        """A date as the column stores it (SQLite: ISO text)."""
        return day if self.postgres else day.isoformat()

    def run(self, sql: str, params: Sequence[Any]) -> tuple[list[tuple[Any, ...]], float]:
        if self.postgres:
            sql = sql.replace("?", "%s")
        started = time.perf_counter()
        cursor = self._conn.execute(sql, list(params))
        rows = cursor.fetchall()
        seconds = time.perf_counter() - started
        return rows, seconds

    def one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...]:
        rows, _ = self.run(sql, params)
        return rows[0]


def scope_clause(column: str, scope: str | list[int], contact_id: int, walk: bool = False) -> tuple[str, list[Any]]:
    """`column` restricted to the contact's properties: a subquery for all of them, else the listed ids.

    `walk` writes it `column + 0`, so the database cannot read the selection through an index on the
    column and walks the table's order index instead, stopping after a page: the fastest plan when the
    selection holds most of the table (the server does the same for such selections).
    """
    target = f"{column} + 0" if walk else column
    if scope == ALL:
        return f"{target} IN (SELECT property_id FROM property_contacts WHERE contact_id = ?)", [contact_id]  # noqa: S608
    ids = list(scope)
    return f"{target} IN ({','.join('?' * len(ids))})", ids


def keyset_clause(first: str, second: str, after: tuple[Any, Any] | None, descending: bool) -> tuple[str, list[Any]]:
    if after is None:
        return "", []
    op = "<" if descending else ">"
    # A row-value comparison, as the server writes it: both databases read it as one range of an index
    # on (first, second), where the OR form made SQLite walk the index from its start.
    return f" AND ({first}, {second}) {op} (?, ?)", [after[0], after[1]]


# Each page query reads the page's keys from the table alone (an index holding filter and order columns
# answers it without visiting rows), then joins the property names for those rows only: the fastest single
# statement we know for a selection of any size, so the floor is what the database cannot avoid doing.
INVOICES = """
SELECT i.id, i.number, i.property_id, p.name, i.services, i.invoice_date, i.due_date, i.total, i.balance
FROM invoices i JOIN properties p ON p.id = i.property_id
WHERE i.id IN (SELECT k.id FROM invoices k WHERE {scope} AND k.shared = true AND k.balance > 0{after}
               ORDER BY k.invoice_date DESC, k.id DESC LIMIT ?)
ORDER BY i.invoice_date DESC, i.id DESC"""

VISITS_UPCOMING = """
SELECT v.id, v.date, v.property_id, p.name, v.services, v.status
FROM visits v JOIN properties p ON p.id = v.property_id
WHERE v.id IN (SELECT k.id FROM visits k WHERE {scope} AND k.status = 'scheduled' AND k.date >= ? AND k.date <= ?{after}
               ORDER BY k.date, k.id LIMIT ?)
ORDER BY v.date, v.id"""

PROPOSALS = """
SELECT o.id, o.number, o.title, o.property_id, p.name, o.opportunity_status, o.is_signed, o.total, o.shared_on,
       o.change_order_of_id
FROM proposals o JOIN properties p ON p.id = o.property_id
WHERE o.id IN (SELECT k.id FROM proposals k
               WHERE {scope} AND k.shared_on IS NOT NULL AND k.opportunity_status <> 'draft'{after}
               ORDER BY k.shared_on DESC, k.id DESC LIMIT ?)
ORDER BY o.shared_on DESC, o.id DESC"""

REQUESTS = """
SELECT r.id, r.number, r.subject, r.property_id, p.name, r.status, r.created_at, r.last_activity_at,
       r.public_comment_count
FROM requests r JOIN properties p ON p.id = r.property_id
WHERE r.id IN (SELECT k.id FROM requests k WHERE {scope} AND k.include_client = true{after}
               ORDER BY k.last_activity_at DESC, k.id DESC LIMIT ?)
ORDER BY r.last_activity_at DESC, r.id DESC"""

PROPERTIES = """
SELECT p.id, p.name, p.address, pc.role
FROM property_contacts pc JOIN properties p ON p.id = pc.property_id
WHERE pc.contact_id = ?
ORDER BY p.name, p.id"""

BALANCE = """
SELECT coalesce(sum(i.balance), 0), count(*),
       (SELECT coalesce(sum(p.unapplied_credits), 0) FROM properties p WHERE {property_scope})
FROM invoices i WHERE {scope} AND i.shared = true AND i.balance > 0"""

# table, first order column, second order column, descending: how to find a page's keyset from a row id.
ORDER = {
    "invoices": ("invoice_date", "id", True),
    "visits": ("date", "id", False),
    "proposals": ("shared_on", "id", True),
    "requests": ("last_activity_at", "id", True),
}
