"""Server test fixtures: each test gets its own copy of a database loaded with the test company.

The database is SQLite unless PORTAL_TEST_DATABASE_URL names a PostgreSQL server (CI runs the
suite on both); a template is built once per run and cloned per test, so tests stay independent
and fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from server.api.app import create_app
from server.db import make_engine, make_session_factory
from server.services.importer import import_document
from server.settings import Settings, load_settings
from tests.server.company import PASSWORD, build_company

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def _settings(tmp: Path, database_url: str) -> Settings:
    base = load_settings(database_url)
    return replace(base, data_dir=tmp, database_url=database_url, mail_url=(tmp / "mail").as_uri())


def _pg_admin_url() -> str:
    return POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database with the test company, built once; tests receive clones of it."""
    folder = tmp_path_factory.mktemp("template")
    if POSTGRES_URL:
        name = f"portal_template_{uuid.uuid4().hex[:8]}"
        admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{folder / 'template.sqlite3'}"
    from server.schema import upgrade

    upgrade(url)
    import_document(_settings(folder, url), build_company(date.today()))
    return url


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    if not POSTGRES_URL:
        path = tmp_path / "portal.sqlite3"
        shutil.copyfile(template_db.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    template = template_db.rsplit("/", 1)[1]
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


NORTH = "/portal/north/api/v1"
SOUTH = "/portal/south/api/v1"


def login(client: TestClient, email: str, password: str = PASSWORD, base: str = NORTH) -> dict[str, str]:
    """Signs in and returns the Authorization header for the token."""
    response = client.post(f"{base}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def pat(client: TestClient) -> dict[str, str]:
    """Pat: primary on Oak Plaza, billing on Birch Court, other on Cedar House (north); primary on Lake House (south)."""
    return login(client, "pat@example.com")


@pytest.fixture
def otto(client: TestClient) -> dict[str, str]:
    return login(client, "otto@example.com")


@pytest.fixture
def office(client: TestClient) -> dict[str, str]:
    return login(client, "office@example.com")


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """A session on the test's own database, for arranging states no endpoint writes and for checks.
    Commits only when the test calls session.commit()."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def mails(settings: Settings) -> list[str]:
    folder = settings.data_dir / "mail"
    return [p.read_text() for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def property_ids(client: TestClient, headers: dict[str, str], base: str = NORTH) -> dict[str, int]:
    return {p["name"]: p["id"] for p in client.get(f"{base}/properties", headers=headers).json()["items"]}
