"""The proposal detail: a web-page-like view that reads well in a small window, with its actions.

"View proposal" opens the PDF in the embedded viewer, "Sign…" the sign dialog (enabled only
when the portal says this contact can sign; otherwise the portal's reason is shown), and once
signed the signed copy can be viewed and downloaded (PR-9).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.models.dates import branch_date_text
from app.models.formatting import date_text, money_text, title_text
from app.services.errors import PortalError
from app.services.records import ProposalDetail
from app.services.session import PortalSession
from app.services.tasks import OwnedRunner, TaskRunner
from app.views import document_page as page
from app.views.detail_support import PROPOSAL_LINK, follow_link
from app.views.item_windows import close_with_standard_key, fit_to_screen
from app.views.pdf_window import PdfWindow
from app.views.sign_dialog import SignDialog
from app.views.theme import colors, icon, named, theme_changed

TYPE_NAMES = {"work_order": "Work order", "contract": "Contract"}
# Said above an open proposal document once a detail read shows the proposal changed since it was fetched.
PDF_RELOADING = "This proposal was changed since this copy was opened. Loading the new version…"
PDF_RELOADED = "This proposal was changed since you opened it: this is the new version."
PDF_OUTDATED = "This copy is out of date: the proposal was changed since it was opened."
PDF_SIGN_OUTDATED = "This copy of the proposal is out of date: reload it before signing."


def proposal_html(detail: ProposalDetail, currency: str, time_zone: str) -> str:
    """The detail as simple HTML for QTextBrowser: one column, so it wraps in a narrow window. The
    signed date is the branch's day (`time_zone`), the one the signed PDF shows."""

    def money(amount: object) -> str:
        return page.e(money_text(amount, currency))  # type: ignore[arg-type]

    c = colors()  # the palette in use, so the page reads in light and dark alike
    kind = TYPE_NAMES.get(detail.opportunity_type, detail.opportunity_type)
    parts = [
        page.header(
            f"PROPOSAL {detail.number} · {kind}",
            detail.title,
            detail.status,
            f"{detail.property.name} · shared {date_text(detail.shared_on)}",
        )
    ]
    if detail.change_order_of is not None:
        revised = detail.change_order_of
        parts.append(
            page.note(
                "This is a change order: it revises proposal "
                f"<a href='{PROPOSAL_LINK}{revised.id}'>{page.e(revised.number)}</a>.",
                "warning",
            )
        )
    if detail.signature is not None:
        signature = detail.signature
        # `is None`, not `or`: a signer who deselected every optional item approved Decimal("0.00"),
        # which is falsy, and "or" showed the full total as the approved amount.
        approved = detail.total if detail.approved_total is None else detail.approved_total
        captured = (
            f" (captured by {page.e(signature.captured_by.name)} for the customer)" if signature.captured_by else ""
        )
        parts.append(
            page.note(
                f"<b>Signed by {page.e(signature.signer_name)}</b> on "
                f"{page.e(branch_date_text(signature.signed_at, time_zone))}{captured}.<br/>"
                f"Approved amount: <b>{money(approved)}</b>",
                "success",
            )
        )
    parts.append(page.section("Scope of work"))
    if detail.line_items is not None:
        columns = [("Description", "left"), ("Qty", "right"), ("Unit price", "right"), ("Amount", "right")]
        rows = [
            (
                page.e(item.description),
                page.e(f"{item.quantity.normalize():f}"),
                money(item.unit_price),
                money(item.amount),
            )
            for item in detail.line_items
            if not item.optional
        ]
        parts.append(page.table(columns, rows))
    else:
        parts.append("<p>The work is quoted as a lump sum; your service contact can walk you through it.</p>")
    parts.append(page.total_line("Total", money(detail.total)))
    if detail.optional_services:
        parts.append(page.section("Optional services"))
        parts.append(
            page.hint(
                "Selected when the proposal was signed." if detail.signature else "You can choose these when you sign."
            )
        )
        options: list[str] = []
        for option in detail.optional_services:
            mark = ""
            if detail.signature is not None:
                mark = (
                    f"<span style='color:{c.accent_text}; font-weight:600;'>✓ Selected</span>"
                    if option.selected
                    else f"<span style='color:{c.muted};'>Not selected</span>"
                )
            options.append(
                f"<tr><td>{page.e(option.description)}</td><td align='right'>{mark}</td>"
                f"<td align='right'>+{money(option.amount)}</td></tr>"
            )
        parts.append(f"<table width='100%' cellspacing='0' cellpadding='5'>{''.join(options)}</table>")
    if detail.sales_rep is not None:
        rep = detail.sales_rep
        parts.append(page.section("Service contact") + page.contact(rep.name, rep.email, rep.phone))
    return "".join(parts)


class ProposalWindow(QDialog):
    """Opened from the proposals list (double-click or Enter); emits `signed` (or `changed`, when the
    sign dialog found it signed by someone else or changed) so the list refreshes."""

    signed = Signal(object)
    changed = Signal(object)
    # The proposal a change order revises, opened from its link: the number alone sent the customer
    # looking for it in the list.
    proposal_requested = Signal(int)

    def __init__(
        self, session: PortalSession, runner: TaskRunner, proposal_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        close_with_standard_key(self)
        self.session = session
        self.runner = OwnedRunner(runner, self)
        self.proposal_id = proposal_id
        self.detail: ProposalDetail | None = None
        self.pdf_window: PdfWindow | None = None
        self._pdf_sign_button: QPushButton | None = None  # the PDF toolbar's "Sign…", kept in step with ours
        self.sign_dialog: SignDialog | None = None
        # Bumped by each document asked for the viewer: a slow "View proposal" answering after a quick
        # "View signed PDF" replaced it, so only the latest one asked for is shown.
        self._viewing = 0
        # The revision of the proposal the open unsigned document was asked for with (None: no such document,
        # or a portal that does not say): a detail read with another one means the document is out of date.
        self._pdf_revision: int | None = None
        self._pdf_reloading: int | None = None  # the revision a reload of the document is under way for
        self._pdf_reloads = 0  # bumped per reload: only the latest one's document is shown
        self.setWindowTitle("Proposal")
        self.setWindowIcon(icon("app"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(QSize(420, 420))
        fit_to_screen(self, QSize(720, 760))

        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(lambda url: follow_link(url, self.proposal_requested.emit))
        self.browser.setObjectName("DocumentPage")
        self.browser.document().setDocumentMargin(18)
        # One column that wraps: a horizontal scroll bar would only ever scroll a few pixels of table edge.
        self.browser.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.message = named(QLabel(""), "FormError")
        self.message.setWordWrap(True)
        self.message.hide()
        self.reason_label = named(QLabel(""), "WarnText")
        self.reason_label.setWordWrap(True)
        self.reason_label.hide()
        # As on the invoice window: the view buttons are secondary, Sign is the one primary action.
        # A QDialog's first button became its default, so "View proposal" was drawn green beside
        # the green Sign button, and Enter opened the PDF rather than signing.
        self.view_button = QPushButton("View proposal", autoDefault=False)
        self.sign_button = QPushButton("Sign…", default=True)
        self.sign_button.setObjectName("PrimaryButton")
        self.signed_view_button = QPushButton("View signed PDF", autoDefault=False)
        self.signed_download_button = QPushButton("Download signed PDF…", autoDefault=False)
        self.retry_button = QPushButton("Try again", autoDefault=False)
        close = QPushButton("Close", autoDefault=False)
        close.clicked.connect(self.close)
        self.retry_button.hide()
        self.view_button.clicked.connect(self.view_pdf)
        self.sign_button.clicked.connect(lambda: self.open_sign_dialog())
        self.signed_view_button.clicked.connect(self.view_signed_pdf)
        self.signed_download_button.clicked.connect(lambda: self.download_signed_pdf())
        self.retry_button.clicked.connect(self.load)

        actions = QHBoxLayout()
        actions.setSpacing(8)
        for button in (self.view_button, self.signed_view_button, self.signed_download_button, self.retry_button):
            actions.addWidget(button)
        actions.addStretch()
        actions.addWidget(close)
        actions.addWidget(self.sign_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        QShortcut(QKeySequence("Ctrl+P"), self, self.view_pdf)
        self._set_actions()
        self.load()
        theme_changed().connect(self._restyle)

    def _restyle(self) -> None:
        """The page is HTML coloured from the palette in use: built again after a light/dark switch."""
        if self.detail is not None:
            self.show_detail(self.detail)

    # -- loading -----------------------------------------------------------------------

    def load(self) -> None:
        self.retry_button.hide()
        self.message.hide()
        self.browser.setHtml(f"<p style='color:{colors().muted};'>Loading the proposal…</p>")
        client = self.session.client
        proposal_id = self.proposal_id
        self.runner.run(lambda: client.proposal(proposal_id), self.show_detail, self._load_failed)

    def show_detail(self, detail: ProposalDetail) -> None:
        self.detail = detail
        self.setWindowTitle(f"Proposal {detail.number} — {title_text(detail.title)}")
        scroll = self.browser.verticalScrollBar().value()
        config = self.session.config
        self.browser.setHtml(proposal_html(detail, config.currency, config.branch.time_zone))
        self.browser.verticalScrollBar().setValue(scroll)
        self._set_actions()
        self._check_pdf()

    def _load_failed(self, error: Exception) -> None:
        self.browser.setHtml("")
        self._show_error(error, "The proposal could not be loaded.")
        self.retry_button.show()
        self._set_actions()

    def _set_actions(self) -> None:
        detail = self.detail
        loaded = detail is not None
        self.view_button.setEnabled(loaded)
        self.sign_button.setEnabled(loaded and bool(detail and detail.can_sign))
        signed = bool(detail and detail.signature)
        self.signed_view_button.setVisible(signed)
        self.signed_download_button.setVisible(signed)
        self.sign_button.setVisible(not signed)
        reason = detail.sign_blocked_reason if detail and not detail.can_sign and not signed else None
        self.reason_label.setText(reason or "")
        self.reason_label.setVisible(bool(reason))
        self.sign_button.setToolTip(reason or "")
        pdf_sign = self._pdf_sign_button
        if pdf_sign is not None and isValid(pdf_sign):  # signed or changed since the PDF was opened
            outdated = self.pdf_outdated()
            pdf_sign.setVisible(not signed)
            pdf_sign.setEnabled(self.sign_button.isEnabled() and not outdated)
            pdf_sign.setToolTip(reason or (PDF_SIGN_OUTDATED if outdated else ""))

    def _show_error(self, error: Exception, fallback: str) -> None:
        self.message.setText(error.detail if isinstance(error, PortalError) else fallback)
        self.message.show()

    # -- actions -----------------------------------------------------------------------

    def _fetch(self, op: Callable[[], bytes], done: Callable[[bytes], None], button: QPushButton) -> None:
        label = button.text()
        button.setEnabled(False)
        button.setText("Opening…")
        self.message.hide()

        def finished(data: bytes) -> None:
            button.setText(label)
            self._set_actions()
            done(data)

        def failed(error: Exception) -> None:
            button.setText(label)
            self._set_actions()
            self._show_error(error, "The document could not be opened.")

        self.runner.run(op, finished, failed)

    def view_pdf(self) -> None:
        if self.detail is None:
            return
        detail, client = self.detail, self.session.client
        self._viewing += 1
        viewing = self._viewing
        self._fetch(
            lambda: client.proposal_pdf(detail.id),
            lambda data: self._open_viewer(
                f"Proposal {detail.number}", data, f"{detail.number}.pdf", viewing, revision=detail.revision
            ),
            self.view_button,
        )

    def view_signed_pdf(self) -> None:
        if self.detail is None:
            return
        detail, client = self.detail, self.session.client
        self._viewing += 1
        viewing = self._viewing
        self._fetch(
            lambda: client.signed_proposal_pdf(detail.id),
            lambda data: self._open_viewer(
                f"Signed proposal {detail.number}", data, f"{detail.number}-signed.pdf", viewing, signed=True
            ),
            self.signed_view_button,
        )

    def download_signed_pdf(self, path: str | None = None) -> None:
        """Fetches the signed copy and writes it where the user chooses (or to `path`)."""
        if self.detail is None:
            return
        detail, client = self.detail, self.session.client

        def save(data: bytes) -> None:
            target = path
            if target is None:
                target, _ = QFileDialog.getSaveFileName(
                    self, "Save signed proposal", str(Path.home() / f"{detail.number}-signed.pdf"), "PDF (*.pdf)"
                )
            if not target:
                return
            try:
                Path(target).write_bytes(data)
            except OSError as exc:
                self.message.setText(f"The signed proposal could not be saved: {exc.strerror or exc}.")
                self.message.show()
                return
            self.saved_path = Path(target)

        self._fetch(lambda: client.signed_proposal_pdf(detail.id), save, self.signed_download_button)

    def _open_viewer(
        self,
        title: str,
        data: bytes,
        filename: str,
        viewing: int,
        *,
        signed: bool = False,
        revision: int | None = None,
    ) -> None:
        """`revision`: that of the detail the unsigned document was asked with (a detail read since with
        another one has the document reloaded at once)."""
        if viewing != self._viewing:
            return  # another document was asked for since
        if self.pdf_window is not None:
            self.pdf_window.close()
        window = PdfWindow(title, data, filename, self)
        self._pdf_sign_button = None
        if not signed and self.detail is not None and self.detail.can_sign:
            self._pdf_sign_button = window.add_action("Sign…", lambda: self.open_sign_dialog(window))
        window.finished.connect(lambda _: setattr(self, "pdf_window", None))
        self.pdf_window = window
        self._pdf_revision = None if signed else revision
        self._pdf_reloading = None
        window.show()
        self._set_actions()
        self._check_pdf()

    # -- the open document after the proposal changed ------------------------------------

    def pdf_outdated(self) -> bool:
        """The open unsigned document is of another revision than the proposal as last read."""
        detail = self.detail
        return (
            self.pdf_window is not None
            and self._pdf_revision is not None
            and detail is not None
            and detail.revision is not None
            and detail.revision != self._pdf_revision
        )

    def _check_pdf(self) -> None:
        """A detail read (the window's own, or the sign dialog's after a refusal) shows the proposal changed
        since its open document was fetched: the document is fetched again at once, the window saying so
        meanwhile, so the customer never reads, or signs after, text that no longer holds."""
        if self.pdf_outdated() and self.detail is not None and self._pdf_reloading != self.detail.revision:
            self.reload_pdf()

    def reload_pdf(self) -> None:
        window, detail, client = self.pdf_window, self.detail, self.session.client
        if window is None or detail is None:
            return
        self._pdf_reloads += 1
        reload, revision = self._pdf_reloads, detail.revision
        self._pdf_reloading = revision
        window.show_notice(PDF_RELOADING)
        self.runner.run(
            lambda: client.proposal_pdf(detail.id),
            lambda data: self._pdf_reloaded(window, reload, revision, data),
            lambda error: self._pdf_reload_failed(window, reload, error),
        )

    def _pdf_reloaded(self, window: PdfWindow, reload: int, revision: int | None, data: bytes) -> None:
        if reload != self._pdf_reloads or window is not self.pdf_window:
            return  # closed, replaced, or reloaded again since
        window.replace_document(data)
        window.show_notice(PDF_RELOADED)
        self._pdf_revision, self._pdf_reloading = revision, None
        self._set_actions()
        self._check_pdf()  # changed once more meanwhile

    def _pdf_reload_failed(self, window: PdfWindow, reload: int, error: Exception) -> None:
        if reload != self._pdf_reloads or window is not self.pdf_window:
            return
        self._pdf_reloading = None
        why = error.detail if isinstance(error, PortalError) else "The new version could not be loaded."
        window.show_notice(f"{PDF_OUTDATED} {why}", reload=self.reload_pdf)
        self._set_actions()

    def open_sign_dialog(self, over: QWidget | None = None) -> None:
        """Opens the sign dialog over `over`, the window the customer acted in (this one, or the PDF
        window's "Sign…"): opened over this window, it could sit behind the PDF they were reading,
        which stayed usable while the proposal waited for a signature. It still signs for this window."""
        if self.detail is None or not self.detail.can_sign:
            return
        session = self.session
        dialog = SignDialog(
            self.detail,
            session.client,
            self.runner.runner,
            currency=session.config.currency,
            signer_name=session.user.name if session.user.kind == "contact" else "",
            company_name=session.config.branch.name,
            assisted_by=session.assisting.staff.user.name if session.assisting else None,
            parent=over or self,
        )
        dialog.signed.connect(self._signed)
        dialog.outdated.connect(self._outdated)
        dialog.finished.connect(lambda _: setattr(self, "sign_dialog", None))
        self.sign_dialog = dialog
        dialog.open()

    def _signed(self, detail: ProposalDetail) -> None:
        if self.pdf_window is not None:
            self.pdf_window.close()
        self.show_detail(detail)
        self.signed.emit(detail)

    def _outdated(self, detail: ProposalDetail) -> None:
        """Someone else signed it, or it changed, while this window's sign dialog was out: the window
        shows it as it is now, so it no longer offers Sign for what can no longer be signed."""
        self.show_detail(detail)
        self.changed.emit(detail)
