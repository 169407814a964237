"""Requests through the API: visibility, creating, commenting, notifications, the branch switch (RQ-1..RQ-3, RQ-5)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from email import message_from_string
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from server.models import Activity, AuditEntry, Branch, ServiceRequest, Staff
from server.services.importer import import_document
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import NORTH, SOUTH, login, mails, property_ids
from tests.server.staff_helpers import assisted_by_office
from tests.server.support_requests import PNG, db, id_of


def new_request(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(f"{NORTH}/requests", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_only_include_client_requests_are_listed(client: TestClient, pat: dict[str, str]) -> None:  # RQ-1
    response = client.get(f"{NORTH}/requests", headers=pat)
    assert response.status_code == 200
    numbers = [item["number"] for item in response.json()["items"]]
    assert numbers == ["REQ-1"]  # REQ-2 is internal, REQ-3 is Otto's, REQ-4 is on the other branch


def test_hidden_request_is_not_found(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # RQ-1
    hidden = id_of(settings, ServiceRequest, "r-hidden")
    assert client.get(f"{NORTH}/requests/{hidden}", headers=pat).status_code == 404
    assert client.post(f"{NORTH}/requests/{hidden}/comments", headers=pat, json={"body": "hi"}).status_code == 404


def test_detail_shows_only_public_comments(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # RQ-1
    response = client.get(f"{NORTH}/requests/{id_of(settings, ServiceRequest, 'r-open')}", headers=pat)
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["number"] == "REQ-1"
    assert detail["description"] == "Near the gate"
    assert detail["comment_count"] == 2
    assert [(c["author_name"], c["body"]) for c in detail["comments"]] == [
        ("Sam Rep", "We will come Tuesday"),
        ("Pat Customer", "Thanks!"),
    ]
    assert "Internal" not in response.text
    assert detail["attachments"] == []
    assert detail["author_name"] is None  # made in the back office
    assert all(c["captured_by"] is None and c["attachments"] == [] for c in detail["comments"])


def test_internal_comments_do_not_move_the_last_activity(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-1
    """The customer's list is sorted by last activity: an internal comment moving it told the customer
    when staff talked about their request. Both import paths: a new request, then a re-import of it."""
    document = build_company(date.today())
    document["requests"] = [
        {
            "key": f"r-{name}",
            "property": "p1",
            "number": f"REQ-{name.upper()}",
            "subject": name,
            "include_client": True,
            "created_at": "2026-01-01T09:00:00+00:00",
            "comments": [
                {"author": "rep", "body": "Seen", "public": True, "created_at": public_at}
                for public_at in ([f"2026-01-0{day}T09:00:00+00:00"] if day else [])
            ]
            + [{"author": "rep", "body": "Internal", "public": False, "created_at": "2026-03-01T09:00:00+00:00"}],
        }
        for name, day in (("quiet", 0), ("talked", 5), ("older", 3))
    ]
    expected = [
        ("REQ-TALKED", "2026-01-05T09:00:00+00:00"),
        ("REQ-OLDER", "2026-01-03T09:00:00+00:00"),
        ("REQ-QUIET", "2026-01-01T09:00:00+00:00"),
    ]
    for _ in range(2):
        import_document(settings, document)
        items = client.get(f"{NORTH}/requests", headers=pat).json()["items"]
        assert [(i["number"], i["last_activity_at"]) for i in items if i["number"] != "REQ-1"] == expected


def test_any_contact_of_the_property_can_create_a_request(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-2
    ids = property_ids(client, pat)
    # Pat's role on Cedar House is "other": enough to report a problem.
    created = new_request(
        client, pat, property_id=ids["Cedar House"], subject="  Fallen\ntree  ", description="Blocking the drive."
    )
    assert created["number"].startswith("WEB-")
    assert created["subject"] == "Fallen tree"
    assert created["property"] == {"id": ids["Cedar House"], "name": "Cedar House"}
    assert created["status"] == "open"
    assert created["comment_count"] == 0
    assert created["comments"] == []
    assert created["author_name"] == "Pat Customer"
    assert created["captured_by"] is None
    assert created["created_at"] == created["last_activity_at"]
    datetime.fromisoformat(created["created_at"])
    listed = client.get(f"{NORTH}/requests", headers=pat).json()["items"]
    assert listed[0]["id"] == created["id"]  # newest activity first
    assert client.get(f"{NORTH}/requests/{created['id']}", headers=pat).json() == created
    # Nora, Cedar House's primary contact, sees the request too.
    nora_token = client.post(
        f"{NORTH}/auth/invitations/accept", json={"token": "invite-nora-0123456789", "password": "nora-password-1"}
    ).json()["token"]
    nora = {"Authorization": f"Bearer {nora_token}"}
    assert [r["id"] for r in client.get(f"{NORTH}/requests", headers=nora).json()["items"]] == [created["id"]]
    with db(settings) as session:
        row = session.get(ServiceRequest, created["id"])
        assert row is not None
        assert row.created_by_contact_id is not None
        assert row.captured_by_id is None


def test_cannot_create_a_request_for_someone_elses_property(
    client: TestClient, pat: dict[str, str], otto: dict[str, str]
) -> None:  # RQ-2
    otto_lot = property_ids(client, otto)["Otto's Lot"]
    response = client.post(f"{NORTH}/requests", headers=pat, json={"property_id": otto_lot, "subject": "Mine now"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert (
        client.post(f"{NORTH}/requests", headers=pat, json={"property_id": 999_999, "subject": "x"}).status_code == 404
    )


def test_new_request_validation(client: TestClient, pat: dict[str, str]) -> None:  # RQ-2
    oak = property_ids(client, pat)["Oak Plaza"]
    cases: list[tuple[Any, str]] = [
        ({"property_id": oak, "subject": "   "}, "subject"),
        ({"property_id": oak}, "subject"),
        ({"subject": "No property"}, "property_id"),
        ({"property_id": oak, "subject": "x" * 301}, "subject"),
        ({"property_id": oak, "subject": "ok", "description": "x" * 10_001}, "description"),
        ({"property_id": oak, "subject": "ok", "status": "closed"}, "status"),
        ({"property_id": oak, "subject": "ok", "include_client": False}, "include_client"),
    ]
    for body, field in cases:
        response = client.post(f"{NORTH}/requests", headers=pat, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field], body
    assert client.post(f"{NORTH}/requests", headers=pat, json=[1, 2]).status_code == 422
    malformed = client.post(
        f"{NORTH}/requests", headers={**pat, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "malformed_json"
    plain = client.post(f"{NORTH}/requests", headers={**pat, "Content-Type": "text/plain"}, content=b"hello")
    assert plain.status_code == 415
    assert plain.json()["code"] == "unsupported_media_type"


def test_comment_updates_count_and_last_activity(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-2
    request_id = id_of(settings, ServiceRequest, "r-open")
    before = client.get(f"{NORTH}/requests/{request_id}", headers=pat).json()
    response = client.post(f"{NORTH}/requests/{request_id}/comments", headers=pat, json={"body": "  Still leaking.  "})
    assert response.status_code == 201, response.text
    comment = response.json()
    assert comment["body"] == "Still leaking."
    assert comment["author_name"] == "Pat Customer"
    assert comment["captured_by"] is None
    assert comment["attachments"] == []
    after = client.get(f"{NORTH}/requests/{request_id}", headers=pat).json()
    assert after["comment_count"] == before["comment_count"] + 1
    assert after["comments"][-1]["id"] == comment["id"]
    assert after["last_activity_at"] == comment["created_at"]
    assert datetime.fromisoformat(after["last_activity_at"]) > datetime.fromisoformat(before["last_activity_at"])


def test_comment_needs_text_or_a_file(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # RQ-2
    request_id = id_of(settings, ServiceRequest, "r-open")
    for body in ({"body": "   "}, {}, {"body": "x" * 10_001}):
        response = client.post(f"{NORTH}/requests/{request_id}/comments", headers=pat, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "body"
    unknown = client.post(f"{NORTH}/requests/{request_id}/comments", headers=pat, json={"body": "x", "public": False})
    assert unknown.status_code == 422
    files_only = client.post(
        f"{NORTH}/requests/{request_id}/comments", headers=pat, files=[("files", ("leak.png", PNG, "image/png"))]
    )
    assert files_only.status_code == 201, files_only.text
    assert files_only.json()["body"] == ""


def test_other_customers_cannot_see_or_comment(
    client: TestClient, pat: dict[str, str], otto: dict[str, str], settings: Settings
) -> None:  # RQ-2
    mine = new_request(client, pat, property_id=property_ids(client, pat)["Oak Plaza"], subject="Private")
    assert client.get(f"{NORTH}/requests/{mine['id']}", headers=otto).status_code == 404
    response = client.post(f"{NORTH}/requests/{mine['id']}/comments", headers=otto, json={"body": "hello"})
    assert response.status_code == 404
    assert [r["number"] for r in client.get(f"{NORTH}/requests", headers=otto).json()["items"]] == ["REQ-3"]
    otto_request = id_of(settings, ServiceRequest, "r-otto")
    assert client.get(f"{NORTH}/requests/{otto_request}", headers=pat).status_code == 404


def test_staff_need_an_assist_session(client: TestClient, office: dict[str, str], settings: Settings) -> None:  # RQ-2
    request_id = id_of(settings, ServiceRequest, "r-open")
    for response in (
        client.get(f"{NORTH}/requests", headers=office),
        client.get(f"{NORTH}/requests/{request_id}", headers=office),
        client.post(f"{NORTH}/requests/{request_id}/comments", headers=office, json={"body": "x"}),
        client.post(f"{NORTH}/requests", headers=office, json={"property_id": 1, "subject": "x"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "assist_required"
    assert client.get(f"{NORTH}/requests").status_code == 401
    assert client.post(f"{NORTH}/requests", json={"property_id": 1, "subject": "x"}).status_code == 401


def test_assisted_request_and_comment_are_audited_and_marked(
    client: TestClient, settings: Settings
) -> None:  # RQ-2 (SA-3)
    helper = assisted_by_office(client)
    oak = property_ids(client, helper)["Oak Plaza"]
    created = new_request(client, helper, property_id=oak, subject="Entered by phone")
    with db(settings) as session:
        office_id = session.scalar(select(Staff.id).where(Staff.key == "office"))
    assert created["captured_by"] == {"id": office_id, "name": "Olivia Office"}
    assert created["author_name"] == "Pat Customer"
    comment = client.post(f"{NORTH}/requests/{created['id']}/comments", headers=helper, json={"body": "Added detail"})
    assert comment.status_code == 201
    assert comment.json()["captured_by"] == created["captured_by"]
    detail = client.get(f"{NORTH}/requests/{created['id']}", headers=helper).json()
    assert detail["captured_by"] == created["captured_by"]
    assert [c["captured_by"] for c in detail["comments"]] == [created["captured_by"]]
    with db(settings) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action != "assist.start").order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.target) for e in entries] == [
            ("request.create", f"request {created['number']}"),
            ("request.comment", f"request {created['number']}"),
        ]
        assert all(e.staff_id == office_id for e in entries)
        row = session.get(ServiceRequest, created["id"])
        assert row is not None
        assert row.captured_by_id == office_id
    assert "Entered by Olivia Office" in mails(settings)[0]


def test_new_request_emails_the_account_owner_and_adds_an_activity(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-3
    oak = property_ids(client, pat)["Oak Plaza"]
    created = client.post(
        f"{NORTH}/requests",
        headers=pat,
        data={"property_id": str(oak), "subject": "Dead shrubs", "description": "Three by the door."},
        files=[("files", ("shrubs.png", PNG, "image/png"))],
    ).json()
    sent = [message_from_string(text) for text in mails(settings)]
    assert len(sent) == 1
    message = sent[0]
    assert message["To"] == "alex@example.com"  # Oak Plaza's account owner, not the sales rep
    assert created["number"] in message["Subject"]
    assert "Oak Plaza" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "Dead shrubs" in body
    assert "Three by the door." in body
    assert "Pat Customer" in body
    assert "shrubs.png" in body
    with db(settings) as session:
        activities = session.scalars(select(Activity)).all()
        owner_id = session.scalar(select(Staff.id).where(Staff.key == "owner"))
        assert [(a.staff_id, a.kind, a.request_id) for a in activities] == [(owner_id, "portal_request", created["id"])]
        assert created["number"] in activities[0].subject


def test_customer_comment_emails_the_account_owner(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-3
    request_id = id_of(settings, ServiceRequest, "r-open")
    client.post(f"{NORTH}/requests/{request_id}/comments", headers=pat, json={"body": "Any news?"})
    sent = [message_from_string(text) for text in mails(settings)]
    assert [m["To"] for m in sent] == ["alex@example.com"]
    assert "REQ-1" in sent[0]["Subject"]
    assert "Any news?" in sent[0].get_payload(decode=True).decode()
    with db(settings) as session:
        assert [a.kind for a in session.scalars(select(Activity))] == ["portal_comment"]


def test_requests_off_hides_every_requests_endpoint(client: TestClient, settings: Settings) -> None:  # RQ-5
    south_pat = login(client, "pat@example.com", base=SOUTH)
    south_request = id_of(settings, ServiceRequest, "r-south")
    lake = property_ids(client, south_pat, base=SOUTH)["Lake House"]
    for response in (
        client.get(f"{SOUTH}/requests", headers=south_pat),
        client.get(f"{SOUTH}/requests/{south_request}", headers=south_pat),
        client.post(f"{SOUTH}/requests", headers=south_pat, json={"property_id": lake, "subject": "x"}),
        client.post(f"{SOUTH}/requests/{south_request}/comments", headers=south_pat, json={"body": "x"}),
        client.get(f"{SOUTH}/attachments/1", headers=south_pat),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    assert client.get(f"{SOUTH}/config", headers=south_pat).json()["requests_enabled"] is False


def test_turning_requests_off_hides_existing_requests_and_files(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-5
    oak = property_ids(client, pat)["Oak Plaza"]
    created = client.post(
        f"{NORTH}/requests",
        headers=pat,
        data={"property_id": str(oak), "subject": "With a photo"},
        files=[("files", ("a.png", PNG, "image/png"))],
    ).json()
    attachment_id = created["attachments"][0]["id"]
    assert client.get(f"{NORTH}/attachments/{attachment_id}", headers=pat).status_code == 200
    with db(settings) as session:
        session.execute(update(Branch).where(Branch.slug == "north").values(requests_enabled=False))
    assert client.get(f"{NORTH}/requests/{created['id']}", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/attachments/{attachment_id}", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/requests", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/visits", headers=pat).status_code == 200  # the rest of the portal is untouched


def test_request_numbers_are_unique_under_concurrency(
    app: Any, pat: dict[str, str], client: TestClient
) -> None:  # RQ-2
    oak = property_ids(client, pat)["Oak Plaza"]
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(8)

    def create(index: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as own:
            barrier.wait()
            response = own.post(f"{NORTH}/requests", headers=pat, json={"property_id": oak, "subject": f"Race {index}"})
            results.append((response.status_code, response.json().get("number", response.text)))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * 8, results
    assert sorted(number for _, number in results) == sorted(f"WEB-{n}" for n in range(1, 9))


def test_simultaneous_comments_are_all_counted(
    app: Any, pat: dict[str, str], client: TestClient, settings: Settings
) -> None:  # RQ-2
    request_id = id_of(settings, ServiceRequest, "r-open")
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def comment(index: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as own:
            barrier.wait()
            statuses.append(
                own.post(f"{NORTH}/requests/{request_id}/comments", headers=pat, json={"body": f"n{index}"}).status_code
            )

    threads = [threading.Thread(target=comment, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 6
    detail = client.get(f"{NORTH}/requests/{request_id}", headers=pat).json()
    assert detail["comment_count"] == 2 + 6 == len(detail["comments"])
    assert detail["last_activity_at"] == max(c["created_at"] for c in detail["comments"])
