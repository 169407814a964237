"""The two ends of a window's session, done alike by the customer's window and staff's Find customer:
signing in again in place when the portal ends the session, and signing out without waiting on a
portal that hangs or a keyring that does not answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QWidget

from app.services.accounts import Accounts
from app.services.credentials import FORGET_FAILED
from app.services.errors import KeyringUnavailableError, PortalError, UnauthorizedError
from app.services.session import PortalSession
from app.services.tasks import BackgroundOp, TaskRunner
from app.views.sign_in_dialog import SignInDialog

# A portal that hangs would hold a signing-out window for the client's whole timeout (20 s): the
# revocation carries on in the background and the user is back at the sign-in screen after this.
SIGN_OUT_WAIT_MS = 3000
# A sentence about the keyring (a password not saved) stays in a window's status bar this long.
KEYRING_PROBLEM_MS = 20000


# The 401 of a staff member taken off the branch: their password still signs in, but not here, so
# signing in again (or opening the assist again) can only fail, and said "email and password do not
# match" to someone who typed them right.
ACCESS_REMOVED = "branch_access_removed"
ASK_AN_ADMINISTRATOR = "Ask an administrator to give you access to this branch again."

# Why the portal refused the session, by the code of its 401 (server/api/deps.py).
_ENDED = {
    "session_expired": "Your session has expired.",
    "session_revoked": "You were signed out of this portal (in another window, or your password was changed).",
    ACCESS_REMOVED: "Your access to this branch's portal was removed.",
}


def ended_sentence(error: PortalError) -> str:
    return _ENDED.get(error.code, "Your session has ended.")


def access_removed(error: PortalError) -> bool:
    """No sign-in can give this branch back: only an administrator can."""
    return error.code == ACCESS_REMOVED


Refusal = Literal["current", "replaced", "other"]


def refusal_of(error: PortalError, session: PortalSession) -> Refusal:
    """Whose token a 401 refused. "current": the session's own, which has ended (ask for the
    password). "replaced": one that signing in again has already replaced, sent before the new
    sign-in and answered after it; running the call again carries the new one, where a second
    prompt asked for what the user had just typed. "other": a token of a session the window no
    longer shows (another branch's, since switched away from); running it again would only be
    refused again, so it fails as it is."""
    token = error.refused_token if isinstance(error, UnauthorizedError) else None
    if token is None or token == session.client.token:
        return "current"
    return "replaced" if token in session.client.replaced_tokens else "other"


def ask_to_sign_in_again(
    owner: QWidget,
    accounts: Accounts,
    session: PortalSession,
    finished: Callable[[SignInDialog], None],
    *,
    remember: bool,
    reason: PortalError,
) -> SignInDialog:
    """The sign-in dialog over `owner`, locked to the session's portal and email, "Remember me" as
    the user chose when signing in, saying why the portal ended the session (`reason`, its 401);
    `finished` gets it when it closes (its `session` is None when the user gave up)."""
    dialog = SignInDialog(
        accounts,
        portal_url=session.portal_url,
        email=session.email,
        locked=True,
        remember=remember,
        message=f"{ended_sentence(reason)} Sign in again to carry on where you left off.",
        parent=owner,
    )
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.finished.connect(lambda _: finished(dialog))
    dialog.open()
    return dialog


def sign_out_then_leave(
    owner: QWidget, runner: TaskRunner, accounts: Accounts, session: PortalSession, leave: Callable[[str], None]
) -> None:
    """Forgets the session's secrets on this computer (asked first, so the app is signed out here
    whatever the portal does) and revokes the session on the portal, both in the background, and
    calls `leave` once: when both have answered, or after SIGN_OUT_WAIT_MS if they have not. `leave`
    gets "" or the sentence saying the keyring could not forget, for the sign-in screen that follows
    (this window is about to close, so a sentence shown here would go unread). A forget that fails
    only after that (a keyring that waited for the user) is told through `accounts`, to wherever the
    user is by then."""
    waiting = {"forget", "revoke"}
    problem = ""
    left = False

    def leave_once() -> None:
        nonlocal left
        if not left:
            left = True
            leave(problem)

    def answered(part: str) -> None:
        waiting.discard(part)
        if not waiting:
            leave_once()

    def not_forgotten(error: Exception) -> None:
        nonlocal problem
        sentence = error.detail if isinstance(error, KeyringUnavailableError) else FORGET_FAILED
        if left:
            accounts.tell_late_problem(sentence)
            return
        problem = sentence
        answered("forget")

    runner.set_unauthorized_handler(None)
    # Not on the window's runner: the keyring may answer after the window is gone, and the answer
    # must still be heard. Tied to the application, which outlives every window.
    app = QCoreApplication.instance()
    assert app is not None
    BackgroundOp(
        parent=app, op=lambda: accounts.forget(session.portal_url, session.email), success=lambda _: answered("forget")
    ).failure(not_forgotten).run_in_background(keyring=True)
    runner.run(session.client.logout, lambda _: answered("revoke"), lambda _: answered("revoke"))
    QTimer.singleShot(SIGN_OUT_WAIT_MS, owner, leave_once)
