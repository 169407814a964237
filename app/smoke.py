"""`main.py --demo --smoke DIR`: a headless end-to-end check for CI and for reviewing screens.

Signs in to the demo company, loads every tab, saves a PNG per tab (and of invoices sorted by
balance, and searched for a word none has: search-no-match.png), of the sign-in dialog (and its refusal of a wrong password), of the visit, request and new-request windows and of the proposal
detail, PDF viewer and sign dialog; then signs in as office staff and saves the Find customer
screen (no recent customers yet), the reason asked before a portal opens, an assisted portal with
its banner, Find customer again with that customer under Recent and the Activity window; last it stops the demo server and checks the window says so (banner,
lists kept and marked out of date: offline.png) and what a visit opened then shows (visit-offline.png). It prints one JSON line of timings. Secrets and
settings stay in memory / a temp folder.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import keyring
from PySide6.QtCore import QEventLoop, QPointF, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.demo_server import DEMO_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL, DemoServer
from app.services.memory_keyring import MemoryKeyring
from app.services.settings import AppSettings
from app.services.tasks import BackgroundOp, TaskRunner
from app.views.main_window import MainWindow
from app.views.sign_in_dialog import SignInDialog
from app.views.signature_pad import SignaturePad
from app.views.staff_views import FindCustomerWindow, ReasonDialog

T = TypeVar("T")
STEP_TIMEOUT_S = 30.0


class SmokeFailed(Exception):
    pass


def _wait(condition: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SmokeFailed(f"timed out waiting for {what}")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def _background(owner: QWidget | QApplication, op: Callable[[], T], what: str) -> T:
    outcome: list[Any] = []
    BackgroundOp(parent=owner, op=op, success=lambda r: outcome.append(("ok", r))).failure(
        lambda e: outcome.append(("error", e))
    ).run_in_background()
    _wait(lambda: bool(outcome), what)
    kind, value = outcome[0]
    if kind == "error":
        raise SmokeFailed(f"{what} failed: {value}")
    return value  # type: ignore[no-any-return]


def _idle(runner: TaskRunner, what: str) -> None:
    QApplication.processEvents()
    _wait(lambda: not runner.busy, what)
    QApplication.processEvents()


def _save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    if not widget.grab().save(str(path)):
        raise SmokeFailed(f"could not write {path}")


def _go_offline(window: MainWindow, demo: DemoServer, out_dir: Path) -> float:
    """The server goes away: the refresh must fail into the banner, keeping every list."""
    demo.stop()
    window.tab_widget.setCurrentIndex(0)
    begun = time.perf_counter()
    window.refresh()
    _wait(lambda: window.monitor.offline and window.banner.isVisible(), "the offline banner")
    _idle(window.runner, "the failed refresh")
    for key in window._visible_tab_keys():
        tab = window.tabs[key]
        if tab.model.rowCount() and not tab.stale:
            raise SmokeFailed(f"the {key} tab dropped or did not mark its rows while offline")
    if not window.sidebar.stale:
        raise SmokeFailed("the balance was not marked as out of date while offline")
    _save(window, out_dir / "offline.png")
    took = round(time.perf_counter() - begun, 3)
    visits = window.tabs["visits"]
    if visits.model.rowCount() > 1:  # one not opened before: its page is the error state alone
        visit = window.work_screens.open_visit(visits.model.record(1))
        _idle(window.runner, "the visit detail while offline")
        if visit.problem is None:
            raise SmokeFailed("a visit opened while offline shows no problem")
        _save(visit, out_dir / "visit-offline.png")
        visit.close()
    return took


def _save_sign_in_refused(accounts: Accounts, demo: DemoServer, path: Path) -> None:
    """The sign-in dialog after a mistyped password: the refusal as the customer reads it."""
    dialog = SignInDialog(accounts, demo=demo)
    dialog.show()
    dialog.password_edit.setText("not-the-password")
    dialog.sign_in_button.click()
    _wait(lambda: dialog.error_label.isVisible() and dialog.sign_in_button.isEnabled(), "the sign-in refusal")
    _save(dialog, path)
    dialog.close()


def _first_record(window: MainWindow, key: str) -> Any:
    model = window.tabs[key].model
    if model.rowCount() == 0:
        raise SmokeFailed(f"the {key} tab is empty")
    return model.record(0)


def _save_sorted(window: MainWindow, key: str, column: str, path: Path) -> None:
    """A list sorted by a right-aligned (money) column: its header keeps room for the sort arrow."""
    tab = window.tabs[key]
    window.tab_widget.setCurrentWidget(tab)
    tab.table.sortByColumn(tab.model.column_index(column), Qt.SortOrder.DescendingOrder)
    _idle(window.runner, f"the {key} tab sorted by {column}")
    _save(window, path)


def _save_no_match(window: MainWindow, key: str, path: Path) -> None:
    """A search nothing matches: the list's empty state, then the search is cleared again."""
    tab = window.tabs[key]
    window.tab_widget.setCurrentWidget(tab)
    tab.search_edit.setText("sprinkler winterizing")
    tab.apply_search()  # not waiting for the pause in typing
    _idle(window.runner, f"the {key} search")
    if tab.proxy.rowCount():
        raise SmokeFailed(f"the {key} search for a missing word matched rows")
    _save(window, path)
    tab.search_edit.clear()
    _idle(window.runner, f"the {key} search cleared")


def _save_visits_and_requests(window: MainWindow, out_dir: Path) -> None:
    """Completed visits, a visit's page, a request's thread and the new-request form (issue 6)."""
    visits = window.tabs["visits"]
    window.tab_widget.setCurrentWidget(visits)
    visits.show_combo.setCurrentIndex(visits.show_combo.findData("completed"))
    _idle(window.runner, "the completed visits")
    _save(window, out_dir / "visits-completed.png")
    visit = window.work_screens.open_visit(_first_record(window, "visits"))
    _idle(window.runner, "the visit detail")
    if visit.problem:
        raise SmokeFailed(f"the visit detail shows an error: {visit.problem}")
    _save(visit, out_dir / "visit-detail.png")
    visit.close()
    if not window.tab_widget.isTabVisible(window.tab_widget.indexOf(window.tabs["requests"])):
        return
    request = window.work_screens.open_request(_first_record(window, "requests"))
    _idle(window.runner, "the request detail")
    if request.problem:
        raise SmokeFailed(f"the request detail shows an error: {request.problem}")
    request.composer.text_edit.setPlainText("Thanks! The gate code is on the note by the door.")
    _save(request, out_dir / "request-detail.png")
    request.composer.clear()  # the sample reply goes without the "Discard what you have not sent?" question
    request.close()
    dialog = window.work_screens.new_request()
    sample = Path(tempfile.mkdtemp(prefix="portal-desk-smoke-")) / "sprinkler-photo.jpg"
    sample.write_bytes(b"\xff\xd8\xff" + bytes(180_000))
    dialog.subject_edit.setText("Sprinkler head broken by the entrance")
    dialog.description_edit.setPlainText("Water is running onto the sidewalk since this morning.")
    dialog.picker.add_paths([sample])
    _save(dialog, out_dir / "new-request.png")
    QDialog.reject(dialog)  # the sample draft goes without the "Discard this request?" question


def _proposal_screens(app: QApplication, window: MainWindow, out_dir: Path) -> dict[str, float]:
    """The proposal detail, the PDF viewer on it and the sign dialog with a drawn signature."""
    client = window.session.client
    page = _background(app, lambda: client.proposals("pending"), "the pending proposals")
    signable = next((p for p in page.items if p.can_sign and not p.is_change_order), None)
    signable = signable or next((p for p in page.items if p.can_sign), None)
    if signable is None:
        raise SmokeFailed("the demo has no proposal to sign")
    detail_window = window.open_proposal(signable.id)
    detail_window.resize(720, 760)
    _wait(lambda: detail_window.detail is not None, "the proposal detail")
    _idle(window.runner, "the proposal detail")
    _save(detail_window, out_dir / "proposal-detail.png")
    begun = time.perf_counter()
    detail_window.view_pdf()
    _wait(lambda: detail_window.pdf_window is not None, "the proposal PDF")
    viewer_window = detail_window.pdf_window
    assert viewer_window is not None
    viewer_window.resize(900, 980)  # its size on a desktop screen; the offscreen one is 800 x 800
    _wait(lambda: viewer_window.viewer._shown, "the first PDF page")
    first_page = time.perf_counter() - begun
    _idle(window.runner, "the PDF pages")
    _save(viewer_window, out_dir / "proposal-pdf.png")
    viewer_window.close()
    detail_window.open_sign_dialog()
    dialog = detail_window.sign_dialog
    if dialog is None:
        raise SmokeFailed("the sign dialog did not open")
    dialog.show()
    draw_sample_signature(dialog.pad)
    if dialog.option_checks:
        next(iter(dialog.option_checks.values())).setChecked(True)
    dialog.agree_check.setChecked(True)
    _save(dialog, out_dir / "sign-dialog.png")
    QDialog.reject(dialog)  # the sample signature goes without the "Discard your signature?" question
    detail_window.close()
    return {"view_proposal_to_first_page_s": round(first_page, 3)}


def draw_sample_signature(pad: SignaturePad) -> None:
    """A believable scribble, drawn through the pad's own stroke handling."""
    import math

    width, baseline = max(pad.width(), 420), pad.height() - 48
    points = [
        QPointF(40 + t * 3.2, baseline - 26 * math.sin(t / 5.5) * math.exp(-t / 140) - 10 * math.sin(t / 1.7))
        for t in range(0, int((width - 100) / 3.2))
    ]
    pad._begin(points[0], 0.6)
    for point in points[1:]:
        pad._extend(point, 0.6)
    pad._end()
    pad._begin(QPointF(60, baseline + 6), 0.5)
    pad._extend(QPointF(width - 80, baseline + 2), 0.5)
    pad._end()


def _staff_screens(app: QApplication, demo: DemoServer, accounts: Accounts, out_dir: Path) -> dict[str, float]:
    """Office staff: the Find customer screen with results, then a customer's portal under the assist banner."""
    staff = _background(
        app, lambda: sessions.sign_in(demo.portal_url, DEMO_STAFF_EMAIL, DEMO_PASSWORD), "staff sign-in"
    )
    find = FindCustomerWindow(staff, accounts=accounts)
    find.resize(1280, 800)
    find.show()
    begun = time.perf_counter()
    find.search_edit.setText(DEMO_EMAIL)
    find.search_now()
    _wait(lambda: not find.feed.loading, "the customer search")
    search_s = time.perf_counter() - begun
    if find.model.rowCount() == 0:
        raise SmokeFailed(f"staff search found nobody for {DEMO_EMAIL}: {find.status_label.text()}")
    _save(find, out_dir / "find-customer.png")
    reason = ReasonDialog(find.model.contact(0), find)  # what the clerk answers on every call
    reason.show()
    reason.reason_combo.setEditText("Customer called about an invoice")
    _save(reason, out_dir / "assist-reason.png")
    reason.reject()
    opened: list[sessions.PortalSession] = []
    find.assist_opened.connect(opened.append)
    begun = time.perf_counter()
    find.start_assist(find.model.contact(0), "Smoke test")
    _wait(lambda: bool(opened), "the assist session")
    window = MainWindow(opened[0], accounts)
    window.resize(1280, 800)
    window.show()
    _idle(window.runner, "the assisted portal")
    assist_s = time.perf_counter() - begun
    if not window.assist_banner.isVisible():
        raise SmokeFailed("the assist banner is not showing")
    _save(window, out_dir / "assist.png")
    ended: list[str] = []
    window.assist_ended.connect(ended.append)
    window.end_assist()  # as the banner's button: the window then closes for good
    _wait(lambda: bool(ended), "ending the assist")
    window.close()
    find.assist_ended()
    _save(find, out_dir / "find-customer-recent.png")
    activity = find.show_activity(None)
    _wait(lambda: not activity.feed.loading, "the activity")
    _save(activity, out_dir / "activity.png")
    activity.close()
    _background(app, staff.client.logout, "staff sign-out")
    find.close()
    return {"search_s": round(search_s, 3), "assist_s": round(assist_s, 3)}


def _billing_screens(window: MainWindow, out_dir: Path) -> float:
    """Invoice detail, the pay dialog with its fee, and Manage payments (issue 5's screens)."""
    begun = time.perf_counter()
    client = window.session.client
    page = _background(window, lambda: client.invoices("due", limit=20), "the due invoices")
    details = _background(window, lambda: [client.invoice(i.id) for i in page.items], "the invoice details")
    payable = [d for d in details if d.can_pay] or details
    if payable:
        invoice = payable[0]
        detail = window.invoice_actions.show_detail(invoice)
        _save(detail, out_dir / "invoice-detail.png")
        pay = window.invoice_actions.pay([invoice], detail)
        _idle(window.runner, "the pay dialog")
        _save(pay, out_dir / "pay-invoice.png")
        pay.close()
        detail.close()
    manager = window.invoice_actions.manage_payments()
    _idle(window.runner, "the payment methods")
    _save(manager, out_dir / "manage-payments.png")
    manager.close()
    return round(time.perf_counter() - begun, 3)


def run_smoke(app: QApplication, out_dir: Path, started: float) -> int:
    """The outcome also goes to DIR/smoke.json: a windowed build on Windows has no console."""
    try:
        timings = _run(app, out_dir, started)
    except SmokeFailed as failure:
        _report(out_dir, {"ok": False, "error": str(failure)}, f"smoke run failed: {failure}", sys.stderr)
        return 1
    _report(out_dir, {"ok": True, **timings}, json.dumps(timings), sys.stdout)
    return 0


def _report(out_dir: Path, outcome: dict[str, Any], line: str, stream: TextIO | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "smoke.json").write_text(json.dumps(outcome), encoding="utf-8")
    if stream is not None:
        print(line, file=stream)


def _run(app: QApplication, out_dir: Path, started: float) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(MemoryKeyring())
    settings_file = Path(tempfile.mkdtemp(prefix="portal-desk-smoke-")) / "settings.ini"
    accounts = Accounts(AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)))
    demo = DemoServer()
    demo.start()
    try:
        accounts.do_not_list(demo.origin)
        dialog = SignInDialog(accounts, demo=demo)
        dialog.show()
        _save(dialog, out_dir / "sign-in.png")
        dialog.close()

        _background(app, demo.wait_until_ready, "the demo server to start")
        session = _background(app, lambda: sessions.sign_in(demo.portal_url, DEMO_EMAIL, DEMO_PASSWORD), "sign-in")
        window = MainWindow(session, accounts)
        window.resize(1280, 800)
        window.show()
        _idle(window.runner, "the first lists")
        startup = time.perf_counter() - started
        tab_times: dict[str, float] = {}
        for key, tab in window.tabs.items():
            if not window.tab_widget.isTabVisible(window.tab_widget.indexOf(tab)):
                continue
            window.tab_widget.setCurrentWidget(tab)
            begun = time.perf_counter()
            window.load_tab(key)
            _idle(window.runner, f"the {key} tab")
            tab_times[key] = round(time.perf_counter() - begun, 3)
            if tab._error is not None:
                raise SmokeFailed(f"the {key} tab shows an error: {tab._error}")
            QTimer.singleShot(0, lambda: None)
            _save(window, out_dir / f"{key}.png")
        _save_sorted(window, "invoices", "balance", out_dir / "invoices-sorted.png")
        _save_no_match(window, "invoices", out_dir / "search-no-match.png")
        _save_visits_and_requests(window, out_dir)
        proposal_times = _proposal_screens(app, window, out_dir)
        billing_s = _billing_screens(window, out_dir)
        _save_sign_in_refused(accounts, demo, out_dir / "sign-in-error.png")  # after the timings above
        staff_times = _staff_screens(app, demo, accounts, out_dir)
        offline_s = _go_offline(window, demo, out_dir)  # last: it stops the server
        window.close()
        return {
            "startup_s": round(startup, 3),
            "tabs": tab_times,
            "proposal": proposal_times,
            "billing_s": billing_s,
            "staff": staff_times,
            "offline_banner_s": offline_s,
        }
    finally:
        demo.stop()
