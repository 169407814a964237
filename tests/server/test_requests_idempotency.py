"""Resending a new request or comment with the same Idempotency-Key makes (and mails) it once."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import Attachment, RequestComment, ServiceRequest
from server.settings import Settings
from tests.server.conftest import NORTH, mails, property_ids
from tests.server.support_requests import PNG, db, id_of

KEY = "draft-key-0001"


def _count(settings: Settings, model: Any) -> int:
    with db(settings) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _post_request(client: TestClient, headers: dict[str, str], oak: int, key: str, text: str = "Three") -> Any:
    return client.post(
        f"{NORTH}/requests",
        headers={**headers, "Idempotency-Key": key},
        data={"property_id": str(oak), "subject": "Dead shrubs", "description": text},
        files=[("files", ("shrubs.png", PNG, "image/png"))],
    )


def test_resent_request_is_made_and_mailed_once(client: TestClient, pat: dict[str, str], settings: Settings) -> None:
    oak = property_ids(client, pat)["Oak Plaza"]
    requests_before, files_before = _count(settings, ServiceRequest), _count(settings, Attachment)
    first = _post_request(client, pat, oak, KEY)
    again = _post_request(client, pat, oak, KEY)
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert _count(settings, ServiceRequest) == requests_before + 1
    assert _count(settings, Attachment) == files_before + 1
    assert len(mails(settings)) == 1


def test_a_request_without_a_key_is_made_every_time(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:
    oak = property_ids(client, pat)["Oak Plaza"]
    before = _count(settings, ServiceRequest)
    body = {"property_id": oak, "subject": "Leak"}
    first = client.post(f"{NORTH}/requests", headers=pat, json=body).json()
    second = client.post(f"{NORTH}/requests", headers=pat, json=body).json()
    assert first["id"] != second["id"]
    assert _count(settings, ServiceRequest) == before + 2


def test_same_key_other_body_is_refused(client: TestClient, pat: dict[str, str], settings: Settings) -> None:
    oak = property_ids(client, pat)["Oak Plaza"]
    assert _post_request(client, pat, oak, KEY).status_code == 201
    changed = _post_request(client, pat, oak, KEY, text="Four")
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"
    other_file = client.post(
        f"{NORTH}/requests",
        headers={**pat, "Idempotency-Key": KEY},
        data={"property_id": str(oak), "subject": "Dead shrubs", "description": "Three"},
        files=[("files", ("shrubs.png", PNG + b"\0", "image/png"))],
    )
    assert other_file.status_code == 409
    request_id = id_of(settings, ServiceRequest, "r-open")
    as_comment = client.post(
        f"{NORTH}/requests/{request_id}/comments", headers={**pat, "Idempotency-Key": KEY}, json={"body": "x"}
    )
    assert as_comment.status_code == 409
    assert len(mails(settings)) == 1


def test_malformed_key_is_refused(client: TestClient, pat: dict[str, str]) -> None:
    oak = property_ids(client, pat)["Oak Plaza"]
    response = client.post(
        f"{NORTH}/requests", headers={**pat, "Idempotency-Key": "short"}, json={"property_id": oak, "subject": "x"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"


def test_keys_belong_to_their_contact(client: TestClient, pat: dict[str, str], settings: Settings) -> None:
    cedar = property_ids(client, pat)["Cedar House"]
    nora_token = client.post(
        f"{NORTH}/auth/invitations/accept", json={"token": "invite-nora-0123456789", "password": "nora-password-1"}
    ).json()["token"]
    nora = {"Authorization": f"Bearer {nora_token}"}
    body = {"property_id": cedar, "subject": "Fallen tree"}
    mine = client.post(f"{NORTH}/requests", headers={**pat, "Idempotency-Key": KEY}, json=body)
    theirs = client.post(f"{NORTH}/requests", headers={**nora, "Idempotency-Key": KEY}, json=body)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["author_name"] != "Pat Customer"
    again = client.post(f"{NORTH}/requests", headers={**pat, "Idempotency-Key": KEY}, json=body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == mine.json()["id"]


def test_resent_comment_is_made_and_mailed_once(client: TestClient, pat: dict[str, str], settings: Settings) -> None:
    request_id = id_of(settings, ServiceRequest, "r-open")
    before = _count(settings, RequestComment)

    def send() -> Any:
        return client.post(
            f"{NORTH}/requests/{request_id}/comments",
            headers={**pat, "Idempotency-Key": KEY},
            data={"body": "Photo attached"},
            files=[("files", ("leak.png", PNG, "image/png"))],
        )

    first, again = send(), send()
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _count(settings, RequestComment) == before + 1
    detail = client.get(f"{NORTH}/requests/{request_id}", headers=pat).json()
    assert detail["comment_count"] == len(detail["comments"])
    assert len(mails(settings)) == 1


def test_simultaneous_resends_make_one_request(
    app: Any, pat: dict[str, str], client: TestClient, settings: Settings
) -> None:
    oak = property_ids(client, pat)["Oak Plaza"]
    before = _count(settings, ServiceRequest)
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        with TestClient(app, raise_server_exceptions=False) as own:
            barrier.wait()
            response = _post_request(own, pat, oak, KEY)
            results.append((response.status_code, response.json().get("id", 0)))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * 6, results
    assert len({created for _, created in results}) == 1
    assert _count(settings, ServiceRequest) == before + 1
    assert len(mails(settings)) == 1


def test_simultaneous_resends_make_one_comment(app: Any, pat: dict[str, str], settings: Settings) -> None:
    request_id = id_of(settings, ServiceRequest, "r-open")
    before = _count(settings, RequestComment)
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(6)

    def comment() -> None:
        with TestClient(app, raise_server_exceptions=False) as own:
            barrier.wait()
            response = own.post(
                f"{NORTH}/requests/{request_id}/comments", headers={**pat, "Idempotency-Key": KEY}, json={"body": "Hi"}
            )
            results.append((response.status_code, response.json().get("id", 0)))

    threads = [threading.Thread(target=comment) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * 6, results
    assert len({created for _, created in results}) == 1
    assert _count(settings, RequestComment) == before + 1
