"""Links between records never name another customer's or a draft proposal, nor another property's visit
(PR-1, IN-4; api.md: 404 for what the caller cannot see, never revealing other customers' ids)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Invoice, InvoiceLine, Proposal, Visit
from server.services.importer import ImportFailed, import_document
from server.services.invoice_pdf import short_date
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import NORTH, database
from tests.server.payment_helpers import invoice_ids
from tests.server.proposal_helpers import pdf_text, proposal_ids


def _by_key(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(item for item in items if item["key"] == key)


def test_the_import_refuses_links_to_another_propertys_records(settings: Settings) -> None:  # PR-1, IN-4
    """Every such link is listed at once, with the file's other errors, and nothing is written."""
    document = copy.deepcopy(build_company(date.today()))
    _by_key(document["proposals"], "o-change")["change_order_of"] = "o-otto"  # Oak Plaza's revises Otto's
    due = _by_key(document["invoices"], "i-due")
    due["proposal"] = "o-otto"
    due["lines"][0]["visit"] = "v-otto"
    _by_key(document["invoices"], "i-partial")["lines"][0]["visit"] = "v-done"  # same property: fine
    with pytest.raises(ImportFailed) as failed:
        import_document(settings, document)
    assert {(e.path, e.message) for e in failed.value.errors} == {
        ("$.proposals[8].change_order_of", "proposal 'o-otto' belongs to another property"),
        ("$.invoices[0].proposal", "proposal 'o-otto' belongs to another property"),
        ("$.invoices[0].lines[0].visit", "visit 'v-otto' belongs to another property"),
    }
    with database(settings) as session:
        change = session.scalars(select(Proposal).where(Proposal.key == "o-change")).one()
        assert change.change_order_of is not None and change.change_order_of.key == "o-won"


def test_the_import_checks_links_to_records_already_in_the_database(settings: Settings) -> None:  # PR-1
    """A file holding only a new change order, naming a proposal imported earlier on another property."""
    document = build_company(date.today())
    change = copy.deepcopy(_by_key(document["proposals"], "o-change"))
    change.update(key="o-late", number="OPP-LATE", change_order_of="o-otto")
    for n, item in enumerate(change["items"]):
        item["key"] = f"o-late-{n}"
    with pytest.raises(ImportFailed) as failed:
        import_document(settings, {"proposals": [change]})
    assert [(e.path, e.message) for e in failed.value.errors] == [
        ("$.proposals[0].change_order_of", "proposal 'o-otto' belongs to another property")
    ]


def _link(settings: Settings, model: type[Proposal] | type[Invoice], key: str, target: str) -> None:
    """What an import before this check could store: a link to proposal `target`."""
    with database(settings) as session:
        row = session.scalars(select(model).where(model.key == key)).one()
        linked = session.scalars(select(Proposal).where(Proposal.key == target)).one()
        if isinstance(row, Proposal):
            row.change_order_of_id = linked.id
        else:
            row.proposal_id = linked.id
        session.commit()


@pytest.mark.parametrize("target", ["o-otto", "o-draft", "o-unshared"])
def test_a_change_order_names_only_a_proposal_its_viewers_can_open(
    client: TestClient, pat: dict[str, str], settings: Settings, target: str
) -> None:  # PR-1, PR-8
    _link(settings, Proposal, "o-change", target)
    proposal_id = proposal_ids(client, pat)["OPP-O-CHANGE"]
    body = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    assert body["change_order_of"] is None
    text = pdf_text(client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content)
    assert "revises" not in text and f"OPP-{target.upper()}" not in text


@pytest.mark.parametrize("target", ["o-otto", "o-draft"])
def test_an_invoice_names_only_a_proposal_its_viewers_can_open(
    client: TestClient, pat: dict[str, str], settings: Settings, target: str
) -> None:  # PR-1, IN-4
    _link(settings, Invoice, "i-due", target)
    invoice_id = invoice_ids(client, pat)["INV-I-DUE"]
    assert client.get(f"{NORTH}/invoices/{invoice_id}", headers=pat).json()["proposal"] is None
    text = pdf_text(client.get(f"{NORTH}/invoices/{invoice_id}/pdf", headers=pat).content)
    assert f"OPP-{target.upper()}" not in text


def test_an_invoice_line_names_only_a_visit_of_its_property(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-4
    with database(settings) as session:
        otto_visit = session.scalars(select(Visit).where(Visit.key == "v-otto")).one()
        due = session.scalars(select(Invoice).where(Invoice.key == "i-due")).one()
        line = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == due.id)).first()
        assert line is not None
        line.visit_id = otto_visit.id
        printed = short_date(otto_visit.date)
        session.commit()
    invoice_id = invoice_ids(client, pat)["INV-I-DUE"]
    assert client.get(f"{NORTH}/invoices/{invoice_id}", headers=pat).json()["lines"][0]["visit"] is None
    text = pdf_text(client.get(f"{NORTH}/invoices/{invoice_id}/pdf", headers=pat).content)
    assert printed not in text


def test_links_within_the_property_are_kept(client: TestClient, pat: dict[str, str]) -> None:  # IN-4, PR-8
    invoice_id = invoice_ids(client, pat)["INV-I-DUE"]
    ids = proposal_ids(client, pat)
    assert client.get(f"{NORTH}/invoices/{invoice_id}", headers=pat).json()["proposal"] == {
        "id": ids["OPP-O-WON"],
        "number": "OPP-O-WON",
    }
