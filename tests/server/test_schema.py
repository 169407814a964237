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
