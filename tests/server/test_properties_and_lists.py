"""Property filter, balance, list conventions and isolation: PF-1..PF-3, PR-1, PR-2, IN-1, IN-2, VI-1, RQ-1, RQ-5."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.server.conftest import NORTH, SOUTH, login, property_ids

LISTS = ["proposals", "visits", "invoices", "requests"]


def _all(client: TestClient, path: str, headers: dict[str, str], **params: object) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{NORTH}/{path}", headers=headers, params=query).json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_filter_lists_every_property_with_the_contacts_role(client: TestClient, pat: dict[str, str]) -> None:  # PF-1
    body = client.get(f"{NORTH}/properties", headers=pat).json()
    assert [(p["name"], p["role"]) for p in body["items"]] == [
        ("Birch Court", "billing"),
        ("Cedar House", "other"),
        ("Oak Plaza", "primary"),
    ]
    assert body["items"][0]["address"] == "2 Birch Ct"


@pytest.mark.parametrize("path", LISTS)
def test_no_selection_means_all_properties(client: TestClient, pat: dict[str, str], path: str) -> None:  # PF-1
    everything = client.get(f"{NORTH}/{path}", headers=pat).json()
    ids = list(property_ids(client, pat).values())
    selected = client.get(f"{NORTH}/{path}", headers=pat, params={"property_id": ids}).json()
    assert everything["total"] == selected["total"] > 0


@pytest.mark.parametrize("path", LISTS)
def test_selection_filters_every_list(client: TestClient, pat: dict[str, str], path: str) -> None:  # PF-2
    ids = property_ids(client, pat)
    oak = client.get(f"{NORTH}/{path}", headers=pat, params={"property_id": ids["Oak Plaza"]}).json()["items"]
    assert oak and {item["property"]["name"] for item in oak} == {"Oak Plaza"}  # type: ignore[index]


@pytest.mark.parametrize("path", [*LISTS, "balance"])
def test_leaving_properties_out_selects_all_the_others(
    client: TestClient, pat: dict[str, str], path: str
) -> None:  # PF-2: 999 of 1,000 ids would not fit a proxy's URL limit, so a client may name the one left out
    ids = property_ids(client, pat)
    others = [pid for name, pid in ids.items() if name != "Oak Plaza"]
    picked = client.get(f"{NORTH}/{path}", headers=pat, params={"property_id": others}).json()
    left_out = client.get(f"{NORTH}/{path}", headers=pat, params={"exclude_property_id": ids["Oak Plaza"]}).json()
    assert left_out == picked
    if path != "balance":
        assert {item["property"]["name"] for item in left_out["items"]} <= set(ids) - {"Oak Plaza"}


@pytest.mark.parametrize("path", [*LISTS, "balance"])
def test_leaving_a_property_out_binds_only_that_one(
    app: Any, client: TestClient, pat: dict[str, str], path: str
) -> None:  # PF-2: the others stay in the contact's subquery, as with no filter
    ids = property_ids(client, pat)
    others = {pid for name, pid in ids.items() if name != "Oak Plaza"}
    bound: list[set[object]] = []

    def record(
        _conn: Any, _cursor: Any, _statement: str, parameters: Sequence[object] | dict[str, object], *_: Any
    ) -> None:
        bound.append(set(parameters.values() if isinstance(parameters, dict) else parameters))

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        answer = client.get(f"{NORTH}/{path}", headers=pat, params={"exclude_property_id": ids["Oak Plaza"]})
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    assert answer.status_code == 200
    assert bound and not any(others <= values for values in bound), "the properties kept were bound one by one"


def test_leaving_properties_out_is_checked(client: TestClient, pat: dict[str, str], otto: dict[str, str]) -> None:
    ids = property_ids(client, pat)
    ottos = property_ids(client, otto)["Otto's Lot"]
    unseen = client.get(f"{NORTH}/invoices", headers=pat, params={"exclude_property_id": ottos})
    assert unseen.status_code == 404, "another customer's id is no more to be named here than in property_id"
    every = client.get(f"{NORTH}/invoices", headers=pat, params={"exclude_property_id": list(ids.values())})
    assert every.status_code == 422
    assert every.json()["detail"] == "Leaving out every property leaves nothing to show."
    both = client.get(
        f"{NORTH}/balance",
        headers=pat,
        params={"property_id": ids["Oak Plaza"], "exclude_property_id": ids["Birch Court"]},
    )
    assert both.status_code == 422
    assert both.json()["detail"] == "Give the properties to show or the ones to leave out, not both."


def test_balance_is_the_open_balance_of_due_invoices(client: TestClient, pat: dict[str, str]) -> None:  # PF-3
    ids = property_ids(client, pat)
    oak = client.get(f"{NORTH}/balance", headers=pat, params={"property_id": ids["Oak Plaza"]}).json()
    # i-due 120.50 open; i-partial 300 - 50 credit - 100 paid = 150; i-paid 0; i-unshared not shared.
    assert oak == {"current_balance": "270.50", "due_invoice_count": 2, "unapplied_credits": "40.00"}
    both = client.get(f"{NORTH}/balance", headers=pat, params={"property_id": [ids["Oak Plaza"], ids["Birch Court"]]})
    assert both.json()["current_balance"] == "330.50"
    everything = client.get(f"{NORTH}/balance", headers=pat).json()
    assert Decimal(everything["current_balance"]) == Decimal("375.50")
    assert everything["unapplied_credits"] == "40.00", "unapplied credits are shown apart, never subtracted"


@pytest.mark.parametrize("path", [*LISTS, "balance"])
def test_another_customers_property_is_404(
    client: TestClient, pat: dict[str, str], otto: dict[str, str], path: str
) -> None:  # PF-2
    ottos = property_ids(client, otto)["Otto's Lot"]
    response = client.get(f"{NORTH}/{path}", headers=pat, params={"property_id": ottos})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get(f"{NORTH}/{path}", headers=pat, params={"property_id": 999999}).status_code == 404


@pytest.mark.parametrize("path", LISTS)
def test_lists_never_show_other_customers_records(client: TestClient, pat: dict[str, str], path: str) -> None:
    texts = str(_all(client, path, pat))
    assert "Otto" not in texts and "Lake House" not in texts


def test_other_branch_property_is_404(client: TestClient) -> None:  # AC-2
    south = login(client, "pat@example.com", base=SOUTH)
    lake = property_ids(client, south, base=SOUTH)["Lake House"]
    north = login(client, "pat@example.com")
    assert client.get(f"{NORTH}/invoices", headers=north, params={"property_id": lake}).status_code == 404


def test_proposals_shared_only_with_portal_statuses(client: TestClient, pat: dict[str, str]) -> None:  # PR-1, PR-2
    ids = property_ids(client, pat)
    items = _all(client, "proposals", pat, property_id=ids["Oak Plaza"])
    by_number = {i["number"]: i for i in items}
    assert "OPP-O-DRAFT" not in by_number and "OPP-O-UNSHARED" not in by_number
    assert {n: i["status"] for n, i in by_number.items()} == {
        "OPP-O-DELIVERED": "pending",
        "OPP-O-WON": "accepted",
        "OPP-O-LOST": "rejected",
        "OPP-O-APPROVED": "accepted",
        "OPP-O-PRODUCTION": "accepted",
        "OPP-O-COMPLETE": "accepted",
        "OPP-O-CHANGE": "pending",
    }
    assert by_number["OPP-O-CHANGE"]["is_change_order"] is True
    assert by_number["OPP-O-DELIVERED"]["total"] == "399.99", "optional items are not in the total"
    for status in ("pending", "accepted", "rejected"):
        filtered = _all(client, "proposals", pat, property_id=ids["Oak Plaza"], status=status)
        assert {i["number"] for i in filtered} == {n for n, i in by_number.items() if i["status"] == status}


def test_can_sign_in_the_list_follows_role_and_status(client: TestClient, pat: dict[str, str]) -> None:  # PR-3, PR-4
    by_number = {i["number"]: i["can_sign"] for i in _all(client, "proposals", pat)}
    assert by_number["OPP-O-DELIVERED"] and by_number["OPP-O-WON"] and by_number["OPP-O-BILLING"]
    assert not by_number["OPP-O-OTHER"], "the 'other' role views but cannot sign"
    assert not by_number["OPP-O-APPROVED"] and not by_number["OPP-O-LOST"]


def test_invoices_shared_only_and_status_filters(client: TestClient, pat: dict[str, str]) -> None:  # IN-1, IN-2, IN-3
    items = {i["number"]: i for i in _all(client, "invoices", pat)}
    assert "INV-I-UNSHARED" not in items
    assert items["INV-I-PAID"]["status"] == "paid" and items["INV-I-PAID"]["balance"] == "0.00"
    partial = items["INV-I-PARTIAL"]
    assert (partial["total"], partial["balance"], partial["status"]) == ("300.00", "150.00", "due")
    from datetime import date, timedelta

    assert date.fromisoformat(partial["due_date"]) == date.fromisoformat(partial["invoice_date"]) + timedelta(days=30)
    assert partial["services"] == ["Mowing"]
    due = {i["number"] for i in _all(client, "invoices", pat, status="due")}
    paid = {i["number"] for i in _all(client, "invoices", pat, status="paid")}
    assert paid == {"INV-I-PAID"} and due == set(items) - paid


def test_visit_windows(client: TestClient, pat: dict[str, str]) -> None:  # VI-1
    upcoming = [i["property"]["name"] for i in _all(client, "visits", pat)]  # type: ignore[index]
    assert len(upcoming) == 2, "today and +10 days; +31 is outside the window"
    completed = _all(client, "visits", pat, when="completed")
    assert len(completed) == 1 and completed[0]["services"] == ["Mowing", "Edging"]
    assert len(_all(client, "visits", pat, when="completed", days=60)) == 2
    assert client.get(f"{NORTH}/visits", headers=pat, params={"when": "completed", "days": 366}).status_code == 422


def test_requests_include_client_only_with_public_comment_count(
    client: TestClient, pat: dict[str, str]
) -> None:  # RQ-1
    items = _all(client, "requests", pat)
    assert [(i["number"], i["comment_count"]) for i in items] == [("REQ-1", 2)]


def test_requests_are_404_when_the_branch_turned_them_off(client: TestClient) -> None:  # RQ-5
    south = login(client, "pat@example.com", base=SOUTH)
    response = client.get(f"{SOUTH}/requests", headers=south)
    assert response.status_code == 404
    assert client.get(f"{SOUTH}/config", headers=south).json()["requests_enabled"] is False


def test_cursor_paging_walks_every_row_once(client: TestClient, pat: dict[str, str]) -> None:
    everything = client.get(f"{NORTH}/proposals", headers=pat).json()
    paged = _all(client, "proposals", pat, limit=2)
    assert [i["id"] for i in paged] == [i["id"] for i in everything["items"]]
    first = client.get(f"{NORTH}/proposals", headers=pat, params={"limit": 2}).json()
    assert first["total"] == everything["total"] and len(first["items"]) == 2 and first["next_cursor"]


def test_bad_paging_input(client: TestClient, pat: dict[str, str]) -> None:
    assert client.get(f"{NORTH}/invoices", headers=pat, params={"cursor": "garbage!"}).json()["code"] == "bad_cursor"
    assert client.get(f"{NORTH}/invoices", headers=pat, params={"limit": 501}).status_code == 422
    assert client.get(f"{NORTH}/invoices", headers=pat, params={"status": "overdue"}).status_code == 422


def test_config_describes_the_branch(client: TestClient, pat: dict[str, str]) -> None:
    config = client.get(f"{NORTH}/config", headers=pat).json()
    assert config["branch"] == {"slug": "north", "name": "North Branch", "time_zone": "America/New_York"}
    assert config["card_fee_percent"] == "2.90" and config["ach_fee_flat"] == "1.00"
    assert config["accepted_payment_types"] == ["card", "ach"]


def test_unknown_portal_is_404(client: TestClient) -> None:
    assert client.get("/portal/nowhere/api/v1/version").status_code == 404


def test_unknown_json_fields_are_refused(client: TestClient, pat: dict[str, str]) -> None:
    response = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": False, "is_admin": True})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "is_admin", "message": "'is_admin' is not a field this request accepts."}
    ]


def test_malformed_json_is_400_problem(client: TestClient) -> None:
    response = client.post(f"{NORTH}/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) >= {"type", "title", "status", "detail", "code"}


def test_receipts_need_a_payment_method(client: TestClient, pat: dict[str, str]) -> None:  # PM-5
    response = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": True})
    assert response.status_code == 409 and response.json()["code"] == "no_payment_method"
    off = client.patch(f"{NORTH}/me/preferences", headers=pat, json={"email_receipts": False})
    assert off.json()["email_receipts"] is False
