"""A proposal's line amounts, total and approved amount agree to the cent (PR-5, PR-6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Proposal, ProposalItem
from server.services.importer import import_document
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import NORTH, database
from tests.server.proposal_helpers import pdf_text, proposal_ids, sign_body


def thirds_company() -> dict[str, Any]:
    """The reviewer's proposal: three lines of 2.5 x 10.33 = 25.825 each, and one optional line."""
    document = build_company(date.today())
    document["proposals"].append(
        {
            "key": "o-cents",
            "property": "p1",
            "number": "OPP-CENTS",
            "title": "Half cents",
            "opportunity_type": "work_order",
            "opportunity_status": "delivered",
            "shared_on": date.today().isoformat(),
            "items": [
                *(
                    {"key": f"o-cents-{n}", "description": f"Bed {n}", "quantity": "2.5", "unit_price": "10.33"}
                    for n in range(3)
                ),
                {
                    "key": "o-cents-x",
                    "description": "Edging",
                    "quantity": "0.5",
                    "unit_price": "0.25",
                    "optional": True,
                },
            ],
        }
    )
    return document


def test_each_line_rounds_half_up_and_the_total_is_their_sum(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # PR-5, PR-6
    """Half-even rounding made each line 25.82 while the total rounded the unrounded sum to 77.48 and the
    approved amount summed the lines to 77.46: three figures for one proposal."""
    import_document(settings, thirds_company())
    proposal_id = proposal_ids(client, pat)["OPP-CENTS"]
    body = client.get(f"{NORTH}/proposals/{proposal_id}", headers=pat).json()
    lines = [line["amount"] for line in body["line_items"] if not line["optional"]]
    assert lines == ["25.83", "25.83", "25.83"]
    assert body["total"] == "77.49" == str(sum(map(Decimal, lines)))
    assert body["optional_services"][0]["amount"] == "0.13", "0.125 rounds up"
    listed = client.get(f"{NORTH}/proposals", headers=pat).json()["items"]
    assert next(item["total"] for item in listed if item["id"] == proposal_id) == "77.49"
    text = pdf_text(client.get(f"{NORTH}/proposals/{proposal_id}/pdf", headers=pat).content)
    assert "$25.83" in text and "$77.49" in text and "$25.82" not in text and "$77.48" not in text
    extra = body["optional_services"][0]["id"]
    signed = client.post(
        f"{NORTH}/proposals/{proposal_id}/signature",
        headers=pat,
        json=sign_body(optional_service_ids=[extra], expected_approved_total="77.62"),
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["approved_total"] == "77.62"  # 77.49 + 0.13


def test_the_stored_total_is_the_sum_of_the_stored_lines_and_reimporting_keeps_it(
    settings: Settings,
) -> None:  # PR-5, api.md: re-importing the same file changes nothing
    from server.models.work import proposal_total

    document = thirds_company()
    import_document(settings, document)
    with database(settings) as session:
        proposal = session.scalars(select(Proposal).where(Proposal.key == "o-cents")).one()
        assert proposal.total == proposal_total(proposal.items) == Decimal("77.49")
        stamp = proposal.total, [item.amount for item in proposal.items]
    import_document(settings, document)
    with database(settings) as session:
        proposal = session.scalars(select(Proposal).where(Proposal.key == "o-cents")).one()
        assert (proposal.total, [item.amount for item in proposal.items]) == stamp


def test_item_amount_rounds_half_up_to_the_cent() -> None:  # PR-5
    from server.models.work import item_amount

    def amount(quantity: str, price: str) -> Decimal:
        return item_amount(ProposalItem(quantity=Decimal(quantity), unit_price=Decimal(price), optional=False))

    assert amount("2.5", "10.33") == Decimal("25.83")
    assert amount("0.5", "0.25") == Decimal("0.13")
    assert amount("0.5", "0.05") == Decimal("0.03")
    assert amount("3", "85.00") == Decimal("255.00")
