"""The security review pass of issue 9: response headers, CORS closed, no secrets in logs, token lifetime."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.server.company import PASSWORD
from tests.server.conftest import NORTH

NEW_PASSWORD = "another-long-password"


def test_api_answers_carry_security_headers(client: TestClient, pat: dict[str, str]) -> None:
    for response in (
        client.get(f"{NORTH}/invoices", headers=pat),
        client.get(f"{NORTH}/invoices/999999", headers=pat),
        client.get(f"{NORTH}/version"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_hsts_only_over_https(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get(f"{NORTH}/version").headers
    secure = TestClient(client.app, base_url="https://portal.example")
    assert secure.get(f"{NORTH}/version").headers["strict-transport-security"].startswith("max-age=")


def test_cors_is_closed_by_default(client: TestClient, pat: dict[str, str]) -> None:
    preflight = client.options(
        f"{NORTH}/invoices",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get(f"{NORTH}/invoices", headers={**pat, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_no_password_or_token_reaches_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    login = client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
    token = login.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": "wrong-" + PASSWORD})
    client.post(
        f"{NORTH}/auth/password-change",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    client.get(f"{NORTH}/invoices", headers=headers)
    client.post(f"{NORTH}/auth/logout", headers=headers)
    logged = caplog.text
    for secret in (PASSWORD, NEW_PASSWORD, token):
        assert secret not in logged
