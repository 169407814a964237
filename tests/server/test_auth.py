"""Accounts and sessions: AC-1..AC-6."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from server.models import AuthSession, Identity
from server.models.base import utcnow
from server.settings import Settings
from tests.server.company import PASSWORD
from tests.server.conftest import NORTH, SOUTH, login, mails

NEW_PASSWORD = "a-brand-new-password"


def _login(client: TestClient, email: str, password: str, base: str = NORTH, address: str | None = None) -> int:
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post(f"{base}/auth/login", json={"email": email, "password": password}, headers=headers).status_code


def test_invited_contact_accepts_and_is_signed_in(client: TestClient) -> None:  # AC-1
    assert _login(client, "nora@example.com", "whatever-password") == 401
    response = client.post(
        f"{NORTH}/auth/invitations/accept", json={"token": "invite-nora-0123456789", "password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == {
        "id": body["user"]["id"],
        "kind": "contact",
        "name": "Nora New",
        "email": "nora@example.com",
    }
    me = client.get(f"{NORTH}/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["contact"]["name"] == "Nora New"
    assert _login(client, "nora@example.com", NEW_PASSWORD) == 200


def test_invitation_token_works_once(client: TestClient) -> None:  # AC-1
    body = {"token": "invite-nora-0123456789", "password": NEW_PASSWORD}
    assert client.post(f"{NORTH}/auth/invitations/accept", json=body).status_code == 200
    again = client.post(f"{NORTH}/auth/invitations/accept", json=body)
    assert again.status_code == 422
    assert again.json()["code"] == "invalid_token"


def test_invitation_requires_a_long_password(client: TestClient) -> None:  # AC-1
    response = client.post(
        f"{NORTH}/auth/invitations/accept", json={"token": "invite-nora-0123456789", "password": "short"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    assert "12 characters" in response.json()["detail"]


def test_one_identity_signs_in_on_every_branch_it_has(client: TestClient) -> None:  # AC-2
    north = login(client, "pat@example.com")
    south = login(client, "pat@example.com", base=SOUTH)
    branches = client.get(f"{NORTH}/auth/branches", headers=north).json()["items"]
    assert [b["slug"] for b in branches] == ["north", "south"]
    assert branches[1]["portal_url"].endswith("/portal/south")
    north_names = {p["name"] for p in client.get(f"{NORTH}/properties", headers=north).json()["items"]}
    south_names = {p["name"] for p in client.get(f"{SOUTH}/properties", headers=south).json()["items"]}
    assert "Lake House" in south_names and "Lake House" not in north_names
    assert north_names.isdisjoint(south_names)


def test_token_of_one_branch_is_refused_on_another(client: TestClient) -> None:  # AC-2
    north = login(client, "pat@example.com")
    assert client.get(f"{SOUTH}/properties", headers=north).status_code == 401


def test_contact_without_a_record_on_a_branch_cannot_sign_in_there(client: TestClient) -> None:  # AC-2
    assert _login(client, "otto@example.com", PASSWORD, base=SOUTH) == 401


def test_password_reset_answers_alike_for_unknown_email(client: TestClient, settings: Settings) -> None:  # AC-3
    known = client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"})
    unknown = client.post(f"{NORTH}/auth/password-reset", json={"email": "nobody@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, b"")
    sent = mails(settings)
    assert len(sent) == 1 and "To: pat@example.com" in sent[0]


def test_password_reset_by_emailed_token(client: TestClient, settings: Settings) -> None:  # AC-3
    old = login(client, "pat@example.com")
    client.post(f"{NORTH}/auth/password-reset", json={"email": "Pat@Example.com "})
    token = re.search(r"Your reset code: (\S+)", mails(settings)[0]).group(1)  # type: ignore[union-attr]
    confirm = client.post(f"{NORTH}/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert confirm.status_code == 204
    assert _login(client, "pat@example.com", PASSWORD) == 401
    assert _login(client, "pat@example.com", NEW_PASSWORD) == 200
    ended = client.get(f"{NORTH}/me", headers=old)
    assert ended.status_code == 401, "a reset ends every other session"
    assert ended.json()["code"] == "session_revoked" and "password was changed" in ended.json()["detail"]
    reused = client.post(f"{NORTH}/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert reused.status_code == 422


def test_change_password_when_signed_in(client: TestClient, pat: dict[str, str]) -> None:  # AC-3
    wrong = client.post(
        f"{NORTH}/auth/password-change",
        headers=pat,
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    ok = client.post(
        f"{NORTH}/auth/password-change", headers=pat, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert ok.status_code == 204
    assert client.get(f"{NORTH}/me", headers=pat).status_code == 200, "the session that changed it stays signed in"
    assert _login(client, "pat@example.com", NEW_PASSWORD) == 200


def test_repeated_failures_are_slowed_down_per_account(client: TestClient) -> None:  # AC-4
    codes = [_login(client, "pat@example.com", "wrong-password!") for _ in range(5)]
    assert codes == [401, 401, 401, 401, 401]
    blocked = client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["code"] == "too_many_attempts"
    assert "Try again in" in blocked.json()["detail"]
    assert _login(client, "billie@example.com", PASSWORD) == 200, "other accounts are not affected"


def test_repeated_failures_are_slowed_down_per_address(client: TestClient, settings: Settings) -> None:  # AC-4
    for n in range(settings.address_failure_limit):
        assert _login(client, f"nobody{n}@example.com", "wrong-password!") == 401
    assert _login(client, "billie@example.com", PASSWORD) == 429


def test_slow_down_ends_after_the_wait(client: TestClient, database_url: str) -> None:  # AC-4
    for _ in range(5):
        _login(client, "pat@example.com", "wrong-password!")
    assert _login(client, "pat@example.com", PASSWORD) == 429
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE sign_in_failures SET blocked_until = NULL"))
    engine.dispose()
    assert _login(client, "pat@example.com", PASSWORD) == 200


def test_passwords_are_stored_as_argon2id(client: TestClient, database_url: str) -> None:  # AC-5
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        hashes = [i.password_hash for i in session.scalars(select(Identity)) if i.password_hash]
        assert hashes and all(h.startswith("$argon2id$") for h in hashes)
        assert all(PASSWORD not in h for h in hashes)
    engine.dispose()


def test_tokens_are_stored_hashed_and_expire(client: TestClient, database_url: str) -> None:  # AC-5
    headers = login(client, "pat@example.com")
    token = headers["Authorization"].split()[1]
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        stored = session.scalars(select(AuthSession.token_hash)).all()
        assert token not in stored and len(stored) == 1
        session.execute(text("UPDATE auth_sessions SET expires_at = :t"), {"t": utcnow() - timedelta(seconds=1)})
        session.commit()
    engine.dispose()
    response = client.get(f"{NORTH}/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "session_expired"


def test_sign_out_revokes_the_token(client: TestClient, pat: dict[str, str]) -> None:  # AC-5
    assert client.post(f"{NORTH}/auth/logout", headers=pat).status_code == 204
    revoked = client.get(f"{NORTH}/me", headers=pat)
    assert (revoked.status_code, revoked.json()["code"]) == (401, "session_revoked")


def test_no_or_bad_token_is_401(client: TestClient) -> None:  # AC-5
    # A token that was never good says nothing of any session: the plain code.
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        answer = client.get(f"{NORTH}/properties", headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")


def test_version_is_public_for_the_about_box(client: TestClient) -> None:  # AC-6
    body = client.get(f"{NORTH}/version").json()
    assert body["api_version"] == "1" and re.fullmatch(r"\d+\.\d+\.\d+", body["server_version"])


def test_staff_sign_in_and_need_an_assist_session_for_contact_data(client: TestClient, office: dict[str, str]) -> None:
    me = client.get(f"{NORTH}/me", headers=office).json()
    assert me["user"]["kind"] == "staff" and me["contact"] is None
    denied = client.get(f"{NORTH}/invoices", headers=office)
    assert denied.status_code == 403 and denied.json()["code"] == "assist_required"
