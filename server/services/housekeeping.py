"""Deleting rows whose use is over, so tables that every request touches do not grow forever.

What goes, and what stays:

- Idempotency records (payments' keys, and those of new requests and comments) once answered and older
  than `idempotency_retention`. A record still in flight (no answer yet) is never deleted, however old:
  it is how a retry or the reconciler finds a pending payment and settles it (server/services/reconcile.py).
- Sessions ended (expired or revoked) more than `session_retention` ago: until then a token still hears
  why it stopped working (session_expired / session_revoked). An assist session goes before the staff
  session it was opened from, which it references.
- Reset tokens used or expired more than `spent_record_retention` ago: a used, an expired and an unknown
  token get the same answer, so nothing a user sees changes.
- Sign-in failure counters whose window and block ended more than `spent_record_retention` ago: such a
  row counts as nothing already (the next failure starts a new window), so deleting it changes no answer.

Kept forever: invitation tokens (the importer makes one per invited contact, never expiring, and
re-creates any that is missing on the next import, so deleting a used one would make it work again) and
the audit trail (SA-3).

Each table is emptied in batches of `batch_size` rows, one short transaction each with a pause between,
so a large backlog never holds SQLite's write lock (or PostgreSQL's row locks) for long. Every batch takes
its rows with FOR UPDATE SKIP LOCKED on PostgreSQL: two processes running this at once delete different
rows and never wait for (or deadlock on) each other.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, sessionmaker

from server.models import AuthSession, IdempotencyRecord, OneTimeToken, SignInFailures
from server.models.base import utcnow
from server.settings import Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Longer than SQLite's busy handler sleeps between its tries (100 ms at most), so a request waiting for
# the write lock gets it between two batches rather than waiting for the whole backlog.
PAUSE_BETWEEN_BATCHES = timedelta(milliseconds=150)


@dataclass
class HousekeepingReport:
    idempotency_records: int = 0
    sessions: int = 0
    reset_tokens: int = 0
    sign_in_failures: int = 0

    def summary(self) -> str:
        return (
            f"deleted {self.idempotency_records} answered idempotency record(s), {self.sessions} ended session(s), "
            f"{self.reset_tokens} spent reset token(s), {self.sign_in_failures} stale sign-in failure counter(s)"
        )

    @property
    def total(self) -> int:
        return sum(getattr(self, item.name) for item in fields(self))


def housekeeping(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    pause: timedelta = PAUSE_BETWEEN_BATCHES,
) -> HousekeepingReport:
    """Deletes what the module doc lists; safe at any time, from several processes at once."""
    now = now or utcnow()
    batches = _Batches(session_factory, batch_size, pause)
    report = HousekeepingReport(
        idempotency_records=batches.delete(IdempotencyRecord.id, _answered_keys(now - settings.idempotency_retention)),
        sessions=batches.delete(AuthSession.id, _ended_sessions(now - settings.session_retention)),
        reset_tokens=batches.delete(OneTimeToken.id, _spent_reset_tokens(now - settings.spent_record_retention)),
        sign_in_failures=batches.delete(
            SignInFailures.scope, _stale_failures(now - settings.spent_record_retention, settings.failure_window)
        ),
    )
    if report.total:
        log.info("housekeeping: %s", report.summary())
    return report


def _answered_keys(cutoff: datetime) -> list[ColumnElement[bool]]:
    return [IdempotencyRecord.status_code.is_not(None), IdempotencyRecord.created_at <= cutoff]


def _ended_sessions(cutoff: datetime) -> list[ColumnElement[bool]]:
    child = aliased(AuthSession)
    return [
        or_(AuthSession.expires_at <= cutoff, AuthSession.revoked_at <= cutoff),
        # Its assist sessions first (they end no later than it does, so they go in an earlier batch).
        ~exists().where(child.parent_session_id == AuthSession.id),
    ]


def _spent_reset_tokens(cutoff: datetime) -> list[ColumnElement[bool]]:
    return [OneTimeToken.purpose == "reset", or_(OneTimeToken.expires_at <= cutoff, OneTimeToken.used_at <= cutoff)]


def _stale_failures(cutoff: datetime, window: timedelta) -> list[ColumnElement[bool]]:
    return [
        SignInFailures.window_started_at <= cutoff - window,
        or_(SignInFailures.blocked_until.is_(None), SignInFailures.blocked_until <= cutoff),
    ]


@dataclass(frozen=True)
class _Batches:
    session_factory: sessionmaker[Session]
    size: int
    pause: timedelta

    def delete(self, key: InstrumentedAttribute[Any], conditions: list[ColumnElement[bool]]) -> int:
        """Deletes the rows matching `conditions`, oldest key first, a batch per transaction, until none is left."""
        table = key.class_
        deleted = 0
        while True:
            batch = (
                select(key)
                .where(*conditions)
                .order_by(key)
                .limit(self.size)
                .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite has one writer anyway
            )
            with self.session_factory() as session:
                result = session.execute(
                    delete(table).where(key.in_(batch)).execution_options(synchronize_session=False)
                )
                session.commit()
            count: int = result.rowcount  # type: ignore[attr-defined]
            deleted += count
            if count == 0:
                return deleted
            time.sleep(self.pause.total_seconds())
