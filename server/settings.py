"""Server settings, read once from the environment so every process of a deployment agrees."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import platformdirs


def _data_dir() -> Path:
    configured = os.environ.get("PORTAL_DATA_DIR")
    return Path(configured) if configured else Path(platformdirs.user_data_dir("PortalDeskServer", "PortalDesk"))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    mail_url: str
    mail_from: str = "Portal Desk <no-reply@portal.example>"
    session_lifetime: timedelta = timedelta(hours=12)
    assist_idle_timeout: timedelta = timedelta(minutes=30)
    reset_token_lifetime: timedelta = timedelta(hours=2)
    invitation_lifetime: timedelta = timedelta(days=14)
    # AC-4: failures allowed inside the window before sign-in is slowed down.
    account_failure_limit: int = 5
    address_failure_limit: int = 20
    failure_window: timedelta = timedelta(minutes=15)
    max_attachment_bytes: int = 10 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"


def load_settings(database_url: str | None = None) -> Settings:
    data_dir = _data_dir()
    url = database_url or os.environ.get("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.sqlite3'}"
    mail_url = os.environ.get("PORTAL_MAIL_URL") or (data_dir / "mail").as_uri()
    return Settings(data_dir=data_dir, database_url=url, mail_url=mail_url)
