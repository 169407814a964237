"""Proposal detail, PDF viewer, signature pad and sign dialog against a real server (PR-3..PR-5, PR-9).

The portal here is this module's own (signing changes data the shared live portal's tests count).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from app.models.formatting import date_text, money_text
from app.services.portal_client import PortalClient, Timeouts
from app.services.session import PortalSession, open_assist, sign_in
from app.services.tasks import TaskRunner
from app.views.pdf_viewer import PdfViewer
from app.views.proposal_detail import ProposalWindow, proposal_html
from app.views.sign_dialog import SignDialog
from app.views.signature_pad import EXPORT_HEIGHT, SignaturePad
from tests.client import company
from tests.client.live_server import LivePortal, ServerProcess, _server_available, running_portal
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving

pytestmark = pytest.mark.gui

WAIT_MS = 15000


def _proposal(key: str, prop: str, number: str, title: str, status: str) -> dict[str, Any]:
    return {
        "key": key,
        "property": prop,
        "number": number,
        "title": title,
        "opportunity_type": "work_order",
        "opportunity_status": status,
        "shared_on": (date.today() - timedelta(days=3)).isoformat(),
        "sales_rep": "rep",
        "terms": "Net 30. Prices valid for 60 days.",
        "items": [
            {"key": f"{key}-1", "description": "Labour", "quantity": "2", "unit_price": "150.00"},
            {"key": f"{key}-2", "description": "Materials", "quantity": "1", "unit_price": "99.99"},
            {
                "key": f"{key}-3",
                "description": "Garden lights",
                "quantity": "1",
                "unit_price": "250.00",
                "optional": True,
            },
            {"key": f"{key}-4", "description": "Extra mulch", "quantity": "2", "unit_price": "40.00", "optional": True},
        ],
    }


@pytest.fixture(scope="module")
def portal_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal's folder: its database, which a test may import changes into while it serves."""
    return tmp_path_factory.mktemp("proposal-portal")


@pytest.fixture(scope="module")
def portal(portal_work: Path) -> Iterator[LivePortal]:
    if not _server_available():
        pytest.skip("the portal server is not in this checkout yet")
    document = company.build(date.today())
    document["proposals"] += [
        _proposal("g-sign", "maple", "OPP-7001", "Front beds refresh", "delivered"),
        _proposal("g-race", "maple", "OPP-7002", "Hedge trimming", "delivered"),
        _proposal("g-other", "cedar", "OPP-7003", "Courtyard planters", "delivered"),
        _proposal("g-approved", "maple", "OPP-7004", "Snow plan", "approved"),
        _proposal("g-view", "maple", "OPP-7005", "Patio lighting", "delivered"),
        _proposal("g-escape", "maple", "OPP-7006", "Lawn aeration", "delivered"),
        _proposal("g-from-pdf", "maple", "OPP-7008", "Rain garden", "delivered"),
        _proposal("g-nothing-chosen", "maple", "OPP-7009", "Irrigation check", "delivered"),
        _proposal("g-lost-drop", "maple", "OPP-7010", "Edging, answer dropped", "delivered"),
        _proposal("g-lost-hold", "maple", "OPP-7011", "Edging, answer too late", "delivered"),
        _proposal("g-lost-error", "maple", "OPP-7012", "Edging, answer a 500", "delivered"),
        _proposal("g-never-sent", "maple", "OPP-7013", "Edging, never arrived", "delivered"),
        _proposal("g-lost-twice", "maple", "OPP-7014", "Edging, answer and check lost", "delivered"),
        _proposal("g-evening", "maple", "OPP-7015", "Signed late in the evening", "delivered"),
        _proposal("g-two-copies", "maple", "OPP-7016", "Both copies asked for", "delivered"),
        _proposal("g-repriced", "maple", "OPP-7017", "Repriced while open", "delivered"),
        _proposal("g-repriced-lost", "maple", "OPP-7018", "Repriced, signature lost", "delivered"),
        _proposal("g-reworded", "maple", "OPP-7019", "Reworded while open", "delivered"),
        _proposal("g-new-terms", "maple", "OPP-7020", "New terms while reading", "delivered"),
        {
            **_proposal("g-change", "maple", "OPP-7007", "Patio lighting, two more posts", "delivered"),
            "change_order_of": "g-view",
        },
    ]
    with running_portal(portal_work, document) as live:
        yield live


@pytest.fixture
def session(portal: LivePortal) -> Iterator[PortalSession]:
    opened = sign_in(portal.portal_url("east"), company.MORGAN, company.PASSWORD)
    yield opened
    opened.client.close()


@pytest.fixture
def runner() -> TaskRunner:
    return TaskRunner()


class SignFaults(Proxy):
    """Forwards everything to the portal, except as `sign` says for the next signature POSTs and
    `lose_checks` for the next GETs of a proposal's detail.

    "drop": the portal signs, the connection closes without an answer; "hold": the portal signs, the
    answer is held longer than the client waits; "error": the portal signs, the client gets a 500;
    "never": the POST never reaches the portal (the connection closes). With `hold_pdf`, the unsigned
    PDF's answer comes HOLD_S late."""

    def __init__(self, upstream: str) -> None:
        self.sign: list[str] = []
        self.lose_checks = 0
        self.hold_pdf = False
        self.sign_posts = 0
        super().__init__(upstream, _SignFaultHandler)


class _SignFaultHandler(QuietHandler):
    server: SignFaults

    def _forward(self) -> None:
        path = self.path.split("?")[0]
        proxy = self.server
        if self.command == "POST" and path.endswith("/signature"):
            proxy.sign_posts += 1
            fault = proxy.sign.pop(0) if proxy.sign else None
            if fault == "never":
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.close_connection = True
                return
            answer = relay(self, proxy.upstream)
            if fault == "hold":
                time.sleep(HOLD_S)
            if fault in ("drop", "hold"):
                self.close_connection = True
                return
            if fault == "error":
                reply(self, 500, {"Content-Type": "application/problem+json"}, b'{"detail": "Internal error."}')
                return
            reply(self, answer.status_code, answer.headers, answer.content)
            return
        answer = relay(self, proxy.upstream)
        if self.command == "GET" and path.endswith("/pdf") and proxy.hold_pdf:
            time.sleep(HOLD_S)
        if self.command == "GET" and path.rsplit("/", 1)[-1].isdigit() and "/proposals/" in path and proxy.lose_checks:
            proxy.lose_checks -= 1
            self.close_connection = True
            return
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = _forward  # noqa: N815


HOLD_S = 2.5  # longer than the proxied client waits for an answer (PROXIED_READ_S)
PROXIED_READ_S = 1.0


@pytest.fixture
def faults(portal: LivePortal) -> Iterator[SignFaults]:
    with serving(SignFaults(portal.origin)) as proxy:
        yield proxy


@pytest.fixture
def proxied(faults: SignFaults) -> Iterator[PortalSession]:
    """Morgan signed in through the proxy, with a client that gives up on an answer after a second."""
    opened = sign_in(f"{faults.origin}/portal/east", company.MORGAN, company.PASSWORD)
    client = PortalClient(opened.portal_url, token=opened.token, timeouts=Timeouts(read=PROXIED_READ_S))
    yield dataclasses.replace(opened, client=client)
    client.close()
    opened.client.close()


def proposal_id(session: PortalSession, number: str) -> int:
    page = session.client.proposals("all", limit=500)
    return next(p.id for p in page.items if p.number == number)


def open_window(qtbot: QtBot, session: PortalSession, runner: TaskRunner, number: str) -> ProposalWindow:
    window = ProposalWindow(session, runner, proposal_id(session, number))
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT_MS)
    return window


def draw(qtbot: QtBot, pad: SignaturePad, points: list[tuple[int, int]]) -> None:
    """One stroke with real mouse events: press, moves with the button held, release."""
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(pad, QPoint(x, y))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def zigzag(x0: int = 30, y0: int = 60, count: int = 14) -> list[tuple[int, int]]:
    return [(x0 + 18 * i, y0 + (25 if i % 2 else -10)) for i in range(count)]


def open_sign_dialog(qtbot: QtBot, window: ProposalWindow) -> SignDialog:
    assert window.sign_button.isEnabled()
    qtbot.mouseClick(window.sign_button, Qt.MouseButton.LeftButton)
    dialog = window.sign_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


# -- signature pad -----------------------------------------------------------------------


def test_synthetic_mouse_strokes_make_a_png_undo_and_clear(qtbot: QtBot) -> None:
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.show()
    qtbot.waitExposed(pad)
    assert pad.is_empty
    assert pad.to_png() == b""
    draw(qtbot, pad, zigzag())
    draw(qtbot, pad, [(40, 110), (300, 105)])
    assert len(pad.strokes) == 2
    assert not pad.is_empty
    png = pad.to_png()
    image = QImage.fromData(png, "PNG")
    assert image.height() == EXPORT_HEIGHT
    assert image.hasAlphaChannel()
    assert image.pixelColor(0, 0).alpha() == 0, "transparent background"
    assert 0 < image.width() < 4 * EXPORT_HEIGHT * 2, "cropped to the strokes, not the pad"
    pad.undo()
    assert len(pad.strokes) == 1
    assert pad.strokes[0].points[0].x() == pytest.approx(30)
    pad.clear()
    assert pad.is_empty
    assert pad.to_png() == b""


# -- PDF viewer --------------------------------------------------------------------------


def test_pdf_viewer_pages_navigation_zoom_search_and_save(qtbot: QtBot, session: PortalSession, tmp_path: Path) -> None:
    data = session.client.proposal_pdf(proposal_id(session, "OPP-7005"))
    with pymupdf.open("pdf", data) as document:
        expected_pages = document.page_count
    viewer = PdfViewer()
    qtbot.addWidget(viewer)
    viewer.resize(800, 500)
    viewer.show()
    with qtbot.waitSignal(viewer.document_shown, timeout=WAIT_MS):
        viewer.load(data, "OPP-7005.pdf")
    assert viewer.page_count == expected_pages >= 2
    assert viewer.page_count_label.text() == f"of {expected_pages}"
    # Rendering happened on the viewer's worker thread, never on the GUI thread.
    assert viewer.renderer.render_threads
    assert threading.get_ident() not in viewer.renderer.render_threads
    viewer.go_to_page(1)
    assert viewer.current_page() == 1
    assert viewer.page_spin.value() == 2
    viewer.previous_page()
    assert viewer.current_page() == 0
    fitted = viewer.zoom
    viewer.zoom_in()
    assert viewer.zoom > fitted
    qtbot.waitUntil(lambda: viewer.cached_image(0) is not None, timeout=WAIT_MS)
    viewer.fit_page()
    assert viewer.zoom < fitted
    viewer.search("Labour")
    qtbot.waitUntil(lambda: viewer.hit_count > 0, timeout=WAIT_MS)
    assert viewer.hit_label.text() == f"1 of {viewer.hit_count}"
    assert viewer.hits_on(0)
    viewer.search("no such words here")
    qtbot.waitUntil(lambda: viewer.hit_label.text() == "No matches", timeout=WAIT_MS)
    saved = viewer.save_copy(str(tmp_path / "copy.pdf"))
    assert saved is not None
    assert saved.read_bytes() == data
    viewer.shutdown()


# -- detail and signing ------------------------------------------------------------------


def test_sign_flow_with_optional_services(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner, tmp_path: Path
) -> None:
    """PR-5: the total shown while signing is the total the portal approves."""
    window = open_window(qtbot, session, runner, "OPP-7001")
    assert "Front beds refresh" in window.browser.toPlainText()
    assert "Garden lights" in window.browser.toPlainText()
    assert not window.signed_view_button.isVisible()
    dialog = open_sign_dialog(qtbot, window)
    assert dialog.name_edit.text() == "Morgan Many"
    assert not dialog.sign_button.isEnabled()
    checks = list(dialog.option_checks.values())
    assert len(checks) == 2
    checks[0].setChecked(True)
    shown_total = money_text(Decimal("649.99"), "USD")
    assert dialog.total_label.text() == f"Approved total: {shown_total}"
    checks[1].setChecked(True)
    assert dialog.approved_total_text() == money_text(Decimal("729.99"), "USD")
    checks[1].setChecked(False)
    draw(qtbot, dialog.pad, zigzag())
    assert not dialog.sign_button.isEnabled(), "the agreement is still missing"
    dialog.agree_check.setChecked(True)
    assert dialog.sign_button.isEnabled()
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    detail = signal.args[0]
    assert detail.status == "accepted"
    assert money_text(detail.approved_total, "USD") == shown_total
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert window.detail is detail
    text = window.browser.toPlainText()
    assert "Accepted" in text
    assert "Signed by Morgan Many" in text
    assert not window.sign_button.isVisible()
    assert window.signed_view_button.isVisible()
    target = tmp_path / "signed.pdf"
    window.download_signed_pdf(str(target))
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    with pymupdf.open(target) as signed:
        assert "Signature certificate" in signed[-1].get_text()


def test_a_contact_who_may_not_sign_sees_why(qtbot: QtBot, session: PortalSession, runner: TaskRunner) -> None:  # PR-3
    window = open_window(qtbot, session, runner, "OPP-7003")
    assert not window.sign_button.isEnabled()
    assert window.reason_label.isVisible()
    assert window.reason_label.text() == "Only the property's primary or billing contact can sign proposals."
    assert window.view_button.isEnabled()


def test_a_view_only_status_cannot_be_signed(qtbot: QtBot, session: PortalSession, runner: TaskRunner) -> None:  # PR-4
    window = open_window(qtbot, session, runner, "OPP-7004")
    assert not window.sign_button.isEnabled()
    assert "approved" in window.reason_label.text()
    assert "Accepted" in window.browser.toPlainText()


def test_a_server_refusal_keeps_everything_entered(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner, portal: LivePortal
) -> None:  # PR-4
    window = open_window(qtbot, session, runner, "OPP-7002")
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pdf_window is not None, timeout=WAIT_MS)
    assert window.pdf_window is not None
    pdf_sign = next(b for b in window.pdf_window.findChildren(QPushButton) if b.text() == "Sign…")
    dialog = open_sign_dialog(qtbot, window)
    dialog.name_edit.setText("Morgan M. Many")
    next(iter(dialog.option_checks.values())).setChecked(True)
    draw(qtbot, dialog.pad, zigzag())
    draw(qtbot, dialog.pad, zigzag(40, 90, 8))
    dialog.agree_check.setChecked(True)
    # Someone else signs first, from another device.
    other = PortalClient(portal.portal_url("east"))
    other.login(company.MORGAN, company.PASSWORD)
    other.sign_proposal(
        window.proposal_id, signer_name="Other Device", signature_png=dialog.pad.to_png(), optional_service_ids=[]
    )
    other.close()
    with qtbot.waitSignal(window.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == (
        "This proposal has already been signed by Other Device. Your signature was not recorded."
    )
    assert dialog.isVisible()
    assert dialog.name_edit.text() == "Morgan M. Many"
    assert len(dialog.pad.strokes) == 2
    assert next(iter(dialog.option_checks.values())).isChecked()
    assert dialog.agree_check.isChecked()
    # Signing again could only be refused again: the dialog only closes now, and the window below
    # shows who signed instead of offering Sign.
    assert not dialog.sign_button.isEnabled()
    assert dialog.sign_button.text() == "Sign proposal"
    assert dialog.cancel_button.isEnabled() and dialog.cancel_button.text() == "Close"
    assert "Signed by Other Device" in window.browser.toPlainText()
    assert not window.sign_button.isVisible()
    assert isValid(pdf_sign) and not pdf_sign.isVisible(), "the PDF's toolbar no longer offers Sign… either"
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_a_proposal_repriced_while_signing_is_shown_again_and_nothing_drawn_is_lost(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner, portal_work: Path
) -> None:  # PR-5, PR-9
    """The reviewer's case: the dialog showed one amount, staff re-imported a new price, and the signature
    was recorded for the new amount, never shown. The portal now refuses it; the dialog shows the new
    figures with the name, the drawing and the choices kept, and signs once agreed to again."""
    window = open_window(qtbot, session, runner, "OPP-7017")
    dialog = open_sign_dialog(qtbot, window)
    dialog.name_edit.setText("Morgan M. Many")
    lights = next(iter(dialog.option_checks))
    dialog.option_checks[lights].setChecked(True)
    draw(qtbot, dialog.pad, zigzag())
    draw(qtbot, dialog.pad, zigzag(40, 90, 8))
    dialog.agree_check.setChecked(True)
    assert dialog.approved_total_text() == money_text(Decimal("649.99"), "USD")
    repriced = _proposal("g-repriced", "maple", "OPP-7017", "Repriced while open", "delivered")
    repriced["items"][0]["unit_price"] = "175.00"  # Labour x 2: the total goes from 399.99 to 449.99
    ServerProcess(portal_work).load({"proposals": [repriced]})
    with qtbot.waitSignal(window.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.submitting, timeout=WAIT_MS)
    assert dialog.error_label.text() == (
        "This proposal changed since you opened it: with the optional services you chose, the approved amount "
        "is now $699.99. Review it and sign again. The new figures are shown above; your name and signature "
        "are kept. Tick “I agree” to sign for them."
    )
    assert dialog.base_label.text() == f"Proposal total: {money_text(Decimal('449.99'), 'USD')}"
    assert dialog.total_label.text() == f"Approved total: {money_text(Decimal('699.99'), 'USD')}"
    assert dialog.name_edit.text() == "Morgan M. Many" and len(dialog.pad.strokes) == 2
    assert dialog.option_checks[lights].isChecked() and dialog.option_checks[lights].isEnabled()
    assert not dialog.agree_check.isChecked(), "agreed to the old amount, not to this one"
    assert dialog.agree_check.isEnabled() and not dialog.sign_button.isEnabled()
    assert window.detail is not None and window.detail.total == Decimal("449.99") and window.detail.signature is None
    dialog.agree_check.setChecked(True)
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].approved_total == Decimal("699.99")
    assert signal.args[0].signature.signer_name == "Morgan M. Many"


def test_a_lost_signature_on_a_repriced_proposal_offers_the_new_figures(
    qtbot: QtBot, proxied: PortalSession, faults: SignFaults, runner: TaskRunner, portal_work: Path
) -> None:  # PR-5
    """The signature never reached the portal and the proposal read again has other terms: the dialog
    used to close signing ("Close this, read the proposal again"); it now shows them for signing again."""
    window = open_window(qtbot, proxied, runner, "OPP-7018")
    dialog = open_sign_dialog(qtbot, window)
    fill_in(qtbot, dialog)
    repriced = _proposal("g-repriced-lost", "maple", "OPP-7018", "Repriced, signature lost", "delivered")
    repriced["items"][1]["unit_price"] = "100.99"  # Materials: the total goes from 399.99 to 400.99
    ServerProcess(portal_work).load({"proposals": [repriced]})
    faults.sign = ["never"]
    with qtbot.waitSignal(window.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.text().startswith(
        "This proposal was changed while you were signing. Your signature was not recorded. The new figures"
    )
    assert dialog.base_label.text() == f"Proposal total: {money_text(Decimal('400.99'), 'USD')}"
    assert len(dialog.pad.strokes) == 1 and dialog.cancel_button.text() == "Cancel"
    dialog.agree_check.setChecked(True)
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert_signed_by_morgan(qtbot, window, dialog)
    assert window.detail is not None and window.detail.approved_total == Decimal("650.99")


def test_a_proposal_reworded_with_the_same_total_while_signing_is_not_signed_unseen(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner, portal_work: Path
) -> None:  # PR-5, PR-9
    """Staff re-imported the proposal with a reworded item, 3 at $100 for 2 at $150 (the same total):
    the signature went through for text the signer never saw. The portal now refuses it by revision;
    the dialog says so with the name, the drawing and the choices kept, and signs once agreed to again."""
    window = open_window(qtbot, session, runner, "OPP-7019")
    assert window.detail is not None and window.detail.revision == 1
    dialog = open_sign_dialog(qtbot, window)
    dialog.name_edit.setText("Morgan M. Many")
    fill_in(qtbot, dialog)
    reworded = _proposal("g-reworded", "maple", "OPP-7019", "Reworded while open", "delivered")
    reworded["items"][0].update(description="Labour, weekends included", quantity="3", unit_price="100.00")
    ServerProcess(portal_work).load({"proposals": [reworded]})
    with qtbot.waitSignal(window.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.submitting, timeout=WAIT_MS)
    assert dialog.error_label.text() == (
        "This proposal changed since you opened it: the company has updated it. Review it and sign again. "
        "The proposal's window and its document now show it as it is; your name and signature are kept. "
        "Tick “I agree” to sign it."
    )
    assert dialog.name_edit.text() == "Morgan M. Many" and len(dialog.pad.strokes) == 1
    lights = next(iter(dialog.option_checks.values()))
    assert lights.isChecked() and lights.isEnabled()
    assert not dialog.agree_check.isChecked(), "agreed to the old text, not to this one"
    assert dialog.total_label.text() == f"Approved total: {money_text(Decimal('649.99'), 'USD')}"
    assert window.detail is not None and window.detail.revision == 2 and window.detail.signature is None
    assert "Labour, weekends included" in window.browser.toPlainText()
    dialog.agree_check.setChecked(True)
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].signature.signer_name == "Morgan M. Many"
    assert signal.args[0].approved_total == Decimal("649.99")


def pdf_words(data: bytes) -> str:
    with pymupdf.open("pdf", data) as document:
        return " ".join(" ".join(page.get_text().split()) for page in document)


def test_an_open_proposal_document_is_not_left_showing_a_changed_proposal(
    qtbot: QtBot, proxied: PortalSession, faults: SignFaults, runner: TaskRunner, portal_work: Path
) -> None:  # PR-9
    """The document window kept showing the old terms after the app had learnt (here: from a refused
    signature) that staff changed them. It now fetches the new version at once and says so; when that
    fails it says the copy is out of date, offers Reload, and its Sign… waits for the new version."""
    window = open_window(qtbot, proxied, runner, "OPP-7020")
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pdf_window is not None, timeout=WAIT_MS)
    viewer_window = window.pdf_window
    assert viewer_window is not None
    qtbot.waitUntil(lambda: viewer_window.viewer.cached_image(0) is not None, timeout=WAIT_MS)
    assert "Net 30. Prices valid for 60 days." in pdf_words(viewer_window.viewer.data)
    assert not viewer_window.notice_bar.isVisible()
    pdf_sign = next(b for b in viewer_window.findChildren(QPushButton) if b.text() == "Sign…")
    changed = _proposal("g-new-terms", "maple", "OPP-7020", "New terms while reading", "delivered")
    changed["terms"] = "Half of the approved amount is due before the work starts."
    ServerProcess(portal_work).load({"proposals": [changed]})
    dialog = open_sign_dialog(qtbot, window)
    fill_in(qtbot, dialog)
    faults.hold_pdf = True  # the new version does not come in time
    with qtbot.waitSignal(window.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert viewer_window.notice_bar.isVisible()
    assert (
        viewer_window.notice.text() == "This proposal was changed since this copy was opened. Loading the new version…"
    )
    assert not pdf_sign.isEnabled()
    qtbot.waitUntil(lambda: viewer_window.reload_button.isVisible(), timeout=WAIT_MS)
    assert viewer_window.notice.text().startswith(
        "This copy is out of date: the proposal was changed since it was opened."
    )
    assert not pdf_sign.isEnabled()
    assert pdf_sign.toolTip() == "This copy of the proposal is out of date: reload it before signing."
    assert "Net 30." in pdf_words(viewer_window.viewer.data), "the old copy, said to be out of date"
    faults.hold_pdf = False
    qtbot.mouseClick(viewer_window.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            viewer_window.notice.text() == "This proposal was changed since you opened it: this is the new version."
        ),
        timeout=WAIT_MS,
    )
    assert not viewer_window.reload_button.isVisible()
    words = pdf_words(viewer_window.viewer.data)
    assert "Half of the approved amount is due before the work starts." in words and "Net 30." not in words
    qtbot.waitUntil(lambda: viewer_window.viewer.cached_image(0) is not None, timeout=WAIT_MS)
    assert pdf_sign.isEnabled() and pdf_sign.toolTip() == ""
    dialog.agree_check.setChecked(True)
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert window.detail is not None and window.detail.revision == 2


def fill_in(qtbot: QtBot, dialog: SignDialog) -> None:
    """Garden lights ticked, a drawn signature, agreed."""
    next(iter(dialog.option_checks.values())).setChecked(True)
    draw(qtbot, dialog.pad, zigzag())
    dialog.agree_check.setChecked(True)


def assert_signed_by_morgan(qtbot: QtBot, window: ProposalWindow, dialog: SignDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert dialog.result() == SignDialog.DialogCode.Accepted
    assert window.detail is not None and window.detail.signature is not None
    assert window.detail.signature.signer_name == "Morgan Many"
    assert [o.selected for o in window.detail.optional_services] == [True, False]
    assert "Signed by Morgan Many" in window.browser.toPlainText()
    assert not window.sign_button.isVisible() and window.signed_view_button.isVisible()


@pytest.mark.parametrize(("fault", "number"), [("drop", "OPP-7010"), ("hold", "OPP-7011"), ("error", "OPP-7012")])
def test_a_signature_whose_answer_is_lost_is_shown_as_signed(
    qtbot: QtBot, proxied: PortalSession, faults: SignFaults, runner: TaskRunner, fault: str, number: str
) -> None:  # PR-5
    """The portal recorded the signature but the answer was lost (connection dropped, no answer in
    time, a 500): the dialog said "did not answer in time. Please try again." and the retry was
    refused as already signed, so the clerk told the customer it had failed."""
    window = open_window(qtbot, proxied, runner, number)
    dialog = open_sign_dialog(qtbot, window)
    fill_in(qtbot, dialog)
    faults.sign = [fault]
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert_signed_by_morgan(qtbot, window, dialog)
    assert dialog.error_label.text() == "", "no failure was ever said"
    assert dialog.sign_button.text() == "Checking…", "the outcome was checked before anything was said"
    assert faults.sign_posts == 1, "signed once, not again"


def test_a_signature_that_never_reached_the_portal_keeps_the_drawing_for_a_retry(
    qtbot: QtBot, proxied: PortalSession, faults: SignFaults, runner: TaskRunner
) -> None:  # PR-5
    window = open_window(qtbot, proxied, runner, "OPP-7013")
    dialog = open_sign_dialog(qtbot, window)
    fill_in(qtbot, dialog)
    dialog.name_edit.setText("Morgan Many")
    faults.sign = ["never"]
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=WAIT_MS)
    assert dialog.error_label.text().startswith("Cannot reach the portal at 127.0.0.1")
    assert dialog.error_label.text().endswith("then try again. The proposal was not signed.")
    assert not dialog.submitting and dialog.isVisible()
    assert len(dialog.pad.strokes) == 1 and dialog.name_edit.text() == "Morgan Many"
    assert dialog.agree_check.isChecked() and next(iter(dialog.option_checks.values())).isChecked()
    assert dialog.sign_button.isEnabled() and dialog.sign_button.text() == "Sign proposal"
    assert window.detail is not None and window.detail.signature is None and window.sign_button.isEnabled()
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert_signed_by_morgan(qtbot, window, dialog)


def test_a_retry_refused_as_already_signed_after_a_lost_answer_is_shown_as_signed(
    qtbot: QtBot, proxied: PortalSession, faults: SignFaults, runner: TaskRunner
) -> None:  # PR-4, PR-5
    """The reviewer's case: the answer is lost and so is the check that follows, so the signer is
    asked to try again; the retry's 409 not_signable is their own earlier signature."""
    window = open_window(qtbot, proxied, runner, "OPP-7014")
    dialog = open_sign_dialog(qtbot, window)
    fill_in(qtbot, dialog)
    faults.sign = ["drop"]
    faults.lose_checks = 3  # the GET and both of its retries
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=WAIT_MS)
    assert dialog.error_label.text().startswith("Cannot reach the portal at 127.0.0.1")
    assert dialog.error_label.text().endswith(
        " It may have been signed: Sign proposal again finds out, and never signs it twice."
    )
    assert len(dialog.pad.strokes) == 1 and dialog.sign_button.isEnabled(), "outcome unknown: nothing lost"
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert_signed_by_morgan(qtbot, window, dialog)
    assert faults.sign_posts == 2


def test_a_slow_proposal_pdf_does_not_replace_the_signed_copy_asked_for_after_it(
    qtbot: QtBot, faults: SignFaults, runner: TaskRunner
) -> None:  # PR-9
    """ "View proposal" answering after a quicker "View signed PDF" replaced the signed copy."""
    session = sign_in(f"{faults.origin}/portal/east", company.MORGAN, company.PASSWORD)
    pad = SignaturePad()
    qtbot.addWidget(pad)
    draw(qtbot, pad, zigzag())
    session.client.sign_proposal(
        proposal_id(session, "OPP-7016"), signer_name="Morgan Many", signature_png=pad.to_png(), optional_service_ids=[]
    )
    window = open_window(qtbot, session, runner, "OPP-7016")
    faults.hold_pdf = True
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.signed_view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pdf_window is not None, timeout=WAIT_MS)
    shown = window.pdf_window
    assert shown is not None and shown.windowTitle() == "Signed proposal OPP-7016"
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)  # the unsigned copy has answered now
    assert window.pdf_window is shown and shown.windowTitle() == "Signed proposal OPP-7016"
    assert window.view_button.text() == "View proposal" and window.view_button.isEnabled()
    shown.close()
    session.client.close()


def test_escape_while_signing_waits_for_the_portal(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner
) -> None:  # PR-5
    """Escape once "Signing…" is out had closed the dialog as if cancelled, while the portal signed."""
    window = open_window(qtbot, session, runner, "OPP-7006")
    dialog = open_sign_dialog(qtbot, window)
    draw(qtbot, dialog.pad, zigzag())
    dialog.agree_check.setChecked(True)
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
        assert dialog.submitting
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        dialog.close()
        assert dialog.isVisible(), "the dialog waits for the portal's answer"
    assert dialog.result() == SignDialog.DialogCode.Accepted
    assert window.detail is not None and window.detail.status == "accepted"


def test_closing_the_sign_window_asks_before_a_signature_goes(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner
) -> None:  # PR-3
    """Escape, Cancel, Ctrl+W and the close box threw a drawn signature away without a word (the New
    request form asks); now they ask, Keep signing being the default, and keep everything when kept."""
    window = open_window(qtbot, session, runner, "OPP-7009")
    dialog = open_sign_dialog(qtbot, window)
    draw(qtbot, dialog.pad, zigzag())
    seen: list[tuple[str, str]] = []

    def keep_signing() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.defaultButton() is not None:
            seen.append((box.text(), box.defaultButton().text()))
            box.defaultButton().click()

    QTimer.singleShot(0, keep_signing)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # the real question, answered with its default button
    assert seen == [("Discard your signature?", "Keep signing")]
    assert dialog.isVisible() and len(dialog.pad.strokes) == 1

    asked: list[bool] = []
    answer = False

    def confirm(parent: object) -> bool:
        asked.append(answer)
        return answer

    dialog.confirm_discard = confirm  # type: ignore[method-assign]
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    dialog.close()
    assert asked == [False, False, False]
    assert dialog.isVisible() and len(dialog.pad.strokes) == 1 and dialog.name_edit.text() == "Morgan Many"
    answer = True
    with qtbot.waitSignal(dialog.rejected, timeout=WAIT_MS):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert window.sign_dialog is None

    dialog = open_sign_dialog(qtbot, window)
    dialog.confirm_discard = confirm  # type: ignore[method-assign]
    dialog.name_edit.setText("Morgan M. Many")
    answer = False
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked[-1] is False and dialog.isVisible(), "a name typed is asked about too"
    dialog.name_edit.setText("Morgan Many")  # the name it came with, nothing drawn: nothing to lose
    count = len(asked)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(asked) == count and not dialog.isVisible()


def test_staff_signing_in_an_assist_session_are_told_the_customer_draws(
    qtbot: QtBot, portal: LivePortal, runner: TaskRunner
) -> None:  # SA-2, SA-3
    staff = sign_in(portal.portal_url("east"), company.OFFICE, company.PASSWORD)
    contact = next(c for c in staff.client.staff_contacts(company.MORGAN).items if c.email == company.MORGAN)
    assisted = open_assist(staff, contact, "Customer at the counter")
    try:
        window = open_window(qtbot, assisted, runner, "OPP-7005")
        dialog = open_sign_dialog(qtbot, window)
        assert dialog.assist_note.isVisible()
        assert f"in an assist session as {staff.user.name}" in dialog.assist_note.text()
        assert "The customer must draw the signature themself" in dialog.assist_note.text()
        dialog.reject()
    finally:
        assisted.client.close()
        staff.client.close()


def test_view_proposal_opens_the_embedded_viewer(qtbot: QtBot, session: PortalSession, runner: TaskRunner) -> None:
    window = open_window(qtbot, session, runner, "OPP-7005")
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pdf_window is not None, timeout=WAIT_MS)
    viewer_window = window.pdf_window
    assert viewer_window is not None
    qtbot.waitUntil(lambda: viewer_window.viewer.cached_image(0) is not None, timeout=WAIT_MS)
    assert viewer_window.windowTitle() == "Proposal OPP-7005"
    viewer_window.close()


def test_ctrl_w_closes_the_proposal_and_its_document_window(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner
) -> None:
    """README: "Ctrl+W closes". The main window's Close action only reaches the main window, so in
    a proposal's window, and in the document window it opens, the key did nothing."""
    window = open_window(qtbot, session, runner, "OPP-7005")
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pdf_window is not None, timeout=WAIT_MS)
    viewer_window = window.pdf_window
    assert viewer_window is not None
    viewer_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is viewer_window)
    qtbot.keyClick(viewer_window.viewer, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.pdf_window is None)
    assert window.isVisible(), "only the window the key was pressed in closes"
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window.browser, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_sign_button_says_the_signer_name_is_missing(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner
) -> None:  # PR-5
    """Staff in an assist start with an empty name: drawn and agreed, the button stayed grey with
    no tooltip saying why."""
    window = open_window(qtbot, session, runner, "OPP-7005")
    dialog = open_sign_dialog(qtbot, window)
    dialog.name_edit.clear()
    draw(qtbot, dialog.pad, zigzag())
    dialog.agree_check.setChecked(True)
    assert not dialog.sign_button.isEnabled()
    assert dialog.sign_button.toolTip() == "Type the signer's name first."
    dialog.name_edit.setText("Morgan Many")
    assert dialog.sign_button.isEnabled() and dialog.sign_button.toolTip() == ""
    dialog.pad.clear()  # nothing left to ask about
    dialog.reject()


def test_a_change_order_links_to_the_proposal_it_revises(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner
) -> None:  # PR-8
    """The note named the revised proposal's number only: the customer had to go and find it in the list."""
    window = open_window(qtbot, session, runner, "OPP-7007")
    assert "it revises proposal OPP-7005" in window.browser.toPlainText()
    found = window.browser.document().find("OPP-7005")
    assert not found.isNull()
    found.setPosition(found.selectionStart() + 2)  # inside the number, not on its edge
    with qtbot.waitSignal(window.proposal_requested, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(
            window.browser.viewport(), Qt.MouseButton.LeftButton, pos=window.browser.cursorRect(found).center()
        )
    assert signal.args == [proposal_id(session, "OPP-7005")]


def test_sign_from_the_pdf_window_opens_over_that_window_and_signs_the_proposal(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner
) -> None:  # PR-5
    """ "Sign…" in the PDF's toolbar opened the sign dialog over the proposal's window, behind the
    PDF the customer was reading, which stayed usable meanwhile."""
    window = open_window(qtbot, session, runner, "OPP-7008")
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pdf_window is not None, timeout=WAIT_MS)
    viewer_window = window.pdf_window
    assert viewer_window is not None
    sign = next(b for b in viewer_window.findChildren(QPushButton) if b.text() == "Sign…")
    qtbot.mouseClick(sign, Qt.MouseButton.LeftButton)
    dialog = window.sign_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.parentWidget() is viewer_window, "over the window the customer clicked in"
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    assert QApplication.activeModalWidget() is dialog
    draw(qtbot, dialog.pad, zigzag())
    dialog.agree_check.setChecked(True)
    with qtbot.waitSignal(window.signed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert window.detail is not None and window.detail.status == "accepted"
    assert "Signed by Morgan Many" in window.browser.toPlainText()
    qtbot.waitUntil(lambda: window.pdf_window is None and window.sign_dialog is None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not isValid(viewer_window), timeout=WAIT_MS)  # the unsigned copy goes, with its dialog


def test_an_approved_amount_of_zero_is_shown_as_zero(qtbot: QtBot, session: PortalSession) -> None:  # PR-5
    """ "approved_total or total": a signature that approved Decimal("0.00") (falsy) showed the
    proposal's full total as the approved amount."""
    pad = SignaturePad()
    qtbot.addWidget(pad)
    draw(qtbot, pad, zigzag())
    pid = proposal_id(session, "OPP-7009")
    session.client.sign_proposal(pid, signer_name="Morgan Many", signature_png=pad.to_png(), optional_service_ids=[])
    signed = session.client.proposal(pid)
    assert signed.approved_total == signed.total == Decimal("399.99")
    assert "Approved amount: $399.99" in html_text(proposal_html(signed, "USD", "UTC"))
    nothing = dataclasses.replace(signed, approved_total=Decimal("0.00"))
    assert "Approved amount: $0.00" in html_text(proposal_html(nothing, "USD", "UTC"))


def test_the_signed_date_is_the_branch_s_day_as_on_the_signed_pdf(
    qtbot: QtBot, session: PortalSession, runner: TaskRunner, computer_zone: Callable[[str], None]
) -> None:  # PR-9
    """Signed at 23:30 in New York, the signed PDF says the 27th (the branch's day); on a computer
    set to UTC or Tokyo the app said the 28th."""
    pad = SignaturePad()
    qtbot.addWidget(pad)
    draw(qtbot, pad, zigzag())
    pid = proposal_id(session, "OPP-7015")
    session.client.sign_proposal(pid, signer_name="Morgan Many", signature_png=pad.to_png(), optional_service_ids=[])
    signed = session.client.proposal(pid)
    assert signed.signature is not None
    late = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)  # 23:30 on Nov 27 in New York
    evening = dataclasses.replace(signed, signature=dataclasses.replace(signed.signature, signed_at=late))
    for zone in ("UTC", "Asia/Tokyo"):
        computer_zone(zone)
        assert "Signed by Morgan Many on Nov 27, 2026." in html_text(proposal_html(evening, "USD", "America/New_York"))
    assert "Signed by Morgan Many on Nov 28, 2026." in html_text(proposal_html(evening, "USD", "Asia/Tokyo"))
    # The window dates it in its branch's zone (this portal's: UTC), whatever the computer's.
    computer_zone("Pacific/Kiritimati")
    window = open_window(qtbot, session, runner, "OPP-7015")
    assert window.detail is not None and window.detail.signature is not None
    shown = date_text(window.detail.signature.signed_at.astimezone(UTC).date())
    assert f"Signed by Morgan Many on {shown}." in window.browser.toPlainText()


def html_text(html: str) -> str:
    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText()
