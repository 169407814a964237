"""The audit trail is append-only (SA-3): no code path may change or remove an AuditEntry.

An audit that can be edited proves nothing, so the guard sits below every caller: the unit of
work refuses to flush a changed or deleted entry, and the session refuses bulk UPDATE/DELETE
statements on the table, whether written with the ORM class or the Core table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from server.models.billing import AuditEntry


class AuditIsAppendOnly(RuntimeError):
    """Raised by any attempt to modify or delete audit entries."""


def _targets_audit(statement: Any) -> bool:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None) == AuditEntry.__tablename__


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: UOWTransaction, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditIsAppendOnly("audit entries cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditIsAppendOnly("audit entries cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    if isinstance(state.statement, (Update, Delete)) and _targets_audit(state.statement):
        raise AuditIsAppendOnly("audit entries cannot be changed or deleted")
