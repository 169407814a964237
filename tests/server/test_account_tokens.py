"""Invitation and reset codes, and the current password, against takeover: the security review of
invitations and resets (AC-1..AC-4)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import OneTimeToken
from server.models.base import utcnow
from server.services.importer import import_document
from server.services.secrets import token_hash
from server.settings import Settings
from tests.server.company import PASSWORD, build_company
from tests.server.conftest import NORTH, SOUTH, database, login, mails

NEW_PASSWORD = "a-brand-new-password"
NORA_TOKEN = "invite-nora-0123456789"


def _contact(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in doc["contacts"] if c["key"] == key)


def _accept(client: TestClient, token: str, password: str = NEW_PASSWORD, base: str = NORTH) -> Any:
    return client.post(f"{base}/auth/invitations/accept", json={"token": token, "password": password})


def _sign_in(client: TestClient, email: str, password: str, base: str = NORTH) -> int:
    return client.post(f"{base}/auth/login", json={"email": email, "password": password}).status_code


def _reset_codes(settings: Settings) -> list[str]:
    return [m.group(1) for mail in mails(settings) if (m := re.search(r"Your reset code: (\S+)", mail))]


def test_an_invitation_never_replaces_a_password_already_chosen(client: TestClient, settings: Settings) -> None:
    # AC-1, AC-2: Pat's identity has a password; the back office now invites Pat's south contact too.
    doc = build_company(date.today())
    _contact(doc, "pat-south")["invitation_token"] = "invite-pat-south-0123"
    import_document(settings, doc)
    pat = login(client, "pat@example.com")
    response = _accept(client, "invite-pat-south-0123", base=SOUTH)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "already_accepted"
    assert "sign in with its password" in response.json()["detail"]
    assert _sign_in(client, "pat@example.com", NEW_PASSWORD, base=SOUTH) == 401
    assert _sign_in(client, "pat@example.com", PASSWORD, base=SOUTH) == 200
    assert client.get(f"{NORTH}/me", headers=pat).status_code == 200


def test_imported_invitations_expire_and_reimports_neither_extend_nor_reopen_them(
    client: TestClient, settings: Settings
) -> None:  # AC-1
    with database(settings) as session:
        expires = session.scalar(
            select(OneTimeToken.expires_at).where(OneTimeToken.token_hash == token_hash(NORA_TOKEN))
        )
    assert expires is not None and expires <= utcnow() + settings.invitation_lifetime
    import_document(settings, build_company(date.today()))
    with database(settings) as session:
        record = session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash(NORA_TOKEN)))
        assert record is not None and record.expires_at == expires, "a re-import leaves the expiry alone"
        record.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    import_document(settings, build_company(date.today()))
    expired = _accept(client, NORA_TOKEN)
    assert expired.status_code == 422 and expired.json()["code"] == "invalid_token"


def test_an_invitation_used_stays_used_after_a_reimport(client: TestClient, settings: Settings) -> None:  # AC-1
    assert _accept(client, NORA_TOKEN).status_code == 200
    import_document(settings, build_company(date.today()))
    assert _accept(client, NORA_TOKEN, password="yet-another-password").json()["code"] == "invalid_token"


def test_an_invitation_to_an_old_email_no_longer_opens_the_contact(client: TestClient, settings: Settings) -> None:
    # AC-1: the back office corrected Nora's email; the code mailed to the old address must not make its reader Nora.
    doc = build_company(date.today())
    _contact(doc, "newbie")["email"] = "nora.new@example.com"
    import_document(settings, doc)
    response = _accept(client, NORA_TOKEN)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_token"
    assert _sign_in(client, "nora@example.com", NEW_PASSWORD) == 401


@pytest.mark.parametrize(
    ("path", "field"), [("/auth/invitations/accept", "password"), ("/auth/password-reset/confirm", "new_password")]
)
def test_guessing_codes_is_slowed_down_per_address(
    client: TestClient, settings: Settings, path: str, field: str
) -> None:  # AC-4
    for n in range(settings.address_failure_limit):
        wrong = client.post(f"{NORTH}{path}", json={"token": f"guess-{n:04d}-abcdefghijkl", field: NEW_PASSWORD})
        assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_token"
    blocked = _accept(client, NORA_TOKEN)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["code"] == "too_many_attempts" and "Try again in" in blocked.json()["detail"]


def test_a_reset_code_dies_when_the_password_changes(client: TestClient, settings: Settings) -> None:  # AC-3
    client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"})
    (code,) = _reset_codes(settings)
    pat = login(client, "pat@example.com")
    changed = client.post(
        f"{NORTH}/auth/password-change", headers=pat, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    late = client.post(f"{NORTH}/auth/password-reset/confirm", json={"token": code, "new_password": "someone-elses-pw"})
    assert late.status_code == 422 and late.json()["code"] == "invalid_token"
    assert _sign_in(client, "pat@example.com", NEW_PASSWORD) == 200


def test_a_reset_code_dies_when_another_reset_is_confirmed(client: TestClient, settings: Settings) -> None:  # AC-3
    for _ in range(2):
        client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"})
    first, second = _reset_codes(settings)
    assert (
        client.post(
            f"{NORTH}/auth/password-reset/confirm", json={"token": second, "new_password": NEW_PASSWORD}
        ).status_code
        == 204
    )
    stale = client.post(
        f"{NORTH}/auth/password-reset/confirm", json={"token": first, "new_password": "someone-elses-pw"}
    )
    assert stale.status_code == 422


def test_reset_mails_to_one_address_are_limited(client: TestClient, settings: Settings) -> None:  # AC-3
    answers = [client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"}) for _ in range(5)]
    assert [(a.status_code, a.content) for a in answers] == [(202, b"")] * 5, "the answer never changes"
    assert len(mails(settings)) == settings.reset_mail_limit


def test_reset_requests_from_one_client_address_are_slowed_down(client: TestClient, settings: Settings) -> None:
    # AC-3, AC-4: a 429 here names no email, so it tells nothing about accounts.
    for n in range(settings.reset_address_limit):
        answer = client.post(f"{NORTH}/auth/password-reset", json={"email": f"someone{n}@example.com"})
        assert answer.status_code == 202
    blocked = client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert mails(settings) == []


def test_guessing_the_current_password_is_slowed_down(client: TestClient, settings: Settings) -> None:  # AC-3, AC-4
    pat = login(client, "pat@example.com")
    for n in range(settings.account_failure_limit):
        wrong = client.post(
            f"{NORTH}/auth/password-change",
            headers=pat,
            json={"current_password": f"guess-number-{n}", "new_password": NEW_PASSWORD},
        )
        assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_password"
    blocked = client.post(
        f"{NORTH}/auth/password-change", headers=pat, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert blocked.status_code == 429, blocked.text
    assert int(blocked.headers["Retry-After"]) > 0 and "Try again in" in blocked.json()["detail"]
    assert _sign_in(client, "pat@example.com", PASSWORD) == 429, "one count per account, as for failed sign-ins"
