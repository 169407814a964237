"""Signing a proposal (PR-3..PR-5): optional services, the approved total, signer, agreement, signature.

Nothing the signer entered is lost when the portal refuses: the dialog stays open with the
drawing, the name and the choices, and says what the portal said.
"""

from __future__ import annotations

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
from app.services.errors import PortalError, ValidationError
from app.services.portal_client import PortalClient
from app.services.records import ProposalDetail
from app.services.tasks import OwnedRunner, TaskRunner
from app.views.fit_height import HeightFitter
from app.views.signature_pad import SignaturePad
from app.views.theme import named

FIELD_NAMES = {"signer_name": "Name", "signature_png": "Signature", "optional_service_ids": "Optional services"}


class SignDialog(QDialog):
    signed = Signal(object)  # the ProposalDetail the portal answered with

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
        self.proposal = proposal
        self._client = client
        self._runner = OwnedRunner(runner, self)
        self._currency = currency
        self.result_detail: ProposalDetail | None = None
        self.submitting = False
        self.setWindowTitle(f"Sign proposal {proposal.number}")
        self.setMinimumWidth(560)

        title = named(QLabel(f"Sign “{proposal.title}”"), "DialogTitle")
        title.setWordWrap(True)
        summary = QLabel(
            f"Proposal {proposal.number} · {proposal.property.name}"
            + (" · change order" if proposal.is_change_order else "")
        )
        summary.setObjectName("DialogSubtitle")

        self.option_checks: dict[int, QCheckBox] = {}
        options_box = QVBoxLayout()
        options_box.setSpacing(6)
        if proposal.optional_services:
            caption = QLabel("Optional services — tick the ones you want added:")
            caption.setWordWrap(True)
            options_box.addWidget(caption)
            for option in proposal.optional_services:
                check = QCheckBox(f"{option.description}   +{money_text(option.amount, currency)}")
                check.toggled.connect(self._update)
                self.option_checks[option.id] = check
                options_box.addWidget(check)

        self.base_label = QLabel(f"Proposal total: {money_text(proposal.total, currency)}")
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
        layout.addWidget(title)
        layout.addWidget(summary)
        layout.addWidget(self.assist_note)
        layout.addLayout(options_box)
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
        self._update()
        # Keeps the pad's buttons from being laid over the pad when an error line appears.
        HeightFitter(self).fit()

    # -- state -------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        return [option_id for option_id, check in self.option_checks.items() if check.isChecked()]

    def approved_total_text(self) -> str:
        return money_text(self.proposal.approved_amount(set(self.selected_ids())), self._currency)

    def can_submit(self) -> bool:
        return (
            not self.submitting
            and bool(self.name_edit.text().strip())
            and not self.pad.is_empty
            and self.agree_check.isChecked()
        )

    def _update(self) -> None:
        self.total_label.setText(f"Approved total: {self.approved_total_text()}")
        self.sign_button.setEnabled(self.can_submit())
        self.undo_button.setEnabled(not self.pad.is_empty and not self.submitting)
        self.clear_button.setEnabled(not self.pad.is_empty and not self.submitting)
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
        client = self._client
        self._runner.run(
            lambda: client.sign_proposal(
                proposal_id, signer_name=name, signature_png=png, optional_service_ids=options
            ),
            self._signed,
            self._failed,
        )

    @property
    def waiting_for_portal(self) -> bool:
        return self.submitting

    def reject(self) -> None:
        """Not while signing: Escape or the close box looked like cancelling, yet the portal still
        signed, and the answer saying so never reached the proposal's window."""
        if not self.submitting:
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
        """Keeps every input as it was; shows the portal's words (and which field, for a 422)."""
        self.submitting = False
        self.sign_button.setText("Sign proposal")
        self._set_inputs_enabled(True)
        message = error.detail if isinstance(error, PortalError) else "The proposal could not be signed. Try again."
        if isinstance(error, ValidationError) and error.field_errors:
            message = " ".join(
                f"{FIELD_NAMES.get(field.field, field.field.replace('_', ' ').capitalize())}: {field.message}"
                for field in error.field_errors
            )
        self.error_label.setText(message)
        self.error_label.show()
        self._update()
        self.error_label.setFocus(Qt.FocusReason.OtherFocusReason)
