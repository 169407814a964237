"""Typed errors for everything that can go wrong talking to a portal.

Callers branch on the class (the way stripe-python's CardError / RateLimitError work) instead of
parsing status codes, and can always show `str(error)`: it is the server's own `detail` sentence,
or one of ours when the server never answered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class PortalError(Exception):
    """Base of every portal failure; `detail` is a sentence a person can read."""

    def __init__(self, detail: str, *, status: int | None = None, code: str = "error") -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code


class InvalidPortalUrlError(PortalError):
    """Raised before any network traffic when the address cannot be a portal URL."""


class UnreachableError(PortalError):
    """No HTTP answer at all: refused, DNS failure, TLS failure or timeout."""


class UnauthorizedError(PortalError):
    """401: bad credentials, or the session token expired or was revoked. `refused_token` is the
    token the request carried (None without one): an answer that comes back after the user signed in
    again refused the old token, not the new one."""

    refused_token: str | None = None


class ForbiddenError(PortalError):
    """403: signed in, but this role may not do it."""


class NotFoundError(PortalError):
    """404: absent or not visible to this caller (the server does not say which)."""


class ConflictError(PortalError):
    """409: the record's state does not allow the action (already signed, already paid...)."""


class ValidationError(PortalError):
    """400/413/415/422: the request was refused as invalid; `field_errors` name the fields."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str = "invalid",
        field_errors: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(detail, status=status, code=code)
        self.field_errors = field_errors


class DeclinedError(PortalError):
    """402: the payment gateway refused the charge or the card."""


class SlowedDownError(PortalError):
    """429: too many attempts; `retry_after` seconds must pass before trying again (AC-4)."""

    def __init__(self, detail: str, *, retry_after: int, status: int | None = 429, code: str = "slowed_down") -> None:
        super().__init__(detail, status=status, code=code)
        self.retry_after = retry_after


class ServerError(PortalError):
    """5xx, or an answer the client cannot read (malformed JSON, missing fields)."""


class KeyringUnavailableError(PortalError):
    """The OS keyring refused or failed (locked, access denied, no backend): not the portal's doing,
    and never a reason to lose a sign-in; `detail` says what could not be saved, read or removed."""


def payment_outcome_unknown(error: Exception) -> bool:
    """True when the portal may have taken the payment: retry with the same key, never a new one."""
    if isinstance(error, UnreachableError | ServerError):
        return True
    return isinstance(error, ConflictError) and error.code == "payment_in_progress"
