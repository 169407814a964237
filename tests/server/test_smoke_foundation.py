from fastapi.testclient import TestClient

from tests.server.conftest import NORTH


def test_version_needs_no_sign_in(client: TestClient) -> None:  # AC-6
    response = client.get(f"{NORTH}/version")
    assert response.status_code == 200
    assert response.json()["api_version"] == "1"


def test_pat_sees_three_north_properties(client: TestClient, pat: dict[str, str]) -> None:  # PF-1
    items = client.get(f"{NORTH}/properties", headers=pat).json()["items"]
    assert {(p["name"], p["role"]) for p in items} == {
        ("Oak Plaza", "primary"), ("Birch Court", "billing"), ("Cedar House", "other")}
