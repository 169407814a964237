"""What the app remembers about sign-ins: secrets in the keyring, the portal list in settings.

The keyring methods block (an OS keyring may be slow, or wait for the user to allow access or
unlock it): windows run them through `TaskRunner.run_keyring`, never on the GUI thread, and
`signed_in` does so itself. Settings stay on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.services.credentials import SAVE_FAILED, CredentialStore
from app.services.errors import KeyringUnavailableError
from app.services.session import PortalSession
from app.services.settings import AppSettings, SavedPortal
from app.services.tasks import TaskRunner

log = logging.getLogger(__name__)


class Accounts:
    def __init__(self, settings: AppSettings, credentials: CredentialStore | None = None) -> None:
        self.settings = settings
        self.credentials = credentials or CredentialStore()
        self._unlisted_origins: set[str] = set()
        self._told_late: Callable[[str], None] = _unheard

    def tell_late_problems_to(self, listener: Callable[[str], None]) -> None:
        """`listener` hears what the keyring could not do when the window that asked has gone meanwhile:
        a sign-out's forget held up by a keyring waiting for the user can fail after the sign-in screen
        (or the next window) replaced the window that signed out. The app's shell listens: it knows
        what the user sees by then."""
        self._told_late = listener

    def tell_late_problem(self, sentence: str) -> None:
        self._told_late(sentence)

    def do_not_list(self, origin: str) -> None:
        """The demo server gets a new port each run; listing its portals would offer dead addresses."""
        self._unlisted_origins.add(origin)

    def signed_in(
        self,
        session: PortalSession,
        *,
        remember_password: bool,
        runner: TaskRunner,
        failed: Callable[[str], None],
    ) -> None:
        """Lists the portal at once and stores the secrets on `runner`'s keyring lane. A keyring that
        fails costs no sign-in (the session lives on in memory for this run): `failed` gets the
        sentence saying what could not be saved or removed."""
        self.remember_portal(session)

        def refused(error: Exception) -> None:
            failed(error.detail if isinstance(error, KeyringUnavailableError) else SAVE_FAILED)

        runner.run_keyring(lambda: self.store_secrets(session, remember_password=remember_password), _kept, refused)

    def store_secrets(self, session: PortalSession, *, remember_password: bool) -> None:
        """The keyring half of `signed_in`, blocking; raises KeyringUnavailableError.

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
        """Blocking; raises KeyringUnavailableError."""
        self.credentials.forget(portal_url, email)

    def remember_portal(self, session: PortalSession) -> None:
        """The settings half of `signed_in`: the portal list of the sign-in dialog."""
        if not any(session.portal_url.startswith(origin + "/") for origin in self._unlisted_origins):
            self.settings.remember_portal(SavedPortal(session.portal_url, session.config.branch.name, session.email))

    def remembered_password(self, portal_url: str, email: str) -> str | None:
        """Blocking; raises KeyringUnavailableError."""
        return self.credentials.password(portal_url, email)

    def stored_token(self, portal_url: str, email: str) -> str | None:
        """Blocking; raises KeyringUnavailableError."""
        return self.credentials.token(portal_url, email)


def _unheard(sentence: str) -> None:
    """No shell listening (a window opened on its own, as in tests): the sentence goes to the log."""
    log.warning("keyring problem told to no one: %s", sentence)


def _kept(_: None) -> None:
    """Stored: nothing to say (the user asked for it and carries on)."""
