"""Invitations (AC-1), password reset and change (AC-3): single-use, expiring, emailed tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import FieldError, forbidden, invalid
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
from server.services.sign_in import account_on_branch, normalise_email, revoke_all_for_identity

INVALID_LINK = "This link is no longer valid. Ask for a new one."


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


def _redeem(session: Session, token: str, purpose: str) -> OneTimeToken:
    record = session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash(token)).with_for_update())
    if record is None or record.purpose != purpose or record.used_at is not None or record.expires_at <= utcnow():
        raise invalid([FieldError("token", INVALID_LINK)], code="invalid_token")
    record.used_at = utcnow()
    return record


def _set_password(identity: Identity, password: str) -> None:
    identity.password_hash = hash_password(password)
    identity.password_changed_at = utcnow()


def request_reset(
    session: Session, mailer: Mailer, branch: Branch, email: str, lifetime: timedelta, portal_url: str
) -> None:
    """Mails a reset token when the email has an account here; the caller answers 202 either way."""
    identity = session.scalar(select(Identity).where(Identity.email == normalise_email(email)))
    if identity is None:
        return
    contact, staff = account_on_branch(session, identity, branch)
    if contact is None and staff is None:
        return
    token = create_token(session, identity, "reset", lifetime)
    session.commit()
    name = (contact or staff).name  # type: ignore[union-attr]
    mailer.send(
        identity.email,
        f"Reset your {branch.name} portal password",
        f"Hello {name},\n\nSomeone asked to reset the password of your customer portal account at "
        f"{portal_url}.\n\nYour reset code: {token}\n\nIt works once and expires in "
        f"{int(lifetime.total_seconds() // 3600)} hours. If you did not ask for this, ignore this message; "
        "your password stays as it is.\n",
    )


def confirm_reset(session: Session, token: str, new_password: str) -> None:
    check_password_rules(new_password, "new_password")
    record = _redeem(session, token, "reset")
    _set_password(record.identity, new_password)
    revoke_all_for_identity(session, record.identity_id)


def change_password(session: Session, caller: Caller, current_password: str, new_password: str) -> None:
    if caller.assisted_by is not None:
        raise forbidden("not_allowed_during_assist", "Only the customer can change their own password.")
    identity = session.get(Identity, caller.identity_id)
    assert identity is not None
    if not verify_password(identity.password_hash, current_password):
        raise invalid([FieldError("current_password", "The current password is not correct.")], code="wrong_password")
    check_password_rules(new_password, "new_password")
    _set_password(identity, new_password)
    revoke_all_for_identity(session, identity.id, keep_session_id=caller.session_id)


def accept_invitation(session: Session, branch: Branch, token: str, password: str) -> Contact:
    check_password_rules(password, "password")
    record = _redeem(session, token, "invitation")
    contact = session.get(Contact, record.contact_id) if record.contact_id else None
    if contact is None or contact.branch_id != branch.id:
        raise invalid([FieldError("token", INVALID_LINK)], code="invalid_token")
    _set_password(record.identity, password)
    return contact
