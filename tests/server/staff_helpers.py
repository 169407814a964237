"""Helpers for testing actions taken in an assist session (SA-2, SA-3), for every feature's tests.

Typical use in a feature test:

    from tests.server.staff_helpers import assist, audit_entries

    def test_assisted_payment_is_audited(client, office):  # SA-3
        headers = assist(client, office, "pat@example.com")
        before = audit_entries(client, office, action="payment.create")
        ...  # the call under test, made with `headers`
        after = audit_entries(client, office, action="payment.create")
        assert len(after) == len(before) + 1

Opening an assist session itself writes one "assist.start" entry (and ending it "assist.end"),
so count the entries of your own action, or compare counts taken after `assist(...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import NORTH, login


def find_contact(client: TestClient, staff_headers: dict[str, str], email: str, base: str = NORTH) -> dict[str, Any]:
    """The search result for the contact with this email on the staff member's branch (via GET /staff/contacts)."""
    response = client.get(f"{base}/staff/contacts", params={"q": email}, headers=staff_headers)
    assert response.status_code == 200, response.text
    for item in response.json()["items"]:
        if item["email"].lower() == email.lower():
            return dict(item)
    raise AssertionError(f"no contact with email {email} on this branch")


def assist(
    client: TestClient,
    staff_headers: dict[str, str],
    contact_email: str,
    reason: str = "Customer on the phone",
    base: str = NORTH,
) -> dict[str, str]:
    """Opens an assist session for the contact and returns its Authorization header."""
    contact = find_contact(client, staff_headers, contact_email, base)
    response = client.post(
        f"{base}/staff/assist", json={"contact_id": contact["id"], "reason": reason}, headers=staff_headers
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def assisted_by_office(client: TestClient, contact_email: str = "pat@example.com") -> dict[str, str]:
    """Olivia Office (North) helping a contact, through the real POST /staff/assist (SA-2)."""
    return assist(client, login(client, "office@example.com"), contact_email)


def audit_entries(
    client: TestClient,
    staff_headers: dict[str, str],
    contact_id: int | None = None,
    action: str | None = None,
    base: str = NORTH,
) -> list[dict[str, Any]]:
    """Every audit entry of the staff member's branch (newest first), optionally of one contact or action."""
    params: dict[str, Any] = {"limit": 500}
    if contact_id is not None:
        params["contact_id"] = contact_id
    entries: list[dict[str, Any]] = []
    while True:
        response = client.get(f"{base}/staff/audit", params=params, headers=staff_headers)
        assert response.status_code == 200, response.text
        page = response.json()
        entries.extend(page["items"])
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    return [e for e in entries if action is None or e["action"] == action]
