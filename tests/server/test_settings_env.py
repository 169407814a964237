"""Settings from the environment: the session lifetime, the assist idle timeout (SA-4) and key retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from server.api.app import create_app
from server.models import AuthSession
from server.models.base import utcnow
from server.settings import load_settings
from tests.server.company import PASSWORD
from tests.server.conftest import NORTH, database, login
from tests.server.conftest import _settings as settings_for
from tests.server.staff_helpers import assist

# variable, Settings field, a value, what it means, the default
VARIABLES = [
    ("PORTAL_ASSIST_IDLE_SECONDS", "assist_idle_timeout", "600", timedelta(minutes=10), timedelta(minutes=30)),
    ("PORTAL_SESSION_LIFETIME_SECONDS", "session_lifetime", "3600", timedelta(hours=1), timedelta(hours=12)),
    ("PORTAL_IDEMPOTENCY_RETENTION_HOURS", "idempotency_retention", "48", timedelta(hours=48), timedelta(days=7)),
]


@pytest.mark.parametrize(("variable", "name", "value", "meaning", "default"), VARIABLES)
def test_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, name: str, value: str, meaning: timedelta, default: timedelta
) -> None:
    assert getattr(load_settings("sqlite:///unused.sqlite3"), name) == default
    monkeypatch.setenv(variable, value)
    assert getattr(load_settings("sqlite:///unused.sqlite3"), name) == meaning
    for wrong in ["0", "-5", "soon", "inf"]:  # a typo stops the start rather than meaning something else
        monkeypatch.setenv(variable, wrong)
        with pytest.raises(ValueError, match=variable):
            load_settings("sqlite:///unused.sqlite3")


def test_a_shorter_assist_idle_timeout_and_session_lifetime_apply(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:  # SA-4, AC-5
    monkeypatch.setenv("PORTAL_ASSIST_IDLE_SECONDS", "600")
    monkeypatch.setenv("PORTAL_SESSION_LIFETIME_SECONDS", "3600")
    settings = settings_for(tmp_path, database_url)
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            signed_in = client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
            expires = datetime.fromisoformat(signed_in.json()["expires_at"])
            assert abs(expires - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)
            assisted = assist(client, login(client, "office@example.com"), "pat@example.com")
            with database(settings) as session:
                session.execute(
                    update(AuthSession)
                    .where(AuthSession.assisted_by_id.is_not(None))
                    .values(last_used_at=utcnow() - timedelta(minutes=10, seconds=1))
                )
                session.commit()
            ended = client.get(f"{NORTH}/properties", headers=assisted)
            assert ended.status_code == 401 and ended.json()["code"] == "assist_idle"
            assert "after 10 minutes without activity" in ended.json()["detail"]
    finally:
        app.state.engine.dispose()
