"""RQ-3 over real SMTP: the account owner's message reaches an SMTP server listening on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.models import ServiceRequest
from server.settings import Settings
from tests.server.conftest import NORTH, login, property_ids
from tests.server.live_helpers import free_port, smtp_server
from tests.server.support_requests import PNG, id_of


class Inbox:
    """aiosmtpd handler keeping every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[list[str], Message]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port


@pytest.fixture
def smtp_client(settings: Settings, smtp_inbox: tuple[Inbox, int]) -> Iterator[TestClient]:
    _, port = smtp_inbox
    app = create_app(replace(settings, mail_url=f"smtp://127.0.0.1:{port}"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def test_new_request_mail_reaches_the_account_owner_over_smtp(
    smtp_client: TestClient, smtp_inbox: tuple[Inbox, int]
) -> None:  # RQ-3
    inbox, _ = smtp_inbox
    pat = login(smtp_client, "pat@example.com")
    oak = property_ids(smtp_client, pat)["Oak Plaza"]
    response = smtp_client.post(
        f"{NORTH}/requests",
        headers=pat,
        data={"property_id": str(oak), "subject": "Sprinkler flooding", "description": "Water everywhere."},
        files=[("files", ("flood.png", PNG, "image/png"))],
    )
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    messages = inbox.wait_for(1)
    assert len(messages) == 1
    recipients, message = messages[0]
    assert recipients == ["alex@example.com"]
    assert message["To"] == "alex@example.com"
    assert message["Subject"] == f"New portal request {number} for Oak Plaza: Sprinkler flooding"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Water everywhere." in body
    assert "flood.png" in body
    assert "Pat Customer <pat@example.com>" in body


def test_customer_comment_mail_reaches_the_account_owner_over_smtp(
    smtp_client: TestClient, smtp_inbox: tuple[Inbox, int], settings: Settings
) -> None:  # RQ-3
    inbox, _ = smtp_inbox
    pat = login(smtp_client, "pat@example.com")
    request_id = id_of(settings, ServiceRequest, "r-open")
    response = smtp_client.post(f"{NORTH}/requests/{request_id}/comments", headers=pat, json={"body": "Any update?"})
    assert response.status_code == 201
    recipients, message = inbox.wait_for(1)[0]
    assert recipients == ["alex@example.com"]
    assert message["Subject"] == "New comment on REQ-1 for Oak Plaza: Broken sprinkler"


def test_unreachable_smtp_server_does_not_fail_the_request(settings: Settings) -> None:  # RQ-3
    app = create_app(replace(settings, mail_url=f"smtp://127.0.0.1:{free_port()}"))
    with TestClient(app, raise_server_exceptions=False) as client:
        pat = login(client, "pat@example.com")
        oak = property_ids(client, pat)["Oak Plaza"]
        response = client.post(f"{NORTH}/requests", headers=pat, json={"property_id": oak, "subject": "Still saved"})
        assert response.status_code == 201
        assert client.get(f"{NORTH}/requests/{response.json()['id']}", headers=pat).status_code == 200
    app.state.engine.dispose()
