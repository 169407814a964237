"""A payment the card processor has not confirmed yet, as the invoice page and the pay window show it
(PF-3, IN-6), against a real portal server whose sandbox gateway answers slowly
(PORTAL_SANDBOX_CHARGE_LATENCY_MS): while its answer is on the way the payment is pending.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from app.models.dates import branch_today
from app.services.billing_records import Allocation, InvoiceDetail, PaymentResult
from app.services.session import PortalSession, sign_in
from app.services.tasks import TaskRunner
from app.views.invoice_detail import InvoiceDetailDialog, invoice_html
from app.views.pay_dialog import PayDialog
from tests.client import company
from tests.client.live_server import LivePortal, ServerProcess

pytestmark = pytest.mark.gui

CHARGE_LATENCY_MS = 8000
TIMEOUT_MS = 15000
IN_PROGRESS = "Payment of $400.00 in progress — the processor has not confirmed it yet."


@pytest.fixture(scope="module")
def slow_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    server = ServerProcess(
        Path(tmp_path_factory.mktemp("slow-gateway")), env={"PORTAL_SANDBOX_CHARGE_LATENCY_MS": str(CHARGE_LATENCY_MS)}
    )
    server.load(company.build(date.today()))
    server.start()
    try:
        yield server.portal
    finally:
        server.stop()


def session_for(portal: LivePortal) -> PortalSession:
    return sign_in(portal.portal_url("east"), company.MORGAN, company.PASSWORD)


def birch(session: PortalSession) -> InvoiceDetail:
    page = session.client.invoices("all", limit=500)
    return session.client.invoice(next(i.id for i in page.items if i.number == "INV-20001"))  # 480.00 due


def page_text(session: PortalSession, invoice: InvoiceDetail) -> str:
    document = QTextDocument()
    zone = session.config.branch.time_zone
    document.setHtml(invoice_html(invoice, "USD", branch_today(zone), zone))
    return " ".join(document.toPlainText().split())


def test_a_payment_in_progress_is_shown_and_not_offered_again(qtbot: QtBot, slow_portal: LivePortal) -> None:
    session = session_for(slow_portal)
    card = session.client.add_payment_method(
        {
            "type": "card",
            "card_number": "4242424242424242",
            "exp_month": 12,
            "exp_year": date.today().year + 2,
            "cvc": "123",
            "holder_name": "Morgan Many",
            "postal_code": "10001",
        }
    )
    invoice = birch(session)
    # Another window (another sign-in) pays 400.00; the gateway takes 8 s to confirm it.
    payer = session_for(slow_portal)
    answers: list[PaymentResult] = []
    paying = threading.Thread(
        target=lambda: answers.append(
            payer.client.pay((Allocation(invoice.id, Decimal("400.00")),), card.id, uuid.uuid4().hex)
        )
    )
    paying.start()
    try:
        qtbot.waitUntil(lambda: birch(session).pending_payment_amount is not None, timeout=TIMEOUT_MS)
        pending = birch(session)
        assert (pending.balance, pending.pending_payment_amount) == (Decimal("480.00"), Decimal("400.00"))
        assert pending.status == "due" and pending.payments == ()
        text = page_text(session, pending)
        assert "Balance due: $480.00" in text
        assert IN_PROGRESS in text

        runner = TaskRunner()
        detail = InvoiceDetailDialog(session, runner, pending)
        qtbot.addWidget(detail)
        assert detail.pay_button.isEnabled(), "the rest of the balance can still be paid"
        dialog = PayDialog(session, runner, [pending])
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.method_combo.count() > 0 and not runner.busy, timeout=TIMEOUT_MS)
        assert dialog.full_radio.text() == "Rest of the balance  $80.00"
        assert dialog.allocations() == (Allocation(invoice.id, Decimal("80.00")),)
        dialog.other_radio.setChecked(True)
        dialog.other_edit.setText("80.01")
        assert dialog.allocations() is None
        assert dialog.amount_error.text() == (
            "The amount cannot be more than $80.00 (a payment of $400.00 is in progress)."
        )
        qtbot.waitUntil(lambda: not runner.busy, timeout=TIMEOUT_MS)
    finally:
        paying.join(timeout=30)
    assert [a.amount for a in answers] == [Decimal("400.00")]
    settled = birch(session)
    assert (settled.balance, settled.pending_payment_amount) == (Decimal("80.00"), None)
    assert IN_PROGRESS not in page_text(session, settled)
