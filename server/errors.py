"""Problems the API reports (RFC 9457): a stable `code` for programs and a `detail` sentence for people."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class Problem(Exception):
    status: int
    code: str
    detail: str
    title: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)


def not_found(what: str = "That item") -> Problem:
    # 404 for absent and for not visible alike, so ids of other customers reveal nothing.
    return Problem(404, "not_found", f"{what} was not found.", "Not found")


def unauthorized(detail: str = "Please sign in again; your session has ended.", code: str = "unauthorized") -> Problem:
    """A 401. `code` says why a token that was good is no more (session_expired, session_revoked,
    assist_idle), so a client can tell the cases apart without reading the sentence."""
    return Problem(401, code, detail, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})


def forbidden(code: str, detail: str) -> Problem:
    return Problem(403, code, detail, "Forbidden")


def conflict(code: str, detail: str) -> Problem:
    return Problem(409, code, detail, "Conflict")


def invalid(errors: list[FieldError], code: str = "validation_failed", detail: str | None = None) -> Problem:
    text = detail or " ".join(error.message for error in errors) or "The request is not valid."
    return Problem(422, code, text, "Invalid input", errors=errors)
