"""Bringing a database to the current schema with Alembic, from the command line or a test."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def matches_models(database_url: str) -> bool:
    """True when the database's tables and columns are exactly what the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import server.models
    from server.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            return not compare_metadata(context, server.models.Base.metadata)
    finally:
        engine.dispose()


def reset_demo_database(database_url: str) -> bool:
    """Rebuilds a disposable demo SQLite file whose schema is out of date; True when it did.

    Until the first release the initial migration is still edited in place, so a demo
    database left by an older build can be at "head" and still lack columns. Only the demo
    database is ever thrown away like this; a customer's database is migrated, never reset.
    """
    if not database_url.startswith("sqlite:///") or matches_models(database_url):
        return False
    path = Path(database_url.removeprefix("sqlite:///"))
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    upgrade(database_url)
    return True
