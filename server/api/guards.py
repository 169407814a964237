"""Input checks that hold for every endpoint, so no route has to remember them (found by fuzzing, see test_regressions.py).

install(app) adds them; each API router is included with ROUTER_DEPENDENCIES (server.api.app).
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Depends, FastAPI, Request, params
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.problems import problem_response
from server.api.schemas import MAX_INT
from server.errors import FieldError, Problem, invalid, not_found


class RejectNul:
    """Answers 400 to a path or query string holding a NUL character, before any route sees it.

    PostgreSQL cannot compare text holding one, so `/portal/%00/...` or `?q=%00` would otherwise
    end in a database error; no valid address contains one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            problem = Problem(
                400, "bad_request", "The address contains a character that is not allowed.", "Bad request"
            )
            await problem_response(problem)(scope, receive, send)
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


_INT = TypeAdapter(int)


def _out_of_range(text: str) -> bool:
    """True for a number FastAPI would accept as an `int` (`2147483648`, `2_147_483_648`, `2147483648.0`) but no id column holds."""
    if len(text) < 10 and text.isascii() and text.isdigit():
        return False  # the usual id: a handful of digits (a list filter may send a thousand of them)
    try:
        number = _INT.validate_python(text)
    except ValidationError:
        return False  # not a number at all: FastAPI's own validation answers
    return not -MAX_INT - 1 <= number <= MAX_INT


def _mentions_integer(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "integer":
        return True
    return any(_mentions_integer(part) for part in (schema.get("items"), *schema.get("anyOf", ())))


@dataclass(frozen=True)
class _Operation:
    template: str
    path: re.Pattern[str]
    method: str
    integers: list[tuple[str, str]]  # (location, name) of its integer path and query parameters


def _operations(app: FastAPI) -> list[_Operation]:
    """Every operation of the OpenAPI document with its integer parameters, built once per app.

    Read from the document (public and stable) rather than from FastAPI's routing internals.
    """
    found: list[_Operation] | None = getattr(app.state, "guarded_operations", None)
    if found is None:
        found = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            for method, operation in operations.items():
                integers = [
                    (parameter["in"], parameter["name"])
                    for parameter in operation.get("parameters", [])
                    if parameter["in"] in ("path", "query") and _mentions_integer(parameter.get("schema"))
                ]
                if integers:
                    found.append(_Operation(template, re.compile(pattern), method.upper(), integers))
        app.state.guarded_operations = found
    return found


def _route_integers(request: Request) -> list[tuple[str, str]]:
    """The integer parameters of the operation this request was routed to, found once per route and method.

    Scanning every operation's pattern on every request cost more than the check itself.
    """
    route = request.scope.get("route")
    cache: dict[tuple[int, str], list[tuple[str, str]]] = request.app.state.guarded_routes
    key = (id(route), request.method)  # routes live as long as the app; they are not hashable
    found = cache.get(key)
    if found is None:
        template = getattr(route, "path_format", None)
        path = request.url.path
        found = [
            integer
            for operation in _operations(request.app)
            if operation.method == request.method
            and (template is None or operation.template.endswith(template))
            and operation.path.fullmatch(path)
            for integer in operation.integers
        ]
        cache[key] = found
    return found


async def bounded_integers(request: Request) -> None:
    """An integer parameter past the 32 bits of the database's id columns: 404 in the path, 422 in the query.

    A route's `item_id: int` does not bound it, and the database then fails instead of finding
    nothing (SQLite cannot bind past 64 bits, PostgreSQL casts to `integer`).
    """
    errors: list[FieldError] = []
    for location, name in _route_integers(request):
        if location == "path":
            value = request.path_params.get(name)
            if value is not None and _out_of_range(str(value)):
                raise not_found("That item")
        elif any(_out_of_range(value) for value in request.query_params.getlist(name)):
            errors.append(FieldError(name, f"{name}: is out of range"))
    if errors:
        raise invalid(errors)


def document_integer_bounds(openapi: dict[str, Any]) -> dict[str, Any]:
    """States the bound bounded_integers enforces on integer parameters that have no tighter one."""

    def bound(schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        if schema.get("type") == "integer":
            schema.setdefault("maximum", MAX_INT)
            schema.setdefault("minimum", -MAX_INT - 1)
        for part in (schema.get("items"), *schema.get("anyOf", ())):
            bound(part)

    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    bound(parameter.get("schema"))
    return openapi


async def guard_request(request: Request) -> None:
    """Both checks as one dependency: FastAPI's work per dependency, on every request, cost more than either."""
    await require_json_body(request)
    await bounded_integers(request)


ROUTER_DEPENDENCIES = [Depends(guard_request)]


def install(app: FastAPI) -> None:
    app.state.guarded_routes = {}
    app.add_middleware(RejectNul)
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_integer_bounds(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
