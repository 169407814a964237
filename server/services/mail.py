"""Outgoing mail through the backend named by PORTAL_MAIL_URL: SMTP, or a folder of .eml files."""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from server.models.base import utcnow

log = logging.getLogger(__name__)


class MailBackend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class FileMailBackend:
    """Writes each message to its own .eml file; the embedded default and what tests read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))


class SmtpMailBackend:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


def backend_from_url(url: str) -> MailBackend:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileMailBackend(Path(unquote(parsed.path)))
    if parsed.scheme == "smtp":
        return SmtpMailBackend(parsed.hostname or "127.0.0.1", parsed.port or 25)
    raise ValueError(f"PORTAL_MAIL_URL must start with smtp:// or file:// (got {url!r})")


class Mailer:
    def __init__(self, backend: MailBackend, sender: str) -> None:
        self.backend = backend
        self.sender = sender

    def send(self, to: str, subject: str, body: str, attachments: Sequence[tuple[str, str, bytes]] = ()) -> bool:
        """Sends one message; a mail failure is logged, never turned into a failed portal action."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain="portal.example")
        message.set_content(body)
        for filename, mime, data in attachments:
            maintype, subtype = mime.split("/", 1)
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        try:
            self.backend.send(message)
        except OSError:
            log.exception("could not send mail %r", subject)
            return False
        return True
