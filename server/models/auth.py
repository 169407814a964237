"""Sign-in sessions, one-time tokens and the failure counters behind sign-in slow-down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.company import Branch, Contact, Identity, Staff


class AuthSession(Base):
    """A bearer token (stored as its SHA-256 only), bound to one branch's portal."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    kind: Mapped[str] = mapped_column(String(10))  # contact | staff
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Set on assist sessions (SA-2): the staff member acting as contact_id, and the staff
    # session that opened it so signing that out ends the assist too (SA-4).
    assisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    parent_session_id: Mapped[int | None] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    assist_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    identity: Mapped[Identity] = relationship()
    branch: Mapped[Branch] = relationship()
    contact: Mapped[Contact | None] = relationship(foreign_keys=[contact_id])
    staff: Mapped[Staff | None] = relationship(foreign_keys=[staff_id])
    assisted_by: Mapped[Staff | None] = relationship(foreign_keys=[assisted_by_id])


class OneTimeToken(Base):
    """Password-reset and invitation tokens (AC-1, AC-3): hashed, expiring, single use."""

    __tablename__ = "one_time_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # reset | invitation
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    identity: Mapped[Identity] = relationship()


class SignInFailures(Base):
    """Failed sign-ins per scope ("account:<email>" or "address:<ip>"), shared by all server processes (AC-4)."""

    __tablename__ = "sign_in_failures"

    scope: Mapped[str] = mapped_column(String(400), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
