"""Visit windows and the visit detail (VI-1, VI-2), through the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from server.models import Branch, Property, Visit, VisitNote
from server.models.base import utcnow
from server.services.clock import branch_today
from server.settings import Settings
from tests.server.conftest import NORTH, SOUTH, login, property_ids
from tests.server.support_requests import db, id_of


def add_visits(settings: Settings, property_key: str, rows: list[tuple[str, int, str]]) -> None:
    """Adds (marker, days from the branch's today, status) visits; the marker is the visit's only service."""
    with db(settings) as session:
        prop = session.scalar(select(Property).where(Property.key == property_key))
        assert prop is not None
        today = branch_today(prop.branch)
        for marker, offset, status in rows:
            session.add(
                Visit(
                    key=f"test-{marker}",
                    property_id=prop.id,
                    date=today + timedelta(days=offset),
                    status=status,
                    services=[marker],
                )
            )


def markers(client: TestClient, headers: dict[str, str], base: str = NORTH, **params: Any) -> set[str]:
    response = client.get(f"{base}/visits", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return {service for item in response.json()["items"] for service in item["services"] if service.startswith("edge")}


def test_upcoming_is_today_through_thirty_days(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-1
    add_visits(
        settings,
        "p1",
        [
            ("edge-yesterday", -1, "scheduled"),
            ("edge-today", 0, "scheduled"),
            ("edge+30", 30, "scheduled"),
            ("edge+31", 31, "scheduled"),
            ("edge-done-tomorrow", 1, "completed"),
        ],
    )
    assert markers(client, pat, when="upcoming") == {"edge-today", "edge+30"}


def test_completed_is_the_last_thirty_days_by_default(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-1
    add_visits(
        settings,
        "p1",
        [
            ("edge-today", 0, "completed"),
            ("edge-30", -30, "completed"),
            ("edge-31", -31, "completed"),
            ("edge-60", -60, "completed"),
            ("edge-61", -61, "completed"),
            ("edge-scheduled-past", -5, "scheduled"),
        ],
    )
    assert markers(client, pat, when="completed") == {"edge-today", "edge-30"}
    assert markers(client, pat, when="completed", days=60) == {"edge-today", "edge-30", "edge-31", "edge-60"}


def test_completed_window_accepts_one_to_365_days(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-1
    add_visits(settings, "p1", [("edge-365", -365, "completed"), ("edge-366", -366, "completed")])
    assert markers(client, pat, when="completed", days=365) == {"edge-365"}
    for days in (0, 366):
        response = client.get(f"{NORTH}/visits", headers=pat, params={"when": "completed", "days": days})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


def test_completed_list_is_newest_first_and_upcoming_soonest_first(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-1
    add_visits(settings, "p1", [("edge-a", -2, "completed"), ("edge-b", -20, "completed"), ("edge-c", 5, "scheduled")])
    done = [v["date"] for v in client.get(f"{NORTH}/visits?when=completed", headers=pat).json()["items"]]
    assert done == sorted(done, reverse=True)
    upcoming = [v["date"] for v in client.get(f"{NORTH}/visits?when=upcoming", headers=pat).json()["items"]]
    assert upcoming == sorted(upcoming)


def test_today_is_the_branch_date_not_the_servers(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-1
    """Kiritimati (UTC+14) and UTC-12 are 26 hours apart: at any moment they are on different dates,
    so a visit dated "today" in one of them is in the past or the future in the other."""
    now = utcnow()
    east_today = now.astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    west_today = now.astimezone(ZoneInfo("Etc/GMT+12")).date()
    assert east_today > west_today
    with db(settings) as session:
        prop_id = session.scalar(select(Property.id).where(Property.key == "p1"))
        for marker, day in (("edge-east-today", east_today), ("edge-west-today", west_today)):
            session.add(
                Visit(key=f"test-{marker}", property_id=prop_id, date=day, status="scheduled", services=[marker])
            )

    def use_zone(zone: str) -> None:
        with db(settings) as session:
            session.execute(update(Branch).where(Branch.slug == "north").values(time_zone=zone))

    use_zone("Pacific/Kiritimati")
    assert markers(client, pat, when="upcoming") == {"edge-east-today"}
    use_zone("Etc/GMT+12")
    assert markers(client, pat, when="upcoming") == {"edge-east-today", "edge-west-today"}
    assert client.get(f"{NORTH}/config", headers=pat).json()["branch"]["time_zone"] == "Etc/GMT+12"


def test_visits_follow_the_property_filter(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # VI-1
    add_visits(settings, "p2", [("edge-birch", 3, "scheduled")])
    add_visits(settings, "p1", [("edge-oak", 3, "scheduled")])
    ids = property_ids(client, pat)
    assert markers(client, pat, when="upcoming", property_id=ids["Birch Court"]) == {"edge-birch"}
    assert markers(client, pat, when="upcoming") == {"edge-birch", "edge-oak"}


def test_visit_detail_shows_only_published_notes(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-2
    visit_id = id_of(settings, Visit, "v-done")
    response = client.get(f"{NORTH}/visits/{visit_id}", headers=pat)
    assert response.status_code == 200, response.text
    visit = response.json()
    assert visit["services"] == ["Mowing", "Edging"]
    assert visit["status"] == "completed"
    assert visit["property"]["name"] == "Oak Plaza"
    assert [note["text"] for note in visit["notes"]] == ["Mowed and edged"]
    datetime.fromisoformat(visit["notes"][0]["created_at"])
    assert "Dog bit rake" not in response.text


def test_visit_without_published_notes_has_none(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-2
    visit = client.get(f"{NORTH}/visits/{id_of(settings, Visit, 'v-today')}", headers=pat).json()
    assert visit["notes"] == []
    assert "Gate code" not in str(visit)


def test_service_contact_is_the_sales_rep_phone_only_when_shown(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-2
    north = client.get(f"{NORTH}/visits/{id_of(settings, Visit, 'v-done')}", headers=pat).json()
    assert north["service_contact"] == {"name": "Sam Rep", "email": "sam@example.com", "phone": None}

    add_visits(settings, "p5", [("edge-lake", 2, "scheduled")])
    with db(settings) as session:
        visit = session.scalar(select(Visit).where(Visit.key == "test-edge-lake"))
        assert visit is not None
        visit.notes.append(VisitNote(text="Shown note", shown_in_portal=True))
    south_pat = login(client, "pat@example.com", base=SOUTH)
    south = client.get(f"{SOUTH}/visits/{id_of(settings, Visit, 'test-edge-lake')}", headers=south_pat).json()
    assert south["service_contact"] == {"name": "Sofia South", "email": "sofia@example.com", "phone": "555-0300"}
    assert [n["text"] for n in south["notes"]] == ["Shown note"]


def test_another_customers_visit_is_not_found(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # VI-2
    otto_visit = id_of(settings, Visit, "v-otto")
    for visit_id in (otto_visit, 999_999):
        response = client.get(f"{NORTH}/visits/{visit_id}", headers=pat)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    # The same person on another branch sees nothing of this branch's visits (AC-2).
    south_pat = login(client, "pat@example.com", base=SOUTH)
    assert client.get(f"{SOUTH}/visits/{id_of(settings, Visit, 'v-done')}", headers=south_pat).status_code == 404


def test_staff_without_assist_session_cannot_open_a_visit(
    client: TestClient, office: dict[str, str], settings: Settings
) -> None:  # VI-2
    response = client.get(f"{NORTH}/visits/{id_of(settings, Visit, 'v-done')}", headers=office)
    assert response.status_code == 403
    assert response.json()["code"] == "assist_required"
