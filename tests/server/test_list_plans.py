"""A list reads the same pages whichever plan the database follows (IN-1, PF-2).

A selection holding much of the branch walks the invoice date index and stops after a page; a small one
reads its own invoices and sorts them (paginate's Walk, wide_scope). The test company is too small for the
server to choose the walk by itself, so both plans are asked for here and compared.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, func, select, true
from sqlalchemy.orm import Session

from server.api.paging import Walk, paginate
from server.db import RANDOM_PAGE_COST_ENV, SSD_RANDOM_PAGE_COST, make_engine, postgres_options
from server.models import Contact, Invoice, Property
from server.services.access import WIDE_SHARE, PropertyScope, wide_scope
from server.services.listing import invoices_query
from tests.server.conftest import NORTH, property_ids


def _walk_every_page(session: Session, scope: PropertyScope, status: str, walk: bool) -> tuple[list[int], set[int]]:
    """Every page at limit 2: the ids in order, and the totals the pages reported."""
    ids: list[int] = []
    totals: set[int] = set()
    cursor = None
    # Always walking (`pays` true, walk_after 0) against never walking.
    walking = Walk(invoices_query(scope.kind, status, walk_order=True), true()) if walk else None
    while True:
        page = paginate(
            session,
            invoices_query(scope.kind, status),
            [Invoice.invoice_date, Invoice.id],
            params=scope.params,
            descending=True,
            cursor=cursor,
            limit=2,
            display_joins=True,
            walk=walking,
            walk_after=0,
        )
        ids += [row.id for row in page.items]
        totals.add(page.total)
        cursor = page.next_cursor
        if cursor is None:
            return ids, totals


@pytest.mark.parametrize("status", ["all", "due"])  # (the company has one paid invoice)
def test_walking_the_date_order_reads_the_same_pages(client: TestClient, pat: dict[str, str], status: str) -> None:
    factory: Any = client.app.state.session_factory  # type: ignore[attr-defined]
    everything = client.get(f"{NORTH}/invoices", headers=pat, params={"status": status, "limit": 500}).json()
    picked = sorted(property_ids(client, pat).values())
    # No request while the session is open: on SQLite it holds the database's write lock.
    with factory() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "pat@example.com"))
        assert contact is not None
        for scope in (
            PropertyScope(contact.id, contact.branch_id),
            PropertyScope(contact.id, contact.branch_id, tuple(picked)),
        ):
            sorted_ids, sorted_totals = _walk_every_page(session, scope, status, walk=False)
            walked_ids, walked_totals = _walk_every_page(session, scope, status, walk=True)
            assert walked_ids == sorted_ids == [item["id"] for item in everything["items"]]
            assert walked_totals == sorted_totals == {everything["total"]}
    assert len(everything["items"]) > 2  # several pages were walked


def test_postgresql_sessions_price_random_reads_for_ssds(client: TestClient) -> None:
    """With PostgreSQL's default price of a random read (4, a spinning disk's), a list's total over a large
    selection read the whole invoice table rather than the listing index (server/db.py)."""
    engine: Any = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    with engine.connect() as connection:
        assert float(connection.exec_driver_sql("SHOW random_page_cost").scalar_one()) == SSD_RANDOM_PAGE_COST


def test_postgresql_options_of_the_operator_are_kept(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's own session settings, in PGOPTIONS or the URL (`?options=-c ...`), still apply, and
    theirs win over ours."""
    engine: Any = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL connection options")
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=2345")
    url = engine.url.update_query_dict({"options": "-c statement_timeout=4321 -c random_page_cost=2"})
    own = make_engine(url.render_as_string(hide_password=False))
    try:
        with own.connect() as connection:
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar_one() == "2345ms"
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar_one() == "4321ms"
            assert float(connection.exec_driver_sql("SHOW random_page_cost").scalar_one()) == 2
    finally:
        own.dispose()


def test_postgresql_statements_are_never_prepared_on_the_server(client: TestClient) -> None:
    """Behind a transaction pooler (PgBouncer) a server-side prepared statement lives on a connection the
    next transaction may not get: psycopg's automatic preparing (from a statement's fifth run on a
    connection) broke requests there with "prepared statement ... already exists"."""
    engine: Any = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL prepared statements")
    own = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with own.connect() as connection:
            count_due = select(func.count()).select_from(Invoice).where(Invoice.balance > bindparam("least"))
            for _ in range(10):
                connection.execute(count_due, {"least": 0}).scalar_one()
            prepared = connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar_one()
        assert prepared == 0
    finally:
        own.dispose()


def test_a_pooler_deployment_can_leave_random_page_cost_to_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """PgBouncer refuses a start-up option it does not track: PORTAL_PG_RANDOM_PAGE_COST=database sends none
    of ours, a number sends that one, and a typo stops the start instead of reaching PostgreSQL."""
    url = "postgresql://portal@db.example/portal?options=-c%20statement_timeout%3D5000"
    monkeypatch.delenv("PGOPTIONS", raising=False)
    monkeypatch.delenv(RANDOM_PAGE_COST_ENV, raising=False)
    assert postgres_options(url) == f"-c random_page_cost={SSD_RANDOM_PAGE_COST} -c statement_timeout=5000"
    monkeypatch.setenv(RANDOM_PAGE_COST_ENV, "database")
    assert postgres_options(url) == "-c statement_timeout=5000"
    monkeypatch.setenv(RANDOM_PAGE_COST_ENV, " 2 ")
    assert postgres_options(url) == "-c random_page_cost=2 -c statement_timeout=5000"
    for typo in ("fast", "0", "-1", "nan", "inf", "1.1 -c work_mem=1GB"):
        monkeypatch.setenv(RANDOM_PAGE_COST_ENV, typo)
        with pytest.raises(ValueError, match=RANDOM_PAGE_COST_ENV):
            postgres_options(url)


def test_postgresql_sessions_leave_random_page_cost_to_the_database_when_told(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine: Any = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    monkeypatch.delenv("PGOPTIONS", raising=False)
    plain_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain_url) as plain:  # no start-up options: the database's own value, whatever it is
        row = plain.execute("SHOW random_page_cost").fetchone()
        assert row is not None
        database_value = row[0]
    monkeypatch.setenv(RANDOM_PAGE_COST_ENV, "database")
    own = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with own.connect() as connection:
            assert connection.exec_driver_sql("SHOW random_page_cost").scalar_one() == database_value
    finally:
        own.dispose()


def test_a_selection_is_wide_from_a_quarter_of_the_branch_on(client: TestClient, pat: dict[str, str]) -> None:
    """wide_scope, read with a list's total, says whether walking the list's order pays: the selection holds
    at least 1/WIDE_SHARE of the branch's properties (all of the contact's, or the ids picked)."""
    factory: Any = client.app.state.session_factory  # type: ignore[attr-defined]
    picked = sorted(property_ids(client, pat).values())
    with factory() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "pat@example.com"))
        assert contact is not None
        in_branch = session.scalar(
            select(func.count()).select_from(Property).where(Property.branch_id == contact.branch_id)
        )
        assert in_branch is not None and in_branch > len(picked) > 1

        def wide(scope: PropertyScope) -> bool:
            return bool(session.execute(select(wide_scope(scope.kind)), scope.params).scalar_one())

        mine = PropertyScope(contact.id, contact.branch_id)
        assert wide(mine) is (len(picked) * WIDE_SHARE >= in_branch)
        for count in range(1, len(picked) + 1):
            some = PropertyScope(contact.id, contact.branch_id, tuple(picked[:count]))
            assert wide(some) is (count * WIDE_SHARE >= in_branch)
