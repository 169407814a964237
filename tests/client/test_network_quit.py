"""Quitting while a REST call waits on a portal that took the connection and never answers (a hung
server, a dead proxy): the app, run in a child process as main.py runs it, ends within moments instead
of living on, windowless, until the call's read timeout (and its retries) ran out; on Windows such a
process blocks starting or updating the app again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services.errors import UnreachableError
from app.services.portal_client import PortalClient
from app.views.shell import QUIT_NETWORK_WAIT_MS
from tests.client.fault_server import FaultServer, hang

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
# After quit is asked: the bounded wait for aborted calls, then tearing down Qt and the interpreter.
EXIT_WITHIN_S = QUIT_NETWORK_WAIT_MS / 1000 + 4

# The app's shell with a GET out to PORTAL (which never answers); once the portal has the request
# (the parent says so on stdin), the app quits. The call's own outcome, if it ever came, would be
# written to OUTCOME: a late answer must reach nothing once the app has quit.
CHILD = """
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

from app.services.accounts import Accounts
from app.services.gui_gc import GuiThreadCollector
from app.services.portal_client import PortalClient
from app.services.settings import AppSettings
from app.views.shell import AppShell

PORTAL, SETTINGS, OUTCOME = sys.argv[1], sys.argv[2], Path(sys.argv[3])

app = QApplication(sys.argv[:1])
GuiThreadCollector(app)
settings = QSettings(SETTINGS, QSettings.Format.IniFormat)
shell = AppShell(app, Accounts(AppSettings(settings)), None, None)
app.aboutToQuit.connect(lambda: settings.setValue("quit/saved", "yes"))
client = PortalClient(PORTAL, retries=2, backoff=0)
shell.runner.run(client.version, lambda r: OUTCOME.write_text("answer"), lambda e: OUTCOME.write_text(repr(e)))


def quit_now():
    print(time.time(), flush=True)
    app.quit()


# The parent writes a line once the portal holds the request.
told = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
told.activated.connect(quit_now)
code = app.exec()
settings.sync()
raise SystemExit(code)
"""


@pytest.fixture
def hung_portal() -> Iterator[tuple[FaultServer, threading.Event]]:
    released = threading.Event()
    server = FaultServer().start()
    server.route("GET", "/version", hang(released))
    yield server, released
    released.set()
    server.stop()


def test_quitting_aborts_a_call_the_portal_never_answers(
    tmp_path: Path, hung_portal: tuple[FaultServer, threading.Event]
) -> None:
    server, _ = hung_portal
    settings = tmp_path / "settings.ini"
    outcome = tmp_path / "outcome"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, server.portal_url, str(settings), str(outcome)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PORTAL_DESK_HOME": str(tmp_path)},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while server.hits != [("GET", "/version")]:
            assert child.poll() is None and time.monotonic() < deadline, "the request never reached the portal"
            time.sleep(0.02)
        assert child.stdin is not None
        child.stdin.write("quit\n")
        child.stdin.flush()
        try:
            out, err = child.communicate(timeout=EXIT_WITHIN_S + 60)
        except subprocess.TimeoutExpired:
            pytest.fail("the app was still running a minute after quit was asked")
        ended = time.time()  # the child's clock is the same wall clock
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    ended_after = ended - float(out.split()[-1])
    assert ended_after < EXIT_WITHIN_S, f"the app ended {ended_after:.1f} s after quit was asked"
    assert "yes" in settings.read_text(), "quitting skipped the shell's and the app's own cleanup"
    assert not outcome.exists(), "the aborted call's outcome was delivered after the app quit"
    assert server.hits == [("GET", "/version")], "the aborted GET was retried"
    assert "Traceback" not in err, err


def test_aborting_cuts_a_call_in_flight_and_refuses_retries(hung_portal: tuple[FaultServer, threading.Event]) -> None:
    """What quitting does first: a GET blocked on the portal's silence comes back at once, not after
    the read timeout and two retries, and the client asks the portal nothing more."""
    server, _ = hung_portal
    client = PortalClient(server.portal_url, retries=2, backoff=0)
    errors: list[Exception] = []

    def call() -> None:
        try:
            client.version()
        except Exception as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while not server.hits:
        assert time.monotonic() < deadline, "the request never reached the portal"
        time.sleep(0.02)
    started = time.monotonic()
    client.abort()  # as abort_all_calls does to each client; the others in this process are left alone
    caller.join(timeout=5)
    assert not caller.is_alive(), "the call still waits on the portal after it was aborted"
    assert time.monotonic() - started < 2
    assert isinstance(errors[0], UnreachableError)
    assert server.hits == [("GET", "/version")]
    with pytest.raises(UnreachableError):
        client.config()
    assert server.hits == [("GET", "/version")]
