"""A signed-in portal: the client with its token plus what every screen needs up front."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.services.portal_client import PortalClient
from app.services.records import Branch, PortalConfig, Property, User


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


def _open(client: PortalClient, email: str, user: User, password: str | None) -> PortalSession:
    return PortalSession(
        client=client,
        email=email,
        user=user,
        config=client.config(),
        properties=client.properties(),
        branches=client.branches(),
        password=password,
    )
