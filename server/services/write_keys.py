"""Retry-safe creation of requests and comments: an optional Idempotency-Key, like a payment's (IN-8).

A connection that drops after the server created a request or comment leaves the client with an
error and the draft; sending it again must not create (and mail) a second one. With a key, the first
write stores a record (same table and scope as payments' keys: "<contact id>:<key>", kept like
them) in the very transaction that creates the row, so a record exists exactly when the write does.
A retry with the same key and body gets that row back; another body under the key is a 409. Two
identical requests at once: the unique scope makes the second wait for the first's commit and fail
its insert, and it then answers like a retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from hashlib import sha256

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import conflict
from server.models import Contact, IdempotencyRecord
from server.services.attachments import StagedFile
from server.services.payments import check_key_format

REQUEST_CREATE = "request_create"
COMMENT_CREATE = "request_comment"
_CHUNK = 1 << 20


class KeyTaken(Exception):
    """A concurrent request with the same key committed first; answer like a retry."""


@dataclass(frozen=True)
class WriteKey:
    scope: str
    operation: str
    fingerprint: str


def write_key(
    contact: Contact, key: str | None, operation: str, fields: dict[str, object], files: list[StagedFile]
) -> WriteKey | None:
    """None without a key (the write is not retry-safe, as before); 400 for a malformed key.

    The fingerprint covers the fields and each file's name, size and content, so a retry is
    recognised only when it sends the very same thing.
    """
    if key is None:
        return None
    check_key_format(key)
    canonical = json.dumps(
        [operation, fields, [[item.filename, item.size, _content_hash(item)] for item in files]],
        sort_keys=True,
        separators=(",", ":"),
    )
    return WriteKey(f"{contact.id}:{key}", operation, sha256(canonical.encode()).hexdigest())


def _content_hash(item: StagedFile) -> str:
    digest = sha256()
    item.file.seek(0)
    for chunk in iter(lambda: item.file.read(_CHUNK), b""):
        digest.update(chunk)
    item.file.seek(0)
    return digest.hexdigest()


def earlier_write(session: Session, write: WriteKey | None) -> int | None:
    """The id the key's first write created, None if there is none; 409 when the key was used for another body."""
    if write is None:
        return None
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == write.scope))
    if record is None:
        return None
    if record.fingerprint != write.fingerprint or record.operation != write.operation:
        session.rollback()
        raise conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request or comment. Use a new key for a new one.",
        )
    created: int = json.loads(record.response_body or "{}")["id"]
    return created


def claim(session: Session, write: WriteKey | None) -> IdempotencyRecord | None:
    """Takes the key inside the creating transaction, before anything else is written; KeyTaken if a twin won."""
    if write is None:
        return None
    record = IdempotencyRecord(scope=write.scope, fingerprint=write.fingerprint, operation=write.operation)
    session.add(record)
    try:
        session.flush()
    except IntegrityError as error:
        raise KeyTaken from error
    return record


def remember(record: IdempotencyRecord | None, created_id: int) -> None:
    """Stores the answer (the new row's id) in the same transaction as the row itself."""
    if record is not None:
        record.status_code = 201
        record.response_body = json.dumps({"id": created_id})
