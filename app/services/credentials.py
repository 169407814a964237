"""Secrets in the OS keyring, keyed by portal URL and email.

Only a sign-in with "Remember me" ticked is kept here: its session token (so the next start can
skip the password) and its password (so switching branch can sign in to the other portal).
Unticked, both are forgotten (see Accounts.store_secrets). A keyring that fails (no backend on a headless box, a
locked wallet, access denied) raises KeyringUnavailableError with a sentence for the user: the caller keeps the
sign-in for this run and says what could not be saved, read or removed.

The keyring package is imported on first use, not with this module: importing it costs about
0.1 s (importlib metadata, jaraco) and finding the OS backend more, none of which the first
window needs. The GUI thread should not call this store: run it through a TaskRunner, or
`preload_keyring()` while waiting for the network anyway.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import ModuleType

from app.services.errors import KeyringUnavailableError

log = logging.getLogger(__name__)

SERVICE = "Portal Desk"

# What the user knows the OS password store as.
_STORE = {"darwin": "the Keychain", "win32": "Windows Credential Manager"}.get(sys.platform, "the system keyring")
_WHY = "it may be locked, or access to it was denied"
SAVE_FAILED = (
    f"Your password could not be saved in {_STORE} ({_WHY}): you stay signed in, "
    "but will be asked for your password next time."
)
READ_FAILED = f"Your saved password could not be read from {_STORE} ({_WHY}): enter your password to sign in."
FORGET_FAILED = (
    f"Your saved password could not be removed from {_STORE} ({_WHY}): "
    "remove the “Portal Desk” entries there yourself if others use this computer."
)


def _account(portal_url: str, email: str, kind: str) -> str:
    return f"{kind}:{email.strip().lower()}@{portal_url}"


def _keyring() -> ModuleType:
    import keyring

    return keyring


def _errors() -> ModuleType:
    import keyring.errors

    return keyring.errors


def preload_keyring() -> None:
    """Imports the keyring package and finds its backend on a background thread, e.g. while the
    server checks a password: the sign-in then stores its token without that wait."""

    def load() -> None:
        try:
            _keyring().get_keyring()
        except Exception as exc:  # a broken backend is reported when it is used; this is only a head start
            log.debug("keyring preload failed: %s", type(exc).__name__)

    threading.Thread(target=load, name="keyring-preload", daemon=True).start()


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

    # Backends raise more than KeyringError when the OS store fails (a D-Bus error from Secret Service,
    # a Windows API error, an import error for a missing backend), hence `Exception` below. A computer
    # with no keyring at all (NoKeyringError) holds nothing to read or remove: only saving there fails,
    # and only that is worth a sentence; otherwise every start and sign-out would raise a false alarm.

    def _get(self, account: str) -> str | None:
        try:
            secret: str | None = _keyring().get_password(SERVICE, account)
        except Exception as exc:
            if isinstance(exc, _errors().NoKeyringError):
                return None
            log.warning("keyring unavailable, nothing read: %s", type(exc).__name__)
            raise KeyringUnavailableError(READ_FAILED, code="keyring_read") from exc
        return secret

    def _set(self, account: str, secret: str) -> None:
        try:
            _keyring().set_password(SERVICE, account, secret)
        except Exception as exc:
            log.warning("keyring unavailable, nothing stored: %s", type(exc).__name__)
            raise KeyringUnavailableError(SAVE_FAILED, code="keyring_save") from exc

    def _delete(self, account: str) -> None:
        try:
            _keyring().delete_password(SERVICE, account)
        except Exception as exc:
            if isinstance(exc, (_errors().PasswordDeleteError, _errors().NoKeyringError)):
                return  # nothing was stored under that name, or nowhere to store it
            log.warning("keyring unavailable, nothing deleted: %s", type(exc).__name__)
            raise KeyringUnavailableError(FORGET_FAILED, code="keyring_forget") from exc
