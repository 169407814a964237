"""Typed dependencies: the database session, the branch of the portal URL, and the signed-in caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, aliased, joinedload, sessionmaker

from server.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from server.api.schemas import ItemId
from server.errors import FieldError, forbidden, invalid, not_found, unauthorized
from server.models import AuthSession, Branch, Contact, staff_branches
from server.models.base import utcnow
from server.services.access import Caller, PropertyScope, contact_property_count, contact_roles
from server.services.secrets import token_hash
from server.settings import Settings

# Touching last_used_at on every request would turn every read into a write.
_TOUCH_INTERVAL = timedelta(seconds=60)
# An assist ends after 30 idle minutes (SA-4), counted from last_used_at: touched only every minute, it
# could end up to a minute early, under a clerk who was still working. Assists are few, so their
# reads may write; requests of the same second (a window's tabs loading together) share one write.
_ASSIST_TOUCH_INTERVAL = timedelta(seconds=1)
# Selection: from this many picked properties on, all the caller's roles are read once rather than the
# picked ids bound one by one into the check.
MANY_PICKED = 200


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request, on the event loop: creating one does no I/O (it connects on first use, in
    the route's worker thread), and closing one only returns its connection to the pool, rolling back
    what the route left open. A plain `def` generator would cost two thread-pool hops per request."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its thread pool,
# and those hops add up on every request.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_branch(
    session: SessionDep, branch_slug: Annotated[str, Path(description="The branch's portal slug")]
) -> Branch:
    branch = session.scalar(select(Branch).where(Branch.slug == branch_slug))
    if branch is None:
        raise not_found("That portal")
    return branch


BranchDep = Annotated[Branch, Depends(get_branch)]

_bearer = HTTPBearer(auto_error=False)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


# Built once: on every authenticated request, building this statement and its cache key cost more than the
# database's answer.
# `on_staff` rides along in the same round trip (a primary-key probe of staff_branches): staff taken off a
# branch lose it on their next request, as do the assist sessions they opened there (SA-1).
_ON_STAFF = (
    exists()
    .where(staff_branches.c.staff_id == AuthSession.staff_id, staff_branches.c.branch_id == AuthSession.branch_id)
    .label("on_staff")
)
# An assist session's parent (the staff session that opened it) rides along too, another primary-key probe:
# an assist opened while its staff member signed out, or changed their password, was not yet there for the
# revoking UPDATE to end; whatever path ends the parent, the assist ends with it (SA-4).
_PARENT = aliased(AuthSession)
_CALLER_QUERY = (
    select(AuthSession, Branch, _ON_STAFF, _PARENT.id, _PARENT.revoked_at, _PARENT.expires_at)
    .join(Branch, Branch.id == AuthSession.branch_id)
    .outerjoin(_PARENT, _PARENT.id == AuthSession.parent_session_id)
    .where(AuthSession.token_hash == bindparam("token_hash"), Branch.slug == bindparam("branch_slug"))
    .options(joinedload(AuthSession.contact), joinedload(AuthSession.staff), joinedload(AuthSession.assisted_by))
)


_REVOKED = "You were signed out of this portal (in another window, or your password was changed). Please sign in again."
_REVOKED_ASSIST = "The assist session was ended: closed in another window, or its staff member signed out."
_OFF_STAFF = "Your access to this branch's portal was removed. Ask an administrator to give it back."
_OFF_STAFF_ASSIST = "The assist session was ended: its staff member no longer works for this branch."


def get_caller(
    request: Request,
    session: SessionDep,
    branch_slug: Annotated[str, Path(description="The branch's portal slug")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The token's session, its branch and its people in one query and one thread-pool hop: this runs on
    every authenticated request, so it costs what the database needs and no more (the settings are read
    from the app rather than through a dependency of their own, which FastAPI solves on every request)."""
    settings: Settings = request.app.state.settings
    if credentials is None or credentials.scheme.lower() != "bearer":
        get_branch(session, branch_slug)  # an unknown portal is a 404 before any word about the token
        raise unauthorized("Please sign in.")
    row = session.execute(
        _CALLER_QUERY, {"token_hash": token_hash(credentials.credentials), "branch_slug": branch_slug}
    ).first()
    if row is None:  # no such token, or one of another branch's portal
        get_branch(session, branch_slug)
        raise unauthorized()
    auth, branch, on_staff, parent_id, parent_revoked_at, parent_expires_at = row
    now = utcnow()
    assist = auth.assisted_by_id is not None
    if auth.staff_id is not None and not on_staff:  # the truer reason when an import also revoked the session
        raise unauthorized(_OFF_STAFF_ASSIST if assist else _OFF_STAFF, "branch_access_removed")
    if auth.revoked_at is not None or (
        assist and (parent_id is None or parent_revoked_at is not None or parent_expires_at <= now)
    ):
        raise unauthorized(_REVOKED_ASSIST if assist else _REVOKED, "session_revoked")
    if auth.expires_at <= now:
        raise unauthorized("Your session has expired. Please sign in again.", "session_expired")
    if assist and auth.last_used_at + settings.assist_idle_timeout <= now:
        raise unauthorized(
            f"The assist session ended after {_spoken(settings.assist_idle_timeout)} without activity. Open it again.",
            "assist_idle",
        )
    if now - auth.last_used_at >= (_ASSIST_TOUCH_INTERVAL if assist else _TOUCH_INTERVAL):
        auth.last_used_at = now
        session.commit()
    return Caller(
        session_id=auth.id,
        kind=auth.kind,
        identity_id=auth.identity_id,
        branch=branch,
        contact=auth.contact,
        staff=auth.staff,
        assisted_by=auth.assisted_by,
        client_address=client_address(request),
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


def _spoken(duration: timedelta) -> str:
    """Says "30 minutes", "2 hours" or "90 seconds": the idle timeout is configurable (PORTAL_ASSIST_IDLE_SECONDS)."""
    seconds = round(duration.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


async def get_contact(caller: CallerDep) -> Contact:
    if caller.contact is None:
        raise forbidden(
            "assist_required", "Staff see a customer's portal through an assist session: find the customer first."
        )
    return caller.contact


ContactDep = Annotated[Contact, Depends(get_contact)]


async def get_staff_caller(caller: CallerDep) -> Caller:
    if caller.kind != "staff" or caller.staff is None:
        raise forbidden("staff_only", "Only the company's staff can do that.")
    return caller


StaffDep = Annotated[Caller, Depends(get_staff_caller)]


class Selection:
    """The caller's property filter for one request (PF-2), as the `scope` list queries filter by.

    Nothing is read until the route asks, in the route's own worker thread: resolving the filter costs no
    thread-pool hop of its own, and a portfolio of a thousand properties is never loaded whole for a list.
    Picked ids the caller cannot see are a 404 on first use, before any list query runs.
    """

    def __init__(self, session: Session, contact: Contact, requested: list[int], excluded: list[int]) -> None:
        self._session = session
        self._contact_id = contact.id
        self._branch_id = contact.branch_id
        self._requested = requested
        self._excluded = excluded
        self._scope: PropertyScope | None = None

    @property
    def scope(self) -> PropertyScope:
        if self._scope is None:
            self._scope = self._checked_scope()
        return self._scope

    def _checked_scope(self) -> PropertyScope:
        contact_id, branch_id = self._contact_id, self._branch_id
        if self._excluded:
            # Only the ids left out are read: a portfolio's other thousand stay in the subquery.
            if len(contact_roles(self._session, contact_id, self._excluded)) != len(self._excluded):
                raise not_found("That property")
            if len(self._excluded) == contact_property_count(self._session, contact_id):
                raise invalid(
                    [FieldError("exclude_property_id", "exclude_property_id: leaves no property")],
                    detail="Leaving out every property leaves nothing to show.",
                )
            return PropertyScope(contact_id, branch_id, excluded=tuple(self._excluded))
        if not self._requested:
            return PropertyScope(contact_id, branch_id)
        many = len(self._requested) > MANY_PICKED
        # Reading all the caller's roles beats binding each of many ids.
        roles = contact_roles(self._session, contact_id, None if many else self._requested)
        if any(pid not in roles for pid in self._requested):
            raise not_found("That property")
        if many and len(self._requested) == len(roles):
            # Every property picked (a client sending its whole list): the same rows as no filter, and
            # the subquery spares the database a thousand bound ids in each query.
            return PropertyScope(contact_id, branch_id)
        return PropertyScope(contact_id, branch_id, tuple(self._requested))


async def get_selection(
    session: SessionDep,
    contact: ContactDep,
    property_id: Annotated[list[ItemId] | None, Query(description="Repeat to select several properties")] = None,
    exclude_property_id: Annotated[
        list[ItemId] | None,
        Query(
            description="Repeat to select every property of the caller but these; not with property_id. "
            "A client sends whichever list is shorter: 999 of 1,000 ids would not fit a proxy's URL limit."
        ),
    ] = None,
) -> Selection:
    if property_id and exclude_property_id:
        raise invalid(
            [FieldError("exclude_property_id", "exclude_property_id: not with property_id")],
            detail="Give the properties to show or the ones to leave out, not both.",
        )
    return Selection(session, contact, sorted(set(property_id or [])), sorted(set(exclude_property_id or [])))


SelectionDep = Annotated[Selection, Depends(get_selection)]


class Paging:
    def __init__(self, limit: int, cursor: str | None) -> None:
        self.limit = limit
        self.cursor = cursor


async def get_paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Paging:
    return Paging(limit, cursor)


PagingDep = Annotated[Paging, Depends(get_paging)]
