"""Proposals (opportunities), visits and requests: the work a property receives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Money, ScaledDecimal, UTCDateTime, utcnow
from server.models.company import Contact, Property, Staff

OPPORTUNITY_STATUSES = ("draft", "delivered", "won", "lost", "approved", "in_production", "complete")
CENT = Decimal("0.01")


class PricedItem(Protocol):
    """A proposal line as stored (ProposalItem) or as imported (import_format.ProposalItemIn)."""

    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def optional(self) -> bool: ...


def item_amount(item: PricedItem) -> Decimal:
    """A line's amount as printed: rounded half-up to the cent, like every amount the portal computes (IN-7).

    Half-even rounded 2.5 x 10.33 = 25.825 down to 25.82 while the total rounded the unrounded sum up:
    the lines, the total and the approved amount then disagreed by cents (PR-5, PR-6)."""
    return (item.quantity * item.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def proposal_total(items: Iterable[PricedItem]) -> Decimal:
    """The total before optional services: the sum of the printed amounts of the non-optional lines, so the
    lines a customer reads add up to it and the approved amount (PR-5) starts from it."""
    return sum((item_amount(item) for item in items if not item.optional), Decimal("0.00"))


class Proposal(Base):
    __tablename__ = "proposals"
    # Filter (PR-1, PR-2) and sort columns of the proposal list, so its total and page keys need no row reads.
    __table_args__ = (
        Index("ix_proposals_property_shared", "property_id", "shared_on", "id", "opportunity_status", "is_signed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    number: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(300))
    opportunity_type: Mapped[str] = mapped_column(String(20))  # work_order | contract
    opportunity_status: Mapped[str] = mapped_column(String(20))
    shared_on: Mapped[date | None] = mapped_column(Date)
    sales_rep_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    change_order_of_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    terms: Mapped[str] = mapped_column(Text, default="")
    # Denormalised so lists can filter and sort by portal status without joining signatures.
    is_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # 1 when imported, one more each time a re-import changes what a signer reads (see importer.shown):
    # a signer says which revision they were shown, so a change that keeps the total is caught too.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    property: Mapped[Property] = relationship()
    sales_rep: Mapped[Staff | None] = relationship()
    change_order_of: Mapped[Proposal | None] = relationship(remote_side=[id])
    items: Mapped[list[ProposalItem]] = relationship(
        back_populates="proposal", order_by="ProposalItem.position", cascade="all, delete-orphan"
    )
    signature: Mapped[ProposalSignature | None] = relationship(back_populates="proposal")


class ProposalItem(Base):
    __tablename__ = "proposal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(3))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)

    proposal: Mapped[Proposal] = relationship(back_populates="items")

    @property
    def amount(self) -> Decimal:
        return item_amount(self)


class ProposalSignature(Base):
    """At most one per proposal: the unique proposal_id makes two simultaneous signers race safely (PR-4)."""

    __tablename__ = "proposal_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    contact_role: Mapped[str] = mapped_column(String(20))
    signer_name: Mapped[str] = mapped_column(String(200))
    signature_png: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_total: Mapped[Decimal] = mapped_column(Money)
    selected_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    client_address: Mapped[str] = mapped_column(String(100), default="")
    unsigned_pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    # The exact document that was signed and where its signature fields lie (PR-9): the proposal
    # or the document's layout may change later, the signed copy and its hash must not.
    unsigned_pdf: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    pdf_anchors: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)

    proposal: Mapped[Proposal] = relationship(back_populates="signature")
    contact: Mapped[Contact] = relationship()
    captured_by: Mapped[Staff | None] = relationship()


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_property_status_date", "property_id", "status", "date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # scheduled | completed
    services: Mapped[list[str]] = mapped_column(JSON, default=list)

    property: Mapped[Property] = relationship()
    notes: Mapped[list[VisitNote]] = relationship(
        back_populates="visit", order_by="VisitNote.position", cascade="all, delete-orphan"
    )


class VisitNote(Base):
    __tablename__ = "visit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    shown_in_portal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="notes")


class ServiceRequest(Base):
    __tablename__ = "requests"
    # Filter (RQ-1) and sort columns of the request list, so its total and page keys need no row reads.
    __table_args__ = (
        Index("ix_requests_property_activity", "property_id", "include_client", "last_activity_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id"))
    number: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    include_client: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(30), default="open")
    created_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    public_comment_count: Mapped[int] = mapped_column(Integer, default=0)

    property: Mapped[Property] = relationship()
    created_by_contact: Mapped[Contact | None] = relationship(foreign_keys=[created_by_contact_id])
    captured_by: Mapped[Staff | None] = relationship(foreign_keys=[captured_by_id])
    comments: Mapped[list[RequestComment]] = relationship(
        back_populates="request", order_by="RequestComment.id", cascade="all, delete-orphan"
    )


class RequestComment(Base):
    __tablename__ = "request_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    # Imported comments keep their place in the file so a re-import updates them in place.
    import_position: Mapped[int | None] = mapped_column(Integer)
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    request: Mapped[ServiceRequest] = relationship(back_populates="comments")
    author_staff: Mapped[Staff | None] = relationship(foreign_keys=[author_staff_id])
    author_contact: Mapped[Contact | None] = relationship(foreign_keys=[author_contact_id])
    captured_by: Mapped[Staff | None] = relationship(foreign_keys=[captured_by_id])
    attachments: Mapped[list[Attachment]] = relationship(back_populates="comment", order_by="Attachment.id")

    @property
    def author_name(self) -> str:
        author = self.author_staff or self.author_contact
        return author.name if author else ""


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("request_comments.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    storage_name: Mapped[str] = mapped_column(String(100), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comment: Mapped[RequestComment | None] = relationship(back_populates="attachments")


class Activity(Base):
    """An item in a staff member's Activities (RQ-3)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(400))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
