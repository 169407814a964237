"""The REST client against the real server with the imported test company."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.errors import NotFoundError, SlowedDownError, UnauthorizedError
from app.services.portal_client import PortalClient
from app.services.property_filter import PropertyFilter
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
    birch = morgan.balance(PropertyFilter.only([properties["Birch Office Park"].id]))
    assert birch.current_balance == company.DUE_BY_PROPERTY["Birch Office Park"]


def test_a_portfolio_less_one_property_names_only_the_one_left_out(morgan: PortalClient) -> None:  # PF-2
    """Unticking one property of a thousand must not put 999 ids in the URL (a proxy's 8 KB limit)."""
    properties = {p.name: p.id for p in morgan.properties()}
    assert PropertyFilter.choosing(list(properties.values()), properties.values()) is None, "all: no filter at all"
    others = [pid for name, pid in properties.items() if name != "Birch Office Park"]
    left_out = PropertyFilter.choosing(others, properties.values())
    assert left_out == PropertyFilter((properties["Birch Office Park"],), leave_out=True)
    assert left_out.query() == [("exclude_property_id", str(properties["Birch Office Park"]))]
    expected = sum(amount for name, amount in company.DUE_BY_PROPERTY.items() if name != "Birch Office Park")
    assert morgan.balance(left_out).current_balance == expected
    shown = {i.property.name for i in morgan.invoices("all", left_out, limit=500).items}
    assert shown and "Birch Office Park" not in shown
    one = PropertyFilter.choosing([properties["Maple Court"]], properties.values())
    assert one == PropertyFilter.only([properties["Maple Court"]]), "the shorter list is named"
    thousand = PropertyFilter.choosing(range(2, 1001), range(1, 1001))
    assert thousand is not None and len(thousand.query()) == 1


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
        morgan.invoices(properties=PropertyFilter.only([999_999]))


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
