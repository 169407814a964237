"""Every error leaves the API as application/problem+json, including FastAPI's own validation errors."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.errors import FieldError, Problem

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: ("bad_request", "The request could not be read."),
    401: ("unauthorized", "Please sign in again; your session has ended."),
    403: ("forbidden", "You are not allowed to do that."),
    404: ("not_found", "That page or item was not found."),
    405: ("method_not_allowed", "That action is not supported here."),
    413: ("too_large", "The upload is too large."),
    415: ("unsupported_media_type", "That type of content is not accepted."),
}


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title or problem.code.replace("_", " ").capitalize(),
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
    }
    if problem.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in problem.errors]
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    name = _field_name(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"'{name}' is not a field this request accepts."
    if kind == "missing":
        return f"'{name}' is required."
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    text = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{name}: {text}"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(_field_name(e.get("loc", ())), _message(e)) for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(Problem(400, "malformed_json", "The request body is not valid JSON."))
        return problem_response(
            Problem(422, "validation_failed", " ".join(e.message for e in errors), "Invalid input", errors)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, detail = _HTTP_CODES.get(exc.status_code, ("error", "The request failed."))
        if isinstance(exc.detail, str) and exc.status_code not in _HTTP_CODES:
            detail = exc.detail
        return problem_response(Problem(exc.status_code, code, detail, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(
            Problem(500, "server_error", "Something went wrong on the server. Please try again in a moment.")
        )
