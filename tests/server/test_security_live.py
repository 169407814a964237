"""What only a real `serve` process shows: the client address it believes (AC-4) and whether a reset's
mail is sent inside the request (AC-3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from server.settings import Settings
from tests.server.live_helpers import serving, smtp_server, wait_for

SMTP_DELAY = 3.0


class SlowInbox:
    """An SMTP server that takes SMTP_DELAY seconds to accept each message, as a distant one may."""

    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SMTP_DELAY)
        self.recipients.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowInbox, int]]:
    inbox = SlowInbox()
    with smtp_server(inbox) as port:
        yield inbox, port


def test_forwarded_for_is_not_believed_by_default(settings: Settings, tmp_path: Path) -> None:  # AC-4
    with serving(settings, tmp_path) as (server,):
        login = server.portal.api("north") + "/auth/login"
        codes = [
            requests.post(
                login,
                json={"email": f"nobody{n}@example.com", "password": "wrong-password!"},
                headers={"X-Forwarded-For": f"10.0.{n}.1"},
                timeout=30,
            ).status_code
            for n in range(settings.address_failure_limit + 1)
        ]
    assert codes == [401] * settings.address_failure_limit + [429], "a new header each time is still one address"


def test_reset_mail_is_sent_after_the_answer(
    settings: Settings, tmp_path: Path, slow_smtp: tuple[SlowInbox, int]
) -> None:  # AC-3
    inbox, port = slow_smtp
    with serving(settings, tmp_path, env={"PORTAL_MAIL_URL": f"smtp://127.0.0.1:{port}"}) as (server,):
        reset = server.portal.api("north") + "/auth/password-reset"
        took = {}
        for email in ("nobody@example.com", "pat@example.com"):
            started = time.monotonic()
            assert requests.post(reset, json={"email": email}, timeout=30).status_code == 202
            took[email] = time.monotonic() - started
        wait_for("the reset mail", lambda: inbox.recipients == ["pat@example.com"], timeout=SMTP_DELAY + 10)
    assert took["pat@example.com"] < SMTP_DELAY / 2, f"a known email answered in {took} s: the mail was in the request"
