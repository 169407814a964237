"""Signing a proposal (PR-3..PR-5): optional services, the approved total, signer, agreement, signature.

Nothing the signer entered is lost when the portal refuses: the dialog stays open with the
drawing, the name and the choices, and says what the portal said.

The signature carries the approved amount the dialog showed and the proposal's revision. When staff
changed the proposal meanwhile (its amount, or only its wording, quantities or terms), the portal
refuses it (409 proposal_changed) rather than record what the signer never saw; the dialog then reads
the proposal again, shows its new figures with the drawing, the name and the choices still there, and
asks for the agreement again before signing for them.

When the answer to the signature is lost (no answer in time, a dropped connection, a 5xx) the portal
may well have recorded it; a 409 on the retry may be that very signature. The dialog then reads the
proposal again before it says anything: a clerk told "it failed" told the customer so, while it had
signed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models.formatting import money_text
from app.services.errors import ConflictError, PortalError, ServerError, UnreachableError, ValidationError
from app.services.portal_client import PortalClient
from app.services.records import ProposalDetail
from app.services.tasks import OwnedRunner, TaskRunner
from app.views.fit_height import HeightFitter
from app.views.item_windows import ask_to_discard, close_with_standard_key
from app.views.signature_pad import SignaturePad
from app.views.theme import named

FIELD_NAMES = {"signer_name": "Name", "signature_png": "Signature", "optional_service_ids": "Optional services"}
NOT_RECORDED = "Your signature was not recorded."
# After a lost answer, what the proposal read again says (or, when that failed too, does not).
NOT_SIGNED = "The proposal was not signed."
UNKNOWN_YET = "It may have been signed: Sign proposal again finds out, and never signs it twice."
CHANGED = "This proposal was changed while you were signing. Your signature was not recorded."
SIGN_AGAIN = "The new figures are shown above; your name and signature are kept. Tick “I agree” to sign for them."
# A change with the same figures (reworded items, new terms): the proposal's window and its document show it.
READ_AGAIN = (
    "The proposal's window and its document now show it as it is; your name and signature are kept. "
    "Tick “I agree” to sign it."
)


def outcome_unknown(error: Exception) -> bool:
    """The portal may have recorded the signature although the answer says otherwise or never came:
    no answer, a 5xx or unreadable answer, or a 409 not_signable (the earlier, lost try signed it)."""
    if isinstance(error, UnreachableError | ServerError):
        return True
    return isinstance(error, ConflictError) and error.code == "not_signable"


def same_figures(before: ProposalDetail, now: ProposalDetail) -> bool:
    """The dialog's figures still hold: the total and the optional services with their amounts."""
    return before.total == now.total and [(o.id, o.amount) for o in before.optional_services] == [
        (o.id, o.amount) for o in now.optional_services
    ]


def same_terms(before: ProposalDetail, now: ProposalDetail) -> bool:
    """What the signer agreed to is still what the proposal says: its figures and its revision (which
    staff's wording, quantities and terms move too)."""
    return same_figures(before, now) and before.revision == now.revision


def ask_discard_signature(parent: QWidget) -> bool:
    """True when the signer chooses to throw the signature away; Keep signing is the default."""
    return ask_to_discard(
        parent,
        "Discard signature",
        "Discard your signature?",
        "What you drew and typed here is not sent, and the proposal stays unsigned.",
        "Keep signing",
    )


class SignDialog(QDialog):
    # Tests replace this to answer the question.
    confirm_discard: Callable[[QWidget], bool] = staticmethod(ask_discard_signature)
    signed = Signal(object)  # the ProposalDetail the portal answered with
    # The ProposalDetail as it is now, when someone else signed it or it changed while this signer
    # signed: the proposal's window shows it, as it no longer offers what this dialog does.
    outdated = Signal(object)

    def __init__(
        self,
        proposal: ProposalDetail,
        client: PortalClient,
        runner: TaskRunner,
        *,
        currency: str,
        signer_name: str = "",
        company_name: str = "the company",
        assisted_by: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        close_with_standard_key(self)  # as in every other window; it asks, as Escape does
        self.proposal = proposal
        self._client = client
        self._runner = OwnedRunner(runner, self)
        self._currency = currency
        self._assisted_by = assisted_by
        self._given_name = signer_name.strip()
        self.result_detail: ProposalDetail | None = None
        self.submitting = False
        self.closed_for_signing = False  # signed by someone else or changed: nothing left to sign here
        self._sent: tuple[str, frozenset[int]] = ("", frozenset())  # the name and options last sent
        self.setWindowTitle(f"Sign proposal {proposal.number}")
        self.setMinimumWidth(560)

        self.title_label = named(QLabel(""), "DialogTitle")
        self.title_label.setWordWrap(True)
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("DialogSubtitle")

        self.option_checks: dict[int, QCheckBox] = {}
        self.options_caption = QLabel("Optional services — tick the ones you want added:")
        self.options_caption.setWordWrap(True)
        self._options_box = QVBoxLayout()
        self._options_box.setSpacing(6)
        self._options_box.addWidget(self.options_caption)

        self.base_label = QLabel("")
        self.total_label = named(QLabel(""), "ApprovedTotal")

        self.name_edit = QLineEdit(signer_name)
        self.name_edit.setPlaceholderText("Full name of the person signing")
        self.name_edit.setMaxLength(200)
        self.name_edit.textChanged.connect(self._update)

        self.pad = SignaturePad()
        self.pad.changed.connect(self._update)
        self.undo_button = QPushButton("Undo stroke", autoDefault=False)
        self.clear_button = QPushButton("Clear", autoDefault=False)
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button.clicked.connect(self.pad.clear)
        pad_buttons = QHBoxLayout()
        pad_hint = QLabel("Use the mouse, a pen or your finger.")
        pad_hint.setObjectName("Hint")
        pad_buttons.addWidget(pad_hint, 1)
        pad_buttons.addWidget(self.undo_button)
        pad_buttons.addWidget(self.clear_button)

        self.agreement_label = QLabel(
            f"By signing, I accept this proposal and authorize {company_name} to do the work described, with the "
            "optional services ticked above, for the approved amount."
        )
        self.agreement_label.setWordWrap(True)
        self.agree_check = QCheckBox("I agree")
        self.agree_check.toggled.connect(self._update)
        self.agreement_label.setBuddy(self.agree_check)

        self.assist_note = QLabel(
            f"You are signing for the customer in an assist session as {assisted_by}. The customer must draw "
            "the signature themself, for example on this screen at the counter or on a tablet."
            if assisted_by
            else ""
        )
        self.assist_note.setWordWrap(True)
        self.assist_note.setObjectName("AssistNote")
        self.assist_note.setVisible(bool(assisted_by))

        self.error_label = named(QLabel(""), "FormError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.sign_button = QPushButton("Sign proposal", default=True)
        self.sign_button.setObjectName("PrimaryButton")
        self.cancel_button = QPushButton("Cancel", autoDefault=False)
        self.sign_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Signer name", self.name_edit)
        line = named(QFrame(), "Separator")
        line.setFrameShape(QFrame.Shape.HLine)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.assist_note)
        layout.addLayout(self._options_box)
        layout.addWidget(self.base_label)
        layout.addWidget(self.total_label)
        layout.addWidget(line)
        layout.addLayout(form)
        layout.addWidget(self.pad)
        layout.addLayout(pad_buttons)
        layout.addWidget(self.agreement_label)
        layout.addWidget(self.agree_check)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self._show_terms(proposal, set())
        # Keeps the pad's buttons from being laid over the pad when an error line appears.
        HeightFitter(self).fit()

    def _show_terms(self, proposal: ProposalDetail, ticked: set[int]) -> None:
        """What is being signed: the title, the optional services (those in `ticked` ticked) and the totals."""
        self.proposal = proposal
        currency = self._currency
        self.title_label.setText(f"Sign “{proposal.title}”")
        self.summary_label.setText(
            f"Proposal {proposal.number} · {proposal.property.name}"
            + (" · change order" if proposal.is_change_order else "")
        )
        for check in self.option_checks.values():
            self._options_box.removeWidget(check)
            check.deleteLater()
        self.option_checks = {}
        for option in proposal.optional_services:
            check = QCheckBox(f"{option.description}   +{money_text(option.amount, currency)}")
            check.setChecked(option.id in ticked)
            check.toggled.connect(self._update)
            self.option_checks[option.id] = check
            self._options_box.addWidget(check)
        self.options_caption.setVisible(bool(proposal.optional_services))
        self.base_label.setText(f"Proposal total: {money_text(proposal.total, currency)}")
        self._update()

    # -- state -------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        return [option_id for option_id, check in self.option_checks.items() if check.isChecked()]

    def approved_total(self) -> Decimal:
        """What the dialog shows, and the signature says it showed (the portal refuses another amount)."""
        return self.proposal.approved_amount(set(self.selected_ids()))

    def approved_total_text(self) -> str:
        return money_text(self.approved_total(), self._currency)

    def can_submit(self) -> bool:
        return (
            not self.submitting
            and not self.closed_for_signing
            and bool(self.name_edit.text().strip())
            and not self.pad.is_empty
            and self.agree_check.isChecked()
        )

    def _update(self) -> None:
        self.total_label.setText(f"Approved total: {self.approved_total_text()}")
        self.sign_button.setEnabled(self.can_submit())
        editable = not self.submitting and not self.closed_for_signing
        self.undo_button.setEnabled(not self.pad.is_empty and editable)
        self.clear_button.setEnabled(not self.pad.is_empty and editable)
        # Why the button is greyed out, in the order of the form. The name was left out: staff signing
        # in an assist start with it empty, and the button stayed grey with nothing saying why.
        if not self.name_edit.text().strip():
            self.sign_button.setToolTip("Type the signer's name first.")
        elif self.pad.is_empty:
            self.sign_button.setToolTip("Draw your signature first.")
        elif not self.agree_check.isChecked():
            self.sign_button.setToolTip("Tick the box to accept the proposal.")
        else:
            self.sign_button.setToolTip("")

    # -- submit ------------------------------------------------------------------------

    def submit(self) -> None:
        if not self.can_submit():
            return
        self.submitting = True
        self.error_label.hide()
        self.sign_button.setText("Signing…")
        self._set_inputs_enabled(False)
        self._update()
        proposal_id = self.proposal.id
        name = self.name_edit.text().strip()
        png = self.pad.to_png()
        options = self.selected_ids()
        shown = self.approved_total()
        revision = self.proposal.revision
        self._sent = (name, frozenset(options))
        client = self._client
        self._runner.run(
            lambda: client.sign_proposal(
                proposal_id,
                signer_name=name,
                signature_png=png,
                optional_service_ids=options,
                expected_approved_total=shown,
                expected_revision=revision,
            ),
            self._signed,
            self._failed,
        )

    @property
    def waiting_for_portal(self) -> bool:
        return self.submitting

    def has_draft(self) -> bool:
        """A signature drawn or a name typed that could still be sent; once nothing is left to sign
        here (closed_for_signing), there is nothing to keep either."""
        typed = self.name_edit.text().strip() != self._given_name
        return not self.closed_for_signing and (not self.pad.is_empty or typed)

    def reject(self) -> None:
        """Not while signing: Escape or the close box looked like cancelling, yet the portal still
        signed, and the answer saying so never reached the proposal's window. Not unasked once a
        signature is drawn or a name typed: Escape, Cancel, Ctrl+W and the close box are easily hit,
        and a customer at the counter cannot draw the same signature again."""
        if self.submitting:
            return
        if self.has_draft() and not self.confirm_discard(self):
            return
        super().reject()

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.name_edit, self.pad, self.agree_check, self.cancel_button, *self.option_checks.values()):
            widget.setEnabled(enabled)

    def _signed(self, detail: ProposalDetail) -> None:
        self.submitting = False
        self.result_detail = detail
        self.signed.emit(detail)
        self.accept()

    def _failed(self, error: Exception) -> None:
        """An answer that may hide a recorded signature is checked first; any other refusal is said
        as it is. Either way the inputs stay as they were until the outcome is known."""
        client, proposal_id = self._client, self.proposal.id
        if isinstance(error, ConflictError) and error.code == "proposal_changed":
            self.sign_button.setText("Reading the proposal again…")
            self._runner.run(
                lambda: client.proposal(proposal_id),
                lambda detail: self._reread(detail, error.detail),
                lambda _: self._refused(error),  # signing again asks the portal again
            )
            return
        if not outcome_unknown(error):
            self._refused(error)
            return
        self.sign_button.setText("Checking…")
        self._runner.run(
            lambda: client.proposal(proposal_id),
            lambda detail: self._checked(detail, error),
            lambda _: self._refused(error, UNKNOWN_YET),  # the signer keeps everything; a retry finds out
        )

    def is_own_signature(self, detail: ProposalDetail) -> bool:
        """The signature on `detail` is the one this dialog sent: the name, the optional services
        and who captured it all match (the API does not say which contact signed; a same-named
        signer choosing the same services on another device at the same moment signed the same)."""
        signature = detail.signature
        if signature is None:
            return False
        name, options = self._sent
        chosen = frozenset(o.id for o in detail.optional_services if o.selected)
        captured = signature.captured_by.name if signature.captured_by else None
        return signature.signer_name == name and chosen == options and captured == self._assisted_by

    def _checked(self, detail: ProposalDetail, error: Exception) -> None:
        if self.is_own_signature(detail):
            self._signed(detail)
        else:
            self._reread(detail, CHANGED, error)

    def _reread(self, detail: ProposalDetail, changed: str, error: Exception | None = None) -> None:
        """The proposal as read again after a refusal or a lost answer (not signed by this dialog): signed
        by someone else or no longer signable closes signing here; changed terms are shown for signing
        again; otherwise the refusal (`error`) is said."""
        if detail.signature is not None:
            self._outdated(
                detail, f"This proposal has already been signed by {detail.signature.signer_name}. {NOT_RECORDED}"
            )
        elif not detail.can_sign:
            self._outdated(
                detail, f"{detail.sign_blocked_reason or 'This proposal can no longer be signed.'} {NOT_RECORDED}"
            )
        elif error is None or not same_terms(self.proposal, detail):
            self._changed(detail, changed)
        elif isinstance(error, ConflictError):
            # The 409 no longer holds (whatever stood in the way has gone): signing again may work.
            self._refused(
                PortalError(
                    "The portal refused the signature a moment ago, but it can be signed now. Please try again."
                )
            )
        else:
            self._refused(error, NOT_SIGNED)

    def _changed(self, detail: ProposalDetail, message: str) -> None:
        """Staff changed the proposal while it was open: its new figures replace the old ones, the name,
        the drawing and the optional services still offered stay as they were, and the agreement, given
        to the old amount or text, is asked for again. The proposal's window (and its open document) shows
        the proposal as it is now too."""
        again = READ_AGAIN if same_figures(self.proposal, detail) else SIGN_AGAIN
        self._show_terms(detail, set(self.selected_ids()))
        self.agree_check.setChecked(False)
        self._show_failure(f"{message} {again}")
        self._set_inputs_enabled(True)
        self._update()
        self.outdated.emit(detail)

    def _outdated(self, detail: ProposalDetail, message: str) -> None:
        """Nothing left to sign: the drawing and name stay on screen, only Close remains."""
        self.closed_for_signing = True
        self._show_failure(message)
        self.sign_button.setText("Sign proposal")
        self.cancel_button.setText("Close")
        for widget in (self.name_edit, self.pad, self.agree_check, *self.option_checks.values()):
            widget.setEnabled(False)
        self._update()
        self.outdated.emit(detail)

    def _refused(self, error: Exception, outcome: str = "") -> None:
        """Keeps every input as it was; shows the portal's words (and which field, for a 422), and
        for a lost answer what is known of the outcome."""
        message = error.detail if isinstance(error, PortalError) else "The proposal could not be signed. Try again."
        if isinstance(error, ValidationError) and error.field_errors:
            message = " ".join(
                f"{FIELD_NAMES.get(field.field, field.field.replace('_', ' ').capitalize())}: {field.message}"
                for field in error.field_errors
            )
        self._show_failure(f"{message} {outcome}".strip())
        self._set_inputs_enabled(True)
        self._update()

    def _show_failure(self, message: str) -> None:
        self.submitting = False
        self.sign_button.setText("Sign proposal")
        self.cancel_button.setEnabled(True)
        self.error_label.setText(message)
        self.error_label.show()
        self.error_label.setFocus(Qt.FocusReason.OtherFocusReason)
