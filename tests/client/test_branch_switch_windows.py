"""Switching branch against the real server does what signing out does to the old branch's work:
it asks before unsent drafts go (a reply, a new request, a drawn signature), and closes the old
branch's windows (proposal, invoice, visit and request windows, and the PDFs opened from them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.errors import UnauthorizedError
from app.services.portal_client import PortalClient
from app.services.records import InvoiceSummary, RequestSummary, VisitSummary
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views import branch_switch
from app.views.main_window import MainWindow
from app.views.proposal_detail import ProposalWindow
from app.views.sign_in_dialog import SignInDialog
from tests.client import company
from tests.client.live_server import LivePortal, running_portal
from tests.client.portal_proxy import serving
from tests.client.test_payments_gui import HoldAnswers
from tests.client.test_proposals_gui import draw, open_sign_dialog, zigzag

pytestmark = pytest.mark.gui

WAIT_MS = 15000


def open_window(qtbot: QtBot, settings_store: QSettings, portal: LivePortal) -> MainWindow:
    """Morgan's window on the east branch of `portal`."""
    accounts = Accounts(AppSettings(settings_store))
    session = sign_in(portal.portal_url("east"), company.MORGAN, company.PASSWORD)
    accounts.remember_portal(session)
    accounts.store_secrets(session, remember_password=False)
    main = MainWindow(session, accounts)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, main)
    return main


@pytest.fixture
def window(qtbot: QtBot, settings_store: QSettings, live_portal: LivePortal) -> Iterator[MainWindow]:
    main = open_window(qtbot, settings_store, live_portal)
    yield main
    main.runner.set_unauthorized_handler(None)


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.wait(10)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)


def record(window: MainWindow, key: str, number: str) -> object:
    model = window.tabs[key].model
    return next(model.record(row) for row in range(model.rowCount()) if model.record(row).number == number)


def open_proposal(qtbot: QtBot, window: MainWindow, number: str) -> ProposalWindow:
    proposal = window.open_proposal(
        next(p.id for p in window.session.client.proposals("all").items if p.number == number)
    )
    qtbot.waitUntil(lambda: proposal.detail is not None, timeout=WAIT_MS)
    return proposal


def switch_to_west(qtbot: QtBot, window: MainWindow, live_portal: LivePortal) -> None:
    west = next(b for b in window.session.branches if b.slug == "west")
    window.switch_branch(west)
    qtbot.waitUntil(lambda: window.session.portal_url == live_portal.portal_url("west"), timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_switching_branch_asks_before_discarding_drafts(
    qtbot: QtBot, window: MainWindow, live_portal: LivePortal
) -> None:  # AC-2, RQ-2, PR-3
    """A reply typed in a request window, a new request and a drawn signature were dropped without
    a word when the customer switched branch; now the question Quit and Sign out ask comes first."""
    request = record(window, "requests", "REQ-1")
    assert isinstance(request, RequestSummary)
    reply_window = window.work_screens.open_request(request)
    wait_idle(qtbot, window)
    qtbot.keyClicks(reply_window.composer.text_edit, "Still dripping.")
    reply_window.close()  # kept hidden, with its reply
    new_request = window.work_screens.new_request()
    qtbot.keyClicks(new_request.subject_edit, "Fence post leaning")
    proposal = open_proposal(qtbot, window, "OPP-1001")
    sign = open_sign_dialog(qtbot, proposal)
    draw(qtbot, sign.pad, zigzag())

    asked: list[tuple[list[str], str]] = []
    answer = False

    def confirm(parent: object, drafts: list[str], action: str) -> bool:
        asked.append((drafts, action))
        return answer

    window.confirm_discard_drafts = confirm  # type: ignore[method-assign]
    drafts = [
        "Your reply to REQ-1 “Broken sprinkler”",
        "Your new request",
        "Your signature on OPP-1001 “Spring cleanup”",
    ]
    west = next(b for b in window.session.branches if b.slug == "west")
    window.switch_branch(west)
    # Asked once the other branch is signed in: a sign-in that fails or is cancelled costs no draft.
    qtbot.waitUntil(lambda: asked == [(drafts, "Switch branch")], timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.session.portal_url == live_portal.portal_url("east"), "Keep editing: no switch"
    assert [a.text() for a in window.branch_menu.actions() if a.isChecked()] == ["East Branch"]
    assert reply_window.isVisible(), "the first draft is shown again"
    assert reply_window.composer.text_edit.toPlainText() == "Still dripping."
    assert new_request.isVisible() and new_request.subject_edit.text() == "Fence post leaning"
    assert proposal.isVisible() and sign.isVisible() and not sign.pad.is_empty

    answer = True
    switch_to_west(qtbot, window, live_portal)
    assert len(asked) == 2
    assert window.work_screens.unsent_drafts() == []
    assert window.proposal_windows.open() == []
    assert not shiboken6.isValid(sign) or not sign.isVisible()
    assert not shiboken6.isValid(new_request) or not new_request.isVisible()
    window.close()  # nothing left to ask about
    assert len(asked) == 2


def test_switching_branch_closes_the_old_branchs_windows(
    qtbot: QtBot, window: MainWindow, live_portal: LivePortal
) -> None:  # AC-2
    """The old branch's windows stayed open over the new branch, on a session that was closed."""
    proposal = open_proposal(qtbot, window, "OPP-1001")
    qtbot.mouseClick(proposal.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: proposal.pdf_window is not None, timeout=WAIT_MS)
    pdf = proposal.pdf_window
    invoice = window.tabs["invoices"].model.record(0)
    assert isinstance(invoice, InvoiceSummary)
    window.invoice_actions.open_invoice(invoice)
    qtbot.waitUntil(lambda: window.invoice_actions.details.open() != [], timeout=WAIT_MS)
    visit_record = window.tabs["visits"].model.record(0)
    assert isinstance(visit_record, VisitSummary)
    visit = window.work_screens.open_visit(visit_record)
    request_record = record(window, "requests", "REQ-1")
    assert isinstance(request_record, RequestSummary)
    request = window.work_screens.open_request(request_record)
    wait_idle(qtbot, window)
    opened: list[QDialog] = [proposal, *window.invoice_actions.details.open(), visit, request]
    assert pdf is not None and all(w.isVisible() for w in [*opened, pdf])

    switch_to_west(qtbot, window, live_portal)
    qtbot.wait(50)  # the closed windows are deleted
    assert not shiboken6.isValid(pdf) or not pdf.isVisible()
    assert all(not shiboken6.isValid(w) or not w.isVisible() for w in opened)
    assert window.proposal_windows.open() == []
    assert window.invoice_actions.details.open() == []
    assert window.work_screens.visit_dialogs == {} and window.work_screens.request_dialogs == {}
    assert [p.name for p in window.properties_model.properties] == ["Willow Farm"]


def test_a_cancelled_branch_sign_in_keeps_the_drafts_and_windows(qtbot: QtBot, window: MainWindow) -> None:  # AC-2
    """The drafts question came before the other branch's sign-in: answering "Discard", then
    cancelling the password the other branch asked for, left the customer on the old branch with
    their drafts gone. Now nothing is asked or closed until the other branch is signed in."""
    new_request = window.work_screens.new_request()
    qtbot.keyClicks(new_request.subject_edit, "Fence post leaning")
    asked: list[str] = []

    def confirm(parent: object, drafts: list[str], action: str) -> bool:
        asked.append(action)
        return True

    window.confirm_discard_drafts = confirm  # type: ignore[method-assign]
    window.session.password = None  # so the other branch asks for the password

    cancelled: list[SignInDialog] = []

    def cancel_sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):  # the other branch's password is read from the keyring first
            QTimer.singleShot(50, window, cancel_sign_in)  # no longer once the window is gone
            return
        cancelled.append(dialog)
        dialog.reject()

    QTimer.singleShot(50, window, cancel_sign_in)
    west = next(b for b in window.session.branches if b.slug == "west")
    window.switch_branch(west)
    qtbot.waitUntil(lambda: bool(cancelled), timeout=WAIT_MS)  # the sign-in it asked for, cancelled
    assert asked == [], "nothing asked for a switch that did not happen"
    assert new_request.isVisible() and new_request.subject_edit.text() == "Fence post leaning"
    assert window.session.config.branch.slug == "east"


def is_request_or_reply(method: str, path: str) -> bool:
    return method == "POST" and path.endswith(("/requests", "/comments"))


@pytest.fixture
def own_portal(tmp_path: Path) -> Iterator[LivePortal]:
    """A portal of the test's own: what it sends (a request, a reply) would change the requests
    the shared portal's tests count."""
    with running_portal(tmp_path / "portal", company.build(date.today())) as portal:
        yield portal


def test_switch_quit_and_sign_out_wait_for_a_request_or_reply_being_sent(
    qtbot: QtBot, settings_store: QSettings, own_portal: LivePortal
) -> None:  # AC-2, RQ-2
    """Send, then Switch branch (or Sign out, or Quit) asked "Discard what you have not sent yet?
    Your new request": Discard closed the form while it was being sent, yet the portal made the
    request, and a send that failed took its refusal and the text with it. Now they wait for the
    answer, as they do for a payment, and nothing being sent is offered for discarding."""
    with serving(HoldAnswers(own_portal.origin, is_request_or_reply)) as hold:
        window = open_window(qtbot, settings_store, LivePortal(hold.origin))
        request = record(window, "requests", "REQ-1")
        assert isinstance(request, RequestSummary)
        reply_window = window.work_screens.open_request(request)
        wait_idle(qtbot, window)
        qtbot.keyClicks(reply_window.composer.text_edit, "The valve box lid is cracked too.")
        qtbot.mouseClick(reply_window.composer.send_button, Qt.MouseButton.LeftButton)
        reply_window.close()  # kept hidden, its reply on the way
        new_request = window.work_screens.new_request()
        subject = "Gate latch broken while sending"
        new_request.property_combo.setCurrentIndex(0)  # Morgan has several: one is chosen
        qtbot.keyClicks(new_request.subject_edit, subject)
        qtbot.mouseClick(new_request.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(hold.requests) == 2, timeout=WAIT_MS)  # both made, both answers held

        asked: list[str] = []

        def confirm(parent: object, drafts: list[str], action: str) -> bool:
            asked.append(action)
            return True

        window.confirm_discard_drafts = confirm  # type: ignore[method-assign]
        signed_out: list[bool] = []
        window.signed_out.connect(lambda _: signed_out.append(True))
        assert window.work_screens.unsent_drafts() == [], "what is being sent is no draft"
        waiting = f"“{reply_window.windowTitle()}” is waiting for the portal."
        west = next(b for b in window.session.branches if b.slug == "west")
        window.switch_branch(west)
        assert window.statusBar().currentMessage() == f"{waiting} Switch branch once it is done."
        assert reply_window.isVisible(), "the window that waits is brought forward"
        assert not window.close()
        assert window.statusBar().currentMessage() == f"{waiting} Quit once it is done."
        window.sign_out()
        assert window.statusBar().currentMessage() == f"{waiting} Sign out once it is done."
        assert asked == [] and signed_out == []
        assert new_request.isVisible() and new_request.sending

        with qtbot.waitSignal(new_request.finished, timeout=WAIT_MS):
            hold.release.set()
        wait_idle(qtbot, window)
        assert new_request.created is not None and new_request.created.summary.subject == subject
        assert reply_window.composer.is_empty(), "the reply was sent"
        assert window.session.config.branch.slug == "east"
        assert window.close(), "nothing is waiting, nothing is left to ask about"
        assert asked == []


def is_east_invoice(method: str, path: str) -> bool:
    return method == "GET" and "/portal/east/" in path and re.search(r"/invoices/\d+$", path) is not None


def test_an_invoice_answered_after_a_branch_switch_is_not_opened(
    qtbot: QtBot, settings_store: QSettings, live_portal: LivePortal
) -> None:  # AC-2, IN-10
    """An invoice (or Pay selected's invoices) asked for on East and answered once West was shown
    opened there: East's invoice in a window, and its pay window, on West's session."""
    with serving(HoldAnswers(live_portal.origin, is_east_invoice)) as hold:
        window = open_window(qtbot, settings_store, LivePortal(hold.origin))
        tab = window.tabs["invoices"]
        row = next(r for r in range(tab.model.rowCount()) if tab.model.record(r).balance > 0)
        invoice = tab.model.record(row)
        assert isinstance(invoice, InvoiceSummary)
        window.invoice_actions.open_invoice(invoice)
        tab.table.selectRow(tab.proxy.mapFromSource(tab.model.index(row, 0)).row())
        window.invoice_actions.pay_selected()
        qtbot.waitUntil(lambda: len(hold.requests) == 2, timeout=WAIT_MS)
        west = next(b for b in window.session.branches if b.slug == "west")
        window.switch_branch(west)
        qtbot.waitUntil(lambda: window.session.config.branch.slug == "west", timeout=WAIT_MS)
        hold.release.set()
        wait_idle(qtbot, window)
        assert window.invoice_actions.details.open() == []
        assert window.invoice_actions.pay_dialog is None
        assert not [w for w in window.findChildren(QDialog) if w.isVisible()]


def test_a_branch_chosen_again_while_it_opens_is_signed_in_once(
    qtbot: QtBot, window: MainWindow, live_portal: LivePortal, monkeypatch: pytest.MonkeyPatch
) -> None:  # AC-2
    """West chosen twice while "Opening West…" signed in twice: the first token stayed valid on the
    portal, never revoked, and entering West again closed what had been opened on it meanwhile. And
    East chosen back while West opens leaves no West session signed in behind the customer's back."""
    signed_in: list[PortalSession] = []

    def sign_in_noted(portal_url: str, email: str, password: str) -> PortalSession:
        opened = sign_in(portal_url, email, password)
        signed_in.append(opened)
        return opened

    monkeypatch.setattr(branch_switch.sessions, "sign_in", sign_in_noted)
    entered: list[str] = []
    set_session = window.set_session

    def set_session_noted(session: PortalSession) -> None:
        entered.append(session.config.branch.slug)
        set_session(session)

    monkeypatch.setattr(window, "set_session", set_session_noted)
    west = next(b for b in window.session.branches if b.slug == "west")
    east = next(b for b in window.session.branches if b.slug == "east")

    window.switch_branch(west)
    window.switch_branch(east)  # back to the branch shown before West answered
    wait_idle(qtbot, window)
    assert window.session.config.branch.slug == "east" and entered == []
    assert window.status_label.text().endswith("· East Branch")
    assert len(signed_in) == 1
    with pytest.raises(UnauthorizedError):
        PortalClient(west.portal_url, token=signed_in[0].token).me()

    window.switch_branch(west)
    window.switch_branch(west)  # chosen again while it opens
    qtbot.waitUntil(lambda: entered == ["west"], timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert entered == ["west"] and len(signed_in) == 2
    assert window.session is signed_in[1]
