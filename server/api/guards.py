"""Input checks that hold for every endpoint, so no route has to remember them (found by fuzzing, see test_regressions.py)."""

from __future__ import annotations

import email.message
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import Request, params
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.problems import problem_response
from server.api.schemas import MAX_INT
from server.errors import FieldError, Problem, invalid, not_found


class AddressGuard:
    """Refuses addresses holding values no database can use, before any route sees them.

    - A NUL character in the path or query: 400. PostgreSQL cannot compare text holding one, so
      `/portal/%00/...` or `?q=%00` would otherwise end in a database error.
    - An integer past 64 bits, read as FastAPI would read an `int` (so `1_8446744073709551616`
      and `18446744073709551616.0` count too): 404 in the path (no such item), 422 in the query.
      SQLite cannot bind such a number, and a route's `item_id: int` does not bound it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _address_problem(scope) if scope["type"] == "http" else None
        if problem is not None:
            await problem_response(problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)


_INT = TypeAdapter(int)


def _out_of_range(text: str) -> bool:
    if not any(character.isdigit() for character in text):
        return False
    try:
        number = _INT.validate_python(text)
    except ValidationError:
        return False
    return not -MAX_INT - 1 <= number <= MAX_INT


def _address_problem(scope: Scope) -> Problem | None:
    path: str = scope.get("path", "")
    raw_path: bytes = scope.get("raw_path") or b""
    query: bytes = scope.get("query_string", b"")
    if "\x00" in path or b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(query):
        return Problem(400, "bad_request", "The address contains a character that is not allowed.", "Bad request")
    if any(_out_of_range(segment) for segment in path.split("/")):
        return not_found("That item")
    fields = [
        FieldError(name, "is out of range")
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if _out_of_range(value)
    ]
    return invalid(fields) if fields else None


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
