"""The REST client against the real server with the imported test company."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.errors import NotFoundError, SlowedDownError, UnauthorizedError
from app.services.portal_client import PortalClient
from tests.client import company
from tests.client.live_server import LivePortal


@pytest.fixture
def morgan(live_portal: LivePortal) -> PortalClient:
    client = PortalClient(live_portal.portal_url("east"))
    client.login(company.MORGAN, company.PASSWORD)
    return client


def test_login_and_config(morgan: PortalClient) -> None:
    config = morgan.config()
    assert config.branch.slug == "east"
    assert config.requests_enabled
    assert config.card_fee_percent == Decimal("2.90")
    assert morgan.me().email == company.MORGAN


def test_properties_and_balance(morgan: PortalClient) -> None:
    # PF-1, PF-3
    properties = {p.name: p for p in morgan.properties()}
    assert set(properties) == {"Maple Court", "Birch Office Park", "Cedar Villas"}
    assert properties["Birch Office Park"].role == "billing"
    everything = morgan.balance()
    assert everything.current_balance == sum(company.DUE_BY_PROPERTY.values())
    assert everything.unapplied_credits == company.UNAPPLIED_BIRCH
    birch = morgan.balance([properties["Birch Office Park"].id])
    assert birch.current_balance == company.DUE_BY_PROPERTY["Birch Office Park"]


def test_cursor_paging_walks_every_invoice(morgan: PortalClient) -> None:
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = morgan.invoices("all", cursor=cursor, limit=100)
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert page.total == company.MANY_INVOICES + 2
    assert len(seen) == len(set(seen)) == page.total


def test_list_filters(morgan: PortalClient) -> None:
    # PR-1, PR-2, VI-1
    assert {p.status for p in morgan.proposals("pending").items} == {"pending"}
    assert {p.number for p in morgan.proposals("all").items} == {"OPP-1001", "OPP-1002", "OPP-1003", "OPP-1004"}
    assert {v.status for v in morgan.visits("completed").items} == {"completed"}
    assert len(morgan.visits("upcoming").items) == 2
    assert {r.number for r in morgan.requests().items} == {"REQ-1", "REQ-2"}


def test_unknown_property_is_not_found(morgan: PortalClient) -> None:
    with pytest.raises(NotFoundError):
        morgan.invoices(property_ids=[999_999])


def test_branches_list_both_portals(morgan: PortalClient, live_portal: LivePortal) -> None:
    # AC-2
    branches = {b.slug: b for b in morgan.branches()}
    assert set(branches) == {"east", "west"}
    assert branches["west"].portal_url == live_portal.portal_url("west")


def test_bad_password_then_slow_down(live_portal: LivePortal) -> None:
    # AC-4
    client = PortalClient(live_portal.portal_url("east"))
    with pytest.raises(UnauthorizedError):
        client.login(company.LOCKOUT, "wrong-password-0")
    slowed: SlowedDownError | None = None
    for attempt in range(10):  # the server allows 5 failures per account; each address gets 20
        try:
            client.login(company.LOCKOUT, f"wrong-password-{attempt}")
        except UnauthorizedError:
            continue
        except SlowedDownError as error:
            slowed = error
            break
    assert slowed is not None
    assert slowed.retry_after > 0
    assert "Try again in" in slowed.detail
