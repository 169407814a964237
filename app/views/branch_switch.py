"""The header's branch control and the switch it starts, shared by the customer's window (AC-2) and
office staff's Find customer (SA-1): one way of signing in to the other branch, so a fix to either
(superseded picks, the keyring off the GUI thread) reaches both.

The other branch is signed in with the password kept in memory for this run, else the keyring's (read
on its lane: an OS keyring may wait for the user to unlock it), else the branch's sign-in dialog, which
also says why the password it had was refused. The window decides what entering the branch means."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.portal_client import PortalClient
from app.services.records import Branch
from app.services.session import PortalSession
from app.services.tasks import BackgroundOp, TaskRunner
from app.views.sign_in_dialog import sign_in_to_branch
from app.views.theme import named

HEADER_NAME_WIDTH = 240  # a long branch or user name is elided to this (whole in the tooltip)


def set_header_text(button: QToolButton, name: str, tip: str, menu: bool) -> None:
    """A branch or user name on the header bar, elided to HEADER_NAME_WIDTH: a long one held the
    window wider than a laptop's screen. The whole name is then in the tooltip, above `tip`."""
    button.ensurePolished()  # the style sheet's font (bold for the branch) is what is measured
    shown = button.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, HEADER_NAME_WIDTH)
    button.setText(f"{shown}  ▾" if menu else shown)
    button.setToolTip("\n".join(filter(None, [name if shown != name else "", tip])))


def log_out_in_background(runner: TaskRunner, client: PortalClient) -> None:
    """A session no window shows any more is revoked on the portal, not left valid and forgotten,
    then its connections let go; a portal that refuses or does not answer changes nothing here."""
    runner.run(client.logout, lambda _: client.close(), lambda _: client.close())


def log_out_orphan(session: PortalSession) -> None:
    """log_out_in_background for a session whose window (and its runner) has gone: on a call tied to
    the application, which outlives every window."""
    app = QCoreApplication.instance()
    assert app is not None
    client = session.client
    BackgroundOp(parent=app, op=client.logout, success=lambda _: client.close()).failure(
        lambda _: client.close()
    ).run_in_background()


class BranchSwitch:
    """The branch button ("Greenleaf North ▾") with its menu of the signed-in user's branches, the
    current one ticked, and the switch a pick starts. The last branch picked wins: an earlier pick's
    sign-in that answers later is logged out on the portal; the current branch picked meanwhile drops
    the one under way, and picking the branch already opening again lets it go on (twice, it signed in
    twice and left the first token valid).

    `enter(session, remember)` gets the other branch's session and the "Remember me" to keep for it;
    `stay()` is called when the switch ends on the current branch (failed and given up, cancelled,
    superseded by the current one). `may_switch()` stops a pick before anything is asked (a window
    waiting for the portal, an assist open); `say` shows "Opening …" in the window's status line."""

    def __init__(
        self,
        window: QWidget,
        runner: TaskRunner,
        accounts: Accounts,
        *,
        session: Callable[[], PortalSession],
        remember: Callable[[], bool],
        enter: Callable[[PortalSession, bool], None],
        stay: Callable[[], None],
        say: Callable[[str], None],
        may_switch: Callable[[], bool] = lambda: True,
    ) -> None:
        self._window, self._runner, self._accounts = window, runner, accounts
        self._session, self._remember = session, remember
        self._enter, self._stay, self._say, self._may_switch = enter, stay, say, may_switch
        self._switches = 0  # a later pick drops an earlier one's answers
        self.opening: str | None = None  # the portal of the branch a pick is signing in to
        self.button = named(QToolButton(), "BranchButton")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setAccessibleDescription("Opens the list of branches you can switch to")
        self.menu = QMenu(self.button)
        self.button.setMenu(self.menu)

    def show_branches(self, session: PortalSession) -> None:
        """The button names `session`'s branch; with one branch only, it offers nothing."""
        name = session.config.branch.name
        switchable = len(session.branches) > 1
        set_header_text(self.button, name, "Switch branch" if switchable else "", switchable)
        self.button.setEnabled(switchable)
        self.button.setAccessibleName(f"Branch: {name}")
        self.menu.clear()
        for branch in session.branches:
            action = self.menu.addAction(branch.name)
            action.setCheckable(True)
            action.setData(branch.slug)
            action.triggered.connect(lambda _=False, b=branch: self.switch(b))
        self.tick_current()

    def tick_current(self) -> None:
        """The menu ticks the branch shown, and only that one. Qt toggles a checkable action as it is
        chosen: choosing the current branch again took its tick away, and a switch that failed or whose
        sign-in was cancelled left two branches ticked."""
        current = self._session().config.branch.slug
        for action in self.menu.actions():
            action.setChecked(action.data() == current)

    def switch(self, branch: Branch) -> None:
        self.tick_current()  # the tick moves when the other branch's session is shown
        if branch.portal_url == self.opening:
            return
        if branch.portal_url == self._session().portal_url:
            if self.opening is not None:
                self._switches += 1  # its sign-in, when it answers, is logged out again
                self.opening = None
                self._stay()
            return
        if not self._may_switch():
            return
        self._switches += 1
        self.opening = branch.portal_url
        self._say(f"Opening {branch.name}…")
        # A later pick, or another session shown meanwhile, makes this one's answers stale.
        switch, session, accounts = self._switches, self._session(), self._accounts

        def current() -> bool:
            return switch == self._switches and session is self._session()

        if session.password is not None:
            self._sign_in(branch, session.password, current)
            return

        def found(password: str | None) -> None:
            if not current():
                return
            if password is None:
                self._ask(branch, None)
            else:
                self._sign_in(branch, password, current)

        def unreadable(error: Exception) -> None:
            if current():
                self._ask(branch, error)  # its sentence says the password could not be read

        self._runner.run_keyring(
            lambda: accounts.remembered_password(branch.portal_url, session.email), found, unreadable
        )

    def _sign_in(self, branch: Branch, password: str, current: Callable[[], bool]) -> None:
        email = self._session().email

        def signed_in(session: PortalSession) -> None:
            if current():
                self.opening = None
                self._enter(session, self._remember())
            else:  # superseded: its token is revoked on the portal, not left valid and forgotten
                self.drop(session)

        def failed(error: Exception) -> None:
            if current():
                self._ask(branch, error)

        # An answer after the window has gone (quit, signed out, replaced) is still logged out.
        self._runner.run(
            lambda: sessions.sign_in(branch.portal_url, email, password), signed_in, failed, orphaned=log_out_orphan
        )

    def cancel(self) -> None:
        """The window signs out or closes: a sign-in still under way is logged out when it answers,
        never entered (it opened the other branch over the sign-in screen the user asked for)."""
        self._switches += 1
        self.opening = None

    def _ask(self, branch: Branch, error: Exception | None) -> None:
        self.opening = None  # the switch is the dialog's now (modal: no other is picked meanwhile)
        if not self._may_switch():  # an assist or a payment started while the password was tried
            return
        session = self._session()
        dialog = sign_in_to_branch(self._window, self._accounts, branch, session.email, self._remember(), error)
        if dialog is not None and dialog.session is not None:
            self._enter(dialog.session, dialog.remember)
        else:
            self._stay()

    def drop(self, session: PortalSession) -> None:
        """A branch's session signed in but not shown (superseded, or the window would not let go)."""
        log_out_in_background(self._runner, session.client)
