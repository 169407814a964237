"""POST /staff/assist: staff act as a contact with exactly the contact's permissions (SA-2), for a limited time (SA-4)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import AuthSession, Contact, Identity, Staff
from server.settings import Settings
from tests.server.company import PASSWORD
from tests.server.conftest import NORTH, SOUTH, database, login, mails, property_ids
from tests.server.staff_helpers import assist, find_contact


def open_assist(client: TestClient, staff: dict[str, str], contact_id: int, reason: str = "On the phone") -> Any:
    return client.post(f"{NORTH}/staff/assist", json={"contact_id": contact_id, "reason": reason}, headers=staff)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def contact_key_id(settings: Settings, key: str) -> int:
    with database(settings) as session:
        found = session.scalar(select(Contact.id).where(Contact.key == key))
        assert found is not None
        return found


CONTACT_READS = ["/properties", "/balance", "/proposals", "/invoices", "/visits", "/requests"]


@pytest.mark.parametrize("path", CONTACT_READS)
def test_plain_staff_token_is_refused_by_contact_endpoints(
    client: TestClient, office: dict[str, str], path: str
) -> None:  # SA-2
    response = client.get(f"{NORTH}{path}", headers=office)
    assert response.status_code == 403
    assert response.json()["code"] == "assist_required"
    assert response.headers["content-type"].startswith("application/problem+json")


def test_plain_staff_token_cannot_change_preferences(client: TestClient, office: dict[str, str]) -> None:  # SA-2
    response = client.patch(f"{NORTH}/me/preferences", json={"email_receipts": False}, headers=office)
    assert response.status_code == 403
    assert response.json()["code"] == "assist_required"


def test_staff_me_has_no_contact(client: TestClient, office: dict[str, str]) -> None:  # SA-1
    me = client.get(f"{NORTH}/me", headers=office).json()
    assert me["user"]["kind"] == "staff"
    assert me["contact"] is None
    assert me["assisted_by"] is None


def test_assist_answers_token_and_contact(client: TestClient, office: dict[str, str]) -> None:  # SA-2
    pat = find_contact(client, office, "pat@example.com")
    response = open_assist(client, office, pat["id"])
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at", "idle_seconds", "contact"}
    assert body["contact"] == pat
    assert body["idle_seconds"] == 30 * 60, "SA-4's limit as this portal keeps it, for the client's clock"
    me = client.get(f"{NORTH}/me", headers=bearer(body["token"])).json()
    assert me["user"] == {"id": pat["id"], "kind": "contact", "name": "Pat Customer", "email": "pat@example.com"}
    assert me["contact"]["id"] == pat["id"]
    assert me["assisted_by"]["name"] == "Olivia Office"


def test_assist_session_is_recorded_as_opened_by_staff(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-2, SA-4
    pat_id = contact_key_id(settings, "pat")
    response = open_assist(client, office, pat_id, reason="  Cannot   find invoice ")
    token_expiry = response.json()["expires_at"]
    with database(settings) as session:
        staff = session.scalars(select(Staff).where(Staff.key == "office")).one()
        parent = session.scalars(
            select(AuthSession).where(AuthSession.staff_id == staff.id, AuthSession.kind == "staff")
        ).one()
        child = session.scalars(select(AuthSession).where(AuthSession.parent_session_id == parent.id)).one()
        pat = session.get(Contact, pat_id)
        assert pat is not None
        assert (child.kind, child.contact_id, child.staff_id, child.assisted_by_id) == (
            "contact",
            pat_id,
            staff.id,
            staff.id,
        )
        assert child.identity_id == pat.identity_id
        assert child.branch_id == parent.branch_id
        assert child.assist_reason == "Cannot find invoice"
        # The assist cannot outlive the staff session that opened it.
        assert child.expires_at <= parent.expires_at
        assert token_expiry.startswith(child.expires_at.isoformat(timespec="seconds")[:19])


@pytest.mark.parametrize("contact_email", ["pat@example.com", "billie@example.com", "otto@example.com"])
@pytest.mark.parametrize(
    "path", ["/properties", "/balance", "/proposals", "/invoices", "/visits?when=completed", "/requests"]
)
def test_assist_sees_exactly_what_the_contact_sees(
    client: TestClient, office: dict[str, str], contact_email: str, path: str
) -> None:  # SA-2
    own = login(client, contact_email)
    assisted = assist(client, office, contact_email)
    mine = client.get(f"{NORTH}{path}", headers=own)
    theirs = client.get(f"{NORTH}{path}", headers=assisted)
    assert mine.status_code == theirs.status_code == 200
    assert theirs.json() == mine.json()


def test_assist_has_the_contacts_signing_permissions(client: TestClient, office: dict[str, str]) -> None:  # SA-2, PR-3
    assisted = assist(client, office, "pat@example.com")
    can_sign = {p["number"]: p["can_sign"] for p in client.get(f"{NORTH}/proposals", headers=assisted).json()["items"]}
    assert can_sign["OPP-O-DELIVERED"] is True  # Pat is primary on Oak Plaza
    assert can_sign["OPP-O-BILLING"] is True  # billing on Birch Court
    assert can_sign["OPP-O-OTHER"] is False  # only "other" on Cedar House: staff cannot sign for Pat there


def test_assist_cannot_see_other_customers(
    client: TestClient, office: dict[str, str], otto: dict[str, str]
) -> None:  # SA-2
    otto_lot = property_ids(client, otto)["Otto's Lot"]
    assisted = assist(client, office, "pat@example.com")
    response = client.get(f"{NORTH}/invoices", params={"property_id": otto_lot}, headers=assisted)
    assert response.status_code == 404
    assert "Otto" not in response.text


def test_contacts_of_other_branches_are_not_found(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-2, AC-2
    response = open_assist(client, office, contact_key_id(settings, "pat-south"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert open_assist(client, office, 999_999).status_code == 404


def test_staff_of_another_branch_cannot_assist_here(client: TestClient, settings: Settings) -> None:  # SA-2
    sofia = login(client, "sofia@example.com", base=SOUTH)
    pat_id = contact_key_id(settings, "pat")
    # Sofia's token belongs to the south portal; on the north one it is no token at all.
    assert open_assist(client, sofia, pat_id).status_code == 401
    response = client.post(f"{SOUTH}/staff/assist", json={"contact_id": pat_id, "reason": "x"}, headers=sofia)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"contact_id": 1},
        {"contact_id": 1, "reason": ""},
        {"contact_id": 1, "reason": "   "},
        {"contact_id": 1, "reason": "x" * 501},
        {"contact_id": 1, "reason": "ok", "staff_id": 1},
        {"reason": "ok"},
    ],
)
def test_reason_is_required_and_body_is_strict(
    client: TestClient, office: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post(f"{NORTH}/staff/assist", json=body, headers=office)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_only_staff_can_open_assist(
    client: TestClient, pat: dict[str, str], office: dict[str, str], settings: Settings
) -> None:
    otto_id = contact_key_id(settings, "otto")
    assert open_assist(client, pat, otto_id).status_code == 403
    assisted = assist(client, office, "pat@example.com")
    # An assist token is the contact's: it cannot open further assists.
    response = open_assist(client, assisted, otto_id)
    assert response.status_code == 403
    assert response.json()["code"] == "staff_only"


def _age_sessions(settings: Settings, idle: timedelta, *, assisted: bool) -> None:
    """Moves last_used_at back, as if the sessions had been idle that long."""
    with database(settings) as session:
        kind = AuthSession.assisted_by_id.is_not(None) if assisted else AuthSession.assisted_by_id.is_(None)
        for auth in session.scalars(select(AuthSession).where(kind, AuthSession.kind == "contact")):
            auth.last_used_at -= idle
        session.commit()


def test_assist_ends_after_30_minutes_idle(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    _age_sessions(settings, timedelta(minutes=30, seconds=1), assisted=True)
    response = client.get(f"{NORTH}/properties", headers=assisted)
    assert response.status_code == 401
    assert "30 minutes" in response.json()["detail"] and response.json()["code"] == "assist_idle"
    # The staff member is still signed in and can open it again.
    assert client.get(f"{NORTH}/staff/contacts", params={"q": "pat"}, headers=office).status_code == 200
    assert client.get(f"{NORTH}/properties", headers=assist(client, office, "pat@example.com")).status_code == 200


def test_activity_keeps_the_assist_alive(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    _age_sessions(settings, timedelta(minutes=29), assisted=True)
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 200  # touches last_used_at
    _age_sessions(settings, timedelta(minutes=29), assisted=True)
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 200


def test_idle_limit_does_not_apply_to_the_customers_own_session(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # SA-4
    _age_sessions(settings, timedelta(hours=2), assisted=False)
    assert client.get(f"{NORTH}/properties", headers=pat).status_code == 200


def test_staff_sign_out_ends_their_assist_sessions(
    client: TestClient, office: dict[str, str], pat: dict[str, str]
) -> None:  # SA-4
    first = assist(client, office, "pat@example.com")
    second = assist(client, office, "otto@example.com")
    assert client.post(f"{NORTH}/auth/logout", headers=office).status_code == 204
    for headers in (first, second, office):
        ended = client.get(f"{NORTH}/me", headers=headers)
        assert (ended.status_code, ended.json()["code"]) == (401, "session_revoked")
    assert "staff member signed out" in client.get(f"{NORTH}/me", headers=first).json()["detail"]
    # The customer's own session is theirs, not the staff member's.
    assert client.get(f"{NORTH}/properties", headers=pat).status_code == 200


def test_sign_out_of_another_staff_session_leaves_this_assist(
    client: TestClient, office: dict[str, str]
) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    other_office_window = login(client, "office@example.com")
    assert client.post(f"{NORTH}/auth/logout", headers=other_office_window).status_code == 204
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 200


def test_staff_password_change_elsewhere_ends_the_assists_of_their_other_sessions(
    client: TestClient, office: dict[str, str]
) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    other_window = login(client, "office@example.com")
    kept = assist(client, other_window, "otto@example.com")
    changed = client.post(
        f"{NORTH}/auth/password-change",
        json={"current_password": PASSWORD, "new_password": "a-new-staff-password"},
        headers=other_window,
    )
    assert changed.status_code == 204
    for headers in (office, assisted):
        ended = client.get(f"{NORTH}/invoices", headers=headers)
        assert (ended.status_code, ended.json()["code"]) == (401, "session_revoked")
    # The window that changed the password keeps its session, and the assist it opened.
    assert client.get(f"{NORTH}/invoices", headers=kept).status_code == 200


def test_staff_password_reset_ends_every_assist_they_opened(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    client.post(f"{NORTH}/auth/password-reset", json={"email": "office@example.com"})
    token = re.search(r"Your reset code: (\S+)", mails(settings)[-1]).group(1)  # type: ignore[union-attr]
    confirm = client.post(
        f"{NORTH}/auth/password-reset/confirm", json={"token": token, "new_password": "a-reset-staff-password"}
    )
    assert confirm.status_code == 204
    ended = client.get(f"{NORTH}/me", headers=assisted)
    assert (ended.status_code, ended.json()["code"]) == (401, "session_revoked")


def test_an_assist_is_not_ended_early_by_the_once_a_minute_touch(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-4
    """Used 59 s after it was last touched, the assist counts its 30 idle minutes from that use."""
    assisted = assist(client, office, "pat@example.com")
    _age_sessions(settings, timedelta(seconds=59), assisted=True)
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 200
    _age_sessions(settings, timedelta(minutes=29, seconds=30), assisted=True)
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 200


def test_ending_the_assist_keeps_staff_signed_in(client: TestClient, office: dict[str, str]) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    assert client.post(f"{NORTH}/auth/logout", headers=assisted).status_code == 204
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 401
    assert client.get(f"{NORTH}/staff/contacts", params={"q": "pat"}, headers=office).status_code == 200


def test_staff_cannot_change_the_customers_password(client: TestClient, office: dict[str, str]) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    response = client.post(
        f"{NORTH}/auth/password-change",
        json={"current_password": PASSWORD, "new_password": "staff-chosen-password"},
        headers=assisted,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed_during_assist"
    login(client, "pat@example.com")  # the old password still works


def test_no_answer_carries_a_password_or_its_hash(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # SA-4, AC-5
    with database(settings) as session:
        hashes = [h for h in session.scalars(select(Identity.password_hash)) if h]
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    assisted = assist(client, office, "pat@example.com")
    answers = [
        client.get(f"{NORTH}/staff/contacts", params={"q": "example.com"}, headers=office),
        client.post(
            f"{NORTH}/staff/assist", json={"contact_id": contact_key_id(settings, "pat"), "reason": "x"}, headers=office
        ),
        client.get(f"{NORTH}/me", headers=assisted),
        client.get(f"{NORTH}/me", headers=office),
        client.get(f"{NORTH}/staff/audit", headers=office),
        client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert "argon2" not in answer.text
        assert PASSWORD not in answer.text
        for digest in hashes:
            assert digest not in answer.text
    schema = client.get("/openapi.json").text
    assert "password_hash" not in schema
    assert "argon2" not in schema
