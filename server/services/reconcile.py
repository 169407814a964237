"""Finishing payments their request abandoned (a crash after reserving, a payer who never retried).

Such a payment keeps its invoice amount reserved and stays "pending" until someone resolves it.
The reconciler resolves it the way the payer's own retry would, except that it never charges:
it looks the charge up at the gateway by the payment's key and records what it finds.

Safety rests on the idempotency record's lease, the same one a retry takes over: a payment is
only touched once its lease expired, and a conditional UPDATE takes the lease, so of two
reconcilers (or a reconciler and the payer's retry) exactly one proceeds; the other skips it
(or, for the retry, waits for the answer and replays it). `older_than` adds a margin on top of the
lease before releasing anything: a request still alive past its lease could otherwise charge
after the reconciler released the reservation.

The one exception is a server starting on its own SQLite database (`requests_alive=False`): no
request can be in flight then, so the leases left behind belong to a process that died (the crash
between the gateway's charge and the commit) and are not waited for; otherwise the payment would
stay unrecorded, and the payer's "Try again" would hear "in progress", until the dead lease ran out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server.errors import Problem
from server.models import Contact, IdempotencyRecord, Payment, PaymentMethod, Staff
from server.models.base import utcnow
from server.models.billing import PAYMENT_PENDING
from server.services.access import Caller
from server.services.gateway import Gateway
from server.services.invoices import ZERO
from server.services.mail import Mailer
from server.services.payments import IN_FLIGHT_LEASE, Attempt, PaymentService

log = logging.getLogger(__name__)

# Far beyond any request's lifetime: by then the request that reserved the amount is surely gone.
DEFAULT_OLDER_THAN = timedelta(minutes=15)
SETTLED, RELEASED, LEFT_PENDING, SKIPPED = "settled", "released", "left_pending", "skipped"


@dataclass
class ReconcileReport:
    settled: int = 0
    released: int = 0
    left_pending: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return (
            f"{self.settled} pending payment(s) settled, {self.released} released, "
            f"{self.left_pending} still pending (gateway unavailable), {self.skipped} taken care of elsewhere"
        )


def _expired(now: datetime, cutoff: datetime, requests_alive: bool) -> list[ColumnElement[bool]]:
    """Unanswered, lease run out, older than the margin: the conditions both the scan and the takeover check."""
    conditions = [
        IdempotencyRecord.status_code.is_(None),
        IdempotencyRecord.group_id.is_not(None),
        IdempotencyRecord.created_at <= cutoff,
    ]
    if requests_alive:
        conditions.append(or_(IdempotencyRecord.locked_until.is_(None), IdempotencyRecord.locked_until <= now))
    return conditions


def reconcile_pending_payments(
    session_factory: sessionmaker[Session],
    gateway: Gateway,
    mailer: Mailer,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    lease: timedelta = IN_FLIGHT_LEASE,
    requests_alive: bool = True,
) -> ReconcileReport:
    """Settles or releases every abandoned pending payment; safe to run at any time, from several places at once.

    `requests_alive=False` only when no server process can be serving this database (see the module doc)."""
    now = utcnow()
    cutoff = now - older_than
    has_pending = exists().where(Payment.group_id == IdempotencyRecord.group_id, Payment.status == PAYMENT_PENDING)
    with session_factory() as session:
        record_ids = list(
            session.scalars(
                select(IdempotencyRecord.id)
                .where(*_expired(now, cutoff, requests_alive), has_pending)
                .order_by(IdempotencyRecord.id)
            )
        )
    report = ReconcileReport()
    for record_id in record_ids:
        with session_factory() as session:
            try:
                result = _reconcile_one(session, gateway, mailer, record_id, now, cutoff, lease, requests_alive)
            except Problem:
                # Another party is finishing it right now and has not stored its answer yet.
                result = SKIPPED
        setattr(report, result, getattr(report, result) + 1)
    if record_ids:
        log.warning("payment reconciliation: %s", report.summary())
    return report


def _reconcile_one(
    session: Session,
    gateway: Gateway,
    mailer: Mailer,
    record_id: int,
    now: datetime,
    cutoff: datetime,
    lease: timedelta,
    requests_alive: bool,
) -> str:
    taken = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id, *_expired(now, cutoff, requests_alive))
        .values(locked_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return SKIPPED
    record = session.get(IdempotencyRecord, record_id)
    assert record is not None
    group_id = record.group_id or ""
    pending = list(
        session.scalars(
            select(Payment).where(Payment.group_id == group_id, Payment.status == PAYMENT_PENDING).order_by(Payment.id)
        )
    )
    contact = session.get(Contact, pending[0].payer_contact_id) if pending and pending[0].payer_contact_id else None
    if contact is None:
        # Settled meanwhile (or not a portal payment): nothing to do; the rollback gives the lease back.
        session.rollback()
        return SKIPPED
    first = pending[0]
    method = session.get(PaymentMethod, first.payment_method_id) if first.payment_method_id else None
    assisted_by = session.get(Staff, first.captured_by_id) if first.captured_by_id else None
    caller = Caller(
        session_id=0,
        kind="contact",
        identity_id=contact.identity_id,
        branch=contact.branch,
        contact=contact,
        staff=None,
        assisted_by=assisted_by,  # so an assisted payment is still audited and its receipt says so (SA-3)
        client_address="reconciler",
    )
    total = sum((p.amount + p.convenience_fee for p in pending), ZERO)
    token = method.gateway_token if method is not None else ""  # never used: reconciliation does not charge
    attempt = Attempt(record_id, record.operation, group_id, token, total, contact.branch.currency)
    session.commit()  # the lease is ours now; the gateway is asked with no transaction open
    outcome = PaymentService(session, gateway, mailer, caller, contact, lease).settle_without_charging(attempt)
    if outcome is None:
        return LEFT_PENDING
    if outcome.replayed:
        return SKIPPED
    return SETTLED if outcome.status_code == 201 else RELEASED
