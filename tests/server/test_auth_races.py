"""Sign-in, password and assist checks racing each other across server processes (AC-4, AC-3, SA-4).

Each race is made to happen: one request is paused at the point where the old code was open (the password
check, say) while the others run. On PostgreSQL (READ COMMITTED, several processes) that is where the old
code let them through; on SQLite, which serialises writers, these tests hold as well.
Runs on SQLite and, with PORTAL_TEST_DATABASE_URL set, on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from server.services import accounts, sign_in
from server.settings import Settings
from tests.server.company import PASSWORD
from tests.server.conftest import NORTH, login
from tests.server.payment_helpers import race
from tests.server.race_helpers import Gate

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
