"""Typed dependencies: the database session, the branch of the portal URL, and the signed-in caller."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from server.api.schemas import ItemId
from server.errors import forbidden, not_found, unauthorized
from server.models import AuthSession, Branch, Contact
from server.models.base import utcnow
from server.services.access import Caller, PropertyScope, all_properties_of, contact_roles
from server.services.secrets import token_hash
from server.settings import Settings

# Touching last_used_at on every request would turn every read into a write.
_TOUCH_INTERVAL = timedelta(seconds=60)


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


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


def get_caller(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    branch: BranchDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("Please sign in.")
    auth = session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(credentials.credentials)))
    now = utcnow()
    if auth is None or auth.revoked_at is not None or auth.expires_at <= now or auth.branch_id != branch.id:
        raise unauthorized()
    if auth.assisted_by_id is not None and auth.last_used_at + settings.assist_idle_timeout <= now:
        raise unauthorized("The assist session ended after 30 minutes without activity. Open it again.")
    if now - auth.last_used_at >= _TOUCH_INTERVAL:
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
    """The caller's property filter for one request (PF-2): role per visible property, the selected ids, and
    `scope`, the same selection in the form list queries filter by.

    `roles` and `selected` are read on first use: most lists filter by `scope` alone, and a portfolio of a
    thousand properties need not be loaded for them.
    """

    def __init__(self, session: Session, contact_id: int, requested: list[int] | None) -> None:
        self._session = session
        self._contact_id = contact_id
        self._roles: dict[int, str] | None = None
        self._requested = requested
        self.scope: PropertyScope = requested if requested else all_properties_of(contact_id)

    @property
    def roles(self) -> dict[int, str]:
        if self._roles is None:
            self._roles = contact_roles(self._session, self._contact_id)
        return self._roles

    @property
    def selected(self) -> list[int]:
        return self._requested if self._requested else sorted(self.roles)


def get_selection(
    session: SessionDep,
    contact: ContactDep,
    property_id: Annotated[list[ItemId] | None, Query(description="Repeat to select several properties")] = None,
) -> Selection:
    requested = sorted(set(property_id or []))
    if requested:
        visible = contact_roles(session, contact.id, requested)
        if len(visible) != len(requested):
            raise not_found("That property")
    return Selection(session, contact.id, requested)


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
