"""Requests a contact can see, open and comment on (RQ-1..RQ-5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.api.deps import CallerDep, ContactDep, PagingDep, SelectionDep, SessionDep, SettingsDep
from server.api.paging import paginate
from server.api.schemas import Body, ItemList, PropertyRef, StaffRef, Timestamp, json_response, page_response, staff_ref
from server.api.uploads import MAX_FILES, parse_fields, received
from server.errors import not_found
from server.models import Attachment, RequestComment, ServiceRequest
from server.services.attachments import AttachmentStore
from server.services.listing import RequestFields, RequestRow, requests_query
from server.services.mail import Mailer
from server.services.requests import (
    MAX_SUBJECT,
    MAX_TEXT,
    public_comments,
    request_attachments,
    submit_comment,
    submit_request,
    visible_request,
)
from server.settings import Settings


async def requests_enabled(caller: CallerDep) -> None:
    """RQ-5: with requests off for the branch, every requests endpoint is absent."""
    if not caller.branch.requests_enabled:
        raise not_found("That page")


def get_store(request: Request) -> AttachmentStore:
    store: AttachmentStore = request.app.state.attachment_store
    return store


def get_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


StoreDep = Annotated[AttachmentStore, Depends(get_store)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]

router = APIRouter(prefix="/requests", tags=["requests"], dependencies=[Depends(requests_enabled)])


class RequestItemOut(BaseModel):
    id: int
    number: str
    subject: str
    property: PropertyRef
    status: str
    created_at: Timestamp
    last_activity_at: Timestamp
    comment_count: int


class AttachmentOut(BaseModel):
    id: int
    filename: str
    size: int
    content_type: str


class CommentOut(BaseModel):
    id: int
    author_name: str
    body: str
    created_at: Timestamp
    captured_by: StaffRef | None = Field(
        description="the office staff member who entered it in an assist session (SA-3)"
    )
    attachments: list[AttachmentOut]


class RequestDetailOut(RequestItemOut):
    description: str
    # The request itself reads as the first message of the thread: who wrote it and the files sent with it.
    author_name: str | None
    captured_by: StaffRef | None = Field(
        description="the office staff member who entered it in an assist session (SA-3)"
    )
    attachments: list[AttachmentOut]
    comments: list[CommentOut]


class NewRequestIn(Body):
    property_id: int
    subject: str
    description: str = ""


class CommentIn(Body):
    body: str = ""


def request_item(request: RequestFields, property_name: str) -> dict[str, Any]:
    """RequestItemOut's fields (see page_response)."""
    return {
        "id": request.id,
        "number": request.number,
        "subject": request.subject,
        "property": {"id": request.property_id, "name": property_name},
        "status": request.status,
        "created_at": request.created_at,
        "last_activity_at": request.last_activity_at,
        "comment_count": request.public_comment_count,
    }


def attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id, filename=attachment.filename, size=attachment.size, content_type=attachment.content_type
    )


def comment_out(comment: RequestComment) -> CommentOut:
    return CommentOut(
        id=comment.id,
        author_name=comment.author_name,
        body=comment.body,
        created_at=comment.created_at,
        captured_by=staff_ref(comment.captured_by),
        attachments=[attachment_out(a) for a in comment.attachments],
    )


def request_detail(session: Session, request: ServiceRequest) -> RequestDetailOut:
    item = request_item(request, request.property.name)
    return RequestDetailOut(
        **item,
        description=request.description,
        author_name=request.created_by_contact.name if request.created_by_contact else None,
        captured_by=staff_ref(request.captured_by),
        attachments=[attachment_out(a) for a in request_attachments(session, request)],
        comments=[comment_out(c) for c in public_comments(request)],
    )


def _staging_dir(settings: Settings) -> Path:
    return settings.attachments_dir / "incoming"


_FILES_SCHEMA = {
    "type": "array",
    "maxItems": MAX_FILES,
    "items": {"type": "string", "format": "binary"},
    "description": "PDF, PNG, JPEG, HEIC, GIF, WebP, plain text, Word or Excel files of at most 10 MiB each",
}


def _json_or_multipart(model: type[Body], text_fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {**text_fields, "files": _FILES_SCHEMA},
                        "required": required,
                    }
                },
            },
        }
    }


WriteKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Optional, 8-255 characters; one key per new request or comment, reused on every resend of it.",
    ),
]

_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Idempotency-Key malformed"},
    404: {"description": "No such property or request for this caller, or requests are off"},
    413: {"description": "A file is larger than 10 MiB"},
    415: {"description": "A file's content is not an accepted type, or the body is neither JSON nor multipart"},
    409: {"description": "idempotency_key_reused: the key was sent before with another body"},
    422: {"description": "Invalid fields"},
}


def _mark_replay(response: Response, replayed: bool) -> None:
    """Like a replayed payment: the same answer, flagged, so a client or a log can tell nothing new was made."""
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"


REQUEST_ORDER = (ServiceRequest.last_activity_at, ServiceRequest.id)


@router.get("", response_model=ItemList[RequestItemOut], responses={404: {}})
def list_requests(selection: SelectionDep, paging: PagingDep, session: SessionDep) -> Response:
    scope = selection.scope
    page = paginate(
        session,
        requests_query(scope.kind),
        REQUEST_ORDER,
        params=scope.params,
        descending=True,
        cursor=paging.cursor,
        limit=paging.limit,
        display_joins=True,
    )
    items = [request_item(row, row.property_name) for row in map(RequestRow._make, page.items)]
    return page_response(ItemList[RequestItemOut], items, page.next_cursor, page.total)


@router.get("/{request_id}", response_model=RequestDetailOut, responses={404: {}})
def get_request(request_id: int, contact: ContactDep, session: SessionDep) -> Response:
    return json_response(request_detail(session, visible_request(session, contact, request_id)))


@router.post(
    "",
    status_code=201,
    response_model=RequestDetailOut,
    responses=_UPLOAD_ERRORS,
    openapi_extra=_json_or_multipart(
        NewRequestIn,
        {
            "property_id": {"type": "integer"},
            "subject": {"type": "string", "maxLength": MAX_SUBJECT},
            "description": {"type": "string", "maxLength": MAX_TEXT},
        },
        ["property_id", "subject"],
    ),
)
async def create_request(
    request: Request,
    caller: CallerDep,
    contact: ContactDep,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    mailer: MailerDep,
    response: Response,
    idempotency_key: WriteKeyHeader = None,
) -> RequestDetailOut:
    """RQ-2, RQ-3: JSON, or multipart with the same fields and `files`; an optional Idempotency-Key makes a resend safe."""
    # Authentication read the database; end that transaction before a possibly slow upload.
    await run_in_threadpool(session.commit)
    async with received(request, _staging_dir(settings), settings.max_attachment_bytes) as submission:
        fields = parse_fields(NewRequestIn, submission.fields)

        def create() -> RequestDetailOut:
            created, replayed = submit_request(
                session,
                caller,
                contact,
                store,
                mailer,
                property_id=fields.property_id,
                subject=fields.subject,
                description=fields.description,
                files=submission.files,
                idempotency_key=idempotency_key,
            )
            _mark_replay(response, replayed)
            return request_detail(session, created)

        return await run_in_threadpool(create)


@router.post(
    "/{request_id}/comments",
    status_code=201,
    response_model=CommentOut,
    responses=_UPLOAD_ERRORS,
    openapi_extra=_json_or_multipart(CommentIn, {"body": {"type": "string", "maxLength": MAX_TEXT}}, []),
)
async def create_comment(
    request_id: int,
    request: Request,
    caller: CallerDep,
    contact: ContactDep,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    mailer: MailerDep,
    response: Response,
    idempotency_key: WriteKeyHeader = None,
) -> CommentOut:
    """RQ-2: JSON `{body}`, or multipart `body` and `files`; a comment needs text or at least one file.

    An optional Idempotency-Key makes a resend safe: the same key and comment answer the comment made.
    """

    def check_visible() -> None:
        # Another customer's request id is refused before a single byte of the upload is read.
        visible_request(session, contact, request_id)
        session.commit()

    await run_in_threadpool(check_visible)
    async with received(request, _staging_dir(settings), settings.max_attachment_bytes) as submission:
        fields = parse_fields(CommentIn, submission.fields)

        def comment() -> CommentOut:
            created, replayed = submit_comment(
                session,
                caller,
                contact,
                store,
                mailer,
                request_id=request_id,
                body=fields.body,
                files=submission.files,
                idempotency_key=idempotency_key,
            )
            _mark_replay(response, replayed)
            return comment_out(created)

        return await run_in_threadpool(comment)
