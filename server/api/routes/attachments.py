"""Downloading a request's files (RQ-4): only for callers who can see the request."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from server.api.deps import ContactDep, SessionDep
from server.api.routes.requests import StoreDep, requests_enabled
from server.errors import not_found
from server.services.attachments import content_disposition, read_chunks
from server.services.requests import visible_attachment

log = logging.getLogger(__name__)

# Every attachment belongs to a request, so the requests switch (RQ-5) hides them too.
router = APIRouter(prefix="/attachments", tags=["requests"], dependencies=[Depends(requests_enabled)])


@router.get(
    "/{attachment_id}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file"}, 404: {}},
)
def download_attachment(
    attachment_id: int, contact: ContactDep, session: SessionDep, store: StoreDep
) -> StreamingResponse:
    attachment = visible_attachment(session, contact, attachment_id)
    # No database lock may stay held while a slow client downloads.
    session.commit()
    try:
        file = store.open(attachment.storage_name)
    except FileNotFoundError:
        log.error("attachment %s is missing from the store (%s)", attachment.id, attachment.storage_name)
        raise not_found("That file") from None
    headers = {
        "Content-Disposition": content_disposition(attachment.filename),
        "Content-Length": str(attachment.size),
        # The browser-style guess must never turn a stored text file into HTML or script.
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(read_chunks(file), media_type=attachment.content_type, headers=headers)
