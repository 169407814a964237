"""The Alembic migrations build exactly the schema the models describe, and the OpenAPI document agrees with api.md."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from server.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_openapi_lists_the_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    prefix = "/portal/{branch_slug}/api/v1"
    for path in (
        "/version",
        "/config",
        "/auth/login",
        "/auth/logout",
        "/auth/password-reset",
        "/auth/password-reset/confirm",
        "/auth/password-change",
        "/auth/invitations/accept",
        "/auth/branches",
        "/me",
        "/me/preferences",
        "/properties",
        "/balance",
        "/proposals",
        "/visits",
        "/invoices",
        "/requests",
    ):
        assert prefix + path in paths, path
    balance = spec["paths"][prefix + "/balance"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][balance["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["current_balance"]["type"] == "string", "money is a string"


def test_an_outdated_demo_database_is_rebuilt(tmp_path: object) -> None:
    from pathlib import Path

    from sqlalchemy import text

    from server.schema import matches_models, reset_demo_database, upgrade

    url = f"sqlite:///{Path(str(tmp_path)) / 'demo.sqlite3'}"
    upgrade(url)
    assert not reset_demo_database(url), "an up-to-date demo database is kept"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE branches DROP COLUMN requests_enabled"))
    engine.dispose()
    assert not matches_models(url)
    assert reset_demo_database(url)
    assert matches_models(url)
