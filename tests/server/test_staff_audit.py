"""The assist audit trail (SA-3): written with the change, listed by GET /staff/audit, never edited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from server.models import AuditEntry, AuditIsAppendOnly, Contact, PaymentMethod, Staff
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, database, login
from tests.server.staff_helpers import assist, audit_entries, find_contact


def give_payment_method(settings: Settings, key: str) -> None:
    """A card on file, as the payments feature would store it (PM-5 needs one before receipts can be turned on)."""
    with database(settings) as session:
        contact = session.scalars(select(Contact).where(Contact.key == key)).one()
        session.add(
            PaymentMethod(
                contact_id=contact.id,
                type="card",
                gateway_token="tok_test",
                brand="Visa",
                last4="4242",
                exp_month=12,
                exp_year=2099,
                holder_name=contact.name,
                is_default=True,
            )
        )
        session.commit()


def audit_rows(settings: Settings) -> list[AuditEntry]:
    with database(settings) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_opening_an_assist_is_audited_with_its_reason(client: TestClient, office: dict[str, str]) -> None:  # SA-3
    assist(client, office, "pat@example.com", reason="Can't find invoice INV-I-DUE")
    [entry] = audit_entries(client, office)
    pat = find_contact(client, office, "pat@example.com")
    assert entry["action"] == "assist.start"
    assert entry["staff"]["name"] == "Olivia Office"
    assert entry["contact"] == {"id": pat["id"], "name": "Pat Customer"}
    assert entry["target"] == f"contact:{pat['id']}"
    assert entry["detail"] == "Can't find invoice INV-I-DUE"
    assert entry["reference"] is None, "only an entry about a payment names one"
    assert set(entry) == {"at", "staff", "contact", "action", "target", "detail", "reference"}


def test_assisted_preference_change_writes_exactly_one_entry(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-3, PM-5
    give_payment_method(settings, "pat")
    assisted = assist(client, office, "pat@example.com")
    response = client.patch(f"{NORTH}/me/preferences", json={"email_receipts": True}, headers=assisted)
    assert response.status_code == 200
    assert response.json()["email_receipts"] is True
    [entry] = audit_entries(client, office, action="preferences.update")
    pat = find_contact(client, office, "pat@example.com")
    assert entry["contact"]["id"] == pat["id"]
    assert entry["staff"]["name"] == "Olivia Office"
    assert entry["target"] == f"contact:{pat['id']}"
    assert entry["detail"] == "email_receipts=on"
    # The row carries the time and the client address too.
    row = next(r for r in audit_rows(settings) if r.action == "preferences.update")
    assert row.client_address == "testclient"
    assert row.at is not None

    # Setting the same value again changes nothing, so it writes nothing.
    client.patch(f"{NORTH}/me/preferences", json={"email_receipts": True}, headers=assisted)
    assert len(audit_entries(client, office, action="preferences.update")) == 1
    client.patch(f"{NORTH}/me/preferences", json={"email_receipts": False}, headers=assisted)
    details = [e["detail"] for e in audit_entries(client, office, action="preferences.update")]
    assert details == ["email_receipts=off", "email_receipts=on"]  # newest first


def test_a_refused_change_writes_no_entry(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-3
    assisted = assist(client, office, "pat@example.com")
    before = audit_rows(settings)
    response = client.patch(f"{NORTH}/me/preferences", json={"email_receipts": True}, headers=assisted)
    assert response.status_code == 409
    assert response.json()["code"] == "no_payment_method"
    assert [r.id for r in audit_rows(settings)] == [r.id for r in before]


def test_the_customers_own_changes_are_not_audited(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-3
    give_payment_method(settings, "pat")
    assert client.patch(f"{NORTH}/me/preferences", json={"email_receipts": True}, headers=pat).status_code == 200
    assert audit_rows(settings) == []


def test_ending_an_assist_is_audited(client: TestClient, office: dict[str, str]) -> None:  # SA-3
    assisted = assist(client, office, "otto@example.com")
    client.post(f"{NORTH}/auth/logout", headers=assisted)
    assert [e["action"] for e in audit_entries(client, office)] == ["assist.end", "assist.start"]


def test_audit_lists_newest_first_by_pages_and_per_contact(client: TestClient, office: dict[str, str]) -> None:  # SA-3
    for email in ("pat@example.com", "otto@example.com", "pat@example.com"):
        assist(client, office, email, reason=f"call from {email}")
    pat_id = find_contact(client, office, "pat@example.com")["id"]
    everything = audit_entries(client, office)
    assert [e["detail"] for e in everything] == [
        "call from pat@example.com",
        "call from otto@example.com",
        "call from pat@example.com",
    ]
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)

    pages = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{NORTH}/staff/audit", params=params, headers=office).json()
        assert page["total"] == 3
        pages += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == everything

    mine = audit_entries(client, office, contact_id=pat_id)
    assert len(mine) == 2
    assert all(e["contact"]["id"] == pat_id for e in mine)


def test_audit_is_per_branch(client: TestClient, office: dict[str, str], settings: Settings) -> None:  # SA-3, AC-2
    assist(client, office, "pat@example.com")
    sofia = login(client, "sofia@example.com", base=SOUTH)
    assert audit_entries(client, sofia, base=SOUTH) == []
    with database(settings) as session:
        south_pat = session.scalars(select(Contact.id).where(Contact.key == "pat-south")).one()
    response = client.get(f"{NORTH}/staff/audit", params={"contact_id": south_pat}, headers=office)
    assert response.status_code == 404


def test_only_staff_read_the_audit(client: TestClient, pat: dict[str, str], office: dict[str, str]) -> None:  # SA-3
    for headers in (pat, assist(client, office, "pat@example.com")):
        response = client.get(f"{NORTH}/staff/audit", headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "staff_only"


def test_audit_entries_cannot_be_changed_or_deleted(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-3: append-only in the code
    assist(client, office, "pat@example.com")
    with database(settings) as session:
        entry = session.scalars(select(AuditEntry)).one()
        entry.detail = "nothing happened"
        with pytest.raises(AuditIsAppendOnly):
            session.commit()
        session.rollback()

        session.delete(session.scalars(select(AuditEntry)).one())
        with pytest.raises(AuditIsAppendOnly):
            session.commit()
        session.rollback()

        for statement in (
            update(AuditEntry).values(detail="x"),
            delete(AuditEntry),
            update(AuditEntry.__table__).values(detail="x"),
            delete(AuditEntry.__table__),
        ):
            with pytest.raises(AuditIsAppendOnly):
                session.execute(statement)
            session.rollback()
    [entry] = audit_entries(client, office)
    assert entry["action"] == "assist.start"


def test_appending_still_works_next_to_the_guard(settings: Settings) -> None:  # SA-3
    """The guard refuses changes, not new entries or reads, so a session holding entries can still commit."""
    with database(settings) as session:
        contact = session.scalars(select(Contact).where(Contact.key == "pat")).one()
        office = session.scalars(select(Staff).where(Staff.key == "office")).one()
        session.add(
            AuditEntry(
                branch_id=contact.branch_id,
                staff_id=office.id,
                contact_id=contact.id,
                action="test",
                target=f"contact:{contact.id}",
                detail="",
            )
        )
        session.commit()
        assert session.scalars(select(AuditEntry.action)).all() == ["test"]
        contact.name = "Pat Renamed"  # other changes in a session that has loaded entries still commit
        session.commit()
