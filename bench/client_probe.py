"""The client measurements, run as its own process so "process start" is a real start.

    QT_QPA_PLATFORM=offscreen python -m bench.client_probe PORTAL_URL EMAIL PASSWORD --spawned-at T
        [--token TOKEN --start-only]

Drives the real client classes with plain Qt (no test framework), starting as the app does
(AppShell): the sign-in dialog, typed in and submitted, or, with --token, a returning user's start
(a saved portal, the session token in the keyring, no password asked); then the main window with
the first page of every tab, property-filter changes all -> one -> all, and "View invoice" to the
first PDF page painted. A 5 ms heartbeat timer on the GUI thread records the worst gap between
its ticks all along. Waiting is done in a local event loop (never sleeping on the GUI thread), so
the waits add no stalls of their own. Prints one JSON line.
"""

from __future__ import annotations

import time

SPAWNED_OR_IMPORTED = time.time()  # before Qt and the app are imported: they are part of the start-up

import os  # noqa: E402

from bench.probe_keyring import BACKEND, SECRETS_ENV, remembered_sign_in  # noqa: E402

# The app loads the keyring on first use; this names the backend it will find then.
os.environ["PYTHON_KEYRING_BACKEND"] = BACKEND

import argparse  # noqa: E402
import faulthandler  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.services.accounts import Accounts  # noqa: E402
from app.services.gui_gc import GuiThreadCollector  # noqa: E402
from app.services.records import InvoiceSummary  # noqa: E402
from app.services.settings import AppSettings, SavedPortal  # noqa: E402
from app.services.tasks import BackgroundOp  # noqa: E402
from app.views.main_window import MainWindow  # noqa: E402
from app.views.shell import AppShell  # noqa: E402
from app.views.theme import apply_theme  # noqa: E402
from main import GIL_TURN_S  # noqa: E402

IMPORTED = time.time()
STEP_TIMEOUT_S = 60.0
# Before bench.client's 300 s limit, so that a hung probe says where it hung.
HANG_DUMP_AFTER_S = 270.0
HEARTBEAT_MS = 5
# Between one step's answer and the next click: a person's next click never comes in the same event
# loop pass as the answer's paint, as an immediate scripted click did (their two costs then made
# one stall that no user meets).
PAUSE_BETWEEN_CLICKS_MS = 100


class ProbeFailed(Exception):
    pass


def _scheduler_times() -> tuple[int, int] | None:
    """This thread's time on a CPU and waiting for one (ns), from Linux's schedstat; None elsewhere."""
    try:
        with open("/proc/thread-self/schedstat") as stats:
            on_cpu, waiting = stats.read().split()[:2]
    except (OSError, ValueError):
        return None
    return int(on_cpu), int(waiting)


class Heartbeat:
    """A precise 5 ms timer: the longest gap between two ticks is the longest the GUI thread was busy.

    The worst gap is split, where Linux tells, into the GUI thread's time on a CPU (its own work),
    waiting for a CPU (the machine's other load) and neither (blocked: the GIL held by another
    thread, a lock, I/O), so a stall says whether the app or the machine caused it."""

    def __init__(self) -> None:
        self.worst_s = 0.0
        self.worst_during = ""
        self.worst_split_ms: dict[str, float] = {}
        self.phase = "start-up"
        self.worst_by_phase: dict[str, float] = {}
        self._last = time.perf_counter()
        self._last_sched = _scheduler_times()
        self._timer = QTimer(timerType=Qt.TimerType.PreciseTimer, interval=HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        sched = _scheduler_times()
        gap = now - self._last
        if gap > self.worst_s:
            self.worst_s, self.worst_during = gap, self.phase
            if sched is not None and self._last_sched is not None:
                on_cpu = (sched[0] - self._last_sched[0]) / 1e6
                waiting = (sched[1] - self._last_sched[1]) / 1e6
                self.worst_split_ms = {
                    "on_cpu": round(on_cpu, 1),
                    "waiting_for_a_cpu": round(waiting, 1),
                    "blocked": round(max(0.0, gap * 1000 - on_cpu - waiting), 1),
                }
        if gap > self.worst_by_phase.get(self.phase, 0.0):
            self.worst_by_phase[self.phase] = gap
        self._last, self._last_sched = now, sched

    def stop(self) -> None:
        self._timer.stop()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Runs the event loop until `condition` holds, checking every millisecond."""
    if condition():
        return
    loop = QEventLoop()
    check = QTimer(timerType=Qt.TimerType.PreciseTimer, interval=1)
    deadline = time.monotonic() + STEP_TIMEOUT_S
    timed_out: list[bool] = []

    def poll() -> None:
        if condition():
            loop.quit()
        elif time.monotonic() > deadline:
            timed_out.append(True)
            loop.quit()

    check.timeout.connect(poll)
    check.start()
    loop.exec()
    check.stop()
    if timed_out:
        raise ProbeFailed(f"timed out after {STEP_TIMEOUT_S:.0f} s waiting for {what}")


def pause(ms: int = PAUSE_BETWEEN_CLICKS_MS) -> None:
    """Runs the event loop for `ms`: what was posted (a repaint) is done before the next step."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def in_background(owner: QObject, op: Callable[[], Any], what: str) -> Any:
    outcome: list[tuple[str, Any]] = []
    BackgroundOp(parent=owner, op=op, success=lambda r: outcome.append(("ok", r))).failure(
        lambda e: outcome.append(("error", e))
    ).run_in_background()
    wait_for(lambda: bool(outcome), what)
    kind, value = outcome[0]
    if kind == "error":
        raise ProbeFailed(f"{what} failed: {value}")
    return value


def _tabs_ready(window: MainWindow) -> bool:
    """No request in flight (a property change sends its requests at once: no debounce)."""
    return not window.runner.busy


def _check_tabs(window: MainWindow, need_rows: bool) -> dict[str, int]:
    rows: dict[str, int] = {}
    for key in window._visible_tab_keys():
        tab = window.tabs[key]
        if tab._error is not None:
            raise ProbeFailed(f"the {key} tab shows an error: {tab._error}")
        rows[key] = tab.model.rowCount()
        if need_rows and rows[key] == 0:
            raise ProbeFailed(f"the {key} tab is empty")
    return rows


def _filter_changes(window: MainWindow, beat: Heartbeat, rounds: int) -> dict[str, Any]:
    """all -> one -> all, `rounds` times; each change timed from the click to every tab repopulated."""
    model = window.properties_model
    ids = model.selected_ids()
    rest = ids[1:]
    to_one: list[float] = []
    to_all: list[float] = []
    beat.phase = "filter changes"
    pause()

    def change(checked: bool, into: list[float]) -> None:
        begun = time.perf_counter()
        model.set_checked(rest, checked)
        if not window.runner.busy:
            raise ProbeFailed("a property change did not reload the lists")
        wait_for(lambda: _tabs_ready(window), "every tab to repopulate")
        into.append(time.perf_counter() - begun)
        _check_tabs(window, need_rows=checked)
        pause()

    for _ in range(rounds):
        change(False, to_one)
        change(True, to_all)
    both = to_one + to_all
    return {
        "filter_change_p50_ms": round(statistics.median(both) * 1000, 1),
        "filter_change_max_ms": round(max(both) * 1000, 1),
        "filter_to_one_p50_ms": round(statistics.median(to_one) * 1000, 1),
        "filter_to_all_p50_ms": round(statistics.median(to_all) * 1000, 1),
        "filter_changes": len(both),
    }


def _view_invoice(window: MainWindow, beat: Heartbeat, rounds: int) -> dict[str, Any]:
    """Opens the first invoice of the invoices tab, then clicks "View invoice" `rounds` times, each
    timed from the click to the viewer's first page painted (PdfViewer.document_shown / `_shown`)."""
    from app.views.invoice_detail import InvoiceDetailDialog

    beat.phase = "invoice detail"
    records = [window.tabs["invoices"].model.record(r) for r in range(window.tabs["invoices"].model.rowCount())]
    invoice = next((r for r in records if isinstance(r, InvoiceSummary)), None)
    if invoice is None:
        raise ProbeFailed("the invoices tab has no invoice to view")
    window.invoice_actions.open_invoice(invoice)
    wait_for(lambda: isinstance(window.invoice_actions.detail, InvoiceDetailDialog), "the invoice detail")
    detail = window.invoice_actions.detail
    assert isinstance(detail, InvoiceDetailDialog)
    wait_for(lambda: not window.runner.busy, "the invoice detail")
    pause()
    times: list[float] = []
    pages = 0
    beat.phase = "View invoice"
    for _ in range(rounds):
        begun = time.perf_counter()
        detail.view_button.click()
        wait_for(lambda: detail.pdf_window is not None and detail.pdf_window.viewer._shown, "the first PDF page")
        times.append(time.perf_counter() - begun)
        viewer_window = detail.pdf_window
        assert viewer_window is not None
        pages = viewer_window.viewer.page_count
        viewer_window.close()
        wait_for(lambda: detail.pdf_window is None and not window.runner.busy, "the viewer to close")
        pause()
    detail.close()
    return {
        "view_invoice_first_page_p50_ms": round(statistics.median(times) * 1000, 1),
        "view_invoice_first_page_max_ms": round(max(times) * 1000, 1),
        "view_invoice_rounds": rounds,
        "invoice_pdf_pages": pages,
        "invoice_number": invoice.number,
    }


# A 10-page text document: the generated invoices have one page; the target names ten.
TEN_PAGE_PDF = """
import sys
sys.modules["pymupdf.layout"] = sys.modules["pymupdf4llm"] = None
import pymupdf
document = pymupdf.open()
for number in range(1, 11):
    page = document.new_page()
    lines = "\\n".join(f"Line {row}: mowing, edging and blowing, property {number}-{row}" for row in range(48))
    page.insert_text((48, 60), f"Page {number}\\n{lines}", fontsize=10)
sys.stdout.buffer.write(document.tobytes())
"""


def ten_page_pdf() -> bytes:
    """Made by a Python of its own: the client process never loads PyMuPDF (its render child does),
    and loading it here would charge the probe's stall and RSS figures with it."""
    done = subprocess.run([sys.executable, "-c", TEN_PAGE_PDF], capture_output=True, timeout=120, check=True)
    return done.stdout


def _peak_rss_mb(pid: int | str) -> float | None:
    """A running process's peak RSS (VmHWM; Linux), None where /proc does not say."""
    try:
        with open(f"/proc/{pid}/status") as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return None
    return round(peak_kb / 1024, 1)


def render_child_peak_rss_mb() -> float | None:
    """The shared PDF render child's peak RSS, while it still runs."""
    from app.services.pdf_renderer import pdf_render_service

    pid = pdf_render_service().pid
    return None if pid is None else _peak_rss_mb(pid)


def client_peak_rss_mb() -> float:
    """This process's own peak. Not ru_maxrss where VmHWM exists: Linux carries ru_maxrss over an
    exec, so a probe started by a bench that had just generated the company (283 MB) reported
    that as the client's peak."""
    own = _peak_rss_mb("self")
    return own if own is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _show_once(window: MainWindow, data: bytes) -> float:
    from app.views.pdf_window import PdfWindow

    begun = time.perf_counter()
    viewer_window = PdfWindow("Ten pages", data, "ten-pages.pdf", window)
    viewer_window.show()
    wait_for(lambda: viewer_window.viewer._shown, "the first page of the 10-page PDF")
    elapsed = time.perf_counter() - begun
    closed: list[bool] = []
    viewer_window.finished.connect(lambda _: closed.append(True))
    viewer_window.close()
    wait_for(lambda: bool(closed), "the 10-page viewer to close")
    pause()
    return elapsed


def _ten_pages_in_viewer(window: MainWindow, beat: Heartbeat, rounds: int) -> dict[str, Any]:
    """The viewer's share alone (no download) for a 10-page PDF: window opened on the bytes to first page painted.

    The document is made by another process, waited for on a worker thread: the app never builds
    PDFs, and building one on the GUI thread (60 ms or more) would be charged to the viewer's stall
    figure. That wait is a phase of its own, so that "View invoice" holds the viewer's stalls only."""
    beat.phase = "making the 10-page PDF (not the app)"
    data = in_background(window, ten_page_pdf, "the 10-page PDF")
    beat.phase = "10-page PDF in the viewer"
    times = [_show_once(window, data) for _ in range(rounds)]
    return {"ten_page_viewer_first_page_p50_ms": round(statistics.median(times) * 1000, 1)}


def _start(
    app: QApplication, accounts: Accounts, portal_url: str, email: str, password: str, token: str | None
) -> tuple[MainWindow, float]:
    """As `main.py` starts: the shell opens the sign-in dialog. With a password it is typed in and
    submitted at once; with a stored token the dialog signs in by itself. Returns the window and
    when the session was open."""
    shell = AppShell(app, accounts, None, None if token else portal_url)
    app.setQuitOnLastWindowClosed(False)  # the probe closes its windows itself; quitting would end its waits
    shell.start()
    dialog = shell.dialog
    if dialog is None:
        raise ProbeFailed("the sign-in dialog did not open")
    if token is None:
        dialog.email_edit.setText(email)
        dialog.password_edit.setText(password)
        dialog.sign_in_button.click()
    wait_for(lambda: shell.window is not None or dialog.error_label.isVisible(), "sign-in")
    if shell.window is None:
        raise ProbeFailed(f"sign-in failed: {dialog.error_label.text()}")
    return shell.window, time.time()


def run(
    portal_url: str,
    email: str,
    password: str,
    spawned_at: float,
    rounds: int,
    pdf_rounds: int,
    token: str | None = None,
    start_only: bool = False,
) -> dict[str, Any]:
    app = QApplication([sys.argv[0]])
    GuiThreadCollector(app)  # as main.py does
    sys.setswitchinterval(GIL_TURN_S)
    apply_theme(app)
    app_ready = time.time()
    beat = Heartbeat()
    settings_file = Path(tempfile.mkdtemp(prefix="portal-desk-bench-")) / "settings.ini"
    settings = AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
    if token is not None:
        # A returning user: the portal in the sign-in dialog's list, its remembered sign-in in the keyring.
        settings.remember_portal(SavedPortal(portal_url, "Benchmark", email))
        os.environ[SECRETS_ENV] = json.dumps(remembered_sign_in(portal_url, email, token, password))
    accounts = Accounts(settings)
    window, signed_in = _start(app, accounts, portal_url, email, password, token)
    wait_for(lambda: _tabs_ready(window), "every tab's first page")
    shown = time.time()
    first_rows = _check_tabs(window, need_rows=True)
    figures: dict[str, Any] = {
        "start": "stored token" if token else "password",
        "startup_ms": round((shown - spawned_at) * 1000, 1),
        "startup_from_probe_import_ms": round((shown - SPAWNED_OR_IMPORTED) * 1000, 1),
        "startup_phases_ms": {
            "interpreter": round((SPAWNED_OR_IMPORTED - spawned_at) * 1000, 1),
            "imports": round((IMPORTED - SPAWNED_OR_IMPORTED) * 1000, 1),
            "qapplication_and_theme": round((app_ready - IMPORTED) * 1000, 1),
            "sign_in": round((signed_in - app_ready) * 1000, 1),
            "window_and_first_pages": round((shown - signed_in) * 1000, 1),
        },
        "sign_in_to_tabs_ms": round((shown - signed_in) * 1000, 1),
        "first_page_rows": first_rows,
        "properties": window.properties_model.rowCount(),
    }
    if not start_only:
        figures.update(_filter_changes(window, beat, rounds))
        figures.update(_view_invoice(window, beat, pdf_rounds))
        figures.update(_ten_pages_in_viewer(window, beat, pdf_rounds))
    beat.stop()
    figures["worst_stall_ms"] = round(beat.worst_s * 1000, 1)
    figures["worst_stall_during"] = beat.worst_during
    figures["worst_stall_split_ms"] = beat.worst_split_ms
    figures["worst_stall_by_phase_ms"] = {k: round(v * 1000, 1) for k, v in beat.worst_by_phase.items()}
    figures["peak_rss_mb"] = client_peak_rss_mb()
    figures["render_child_peak_rss_mb"] = render_child_peak_rss_mb()
    window.close()
    if token is None:  # a returning user's token stays valid, as it would on their machine
        in_background(app, window.session.client.logout, "sign-out")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client_probe", description=__doc__)
    parser.add_argument("portal_url")
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("--spawned-at", type=float, help="time.time() just before the parent started this process")
    parser.add_argument("--rounds", type=int, default=10, help="all -> one -> all filter rounds")
    parser.add_argument("--pdf-rounds", type=int, default=5)
    parser.add_argument("--token", help="start as a returning user whose keyring holds this session token")
    parser.add_argument("--start-only", action="store_true", help="stop once every tab shows its first page")
    args = parser.parse_args(argv)
    spawned_at = args.spawned_at if args.spawned_at is not None else SPAWNED_OR_IMPORTED
    # A probe that hangs leaves every thread's stack on stderr before the parent gives up on it.
    faulthandler.dump_traceback_later(HANG_DUMP_AFTER_S, exit=True)
    try:
        figures = run(
            args.portal_url,
            args.email,
            args.password,
            spawned_at,
            args.rounds,
            args.pdf_rounds,
            token=args.token,
            start_only=args.start_only,
        )
    except ProbeFailed as failure:
        print(json.dumps({"ok": False, "error": str(failure)}), flush=True)
        return 1
    print(json.dumps({"ok": True, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
