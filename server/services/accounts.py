"""Invitations (AC-1), password reset and change (AC-3): single-use, expiring, emailed tokens."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from server.errors import FieldError, Problem, conflict, forbidden, invalid
from server.models import Branch, Contact, Identity, OneTimeToken
from server.models.base import utcnow
from server.services.access import Caller
from server.services.mail import Mailer
from server.services.secrets import (
    check_password_rules,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from server.services.sign_in import (
    account_on_branch,
    account_scope,
    address_scope,
    count_attempt,
    count_in_window,
    normalise_email,
    revoke_all_for_identity,
    take_back,
    too_many,
)
from server.settings import Settings

INVALID_LINK = "This link is no longer valid. Ask for a new one."
ALREADY_ACCEPTED = (
    "This email already has a portal account: sign in with its password (the same on every branch), "
    "or use \u201cForgot password\u201d to choose a new one."
)


def create_token(
    session: Session,
    identity: Identity,
    purpose: str,
    lifetime: timedelta,
    contact: Contact | None = None,
    token: str | None = None,
) -> str:
    token = token or new_token()
    session.add(
        OneTimeToken(
            token_hash=token_hash(token),
            purpose=purpose,
            identity_id=identity.id,
            contact_id=contact.id if contact else None,
            expires_at=utcnow() + lifetime,
        )
    )
    return token


def _redeem(session: Session, settings: Settings, token: str, purpose: str, address: str) -> OneTimeToken:
    """The token's record, marked used, and its identity locked for the new password; a wrong guess counts
    against the client address like a failed sign-in (AC-4), so codes cannot be tried one after another.

    The guess is counted before the code is looked up (see count_attempt), and taken back when it is good."""
    limits = [(address_scope(address), settings.address_failure_limit)]
    (counted,) = count_attempt(session, settings, limits, "attempts with invalid codes")
    now = utcnow()
    record = session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash(token)))
    if record is not None and _usable(record, purpose, now):
        # The identity before the token, as a password change locks them (it ends the reset codes out):
        # in the other order each could wait on the other.
        _lock_identity(session, record.identity_id)
        session.refresh(record, with_for_update=True)
        if _usable(record, purpose, now):  # not redeemed meanwhile
            take_back(session, counted)
            record.used_at = now
            return record
    session.rollback()
    raise invalid([FieldError("token", INVALID_LINK)], code="invalid_token")


def _usable(record: OneTimeToken, purpose: str, now: datetime) -> bool:
    return record.purpose == purpose and record.used_at is None and record.expires_at > now


def _lock_identity(session: Session, identity_id: int) -> Identity:
    """The identity, locked for a new password: a sign-in checking the old one (which holds it shared)
    has issued its session before this goes on, so that revoking the identity's sessions ends it too."""
    identity = session.get(Identity, identity_id, with_for_update=True, populate_existing=True)
    assert identity is not None
    return identity


def _set_password(session: Session, identity: Identity, password: str) -> None:
    """A new password makes every reset code still out for it worthless: a code mailed before a change
    must not undo the change. The identity is locked (_lock_identity) by the caller."""
    now = utcnow()
    identity.password_hash = hash_password(password)
    identity.password_changed_at = now
    session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.identity_id == identity.id, OneTimeToken.purpose == "reset", OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )


def request_reset(session: Session, settings: Settings, email: str, address: str) -> bool:
    """Counts the request; answers whether a reset may be mailed to `email` (the caller answers 202 either way).

    Nothing here depends on whether the email has an account, so every request costs the same: the lookup
    and the mail happen after the answer (`send_reset`); done inside the request they made known accounts
    slower to answer. Past `reset_mail_limit` requests an hour for one email nothing more is sent (a
    mailbox cannot be flooded); past `reset_address_limit` requests an hour from one client address, that
    client is slowed down (429: it says nothing about the email).
    """
    now = utcnow()
    window = settings.reset_limit_window
    from_address = count_in_window(session, f"reset-address:{address}", window, now)
    if from_address.count > settings.reset_address_limit:
        session.commit()
        too_many(math.ceil((from_address.window_started_at + window - now).total_seconds()), "password reset requests")
    to_email = count_in_window(session, f"reset:{normalise_email(email)}", window, now)
    session.commit()
    return to_email.count <= settings.reset_mail_limit


def send_reset(
    sessions: sessionmaker[Session], mailer: Mailer, settings: Settings, branch_id: int, email: str, portal_url: str
) -> None:
    """Mails a reset code when the email has an account on the branch; runs after the answer is out."""
    with sessions() as session:
        identity = session.scalar(select(Identity).where(Identity.email == normalise_email(email)))
        branch = session.get(Branch, branch_id)
        if identity is None or branch is None:
            return
        contact, staff = account_on_branch(session, identity, branch)
        person = contact or staff
        if person is None:
            return
        lifetime = settings.reset_token_lifetime
        token = create_token(session, identity, "reset", lifetime)
        session.commit()
        mailer.send(
            identity.email,
            f"Reset your {branch.name} portal password",
            f"Hello {person.name},\n\nSomeone asked to reset the password of your customer portal account at "
            f"{portal_url}.\n\nYour reset code: {token}\n\nIt works once and expires in "
            f"{int(lifetime.total_seconds() // 3600)} hours. If you did not ask for this, ignore this message; "
            "your password stays as it is.\n",
        )


def confirm_reset(session: Session, settings: Settings, token: str, new_password: str, address: str) -> None:
    check_password_rules(new_password, "new_password")
    record = _redeem(session, settings, token, "reset", address)
    _set_password(session, record.identity, new_password)
    revoke_all_for_identity(session, record.identity_id)


def change_password(
    session: Session, settings: Settings, caller: Caller, current_password: str, new_password: str
) -> None:
    """A stolen session must not turn into the password: wrong current passwords count against the account
    like failed sign-ins (AC-4) and are slowed down alike (counted before the check, see count_attempt)."""
    if caller.assisted_by is not None:
        raise forbidden("not_allowed_during_assist", "Only the customer can change their own password.")
    identity = session.get(Identity, caller.identity_id)
    assert identity is not None
    limits = [(account_scope(identity.email), settings.account_failure_limit)]
    (counted,) = count_attempt(session, settings, limits, "wrong passwords")
    identity = _lock_identity(session, caller.identity_id)
    if not verify_password(identity.password_hash, current_password):
        session.rollback()
        raise invalid([FieldError("current_password", "The current password is not correct.")], code="wrong_password")
    take_back(session, counted)
    try:
        check_password_rules(new_password, "new_password")
    except Problem:
        session.commit()  # the current password was right, whatever the new one is
        raise
    _set_password(session, identity, new_password)
    revoke_all_for_identity(session, identity.id, keep_session_id=caller.session_id)


def accept_invitation(
    session: Session, settings: Settings, branch: Branch, token: str, password: str, address: str
) -> Contact:
    """Sets the first password of the identity the invitation was made for (AC-1).

    An identity that already has a password is refused (409): AC-2 makes that password the one for every
    branch, and an invitation must never replace it. The token is bound to the identity it was made for:
    once the contact's email moved to another identity, it no longer opens the contact.
    """
    check_password_rules(password, "password")
    record = _redeem(session, settings, token, "invitation", address)
    contact = session.get(Contact, record.contact_id) if record.contact_id else None
    if contact is None or contact.branch_id != branch.id or contact.identity_id != record.identity_id:
        raise invalid([FieldError("token", INVALID_LINK)], code="invalid_token")
    if record.identity.password_hash is not None:
        raise conflict("already_accepted", ALREADY_ACCEPTED)
    _set_password(session, record.identity, password)
    revoke_all_for_identity(session, record.identity_id)
    return contact
