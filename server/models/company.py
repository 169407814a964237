"""Branches, staff, sign-in identities, contacts and properties."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Money, ScaledDecimal, UTCDateTime, utcnow

staff_branches = Table(
    "staff_branches",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True),
)


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    show_line_item_details: Mapped[bool] = mapped_column(Boolean, default=True)
    show_sales_rep_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    electronic_payments: Mapped[bool] = mapped_column(Boolean, default=True)
    partial_payments: Mapped[bool] = mapped_column(Boolean, default=False)
    accept_card: Mapped[bool] = mapped_column(Boolean, default=True)
    accept_ach: Mapped[bool] = mapped_column(Boolean, default=True)
    card_fee_percent: Mapped[Decimal] = mapped_column(ScaledDecimal(2), default=Decimal("0.00"))
    ach_fee_flat: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    requests_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last number given to a request made in the portal; raised by an atomic UPDATE so
    # simultaneous requests never share a number (see services/requests.next_request_number).
    last_request_number: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def accepted_payment_types(self) -> list[str]:
        return [kind for kind, on in (("card", self.accept_card), ("ach", self.accept_ach)) if on]


class Identity(Base):
    """One email + password; every contact (on any branch) and staff member with that email signs in with it (AC-2)."""

    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)

    identity: Mapped[Identity] = relationship()
    branches: Mapped[list[Branch]] = relationship(secondary=staff_branches)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_branch_name", "branch_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    # Digits only, so staff can find "(555) 010-1234" by typing 5550101234 (SA-1).
    phone_digits: Mapped[str] = mapped_column(String(50), default="", index=True)
    email_receipts: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last change of email_receipts: when, and by which staff member if made in an assist session
    # (null when the customer made it), so the customer sees the setting was changed for them (SA-3).
    email_receipts_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_receipts_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    branch: Mapped[Branch] = relationship()
    identity: Mapped[Identity] = relationship()
    email_receipts_changed_by: Mapped[Staff | None] = relationship()


class Property(Base):
    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    account_owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    sales_rep_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    unapplied_credits: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    branch: Mapped[Branch] = relationship()
    account_owner: Mapped[Staff | None] = relationship(foreign_keys=[account_owner_id])
    sales_rep: Mapped[Staff | None] = relationship(foreign_keys=[sales_rep_id])


class PropertyContact(Base):
    __tablename__ = "property_contacts"
    __table_args__ = (
        UniqueConstraint("property_id", "contact_id"),
        Index("ix_property_contacts_contact", "contact_id", "property_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # primary | billing | other

    property: Mapped[Property] = relationship()
    contact: Mapped[Contact] = relationship()
