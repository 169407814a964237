"""Frozen records for the visit and request details (VI-2, RQ-1, RQ-4).

A detail keeps the list row it extends as `summary`, so a view that already shows the row can
show the detail without translating field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.services.records import (
    Json,
    PersonContact,
    RequestSummary,
    StaffRef,
    VisitSummary,
    moment,
    parse_person,
    parse_request,
    parse_staff_ref,
    parse_visit,
)


@dataclass(frozen=True)
class VisitNote:
    text: str
    created_at: datetime


@dataclass(frozen=True)
class VisitDetail:
    summary: VisitSummary
    notes: tuple[VisitNote, ...]  # only the notes staff marked "shown in portal" (VI-2)
    service_contact: PersonContact | None  # the property's sales rep; None when it has none


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str  # display text sanitised by the server, never a path
    size: int
    content_type: str


@dataclass(frozen=True)
class Comment:
    id: int
    author_name: str
    body: str
    created_at: datetime
    captured_by: StaffRef | None  # the office staff member who typed it for the customer
    attachments: tuple[AttachmentInfo, ...]


@dataclass(frozen=True)
class RequestDetail:
    summary: RequestSummary
    description: str
    author_name: str | None  # None: opened in the back office, not through the portal
    captured_by: StaffRef | None
    attachments: tuple[AttachmentInfo, ...]  # sent with the request itself
    comments: tuple[Comment, ...]  # public comments, oldest first (RQ-1)

    def attachment(self, attachment_id: int) -> AttachmentInfo | None:
        everything = self.attachments + tuple(a for c in self.comments for a in c.attachments)
        return next((a for a in everything if a.id == attachment_id), None)


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def parse_visit_detail(data: Json) -> VisitDetail:
    contact = data.get("service_contact")
    return VisitDetail(
        summary=parse_visit(data),
        notes=tuple(VisitNote(text=str(n["text"]), created_at=moment(n["created_at"])) for n in data["notes"]),
        service_contact=None if contact is None else parse_person(contact),
    )


def parse_attachment(data: Json) -> AttachmentInfo:
    return AttachmentInfo(
        id=int(data["id"]),
        filename=str(data["filename"]),
        size=int(data["size"]),
        content_type=str(data["content_type"]),
    )


def parse_comment(data: Json) -> Comment:
    return Comment(
        id=int(data["id"]),
        author_name=str(data["author_name"]),
        body=str(data["body"]),
        created_at=moment(data["created_at"]),
        captured_by=parse_staff_ref(data.get("captured_by")),
        attachments=tuple(parse_attachment(a) for a in data.get("attachments") or ()),
    )


def parse_request_detail(data: Json) -> RequestDetail:
    comments = sorted((parse_comment(c) for c in data["comments"]), key=lambda c: (c.created_at, c.id))
    return RequestDetail(
        summary=parse_request(data),
        description=str(data.get("description") or ""),
        author_name=_optional_text(data.get("author_name")),
        captured_by=parse_staff_ref(data.get("captured_by")),
        attachments=tuple(parse_attachment(a) for a in data.get("attachments") or ()),
        comments=tuple(comments),
    )
