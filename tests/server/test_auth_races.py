"""Sign-in, password and assist checks racing each other across server processes (AC-4, AC-3, SA-4).

Each race is made to happen: one request is paused at the point where the old code was open (the password
check, say) while the others run. On PostgreSQL (READ COMMITTED, several processes) that is where the old
code let them through; on SQLite, which serialises writers, these tests hold as well.
Runs on SQLite and, with PORTAL_TEST_DATABASE_URL set, on PostgreSQL.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from server.models import AuthSession, Contact, Identity
from server.models.base import utcnow
from server.services import accounts, sign_in, staff
from server.services.secrets import token_hash
from server.settings import Settings
from tests.server.company import PASSWORD
from tests.server.conftest import NORTH, database, login, mails
from tests.server.payment_helpers import race
from tests.server.race_helpers import Gate, Meanwhile
from tests.server.staff_helpers import assist, find_contact

NEW_PASSWORD = "a-brand-new-password"


def _gated(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, gate: Gate) -> None:
    """`module.name` (a check) waits at `gate` before it runs."""
    real = getattr(module, name)

    def held(*args: Any) -> Any:
        gate.hold()
        return real(*args)

    monkeypatch.setattr(module, name, held)


def test_parallel_wrong_passwords_stop_at_the_account_limit(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # AC-4
    tries = settings.account_failure_limit + 3
    gate = Gate(settings, tries)
    _gated(monkeypatch, sign_in, "verify_password", gate)

    def guess(index: int) -> Response:
        body = {"email": "pat@example.com", "password": f"wrong-guess-{index:04d}"}
        return gate.answered(client.post(f"{NORTH}/auth/login", json=body))

    answers = race(tries, guess)
    assert Counter(a.status_code for a in answers) == {401: settings.account_failure_limit, 429: 3}
    assert gate.checked == settings.account_failure_limit
    assert {a.json()["detail"][:29] for a in answers if a.status_code == 429} == {"Too many failed sign-ins. Try"}
    right = client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
    assert right.status_code == 429


def test_parallel_wrong_current_passwords_stop_at_the_account_limit(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # AC-4: a stolen session must not try passwords in parallel
    tries = settings.account_failure_limit + 3
    gate = Gate(settings, tries)
    _gated(monkeypatch, accounts, "verify_password", gate)

    def guess(index: int) -> Response:
        body = {"current_password": f"wrong-guess-{index:04d}", "new_password": NEW_PASSWORD}
        return gate.answered(client.post(f"{NORTH}/auth/password-change", json=body, headers=pat))

    answers = race(tries, guess)
    assert Counter(a.status_code for a in answers) == {422: settings.account_failure_limit, 429: 3}
    assert {a.json()["code"] for a in answers} == {"wrong_password", "too_many_attempts"}
    assert gate.checked == settings.account_failure_limit


def test_parallel_invalid_codes_stop_at_the_address_limit(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # AC-4
    tries = settings.address_failure_limit + 4
    gate = Gate(settings, tries)
    _gated(monkeypatch, accounts, "token_hash", gate)  # the code's lookup

    def guess(index: int) -> Response:
        body = {"token": f"guess-{index:04d}-abcdefghijkl", "password": NEW_PASSWORD}
        return gate.answered(client.post(f"{NORTH}/auth/invitations/accept", json=body))

    answers = race(tries, guess)
    assert Counter(a.status_code for a in answers) == {422: settings.address_failure_limit, 429: 4}
    assert {a.json()["code"] for a in answers} == {"invalid_token", "too_many_attempts"}


def test_a_right_password_does_not_count_against_the_address(client: TestClient, settings: Settings) -> None:  # AC-4
    # Every attempt is counted before its check; a success takes its count back.
    for n in range(settings.address_failure_limit - 1):
        wrong = client.post(f"{NORTH}/auth/login", json={"email": f"nobody{n}@example.com", "password": "wrong-pw!"})
        assert wrong.status_code == 401
    login(client, "billie@example.com")
    last = client.post(f"{NORTH}/auth/login", json={"email": "nobody@example.com", "password": "wrong-pw!"})
    assert last.status_code == 401, "the success was counted as a failure"
    assert (
        client.post(f"{NORTH}/auth/login", json={"email": "billie@example.com", "password": PASSWORD}).status_code
        == 429
    )


def _reset_code(client: TestClient, settings: Settings) -> str:
    client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"})
    found = re.search(r"Your reset code: (\S+)", mails(settings)[-1])
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("how", ["change", "reset"])
def test_a_sign_in_overlapping_a_new_password_does_not_keep_its_session(
    client: TestClient, pat: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:  # AC-3, AC-5
    if how == "change":
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        new_password = lambda: client.post(f"{NORTH}/auth/password-change", json=body, headers=pat)  # noqa: E731
    else:
        body = {"token": _reset_code(client, settings), "new_password": NEW_PASSWORD}
        new_password = lambda: client.post(f"{NORTH}/auth/password-reset/confirm", json=body)  # noqa: E731
    real = sign_in.verify_password
    changing: list[Meanwhile[Response]] = []

    def slow_check(password_hash: str | None, password: str) -> bool:
        valid = real(password_hash, password)  # the old password, checked against the old hash ...
        if not changing:  # ... while the owner sets a new one
            changing.append(Meanwhile(settings, new_password))
        return valid

    monkeypatch.setattr(sign_in, "verify_password", slow_check)
    signed_in = client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
    assert changing[0].result().status_code == 204
    if signed_in.status_code == 200:
        me = client.get(f"{NORTH}/me", headers={"Authorization": f"Bearer {signed_in.json()['token']}"})
        assert (me.status_code, me.json().get("code")) == (401, "session_revoked"), (
            "the old password's session lived on"
        )
    else:
        assert signed_in.status_code == 401
    monkeypatch.setattr(sign_in, "verify_password", real)
    assert (
        client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD}).status_code == 401
    )


@pytest.mark.parametrize("ended", ["revoked", "expired"])
def test_an_assist_ends_with_its_staff_session_whatever_ended_it(
    client: TestClient, office: dict[str, str], settings: Settings, ended: str
) -> None:  # SA-4
    assisted = assist(client, office, "pat@example.com")
    token = assisted["Authorization"].removeprefix("Bearer ")
    with database(settings) as session:  # the parent alone, as a revoke that did not see the assist yet
        child = session.scalars(select(AuthSession).where(AuthSession.parent_session_id.is_not(None))).one()
        assert child.token_hash == token_hash(token)
        values = {"revoked_at": utcnow()} if ended == "revoked" else {"expires_at": utcnow() - timedelta(seconds=1)}
        session.execute(update(AuthSession).where(AuthSession.id == child.parent_session_id).values(**values))
        session.commit()
    answer = client.get(f"{NORTH}/me", headers=assisted)
    assert (answer.status_code, answer.json().get("code")) == (401, "session_revoked")
    assert "staff member signed out" in answer.json()["detail"]


def test_an_assist_opened_while_its_staff_member_signs_out_ends_too(
    client: TestClient, office: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # SA-4
    contact_id = find_contact(client, office, "pat@example.com")["id"]
    real = staff.new_token
    signing_out: list[Meanwhile[Response]] = []

    def token_after_the_parent_was_read() -> str:
        if not signing_out:
            signing_out.append(Meanwhile(settings, lambda: client.post(f"{NORTH}/auth/logout", headers=office)))
        return real()

    monkeypatch.setattr(staff, "new_token", token_after_the_parent_was_read)
    opened = client.post(
        f"{NORTH}/staff/assist", json={"contact_id": contact_id, "reason": "On the phone"}, headers=office
    )
    assert signing_out[0].result().status_code == 204
    assert opened.status_code == 201, opened.text
    answer = client.get(f"{NORTH}/me", headers={"Authorization": f"Bearer {opened.json()['token']}"})
    assert (answer.status_code, answer.json().get("code")) == (401, "session_revoked")


def test_two_invitations_of_one_identity_accepted_at_once_set_one_password(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # AC-1, AC-2: an invitation never replaces a password already chosen
    with database(settings) as session:
        nora = session.scalars(select(Contact).join(Identity).where(Identity.email == "nora@example.com")).one()
        second = accounts.create_token(session, nora.identity, "invitation", settings.invitation_lifetime, nora)
        session.commit()
    real = accounts.hash_password
    other: list[Meanwhile[Response]] = []

    def hashing(password: str) -> str:
        if not other:
            body = {"token": second, "password": "the-other-password"}
            other.append(Meanwhile(settings, lambda: client.post(f"{NORTH}/auth/invitations/accept", json=body)))
        return real(password)

    monkeypatch.setattr(accounts, "hash_password", hashing)
    first = client.post(
        f"{NORTH}/auth/invitations/accept", json={"token": "invite-nora-0123456789", "password": NEW_PASSWORD}
    )
    later = other[0].result()
    assert first.status_code == 200, first.text
    assert (later.status_code, later.json()["code"]) == (409, "already_accepted")
    monkeypatch.setattr(accounts, "hash_password", real)
    assert (
        client.post(f"{NORTH}/auth/login", json={"email": "nora@example.com", "password": NEW_PASSWORD}).status_code
        == 200
    )
