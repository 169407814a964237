"""Passwords (argon2id, AC-5) and opaque tokens, which the database only ever holds as hashes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import FieldError, invalid

MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("portal-desk-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(
            [FieldError(field, f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")],
            code="weak_password",
        )


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
