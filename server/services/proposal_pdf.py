"""The proposal as a PDF document, unsigned (GET /pdf) and signed with its audit page (PR-9).

The unsigned document depends only on what the customer is asked to accept, never on whether
or how it was signed, and the same proposal always gives the same bytes. At signing, the exact
bytes and the positions of the signature fields are stored with the signature: afterwards the
portal serves that stored document and stamps the signed copy onto it, so its SHA-256 stays
true even if the proposal's data or this layout change later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from server.models import Proposal, ProposalItem, ProposalSignature, Staff
from server.services import pdf_layout as layout
from server.services.access import linked_proposal
from server.services.clock import branch_zone
from server.services.pdf_engine import pymupdf
from server.services.pdf_layout import (
    LEFT,
    RIGHT,
    SMALL,
    STRONG,
    TEXT,
    WIDTH,
    Anchor,
    Column,
    PageFlow,
    Row,
    Style,
    draw_text,
    long_date,
    money_text,
    quantity_text,
)

ROLE_NAMES = {"primary": "Primary contact", "billing": "Billing contact", "other": "Contact"}
TYPE_NAMES = {"work_order": "Work order", "contract": "Contract"}

SIGNATURE = "signature"
SIGNER_NAME = "signer-name"
SIGNED_DATE = "signed-date"
APPROVED_AMOUNT = "approved-amount"

TITLE = Style(size=15, font="bold", color=layout.INK)
STAMP = Style(size=11, font="regular", color=layout.INK)
BADGE = Style(size=6.5, font="bold", color=layout.ACCENT)
BANNER = Style(size=8, font="bold", color=layout.WHITE)
ACCEPTANCE_HEIGHT = 118.0
HEADING_HEIGHT = layout.HEADING.line_height + 3


def option_key(item: ProposalItem) -> str:
    return f"option-{item.id}"


@dataclass(frozen=True)
class RenderedProposal:
    pdf: bytes
    anchors: dict[str, Anchor]

    def anchors_json(self) -> dict[str, list[float]]:
        """The anchors as stored with a signature: [page, x0, y0, x1, y1]."""
        return {key: [a.page, a.rect.x0, a.rect.y0, a.rect.x1, a.rect.y1] for key, a in self.anchors.items()}


def anchors_from_json(data: dict[str, list[float]]) -> dict[str, Anchor]:
    return {key: Anchor(int(value[0]), pymupdf.Rect(*value[1:5])) for key, value in data.items()}


def signed_document(proposal: Proposal) -> RenderedProposal:
    """The document the signer signed, as stored at signing time (rendered afresh only if none was stored)."""
    signature = proposal.signature
    if signature is not None and signature.unsigned_pdf:
        return RenderedProposal(signature.unsigned_pdf, anchors_from_json(signature.pdf_anchors))
    return render_proposal(proposal)


def sales_rep(proposal: Proposal) -> Staff | None:
    """The proposal's own sales rep, else the property's (PR-7, PR-8)."""
    return proposal.sales_rep or proposal.property.sales_rep


def local_time(moment: datetime, time_zone: str) -> datetime:
    return moment.astimezone(branch_zone(time_zone))


def timestamp_text(moment: datetime, time_zone: str) -> str:
    """2026-11-26 09:03:12 -05:00 (America/New_York): the wall time and its exact offset."""
    local = local_time(moment, time_zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]} ({time_zone})"


def captured_by_text(signature: ProposalSignature) -> str:
    if signature.captured_by is not None:
        return f"{signature.captured_by.name}, company staff, in an assist session for the signing contact"
    return "The signing contact, in the customer portal"


def _info(proposal: Proposal, title: str) -> layout.DocumentInfo:
    assert proposal.shared_on is not None
    branch = proposal.property.branch
    return layout.DocumentInfo(
        title=title,
        subject=f"{proposal.title}: {proposal.property.name}, {proposal.property.address}",
        author=branch.name,
        dated=proposal.shared_on,
        footer=f"{branch.name}  ·  Proposal {proposal.number}  ·  {proposal.property.name}",
    )


class _ProposalWriter:
    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self.branch = proposal.property.branch
        self.flow = PageFlow(_info(proposal, f"Proposal {proposal.number}: {proposal.title}"))
        self.anchors: dict[str, Anchor] = {}

    def money(self, amount: Decimal) -> str:
        return money_text(amount, self.branch.currency)

    def write(self) -> RenderedProposal:
        self.header()
        self.parties()
        self.title()
        self.scope()
        self.options()
        self.terms()
        self.acceptance()
        document = self.flow.finish()
        return RenderedProposal(layout.to_bytes(document, self.flow.info), self.anchors)

    def header(self) -> None:
        proposal = self.proposal
        assert proposal.shared_on is not None
        kind = TYPE_NAMES.get(proposal.opportunity_type, proposal.opportunity_type)
        facts = [f"Date: {long_date(proposal.shared_on)}", f"Type: {kind}"]
        self.flow.letterhead(self.branch.name, "Landscape services proposal", "Proposal", proposal.number, facts)

    def parties(self) -> None:
        prop = self.proposal.property
        rep = sales_rep(self.proposal)
        rep_lines: list[tuple[str, Style]] = []
        if rep is not None:
            rep_lines = [(rep.name, STRONG), (rep.email, TEXT)]
            if self.branch.show_sales_rep_phone and rep.phone:  # PR-7
                rep_lines.append((rep.phone, TEXT))
        else:
            rep_lines = [(self.branch.name, STRONG)]
        self.flow.boxes(
            [("PREPARED FOR", [(prop.name, STRONG), (prop.address, TEXT)]), ("YOUR SERVICE CONTACT", rep_lines)]
        )

    def title(self) -> None:
        flow, proposal = self.flow, self.proposal
        flow.paragraph(proposal.title, TITLE)
        original = linked_proposal(proposal.change_order_of, proposal.property_id)
        if original is not None:
            flow.space(6)
            flow.note(f"This is a change order: it revises proposal {original.number}.")

    def lines_table(self, items: list[ProposalItem], optional: bool) -> None:
        """Quantities and prices per item (PR-6 on); optional items keyed so signing can mark them."""
        columns = [Column("Description", 52), Column("Qty", 10, "right"), Column("Unit price", 19, "right")]
        columns.append(Column("Amount", 19, "right"))
        rows = [
            Row(
                [item.description, quantity_text(item.quantity), self.money(item.unit_price), self.money(item.amount)],
                key=option_key(item) if optional else None,
                tag="OPTIONAL" if optional else None,
            )
            for item in items
        ]
        self.anchors.update(self.flow.table(columns, rows))

    def scope(self) -> None:
        """Line items with quantities and prices, or only the lump sum when the branch hides them (PR-6)."""
        flow, proposal = self.flow, self.proposal
        flow.heading("Scope of work")
        details = self.branch.show_line_item_details
        if details:
            self.lines_table([item for item in proposal.items if not item.optional], optional=False)
        else:
            flow.paragraph(
                f"{proposal.title}, as described to you by your service contact, for the lump sum below.", TEXT
            )
        flow.space(6)
        flow.total("Total" if details else "Lump-sum total", self.money(proposal.total))
        if any(item.optional for item in proposal.items):
            flow.paragraph("Optional services are not included in this total.", SMALL, align="right")

    def options(self) -> None:
        flow = self.flow
        options = [item for item in self.proposal.items if item.optional]
        if not options:
            return
        flow.heading("Optional services")
        flow.paragraph(
            "You may choose any of these when you sign; each one you choose is added to the approved amount.", SMALL
        )
        flow.space(4)
        if self.branch.show_line_item_details:
            self.lines_table(options, optional=True)
            return
        rows = [
            Row([item.description, self.money(item.amount)], key=option_key(item), tag="OPTIONAL") for item in options
        ]
        self.anchors.update(flow.table([Column("Description", 80), Column("Amount", 20, "right")], rows))

    def terms(self) -> None:
        flow = self.flow
        flow.heading("Terms")
        if self.proposal.terms.strip():
            flow.paragraph(self.proposal.terms.strip(), TEXT)
            flow.space(3)
        flow.paragraph(
            f"Prices are in {self.branch.currency}. Work is scheduled once the proposal is accepted. "
            "Change orders revise the proposal they name and are accepted the same way.",
            TEXT,
        )

    def acceptance(self) -> None:
        flow = self.flow
        # The statement, the signature lines and their heading stay together on one page.
        flow.ensure(14 + HEADING_HEIGHT + 3 * TEXT.line_height + 8 + ACCEPTANCE_HEIGHT)
        flow.heading("Acceptance")
        flow.paragraph(
            f"By signing below, I accept this proposal and authorize {self.branch.name} to perform the work "
            "described, together with the optional services I select, for the approved amount.",
            TEXT,
        )
        flow.space(8)
        area = flow.reserve(ACCEPTANCE_HEIGHT)
        page, rect = flow.page, area.rect
        left_width = WIDTH * 0.58
        right_x = LEFT + left_width + 18
        fields = [
            (SIGNATURE, LEFT, rect.y0, left_width, 62.0, "Signature"),
            (SIGNED_DATE, right_x, rect.y0 + 42, RIGHT - right_x, 20.0, "Date"),
            (SIGNER_NAME, LEFT, rect.y0 + 84, left_width, 20.0, "Name"),
            (APPROVED_AMOUNT, right_x, rect.y0 + 84, RIGHT - right_x, 20.0, "Approved amount"),
        ]
        for key, x, top, width, height, caption in fields:
            box = pymupdf.Rect(x, top, x + width, top + height)
            self.flow.batch.line(page, (box.x0, box.y1), (box.x1, box.y1), layout.INK, 0.8)
            draw_text(page, x, box.y1 + 10, caption, SMALL, batch=self.flow.batch)
            self.anchors[key] = Anchor(area.page, box)


def render_proposal(proposal: Proposal) -> RenderedProposal:
    """The unsigned proposal document; the same proposal always gives the same bytes."""
    return _ProposalWriter(proposal).write()


def _stamp(document: pymupdf.Document, anchors: dict[str, Anchor], proposal: Proposal) -> None:
    """Signature image, signer, date, approved amount and each optional service's choice, on the proposal itself."""
    signature = proposal.signature
    assert signature is not None
    branch = proposal.property.branch
    box = anchors[SIGNATURE]
    document[box.page].insert_image(
        layout.inset(box.rect, 2, 2, 2, 3), stream=signature.signature_png, keep_proportion=True
    )
    for key, text in (
        (SIGNER_NAME, signature.signer_name),
        (SIGNED_DATE, long_date(local_time(signature.signed_at, branch.time_zone).date())),
        (APPROVED_AMOUNT, money_text(signature.approved_total, branch.currency)),
    ):
        anchor = anchors[key]
        draw_text(document[anchor.page], anchor.rect.x0 + 2, anchor.rect.y1 - 5, text, STAMP)
    selected = set(signature.selected_item_ids)
    for item in proposal.items:
        tag = anchors.get(f"{option_key(item)}:tag")
        if not item.optional or tag is None:
            continue
        chosen = item.id in selected
        label = "SELECTED BY THE SIGNER" if chosen else "NOT SELECTED"
        style = BADGE if chosen else Style(size=6.5, font="bold", color=layout.MUTED)
        page = document[tag.page]
        x = tag.rect.x0 + layout.text_width("OPTIONAL", BADGE) + 10
        width = layout.text_width(label, style)
        frame = pymupdf.Rect(x - 3, tag.rect.y0 - 1, x + width + 3, tag.rect.y1)
        page.draw_rect(frame, color=style.color, width=0.6)
        draw_text(page, x, tag.rect.y0 + style.size, label, style)
    first = document[0]
    banner = layout.fit(f"ACCEPTED  ·  signed electronically by {signature.signer_name}", WIDTH * 0.75, BANNER)
    band = pymupdf.Rect(RIGHT - layout.text_width(banner, BANNER) - 16, 24, RIGHT, 40)
    first.draw_rect(band, color=None, fill=layout.ACCENT)
    draw_text(first, band.x0 + 8, band.y1 - 5, banner, BANNER)


def _certificate(proposal: Proposal, signature: ProposalSignature) -> pymupdf.Document:
    """The audit page (PR-9): who signed, as which contact, when (with offset), who captured it, from where."""
    branch = proposal.property.branch
    chosen = set(signature.selected_item_ids)
    selected = [f"{item.description} ({money_text(item.amount, branch.currency)})" for item in proposal.items]
    selected = [text for item, text in zip(proposal.items, selected, strict=True) if item.id in chosen]
    contact = signature.contact
    facts = [
        ("Document", f"Proposal {proposal.number}: {proposal.title}"),
        ("Property", f"{proposal.property.name}, {proposal.property.address}"),
        ("Signer name", signature.signer_name),
        (
            "Signing contact",
            f"{contact.name} <{contact.email}>, "
            f"{ROLE_NAMES.get(signature.contact_role, signature.contact_role)} for this property",
        ),
        ("Signed at", timestamp_text(signature.signed_at, branch.time_zone)),
        ("Signed at (UTC)", timestamp_text(signature.signed_at, "UTC")),
        ("Captured by", captured_by_text(signature)),
        ("Client address", signature.client_address or "not recorded"),
        ("Approved amount", money_text(signature.approved_total, branch.currency)),
        ("Optional services selected", "\n".join(selected) or "None"),
        ("SHA-256 of the unsigned proposal", signature.unsigned_pdf_sha256),
    ]
    flow = PageFlow(_info(proposal, f"Signature certificate, proposal {proposal.number}"))
    flow.paragraph("Signature certificate", Style(size=20, font="bold", color=layout.ACCENT))
    flow.paragraph(f"{branch.name}  ·  electronic signature record for proposal {proposal.number}", SMALL)
    flow.space(8)
    flow.band(3)
    flow.space(12)
    flow.paragraph(
        f"This page records how proposal {proposal.number} was signed in {branch.name}'s customer portal. "
        "The SHA-256 value identifies the unsigned proposal exactly as it was offered for signature: the SHA-256 "
        "of that PDF, as downloaded from the portal, is the same value.",
        TEXT,
    )
    flow.space(10)
    key_style = Style(size=8.5, font="bold", color=layout.MUTED)
    rows = [
        Row([key, value], styles=(key_style, Style(size=8.5, font="mono", color=layout.INK) if "SHA" in key else None))
        for key, value in facts
    ]
    flow.rule()
    flow.table([Column("", 30), Column("", 70)], rows, header=False, padding=5.5)
    flow.heading("Signature as drawn")
    box = flow.reserve(86, width=260)
    flow.page.draw_rect(box.rect, color=layout.RULE, width=0.6)
    flow.page.insert_image(layout.inset(box.rect, 8, 8, 8, 8), stream=signature.signature_png, keep_proportion=True)
    return flow.finish(page_numbers=False)


def render_signed_proposal(proposal: Proposal) -> bytes:
    """The proposal with its signature stamped on, followed by the signature certificate."""
    signature = proposal.signature
    assert signature is not None
    rendered = signed_document(proposal)
    document = pymupdf.open("pdf", rendered.pdf)
    _stamp(document, rendered.anchors, proposal)
    certificate = _certificate(proposal, signature)
    document.insert_pdf(certificate)
    certificate.close()
    return layout.to_bytes(document, _info(proposal, f"Signed proposal {proposal.number}: {proposal.title}"))
