"""What the app remembers about sign-ins: secrets in the keyring, the portal list in settings."""

from __future__ import annotations

from app.services.credentials import CredentialStore
from app.services.session import PortalSession
from app.services.settings import AppSettings, SavedPortal


class Accounts:
    def __init__(self, settings: AppSettings, credentials: CredentialStore | None = None) -> None:
        self.settings = settings
        self.credentials = credentials or CredentialStore()
        self._unlisted_origins: set[str] = set()

    def do_not_list(self, origin: str) -> None:
        """The demo server gets a new port each run; listing its portals would offer dead addresses."""
        self._unlisted_origins.add(origin)

    def signed_in(self, session: PortalSession, *, remember_password: bool) -> None:
        self.store_secrets(session, remember_password=remember_password)
        self.remember_portal(session)

    def store_secrets(self, session: PortalSession, *, remember_password: bool) -> None:
        """The keyring half of `signed_in`: blocking (an OS keyring may be slow or ask to unlock),
        so a window runs it in the background; it touches no settings, which stay on the GUI thread.

        `remember_password` is the "Remember me on this computer" tick. Ticked, the token and the
        password stay for the next start. Unticked, nothing that signs in is left behind, also not
        what an earlier, remembered sign-in stored, for this portal or another branch of the
        company (a remembered switch of branch stored that one's too, and the sign-in list would
        still have offered it with the password filled in): on a shared office computer the next
        person must not open this customer's portal without the password. The session then lives
        only in memory, for this run."""
        if remember_password:
            self.credentials.save(session.portal_url, session.email, token=session.token, password=session.password)
            return
        for portal_url in {session.portal_url, *(branch.portal_url for branch in session.branches)}:
            self.credentials.forget(portal_url, session.email)

    def forget(self, portal_url: str, email: str) -> None:
        self.credentials.forget(portal_url, email)

    def remember_portal(self, session: PortalSession) -> None:
        """The settings half of `signed_in`: the portal list of the sign-in dialog."""
        if not any(session.portal_url.startswith(origin + "/") for origin in self._unlisted_origins):
            self.settings.remember_portal(SavedPortal(session.portal_url, session.config.branch.name, session.email))

    def remembered_password(self, portal_url: str, email: str) -> str | None:
        return self.credentials.password(portal_url, email)

    def stored_token(self, portal_url: str, email: str) -> str | None:
        return self.credentials.token(portal_url, email)

    def signed_out(self, session: PortalSession) -> None:
        self.credentials.forget(session.portal_url, session.email)
