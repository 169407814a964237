"""Server settings, read once from the environment so every process of a deployment agrees."""

from __future__ import annotations

import math
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
    # SA-4's 30 minutes by default; a company may want its clerks' assists to end sooner (or later).
    assist_idle_timeout: timedelta = timedelta(minutes=30)
    reset_token_lifetime: timedelta = timedelta(hours=2)
    invitation_lifetime: timedelta = timedelta(days=14)
    # AC-4: failures allowed inside the window before sign-in is slowed down.
    account_failure_limit: int = 5
    address_failure_limit: int = 20
    failure_window: timedelta = timedelta(minutes=15)
    # AC-3: reset mails one email address receives per window (more requests answer 202 and send nothing),
    # and reset requests one client address may make per window (more are a 429).
    reset_mail_limit: int = 3
    reset_address_limit: int = 20
    reset_limit_window: timedelta = timedelta(hours=1)
    max_attachment_bytes: int = 10 * 1024 * 1024
    # How long a payment request owns its Idempotency-Key before a retry (or the reconciler) may take
    # over and finish the payment by looking the charge up: longer than the gateway ever takes to answer.
    payment_lease: timedelta = timedelta(seconds=90)
    # The sandbox gateway's answer time after it has taken the money, as a real gateway's round trip
    # has one; zero by default. A crash inside that window is the one a payment must survive.
    sandbox_charge_latency: timedelta = timedelta(0)
    # Housekeeping (server/services/housekeeping.py). A key's answer is replayed to a retry only while its
    # record is kept, and a retry after that pays (or posts) again: keep it well past the longest a client
    # holds a key. The desktop app keeps one while its dialog or draft stays open, which can be days.
    idempotency_retention: timedelta = timedelta(days=7)
    # An ended session still tells its token's holder why (session_expired / session_revoked) this long;
    # after that the token is merely unknown (a plain 401).
    session_retention: timedelta = timedelta(days=30)
    # Spent reset tokens and sign-in failure counters whose window is over, kept for support's questions.
    spent_record_retention: timedelta = timedelta(days=7)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's forwarded_allow_ips syntax);
    # empty: none, so nobody can pick the address the sign-in slow-down (AC-4) and the audit see.
    forwarded_allow_ips: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"


def _duration(variable: str, unit: str, default: timedelta, *, positive: bool = False) -> timedelta:
    """A finite number of `unit`s (seconds, milliseconds) from the environment; a typo stops the start."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        least = "more than 0" if positive else "0 or more"
        raise ValueError(f"{variable} must be a number of {unit} ({least}), not {raw!r}")
    return timedelta(**{unit: value})


def load_settings(database_url: str | None = None) -> Settings:
    data_dir = _data_dir()
    url = database_url or os.environ.get("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.sqlite3'}"
    mail_url = os.environ.get("PORTAL_MAIL_URL") or (data_dir / "mail").as_uri()
    return Settings(
        data_dir=data_dir,
        database_url=url,
        mail_url=mail_url,
        payment_lease=_duration("PORTAL_PAYMENT_LEASE_SECONDS", "seconds", Settings.payment_lease, positive=True),
        session_lifetime=_duration(
            "PORTAL_SESSION_LIFETIME_SECONDS", "seconds", Settings.session_lifetime, positive=True
        ),
        assist_idle_timeout=_duration(
            "PORTAL_ASSIST_IDLE_SECONDS", "seconds", Settings.assist_idle_timeout, positive=True
        ),
        idempotency_retention=_duration(
            "PORTAL_IDEMPOTENCY_RETENTION_HOURS", "hours", Settings.idempotency_retention, positive=True
        ),
        sandbox_charge_latency=_duration("PORTAL_SANDBOX_CHARGE_LATENCY_MS", "milliseconds", timedelta(0)),
        forwarded_allow_ips=os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "").strip(),
    )
