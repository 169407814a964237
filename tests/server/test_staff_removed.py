"""Staff taken off a branch lose it at once (SA-1, SA-4): their own sessions there, and the assist sessions
they opened there, end on the next request rather than when the token expires."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from server.models import Staff, staff_branches
from server.services.importer import import_document
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import NORTH, database, login
from tests.server.staff_helpers import assist


def _refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "branch_access_removed"


def _check_both_refused(client: TestClient, office: dict[str, str], helping: dict[str, str]) -> None:
    _refused(client.get(f"{NORTH}/staff/contacts", params={"q": "pat"}, headers=office))
    _refused(client.post(f"{NORTH}/staff/assist", json={"contact_id": 1, "reason": "phone"}, headers=office))
    refused_assist = client.get(f"{NORTH}/me", headers=helping)
    _refused(refused_assist)
    assert "no longer works for this branch" in refused_assist.json()["detail"]


def test_staff_removed_from_a_branch_lose_it_on_the_next_request(client: TestClient, settings: Settings) -> None:
    office = login(client, "office@example.com")
    helping = assist(client, office, "pat@example.com")
    with database(settings) as session:  # taken off the branch by any means, not only an import
        office_id = session.scalar(select(Staff.id).where(Staff.key == "office"))
        session.execute(delete(staff_branches).where(staff_branches.c.staff_id == office_id))
        session.commit()
    _check_both_refused(client, office, helping)


def test_an_import_taking_staff_off_a_branch_ends_their_sessions_there(client: TestClient, settings: Settings) -> None:
    office = login(client, "office@example.com")
    helping = assist(client, office, "pat@example.com")
    doc = build_company(date.today())
    next(s for s in doc["staff"] if s["key"] == "office")["branches"] = ["south"]
    import_document(settings, doc)
    _check_both_refused(client, office, helping)
    import_document(settings, build_company(date.today()))  # back on the branch: the old tokens stay ended
    for headers in (office, helping):
        assert client.get(f"{NORTH}/me", headers=headers).json()["code"] == "session_revoked"
    assert (
        client.get(
            f"{NORTH}/staff/contacts", params={"q": "pat"}, headers=login(client, "office@example.com")
        ).status_code
        == 200
    )
