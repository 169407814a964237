"""Requests a contact can see, create and comment on (RQ-1..RQ-4), and who hears about them (RQ-3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, literal, select, update
from sqlalchemy.orm import Session, selectinload

from server.errors import FieldError, invalid, not_found
from server.models import (
    Activity,
    Attachment,
    Branch,
    Contact,
    Property,
    PropertyContact,
    RequestComment,
    ServiceRequest,
    Staff,
)
from server.models.base import utcnow
from server.services.access import Caller, visible_property
from server.services.attachments import (
    AttachmentStore,
    CheckedFile,
    StagedFile,
    check_files,
    discard_files,
    store_files,
)
from server.services.audit import captured_by_id, record_if_assisted
from server.services.mail import Mailer
from server.services.write_keys import (
    COMMENT_CREATE,
    REQUEST_CREATE,
    KeyTaken,
    WriteKey,
    claim,
    earlier_write,
    remember,
    write_key,
)

# Requests made in the portal get their own series: the back office numbers its own requests
# (imported as e.g. REQ-17), and a separate prefix keeps the two from ever colliding.
PORTAL_NUMBER_PREFIX = "WEB-"
MAX_SUBJECT = 300
MAX_TEXT = 10_000


def _visible_to(contact: Contact) -> list[ColumnElement[bool]]:
    """RQ-1 and RQ-2: include-client requests on a property the contact is tied to, on the contact's branch."""
    properties = select(PropertyContact.property_id).where(PropertyContact.contact_id == contact.id)
    return [
        ServiceRequest.include_client.is_(True),
        ServiceRequest.property_id.in_(properties),
        Property.branch_id == contact.branch_id,
    ]


def visible_request(session: Session, contact: Contact, request_id: int) -> ServiceRequest:
    request = session.scalar(
        select(ServiceRequest)
        .join(Property, Property.id == ServiceRequest.property_id)
        .where(ServiceRequest.id == request_id, *_visible_to(contact))
        .options(
            selectinload(ServiceRequest.comments).selectinload(RequestComment.attachments),
            selectinload(ServiceRequest.comments).selectinload(RequestComment.author_staff),
            selectinload(ServiceRequest.comments).selectinload(RequestComment.author_contact),
            selectinload(ServiceRequest.comments).selectinload(RequestComment.captured_by),
        )
    )
    if request is None:
        raise not_found("That request")
    return request


def visible_attachment(session: Session, contact: Contact, attachment_id: int) -> Attachment:
    """RQ-4: a file is downloadable only by those who see its request, and never from a private comment."""
    attachment = session.scalar(
        select(Attachment)
        .join(ServiceRequest, ServiceRequest.id == Attachment.request_id)
        .join(Property, Property.id == ServiceRequest.property_id)
        .outerjoin(RequestComment, RequestComment.id == Attachment.comment_id)
        .where(
            Attachment.id == attachment_id,
            *_visible_to(contact),
            (Attachment.comment_id.is_(None)) | (RequestComment.public.is_(True)),
        )
    )
    if attachment is None:
        raise not_found("That file")
    return attachment


def public_comments(request: ServiceRequest) -> list[RequestComment]:
    """RQ-1: staff's internal comments never leave the server."""
    return sorted((c for c in request.comments if c.public), key=lambda c: (c.created_at, c.id))


def request_attachments(session: Session, request: ServiceRequest) -> list[Attachment]:
    """Files sent with the request itself (not with one of its comments)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.request_id == request.id, Attachment.comment_id.is_(None))
            .order_by(Attachment.id)
        )
    )


def next_request_number(session: Session, branch_id: int) -> str:
    """The branch's next portal request number.

    The increment is one atomic UPDATE: on PostgreSQL it row-locks the branch until commit (a
    second writer waits and then sees the new value), on SQLite the write transaction excludes
    other writers. Either way two simultaneous requests never read the same number.
    """
    session.execute(
        update(Branch)
        .where(Branch.id == branch_id)
        .values(last_request_number=Branch.last_request_number + 1)
        .execution_options(synchronize_session=False)
    )
    number = session.scalar(select(Branch.last_request_number).where(Branch.id == branch_id))
    return f"{PORTAL_NUMBER_PREFIX}{number}"


def _attach(session: Session, request_id: int, comment_id: int | None, files: list[CheckedFile]) -> None:
    for item in files:
        session.add(
            Attachment(
                request_id=request_id,
                comment_id=comment_id,
                filename=item.display_name,
                storage_name=item.storage_name,
                size=item.staged.size,
                content_type=item.content_type,
            )
        )


def _single_line(text: str) -> str:
    return " ".join(text.split())


def check_subject(subject: str) -> str:
    cleaned = _single_line(subject)
    if not cleaned:
        raise invalid([FieldError("subject", "Please give the request a subject.")])
    if len(cleaned) > MAX_SUBJECT:
        raise invalid([FieldError("subject", f"Keep the subject under {MAX_SUBJECT} characters.")])
    return cleaned


def check_text(field: str, text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > MAX_TEXT:
        raise invalid([FieldError(field, f"Keep the text under {MAX_TEXT:,} characters.")])
    return cleaned


def notified_staff(prop: Property) -> Staff | None:
    """RQ-3: the account owner hears about a property's requests; without one, its sales rep does."""
    return prop.account_owner or prop.sales_rep


def submit_request(
    session: Session,
    caller: Caller,
    contact: Contact,
    store: AttachmentStore,
    mailer: Mailer,
    *,
    property_id: int,
    subject: str,
    description: str,
    files: list[StagedFile],
    idempotency_key: str | None = None,
) -> tuple[ServiceRequest, bool]:
    """RQ-2, RQ-3: a new request on any of the contact's properties, its files, the owner's activity and email.

    With an Idempotency-Key, a retry of a request already made returns that one (and True) instead of
    making, and mailing, a second.
    """
    prop, _role = visible_property(session, contact.id, property_id)
    subject = check_subject(subject)
    description = check_text("description", description)
    checked = check_files(files)
    fields: dict[str, object] = {"property_id": prop.id, "subject": subject, "description": description}
    write = write_key(contact, idempotency_key, REQUEST_CREATE, fields, files)
    earlier = earlier_write(session, write)
    if earlier is not None:
        return visible_request(session, contact, earlier), True
    # End the read before copying files, so no database lock is held while they are written.
    session.commit()
    store_files(store, checked)
    try:
        record = claim(session, write)
        now = utcnow()
        request = ServiceRequest(
            property_id=prop.id,
            number=next_request_number(session, prop.branch_id),
            subject=subject,
            description=description,
            include_client=True,
            status="open",
            created_by_contact_id=contact.id,
            captured_by_id=captured_by_id(caller),
            created_at=now,
            last_activity_at=now,
            public_comment_count=0,
        )
        session.add(request)
        session.flush()
        remember(record, request.id)
        _attach(session, request.id, None, checked)
        owner = notified_staff(prop)
        _add_activity(
            session,
            owner,
            "portal_request",
            request,
            now,
            f"New portal request {request.number} from {contact.name}: {subject}",
        )
        record_if_assisted(session, caller, "request.create", f"request {request.number}", subject)
        session.commit()
    except KeyTaken:
        _abandon(session, store, checked)
        return visible_request(session, contact, _twin(session, write)), True
    except BaseException:
        _abandon(session, store, checked)
        raise
    if owner is not None:
        mailer.send(
            owner.email,
            _single_line(f"New portal request {request.number} for {prop.name}: {subject}"),
            _request_mail(caller, contact, prop, request, checked),
        )
    return request, False


def submit_comment(
    session: Session,
    caller: Caller,
    contact: Contact,
    store: AttachmentStore,
    mailer: Mailer,
    *,
    request_id: int,
    body: str,
    files: list[StagedFile],
    idempotency_key: str | None = None,
) -> tuple[RequestComment, bool]:
    """RQ-2: a public comment with files; the request's count and last activity move atomically.

    With an Idempotency-Key, a retry of a comment already made returns that one (and True).
    """
    body = check_text("body", body)
    request = visible_request(session, contact, request_id)
    checked = check_files(files)
    if not body and not checked:
        raise invalid([FieldError("body", "Write a comment or attach a file.")])
    write = write_key(contact, idempotency_key, COMMENT_CREATE, {"request_id": request.id, "body": body}, files)
    earlier = earlier_write(session, write)
    if earlier is not None:
        return _own_comment(session, earlier), True
    prop = request.property
    owner = notified_staff(prop)
    session.commit()
    store_files(store, checked)
    try:
        record = claim(session, write)
        now = utcnow()
        comment = RequestComment(
            request_id=request.id,
            author_contact_id=contact.id,
            body=body,
            public=True,
            created_at=now,
            captured_by_id=captured_by_id(caller),
        )
        session.add(comment)
        session.flush()
        remember(record, comment.id)
        _attach(session, request.id, comment.id, checked)
        # Increment in SQL so simultaneous comments cannot lose a count; last activity only moves forward.
        stamp = literal(now, ServiceRequest.last_activity_at.type)
        session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == request.id)
            .values(
                public_comment_count=ServiceRequest.public_comment_count + 1,
                last_activity_at=case(
                    (ServiceRequest.last_activity_at < stamp, stamp), else_=ServiceRequest.last_activity_at
                ),
            )
            .execution_options(synchronize_session=False)
        )
        _add_activity(
            session,
            owner,
            "portal_comment",
            request,
            now,
            f"{contact.name} commented on {request.number}: {request.subject}",
        )
        record_if_assisted(session, caller, "request.comment", f"request {request.number}", body[:200])
        session.commit()
    except KeyTaken:
        _abandon(session, store, checked)
        return _own_comment(session, _twin(session, write)), True
    except BaseException:
        _abandon(session, store, checked)
        raise
    if owner is not None:
        mailer.send(
            owner.email,
            _single_line(f"New comment on {request.number} for {prop.name}: {request.subject}"),
            _comment_mail(caller, contact, prop, request, comment, checked),
        )
    return comment, False


def _own_comment(session: Session, comment_id: int) -> RequestComment:
    """The comment a key made: the key's scope is the contact and its fingerprint the request, so it is theirs."""
    comment = session.get(RequestComment, comment_id)
    if comment is None:
        raise not_found("That comment")
    return comment


def _twin(session: Session, write: WriteKey | None) -> int:
    """After KeyTaken: what the concurrent request with the same key created (its record is committed)."""
    created = earlier_write(session, write)
    if created is None:
        raise not_found("That request")
    return created


def _add_activity(
    session: Session, owner: Staff | None, kind: str, request: ServiceRequest, now: datetime, subject: str
) -> None:
    """RQ-3: the staff member who hears about the request also finds it in their activity feed."""
    if owner is not None:
        session.add(
            Activity(staff_id=owner.id, kind=kind, subject=subject[:400], request_id=request.id, created_at=now)
        )


def _abandon(session: Session, store: AttachmentStore, checked: list[CheckedFile]) -> None:
    """A write that failed leaves neither rows nor stored files behind."""
    session.rollback()
    discard_files(store, [item.storage_name for item in checked])


def _files_lines(files: list[CheckedFile]) -> str:
    if not files:
        return ""
    names = "\n".join(f"  - {item.display_name} ({_size(item.staged.size)})" for item in files)
    return f"\nAttached files (open the request in the portal to download them):\n{names}\n"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _who(caller: Caller, contact: Contact) -> str:
    phone = f", {contact.phone}" if contact.phone else ""
    line = f"From: {contact.name} <{contact.email}>{phone}"
    if caller.assisted_by is not None:
        line += f"\nEntered by {caller.assisted_by.name} on the customer's behalf (assist session)."
    return line


def _request_mail(
    caller: Caller, contact: Contact, prop: Property, request: ServiceRequest, files: list[CheckedFile]
) -> str:
    return (
        f"A customer sent a new request through the portal.\n\n"
        f"Request: {request.number} - {request.subject}\n"
        f"Property: {prop.name}, {prop.address}\n"
        f"{_who(caller, contact)}\n\n"
        f"{request.description or '(no description)'}\n"
        f"{_files_lines(files)}"
    )


def _comment_mail(
    caller: Caller,
    contact: Contact,
    prop: Property,
    request: ServiceRequest,
    comment: RequestComment,
    files: list[CheckedFile],
) -> str:
    return (
        f"A customer commented on a request in the portal.\n\n"
        f"Request: {request.number} - {request.subject}\n"
        f"Property: {prop.name}, {prop.address}\n"
        f"{_who(caller, contact)}\n\n"
        f"{comment.body or '(no text)'}\n"
        f"{_files_lines(files)}"
    )
