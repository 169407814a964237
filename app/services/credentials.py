"""Secrets in the OS keyring, keyed by portal URL and email.

The session token is always kept (so the next start can skip the password); the password only
when the user ticked "Remember me". Keyring failures (no backend on a headless box, a locked
wallet) must never stop a sign-in, so they are logged and treated as "nothing stored".
"""

from __future__ import annotations

import logging

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

log = logging.getLogger(__name__)

SERVICE = "Portal Desk"


def _account(portal_url: str, email: str, kind: str) -> str:
    return f"{kind}:{email.strip().lower()}@{portal_url}"


class MemoryKeyring(KeyringBackend):
    """Process-local backend for tests and smoke runs, which must not touch the user's keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class CredentialStore:
    def save(self, portal_url: str, email: str, *, token: str, password: str | None) -> None:
        """Stores the token; stores the password only when given, otherwise forgets an old one."""
        self._set(_account(portal_url, email, "token"), token)
        if password is None:
            self._delete(_account(portal_url, email, "password"))
        else:
            self._set(_account(portal_url, email, "password"), password)

    def token(self, portal_url: str, email: str) -> str | None:
        return self._get(_account(portal_url, email, "token"))

    def password(self, portal_url: str, email: str) -> str | None:
        return self._get(_account(portal_url, email, "password"))

    def forget(self, portal_url: str, email: str) -> None:
        self._delete(_account(portal_url, email, "token"))
        self._delete(_account(portal_url, email, "password"))

    def _get(self, account: str) -> str | None:
        try:
            return keyring.get_password(SERVICE, account)
        except KeyringError as exc:
            log.warning("keyring unavailable, nothing read: %s", type(exc).__name__)
            return None

    def _set(self, account: str, secret: str) -> None:
        try:
            keyring.set_password(SERVICE, account, secret)
        except KeyringError as exc:
            log.warning("keyring unavailable, nothing stored: %s", type(exc).__name__)

    def _delete(self, account: str) -> None:
        try:
            keyring.delete_password(SERVICE, account)
        except PasswordDeleteError:
            pass
        except KeyringError as exc:
            log.warning("keyring unavailable, nothing deleted: %s", type(exc).__name__)
