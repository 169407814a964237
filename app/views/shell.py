"""The app's top-level flow: sign-in dialog, main window, sign-out back to the dialog, and the
demo server's lifetime."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QDialog

from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.demo_server import DEMO_EMAIL, DEMO_PASSWORD, DemoServer
from app.services.errors import PortalError
from app.services.portal_client import PortalClient, Timeouts, abort_all_calls
from app.services.records import Assist
from app.services.session import PortalSession
from app.services.tasks import TaskRunner, keyring_lane_done, network_calls_done
from app.views.branch_switch import log_out_in_background
from app.views.main_window import MainWindow
from app.views.sign_in_dialog import SignInDialog

# How long quitting waits for keyring calls still queued: a save or forget the keyring finishes
# quickly lands; one waiting for the user (an "Allow access" nobody will see now) is abandoned.
QUIT_KEYRING_WAIT_MS = 1500
# How long quitting waits for the network calls it aborted to come back: a cut connection returns at
# once; one still connecting or resolving the name is abandoned (its thread never holds up the exit).
QUIT_NETWORK_WAIT_MS = 500
# How long quitting during an assist waits for the portal to record its end (one call, no retry).
QUIT_ASSIST_END_WAIT_MS = 1500
QUIT_ASSIST_TIMEOUTS = Timeouts(connect=1.0, read=1.5)

if TYPE_CHECKING:  # office staff only: imported when a staff member signs in
    from app.views.staff_views import FindCustomerWindow


class AppShell(QObject):
    def __init__(self, app: QApplication, accounts: Accounts, demo: DemoServer | None, portal_url: str | None) -> None:
        super().__init__()
        self._app = app
        self.accounts = accounts
        self.demo = demo
        self._portal_url = portal_url
        self.runner = TaskRunner(self)
        self.window: MainWindow | None = None
        self.find_window: FindCustomerWindow | None = None
        self.dialog: SignInDialog | None = None
        self._keyring_problem: str | None = None  # what the keyring could not do, for the window opening
        accounts.tell_late_problems_to(self._keyring_failed)
        app.setQuitOnLastWindowClosed(True)
        app.aboutToQuit.connect(self.shutdown)

    def start(self, *, straight_to_demo: bool = False) -> None:
        if straight_to_demo and self.demo is not None:
            self.open_demo()
        else:
            self.show_sign_in(try_token=self._portal_url is None)

    def open_demo(self) -> None:
        """`--demo`: no dialog; the demo contact is signed in as soon as the server answers."""
        demo = self.demo
        assert demo is not None
        demo.start()
        self.accounts.do_not_list(demo.origin)

        def op() -> PortalSession:
            demo.wait_until_ready()
            return sessions.sign_in(demo.portal_url, DEMO_EMAIL, DEMO_PASSWORD)

        def failed(error: Exception) -> None:
            self.show_sign_in(error=error.detail if isinstance(error, PortalError) else str(error))

        self.runner.run(op, lambda session: self.open_window(session, remember=False), failed)

    def show_sign_in(self, *, error: str | None = None, try_token: bool = False) -> None:
        # Until a window shows after it, the dialog's close must not quit the app: the main window
        # lets events through while it is built, and Qt's automatic quit, posted as the dialog (the
        # last window shown) closed, ended the app there. Quit and the close box quit explicitly.
        self._app.setQuitOnLastWindowClosed(False)
        dialog = SignInDialog(self.accounts, demo=self.demo, portal_url=self._portal_url)
        if self.demo is not None and self.demo.port:
            self.accounts.do_not_list(self.demo.origin)
        dialog.finished.connect(lambda result: self._sign_in_finished(dialog, result))
        self.dialog = dialog
        dialog.show()
        if error:
            dialog.show_error(error)
        elif try_token:
            dialog.try_stored_token()

    def _sign_in_finished(self, dialog: SignInDialog, result: int) -> None:
        self.dialog = None
        dialog.deleteLater()
        if result == QDialog.DialogCode.Accepted and dialog.session is not None:
            if self.demo is not None and self.demo.port:
                self.accounts.do_not_list(self.demo.origin)
            self.open_window(dialog.session, remember=dialog.remember)
        elif self.window is None:
            self._app.quit()

    def open_window(self, session: PortalSession, *, remember: bool) -> None:
        # The keyring write runs beside the window's construction, never in its way; its failure is
        # told by the window that opened meanwhile.
        self._keyring_problem = None
        self.accounts.signed_in(session, remember_password=remember, runner=self.runner, failed=self._keyring_failed)
        try:
            if session.is_staff:
                self.open_find_customer(session, remember=remember)
            else:
                window = MainWindow(session, self.accounts, remember_password=remember)
                window.signed_out.connect(self._signed_out)
                self.window = window
                window.show()
            self._tell_keyring_problem()
        finally:  # a window that failed to build must not leave the app running with none
            self._app.setQuitOnLastWindowClosed(True)

    def _keyring_failed(self, sentence: str) -> None:
        """Told wherever the user is: the window, or the sign-in dialog (a sign-out's forget that failed
        after the dialog replaced the window); a window still being built (it lets events through
        meanwhile) is told once shown."""
        self._keyring_problem = sentence
        self._tell_keyring_problem()

    def _tell_keyring_problem(self) -> None:
        sentence = self._keyring_problem
        if sentence is None:
            return
        shown = self.find_window if self.find_window is not None else self.window
        if shown is not None:
            shown.show_keyring_problem(sentence)
        elif self.dialog is not None:
            self.dialog.show_error(sentence)
        else:
            return
        self._keyring_problem = None

    # -- staff (SA-1, SA-2) -----------------------------------------------------------

    def open_find_customer(self, session: PortalSession, *, remember: bool) -> None:
        """Staff start at "Find customer"; a customer's portal opens in the normal main window."""
        from app.views.staff_views import FindCustomerWindow

        find = FindCustomerWindow(session, accounts=self.accounts, remember_password=remember)
        find.assist_opened.connect(self._assist_opened)
        find.signed_out.connect(self._staff_signed_out)
        find.branch_opened.connect(self._staff_branch_opened)
        find.branch_switched.connect(self._staff_branch_switched)
        self.find_window = find
        find.show()

    def _assist_opened(self, assisted: PortalSession) -> None:
        find = self.find_window
        assert find is not None
        # The assist token is never stored: it lives only as long as this window.
        window = MainWindow(assisted, self.accounts)
        window.assist_ended.connect(self._assist_ended)
        window.reopen_assist_requested.connect(lambda: self._reopen_assist(window))
        self.window = window
        find.assist_window = window
        window.show()
        find.hide()

    def _reopen_assist(self, window: MainWindow) -> None:
        """The portal ended the assist shown in `window`: Find customer opens a new one with the
        staff member's session, for the same window (an answer for a window closed meanwhile is dropped)."""
        find, assisting = self.find_window, window.session.assisting
        if find is None or assisting is None:
            return

        def opened(ticket: Assist) -> None:
            if self.window is window:
                window.assist_reopened(ticket)
            else:  # the window went meanwhile: the new assist is not left running for 30 minutes
                log_out_in_background(self.runner, PortalClient(window.session.portal_url, token=ticket.token))

        def failed(sentence: str, gone: bool, removed: bool) -> None:
            if self.window is window:
                window.assist_reopen_failed(sentence, gone, removed)

        find.reopen_assist(assisting, opened, failed)

    def _close_assist_window(self) -> None:
        window, self.window = self.window, None
        if self.find_window is not None:
            self.find_window.assist_window = None
        if window is not None:
            window.session.client.close()
            window.close()
            window.deleteLater()

    def _assist_ended(self, message: str) -> None:
        self._close_assist_window()
        if self.find_window is not None:
            self.find_window.assist_ended(message or None)

    def _staff_signed_out(self, problem: str) -> None:
        find, self.find_window = self.find_window, None
        self._assist_ended("")
        self._portal_url = None
        self.show_sign_in(error=problem or None)
        if find is not None:
            find.close()
            find.deleteLater()

    def _staff_branch_opened(self, session: PortalSession) -> None:
        """Taken off one branch, the staff member carries on in another: its Find customer replaces
        this one, whose token the portal already refuses (nothing to log out)."""
        if self.find_window is not None:
            self.find_window.session.client.close()
        self._replace_find_customer(session)

    def _staff_branch_switched(self, session: PortalSession) -> None:
        """The staff member picked another of their branches: its Find customer replaces this one,
        and this branch's staff session is logged out on the portal.

        Unlike the customer's switch, which only lets its old session's connections go (that token
        stays valid: it is the remembered sign-in of that portal, and the next start there skips the
        password). A staff token opens every customer's portal of its branch, so one no window shows
        is not left valid on the portal (nor in a keyring a shared office computer keeps) until it
        expires. The cost: the next start on the old branch asks for the password (filled in when
        remembered), and switching back signs in again, as the customer's switch does anyway."""
        if self.find_window is not None:
            log_out_in_background(self.runner, self.find_window.session.client)
        self._replace_find_customer(session)

    def _replace_find_customer(self, session: PortalSession) -> None:
        """The new branch's window comes up where the old one was (its place saved first)."""
        find, self.find_window = self.find_window, None
        self._assist_ended("")
        if find is not None:
            find.save_layout()
        self.open_window(session, remember=find.remember_password if find is not None else False)
        if find is not None:
            find.close()
            find.deleteLater()

    def _end_assist_at_quit(self) -> None:
        """Quitting during an assist left it running on the portal for 30 minutes, and the audit trail
        without "Ended the assist". It is ended on a client of its own (the window's calls were just
        cut off), waited for QUIT_ASSIST_END_WAIT_MS at most: a portal that does not answer costs the
        record, never the quit (the portal then ends the idle assist itself)."""
        window = self.window
        if window is None or window.session.assisting is None or window.assist_over:
            return
        client = PortalClient(
            window.session.portal_url, token=window.session.token, timeouts=QUIT_ASSIST_TIMEOUTS, retries=0
        )

        def end() -> None:
            with contextlib.suppress(Exception):  # whatever it was, the quit goes on
                client.logout()
            client.close()

        ender = threading.Thread(target=end, name="end-assist-at-quit", daemon=True)
        ender.start()
        ender.join(QUIT_ASSIST_END_WAIT_MS / 1000)

    def _signed_out(self, problem: str) -> None:
        window, self.window = self.window, None
        self._portal_url = None
        self.show_sign_in(error=problem or None)
        if window is not None:
            window.close()
            window.deleteLater()

    def shutdown(self) -> None:
        # First, so the calls end while the rest is saved and stopped; their outcomes, delivered
        # through the event loop that has already ended, reach no window.
        abort_all_calls()
        self._end_assist_at_quit()
        if self.window is not None:
            self.window.save_layout()
        if self.find_window is not None:
            self.find_window.save_layout()
        if self.demo is not None:
            self.demo.stop()
        # A forget or save still queued (a sign-out's, an unticked "Remember me"'s) should reach the
        # keyring before the process ends; a keyring waiting for the user is not waited for long.
        keyring_lane_done(QUIT_KEYRING_WAIT_MS)
        network_calls_done(QUIT_NETWORK_WAIT_MS)
