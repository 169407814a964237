"""GET /staff/contacts: staff find a customer by whatever the customer reads out (SA-1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from server.models import Contact, SearchTerm
from server.services import staff as staff_service
from server.services.importer import import_document
from server.settings import Settings
from tests.server.company import PASSWORD, build_company
from tests.server.conftest import NORTH, SOUTH, database, login
from tests.server.payment_helpers import DECLINED, add_card, invoice_ids, pay, pay_many
from tests.server.staff_helpers import assist


def search(client: TestClient, headers: dict[str, str], q: str, base: str = NORTH, **params: Any) -> dict[str, Any]:
    response = client.get(f"{base}/staff/contacts", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def names(client: TestClient, headers: dict[str, str], q: str, base: str = NORTH) -> list[str]:
    return [item["name"] for item in search(client, headers, q, base)["items"]]


def contact_id(settings: Settings, key: str) -> int:
    with database(settings) as session:
        found = session.scalar(select(Contact.id).where(Contact.key == key))
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Pat Customer", ["Pat Customer"]),  # name
        ("otto", ["Otto Other"]),  # a word of the name
        ("PAT@Example.com", ["Pat Customer"]),  # email, any case
        ("billie@", ["Billie Payer"]),  # the start of an email
        ("(555) 010-0101", ["Pat Customer"]),  # phone as stored
        ("555.010.0101", ["Pat Customer"]),  # phone in another formatting
        ("5550100101", ["Pat Customer"]),  # phone digits only
        ("0101", ["Pat Customer"]),  # the last four digits
        ("Otto's Lot", ["Otto Other"]),  # property name
        ("birch", ["Billie Payer", "Pat Customer"]),  # property name word: every contact of the property
        ("3 Cedar Rd", ["Nora New", "Pat Customer"]),  # property address
        ("elm st", ["Otto Other"]),  # a street
        ("INV-I-OTTO", ["Otto Other"]),  # invoice number
        ("inv-i-billing", ["Billie Payer", "Pat Customer"]),  # invoice number, any case
        ("INVIOTTO", ["Otto Other"]),  # invoice number without its dashes
        ("OPP-O-OTTO", ["Otto Other"]),  # proposal number
        ("opp-o-billing", ["Billie Payer", "Pat Customer"]),
        ("I-OTTO", ["Otto Other"]),  # invoice number without its prefix
        ("O-OTTO", ["Otto Other"]),  # proposal number without its prefix
        ("Customer, Pat", ["Pat Customer"]),  # surname first
        ("customer pat", ["Pat Customer"]),  # the name the other way round
        ("Other Otto", ["Otto Other"]),
    ],
)
def test_each_search_key_finds_the_right_contact(
    client: TestClient, office: dict[str, str], query: str, expected: list[str]
) -> None:  # SA-1
    assert names(client, office, query) == expected


def test_results_show_contact_roles_and_properties(client: TestClient, office: dict[str, str]) -> None:  # SA-1
    [pat] = search(client, office, "pat@example.com")["items"]
    assert pat["name"] == "Pat Customer"
    assert pat["email"] == "pat@example.com"
    assert pat["phone"] == "(555) 010-0101"
    assert pat["properties"] == [
        {"id": pat["properties"][0]["id"], "name": "Birch Court", "role": "billing"},
        {"id": pat["properties"][1]["id"], "name": "Cedar House", "role": "other"},
        {"id": pat["properties"][2]["id"], "name": "Oak Plaza", "role": "primary"},
    ]
    assert set(pat) == {"id", "name", "email", "phone", "properties"}


def test_search_never_crosses_branches(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-1, AC-2
    south_pat = contact_id(settings, "pat-south")
    north_pat = contact_id(settings, "pat")
    # The same person has a contact record on both branches: north staff find only the north one.
    assert [i["id"] for i in search(client, office, "pat@example.com")["items"]] == [north_pat]
    for south_only in ("Lake House", "5 Lake Dr", "INV-I-SOUTH", "OPP-O-SOUTH", "sofia"):
        assert search(client, office, south_only)["total"] == 0, south_only
    sofia = login(client, "sofia@example.com", base=SOUTH)
    assert [i["id"] for i in search(client, sofia, "pat@example.com", base=SOUTH)["items"]] == [south_pat]
    assert names(client, sofia, "INV-I-SOUTH", base=SOUTH) == ["Pat Customer"]
    assert search(client, sofia, "Otto", base=SOUTH)["total"] == 0


def test_numbers_the_customer_cannot_see_find_nothing(
    client: TestClient, office: dict[str, str]
) -> None:  # SA-1, PR-1, IN-1
    # Assisting shows only what the customer sees, so unshared invoices and drafts are not search keys.
    for hidden in ("INV-I-UNSHARED", "OPP-O-DRAFT", "OPP-O-UNSHARED"):
        assert search(client, office, hidden)["total"] == 0, hidden


RANKING_DATA: dict[str, Any] = {
    "contacts": [
        {"key": "rk-patricia", "branch": "north", "name": "Patricia Patel", "email": "ppatel@example.com"},
        {"key": "rk-zed", "branch": "north", "name": "Zed Patterson", "email": "zed@example.com"},
        {"key": "rk-ann", "branch": "north", "name": "Ann Spatula", "email": "ann@example.com"},
        {"key": "rk-emile", "branch": "north", "name": "Émile Zola", "email": "emile@example.com"},
    ],
    "properties": [
        {
            "key": "rk-p1",
            "branch": "north",
            "name": "Zed's Yard",
            "address": "9 Z St",
            "contacts": [{"contact": "rk-zed", "role": "primary"}],
        },
        {
            "key": "rk-p2",
            "branch": "north",
            "name": "Ann's Yard",
            "address": "8 A St",
            "contacts": [{"contact": "rk-ann", "role": "billing"}],
        },
        {
            "key": "rk-p3",
            "branch": "north",
            "name": "Patel Yard",
            "address": "7 P St",
            "contacts": [{"contact": "rk-patricia", "role": "other"}],
        },
    ],
    "invoices": [
        {
            "key": "rk-i1",
            "property": "rk-p1",
            "number": "A-2001",
            "invoice_date": "2026-01-01",
            "lines": [{"service": "Mowing", "amount": "10.00"}],
        },
        {
            "key": "rk-i2",
            "property": "rk-p2",
            "number": "2001",
            "invoice_date": "2026-01-01",
            "lines": [{"service": "Mowing", "amount": "10.00"}],
        },
        {
            "key": "rk-i3",
            "property": "rk-p3",
            "number": "20015",
            "invoice_date": "2026-01-01",
            "lines": [{"service": "Mowing", "amount": "10.00"}],
        },
    ],
}


NUMBERS_AND_NAMES: dict[str, Any] = {
    "contacts": [
        {"key": "nn-jordan", "branch": "north", "name": "Jordan Lee", "email": "jlee@example.com"},
        {"key": "nn-ann", "branch": "north", "name": "Mary Ann Smith-Jones", "email": "msj@example.com"},
    ],
    "properties": [
        {
            "key": "nn-p1",
            "branch": "north",
            "name": "Lee Garden",
            "address": "1 Oak St",
            "contacts": [{"contact": "nn-jordan", "role": "primary"}],
        },
    ],
    "invoices": [
        {
            "key": "nn-i1",
            "property": "nn-p1",
            "number": "INV-2611-OAK",
            "invoice_date": "2026-01-01",
            "lines": [{"service": "Mowing", "amount": "10.00"}],
        },
    ],
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2611-OAK", ["Jordan Lee"]),  # the number read out without its prefix
        ("2611 oak", ["Jordan Lee"]),
        ("2611oak", ["Jordan Lee"]),
        ("2611", ["Jordan Lee"]),
        ("Lee Jordan", ["Jordan Lee"]),  # the name the other way round
        ("Lee, Jordan", ["Jordan Lee"]),  # surname first, as on a cheque
        ("lee, jo", ["Jordan Lee"]),  # ... while still typing
        ("Smith-Jones, Mary Ann", ["Mary Ann Smith-Jones"]),
        ("Ann Smith", ["Mary Ann Smith-Jones"]),  # a middle name first
    ],
)
def test_numbers_without_prefix_and_names_either_way_round(
    client: TestClient, office: dict[str, str], settings: Settings, query: str, expected: list[str]
) -> None:  # SA-1
    import_document(settings, NUMBERS_AND_NAMES)
    assert names(client, office, query) == expected


def test_ranking_exact_then_word_then_prefix_then_substring(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-1
    import_document(settings, RANKING_DATA)
    # "pat": a whole word of Pat's name, the start of Patricia's, the start of a word of Zed's,
    # inside Ann's; Patricia's property "Patel Yard" does not beat her own name.
    assert names(client, office, "pat") == ["Pat Customer", "Patricia Patel", "Zed Patterson", "Ann Spatula"]
    # An invoice number read out in full first; then a number that is a word of another; then a longer number.
    assert names(client, office, "2001") == ["Ann Spatula", "Zed Patterson", "Patricia Patel"]
    assert names(client, office, "emile zola") == ["Émile Zola"]  # accents and case do not matter
    assert names(client, office, "ÉMILE") == ["Émile Zola"]


def test_search_pages_by_cursor_in_rank_order(client: TestClient, office: dict[str, str], settings: Settings) -> None:
    import_document(settings, RANKING_DATA)
    seen: list[str] = []
    cursor = None
    while True:
        page = search(client, office, "pat", limit=1, **({"cursor": cursor} if cursor else {}))
        assert page["total"] == 4
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Pat Customer", "Patricia Patel", "Zed Patterson", "Ann Spatula"]


@pytest.mark.parametrize("query", ["a", " a ", "", "  "])
def test_query_needs_two_characters(client: TestClient, office: dict[str, str], query: str) -> None:  # SA-1
    response = client.get(f"{NORTH}/staff/contacts", params={"q": query}, headers=office)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "q"


def test_query_is_required(client: TestClient, office: dict[str, str]) -> None:
    response = client.get(f"{NORTH}/staff/contacts", headers=office)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"


def test_like_wildcards_are_plain_characters(client: TestClient, office: dict[str, str]) -> None:
    assert search(client, office, "%%")["total"] == 0
    assert search(client, office, "__")["total"] == 0


def test_only_staff_can_search(client: TestClient, pat: dict[str, str], office: dict[str, str]) -> None:  # SA-1
    for headers in (pat, assist(client, office, "pat@example.com")):
        response = client.get(f"{NORTH}/staff/contacts", params={"q": "pat"}, headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"
    assert client.get(f"{NORTH}/staff/contacts", params={"q": "pat"}).status_code == 401


def test_index_follows_imported_changes(client: TestClient, office: dict[str, str], settings: Settings) -> None:  # SA-1
    company = build_company(date.today())
    changed = {
        "contacts": [{**c, "name": "Otto Renamed"} if c["key"] == "otto" else c for c in company["contacts"]],
        "properties": [
            {**p, "contacts": [{"contact": "bill", "role": "primary"}]} if p["key"] == "p4" else p
            for p in company["properties"]
        ],
        "invoices": [{**i, "shared": True} if i["key"] == "i-unshared" else i for i in company["invoices"]],
    }
    import_document(settings, {**company, **changed})
    assert names(client, office, "otto renamed") == ["Otto Renamed"]
    assert search(client, office, "otto other")["total"] == 0
    # Property links are read at search time: Otto's lot now belongs to Billie.
    assert names(client, office, "INV-I-OTTO") == ["Billie Payer"]
    # Sharing an invoice makes its number a search key.
    assert names(client, office, "INV-I-UNSHARED") == ["Pat Customer"]


def test_reimport_leaves_the_index_untouched(settings: Settings) -> None:  # SA-1
    def snapshot() -> list[tuple[Any, ...]]:
        with database(settings) as session:
            return [tuple(row) for row in session.execute(select(SearchTerm.__table__).order_by(SearchTerm.id))]

    before = snapshot()
    assert before
    import_document(settings, build_company(date.today()))
    assert snapshot() == before


def test_index_matches_a_fresh_build(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # SA-1
    """What incremental upkeep left behind equals what the term rules say, value by value."""
    from server.models import Invoice, Payment, Property, Proposal
    from server.models.billing import PAYMENT_SUCCEEDED
    from server.models.search import terms_for

    card = add_card(client, pat)
    ids = invoice_ids(client, pat)
    assert pay(client, pat, ids["INV-I-DUE"], "20.00", card).status_code == 201
    assert pay_many(client, pat, [(ids["INV-I-DUE"], "10.00"), (ids["INV-I-BILLING"], "5.00")], card).status_code == 201
    assert pay(client, pat, ids["INV-I-DUE"], "1.00", add_card(client, pat, DECLINED)).status_code == 402

    with database(settings) as session:
        stored = {(t.source, t.source_id, t.field, t.term, t.whole) for t in session.scalars(select(SearchTerm))}
        expected: set[tuple[str, int, str, str, bool]] = set()

        def add(source: str, source_id: int, field: str, value: str | None) -> None:
            expected.update((source, source_id, field, term, whole) for term, whole in terms_for(field, value))

        for c in session.scalars(select(Contact)):
            add("contact", c.id, "name", c.name)
            add("contact", c.id, "email", c.email)
            add("contact", c.id, "phone", c.phone)
        for p in session.scalars(select(Property)):
            add("property", p.id, "property", p.name)
            add("property", p.id, "address", p.address)
        for i in session.scalars(select(Invoice).where(Invoice.shared.is_(True))):
            add("invoice", i.id, "invoice", i.number)
        for o in session.scalars(select(Proposal).where(Proposal.shared_on.is_not(None))):
            if o.opportunity_status != "draft":
                add("proposal", o.id, "proposal", o.number)
        for payment in session.scalars(select(Payment).where(Payment.status == PAYMENT_SUCCEEDED)):
            add("payment", payment.id, "payment", payment.reference)
    assert any(source == "payment" for source, *_ in expected)
    assert stored == expected


def test_a_write_through_the_orm_updates_the_index(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:
    with database(settings) as session:
        contact = session.scalars(select(Contact).where(Contact.key == "otto")).one()
        contact.phone = "+1 (555) 777-1234"
        session.commit()
    assert names(client, office, "555-777-1234") == ["Otto Other"]
    assert names(client, office, "1234") == ["Otto Other"]


def test_search_uses_the_term_index(settings: Settings) -> None:  # SA-1: fast on large data
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the plan check reads SQLite's EXPLAIN QUERY PLAN")
    statement = staff_service.search_contacts(1, "inv-2001").statement
    sql = str(statement.compile(compile_kwargs={"literal_binds": True}, dialect=_sqlite_dialect()))
    with database(settings) as session:
        plan = " | ".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "COVERING INDEX ix_search_terms_branch_term (branch_id=? AND term>? AND term<?)" in plan, plan
    assert "COVERING INDEX ix_search_terms_substring (branch_id=? AND field=?" in plan, plan
    assert "SCAN search_terms" not in plan, plan


def _sqlite_dialect() -> Any:
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect()


def test_staff_sign_in_says_staff(client: TestClient) -> None:  # SA-1
    response = client.post(f"{NORTH}/auth/login", json={"email": "office@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["user"]["kind"] == "staff"
    assert response.json()["user"]["name"] == "Olivia Office"
