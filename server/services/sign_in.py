"""Signing in and out, slow-down of repeated failures (AC-4) and the tokens it hands out (AC-5)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import Problem, unauthorized
from server.models import AuthSession, Branch, Contact, Identity, SignInFailures, Staff, staff_branches
from server.models.base import utcnow
from server.services.secrets import new_token, token_hash, verify_password
from server.settings import Settings

BAD_CREDENTIALS = "The email or password is not correct."
_MAX_BLOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class Issued:
    token: str
    session: AuthSession


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_scope(email: str) -> str:
    return f"account:{normalise_email(email)}"


def address_scope(address: str) -> str:
    """One budget of failures per client address, whatever it guesses: passwords, invitation or reset codes."""
    return f"address:{address}"


def _refuse_if_blocked(rows: list[SignInFailures], now: datetime, what: str) -> None:
    waits = [row.blocked_until - now for row in rows if row.blocked_until and row.blocked_until > now]
    if waits:
        too_many(math.ceil(max(waits).total_seconds()), what)


def too_many(seconds: int, what: str) -> NoReturn:
    raise Problem(
        429,
        "too_many_attempts",
        f"Too many {what}. Try again in {_describe(seconds)}.",
        "Too many attempts",
        headers={"Retry-After": str(seconds)},
    )


def _describe(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def _counter(session: Session, scope: str, now: datetime) -> SignInFailures:
    """The scope's row, locked; two processes may create it at once: the loser re-reads the winner's row."""
    row = session.get(SignInFailures, scope, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(SignInFailures(scope=scope, count=0, window_started_at=now))
        except IntegrityError:
            pass
        row = session.get(SignInFailures, scope, with_for_update=True, populate_existing=True)
        assert row is not None
    return row


def count_in_window(session: Session, scope: str, window: timedelta, now: datetime) -> SignInFailures:
    """Counts one more event of `scope` (a reset mail asked for, say); the row tells how many fell in the
    current window and when it started."""
    row = _counter(session, scope, now)
    if row.window_started_at + window <= now:
        row.count, row.window_started_at = 0, now
    row.count += 1
    return row


@dataclass(frozen=True)
class Counted:
    """An attempt counted as a failure before it was checked, so that a success can take it back."""

    scope: str
    blocked_before: datetime | None
    blocked_by_this: datetime | None  # the block this attempt set, if it set one


def _record_failure(settings: Settings, row: SignInFailures, limit: int, now: datetime) -> Counted:
    before = row.blocked_until
    if row.window_started_at + settings.failure_window <= now and (
        row.blocked_until is None or row.blocked_until <= now
    ):
        row.count, row.window_started_at = 0, now
    row.count += 1
    if row.count >= limit:
        # Each failure past the limit doubles the wait: 30 s, 1 min, 2 min ... up to 15 min.
        delay = min(timedelta(seconds=30) * 2 ** (row.count - limit), _MAX_BLOCK)
        row.blocked_until = now + delay
    return Counted(row.scope, before, row.blocked_until if row.blocked_until != before else None)


def count_attempt(
    session: Session, settings: Settings, limits: list[tuple[str, int]], what: str = "failed sign-ins"
) -> list[Counted]:
    """Counts an attempt as a failure of each (scope, limit) before its check, or refuses it (429) when
    a scope is blocked; commits, so the slow check that follows holds no counter.

    Read, refused and counted under the counters' row locks: parallel guesses, on any server process,
    each see the ones before them, and no more than the limit get to a check (AC-4). Locked in the order
    given, the account before the address, so two attempts cannot deadlock."""
    now = utcnow()
    rows = [_counter(session, scope, now) for scope, _ in limits]
    try:
        _refuse_if_blocked(rows, now, what)
    except Problem:
        session.rollback()
        raise
    counted = [_record_failure(settings, row, limit, now) for row, (_, limit) in zip(rows, limits, strict=True)]
    session.commit()
    return counted


def take_back(session: Session, counted: Counted) -> None:
    """A success is no failure: the attempt counted before its check no longer counts, nor the block it set.

    Relative to what is there now, as other attempts may have counted since."""
    row = session.get(SignInFailures, counted.scope, with_for_update=True, populate_existing=True)
    if row is None:  # swept by the housekeeper meanwhile
        return
    row.count = max(row.count - 1, 0)
    if counted.blocked_by_this is not None and row.blocked_until == counted.blocked_by_this:
        row.blocked_until = counted.blocked_before


def _issue(
    session: Session,
    settings: Settings,
    identity: Identity,
    branch: Branch,
    *,
    contact: Contact | None,
    staff: Staff | None,
) -> Issued:
    token = new_token()
    now = utcnow()
    auth = AuthSession(
        token_hash=token_hash(token),
        identity_id=identity.id,
        branch_id=branch.id,
        kind="contact" if contact is not None else "staff",
        contact_id=contact.id if contact else None,
        staff_id=staff.id if staff else None,
        created_at=now,
        last_used_at=now,
        expires_at=now + settings.session_lifetime,
    )
    session.add(auth)
    session.flush()
    return Issued(token, auth)


def account_on_branch(session: Session, identity: Identity, branch: Branch) -> tuple[Contact | None, Staff | None]:
    """The contact record (preferred) or staff member this identity is on this branch, if any."""
    contact = session.scalar(select(Contact).where(Contact.identity_id == identity.id, Contact.branch_id == branch.id))
    if contact is not None:
        return contact, None
    staff = session.scalar(
        select(Staff)
        .join(staff_branches, staff_branches.c.staff_id == Staff.id)
        .where(Staff.identity_id == identity.id, staff_branches.c.branch_id == branch.id)
    )
    return None, staff


def sign_in(session: Session, settings: Settings, branch: Branch, email: str, password: str, address: str) -> Issued:
    limits = [
        (account_scope(email), settings.account_failure_limit),
        (address_scope(address), settings.address_failure_limit),
    ]
    account, from_address = count_attempt(session, settings, limits)
    # Shared until the session is issued: a password change or reset (which locks the row for update)
    # waits for this sign-in and then ends its session, or this sign-in waits and checks the new hash.
    identity = session.scalar(
        select(Identity).where(Identity.email == normalise_email(email)).with_for_update(read=True)
    )
    valid = verify_password(identity.password_hash if identity else None, password)
    contact, staff = account_on_branch(session, identity, branch) if identity and valid else (None, None)
    if identity is None or not valid or (contact is None and staff is None):
        session.rollback()
        raise unauthorized(BAD_CREDENTIALS)
    session.execute(
        update(SignInFailures).where(SignInFailures.scope == account.scope).values(count=0, blocked_until=None)
    )
    take_back(session, from_address)
    return _issue(session, settings, identity, branch, contact=contact, staff=staff)


def issue_for_contact(session: Session, settings: Settings, contact: Contact) -> Issued:
    return _issue(session, settings, contact.identity, contact.branch, contact=contact, staff=None)


def revoke(session: Session, session_id: int) -> None:
    """Ends a session, and any assist session a staff member opened from it (SA-4)."""
    now = utcnow()
    session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None))
        .where((AuthSession.id == session_id) | (AuthSession.parent_session_id == session_id))
        .values(revoked_at=now)
    )


def revoke_all_for_identity(session: Session, identity_id: int, keep_session_id: int | None = None) -> None:
    """Ends the identity's sessions (but `keep_session_id`) and the assist sessions opened from them.

    An assist session carries the customer's identity, not the staff member's: without its parent
    it would outlive the staff password change or reset meant to lock the staff member out (SA-4).
    """
    ended = select(AuthSession.id).where(AuthSession.identity_id == identity_id)
    if keep_session_id is not None:
        ended = ended.where(AuthSession.id != keep_session_id)
    session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None))
        .where(AuthSession.id.in_(ended) | AuthSession.parent_session_id.in_(ended))
        .values(revoked_at=utcnow())
    )
