"""Every error leaves the API as application/problem+json, including FastAPI's own validation errors."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
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


class FieldErrorOut(BaseModel):
    field: str = Field(description="The input that is wrong, dotted for nested fields (`allocations.0.amount`).")
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details: the body of every error answer."""

    model_config = ConfigDict(title="Problem")

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="A sentence a person can read.")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="A stable snake_case word for programs.")
    errors: list[FieldErrorOut] = Field(default_factory=list, description="Validation errors (422) only.")


# The statuses any portal endpoint may answer with; routes add their own (402, 413, 415) where they can occur.
COMMON_STATUSES = (400, 401, 403, 404, 409, 422, 429)
_DESCRIPTIONS = {
    400: "Malformed request: a body that is not valid JSON, a page cursor that is not valid, a NUL in the address.",
    401: "Not signed in, or the token is invalid, expired or revoked.",
    403: "Signed in, but not allowed to do this.",
    404: "Absent, or not visible to this caller.",
    409: "The item's state does not allow this.",
    415: "The request body is not of a type this endpoint accepts.",
    422: "Invalid input; `errors` names each field.",
    429: "Slowed down; wait the number of seconds in `Retry-After`.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for error statuses; the OpenAPI document gives each the Problem schema."""
    return {status: {"description": _DESCRIPTIONS.get(status) or HTTPStatus(status).phrase} for status in statuses}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declares every error answer as application/problem+json with the Problem schema.

    Done once over the generated document rather than per route, so a route that declares
    `responses={409: {}}` (or nothing beyond the router's defaults) is documented correctly too.
    """
    schema = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["Problem"] = schema
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            if "requestBody" in operation:
                # server.api.guards.require_json_body, or the upload handler's own type check
                operation["responses"].setdefault("415", {})
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                code = int(status)
                response["content"] = content
                if response.get("description") in (None, "", "Additional Response", "Validation Error"):
                    response["description"] = _DESCRIPTIONS.get(code) or HTTPStatus(code).phrase
                if code == 429:
                    response["headers"] = {
                        "Retry-After": {
                            "description": "Seconds to wait.",
                            "schema": {"type": "string"},
                            "required": True,
                        }
                    }
    return openapi


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
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

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
