"""A signed-in portal: the client with its token plus what every screen needs up front."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from app.services.portal_client import PortalClient
from app.services.records import Branch, PortalConfig, Property, StaffContact, User


@dataclass(frozen=True)
class AssistContext:
    """Who is acting for whom (SA-2): the staff member's own session stays open behind the assist."""

    staff: PortalSession
    contact: StaffContact
    reason: str
    idle_seconds: int | None = None  # the portal's SA-4 limit, when it says it

    def banner(self) -> str:
        return f"Assisting {self.contact.name} ({self.contact.summary()})"


@dataclass
class PortalSession:
    client: PortalClient
    email: str
    user: User
    config: PortalConfig
    properties: tuple[Property, ...]
    branches: tuple[Branch, ...]
    # Kept in memory only, so switching branches can sign in without asking again (AC-2).
    password: str | None = field(default=None, repr=False)
    assisting: AssistContext | None = None

    @property
    def is_staff(self) -> bool:
        return self.user.kind == "staff" and self.assisting is None

    @property
    def portal_url(self) -> str:
        return self.client.portal_url

    @property
    def token(self) -> str:
        return self.client.token or ""


def sign_in(portal_url: str, email: str, password: str) -> PortalSession:
    """Blocking; run it through a TaskRunner."""
    client = PortalClient(portal_url)
    login = client.login(email.strip(), password)
    return _open(client, email.strip(), login.user, password)


def resume(portal_url: str, email: str, token: str) -> PortalSession:
    """Reuses a stored token; raises UnauthorizedError when it expired."""
    client = PortalClient(portal_url, token=token)
    return _open(client, email, client.me(), None)


def open_assist(staff: PortalSession, contact: StaffContact, reason: str) -> PortalSession:
    """Blocking: opens an assist session and loads the contact's portal as the contact sees it."""
    ticket = staff.client.open_assist(contact.id, reason)
    client = PortalClient(staff.portal_url, token=ticket.token)
    session = _open(client, ticket.contact.email, client.me(), None)
    # The assist is bound to this branch's portal: no switching to the contact's other branches.
    session.branches = tuple(b for b in session.branches if b.portal_url == staff.portal_url)
    session.assisting = AssistContext(
        staff=staff, contact=ticket.contact, reason=reason, idle_seconds=ticket.idle_seconds
    )
    return session


def _open(client: PortalClient, email: str, user: User, password: str | None) -> PortalSession:
    """What every screen needs, asked for in parallel: three round trips cost one (the client's
    connection pool serves concurrent GETs)."""
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="portal-open") as pool:
        config = pool.submit(client.config)
        # Staff have no properties of their own; they see a customer's through an assist session.
        properties = None if user.kind == "staff" else pool.submit(client.properties)
        branches = pool.submit(client.branches)
        return PortalSession(
            client=client,
            email=email,
            user=user,
            config=config.result(),
            properties=() if properties is None else properties.result(),
            branches=branches.result(),
            password=password,
        )
