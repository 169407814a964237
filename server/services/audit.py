"""The assist audit trail (SA-3): written in the same transaction as the change it describes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.models import AuditEntry
from server.services.access import Caller


def record_if_assisted(session: Session, caller: Caller, action: str, target: str, detail: str = "") -> None:
    """Adds an audit entry when staff act for a contact; the caller's commit makes both durable at once."""
    if caller.assisted_by is None or caller.contact is None:
        return
    session.add(
        AuditEntry(
            branch_id=caller.branch.id,
            staff_id=caller.assisted_by.id,
            contact_id=caller.contact.id,
            action=action,
            target=target,
            detail=detail,
            client_address=caller.client_address,
        )
    )


def captured_by_id(caller: Caller) -> int | None:
    return caller.assisted_by.id if caller.assisted_by else None
