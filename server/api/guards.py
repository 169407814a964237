"""Input checks that hold for every endpoint, so no route has to remember them (found by fuzzing, see test_regressions.py)."""

from __future__ import annotations

import email.message
from urllib.parse import unquote_to_bytes

from fastapi import Request, params
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.problems import problem_response
from server.errors import Problem


class RejectNulInAddress:
    """Answers 400 to a path or query string holding a NUL character.

    PostgreSQL cannot compare text with NUL in it, so `/portal/%00/...` or `?q=%00` would otherwise
    end in a database error instead of a client error; no valid address contains one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            response = problem_response(
                Problem(400, "bad_request", "The address contains a character that is not allowed.", "Bad request")
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    raw_path: bytes = scope.get("raw_path") or b""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in path or b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(query)


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def require_json_body(request: Request) -> None:
    """A JSON endpoint given a body of another type answers 415 (not a 422 about a missing object).

    Routes that take form fields or read the body themselves (multipart uploads) are left alone.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if isinstance(route.body_field.field_info, params.Form):
        return
    content_type = request.headers.get("content-type", "")
    if (content_type or await request.body()) and not _is_json(content_type):
        raise Problem(
            415, "unsupported_media_type", "Send the request body as JSON (application/json).", "Unsupported type"
        )
