"""`python -m server import`: whole-file validation, nothing written on error, idempotent re-import."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server.models import Base
from server.services.clock import branch_zone
from server.services.importer import ImportFailed, import_document
from server.settings import Settings
from tests.server.company import build_company

ROOT = Path(__file__).resolve().parents[2]


def _engine(url: str) -> Any:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, so a re-import can be shown to change nothing."""
    engine = _engine(url)
    with Session(engine) as session:
        tables = {
            name: sorted(tuple(row) for row in session.execute(select(table)))
            for name, table in Base.metadata.tables.items()
        }
    engine.dispose()
    return tables


def _count(url: str, table: str) -> int:
    engine = _engine(url)
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    engine.dispose()
    return int(n)


def test_reimporting_the_same_file_changes_nothing(settings: Settings, database_url: str) -> None:
    before = _snapshot(database_url)
    import_document(settings, build_company(date.today()))
    assert _snapshot(database_url) == before


def test_changed_record_is_updated_by_key(settings: Settings, database_url: str) -> None:
    doc = build_company(date.today())
    doc["properties"][0]["name"] = "Oak Plaza (renamed)"
    doc["invoices"][0]["lines"].append({"service": "Pruning", "description": "Extra", "amount": "10.00"})
    import_document(settings, doc)
    engine = _engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM properties WHERE key='p1'")).scalar_one() == "Oak Plaza (renamed)"
        total, balance = conn.execute(text("SELECT total, balance FROM invoices WHERE key='i-due'")).one()
        assert (total, balance) == (13050, 13050), "cents: 120.50 + 10.00"
    engine.dispose()
    assert _count(database_url, "properties") == 5


def test_invalid_file_reports_every_error_and_writes_nothing(settings: Settings, database_url: str) -> None:
    doc = copy.deepcopy(build_company(date.today()))
    doc["properties"].append(
        {"key": "p9", "branch": "nowhere", "name": "X", "contacts": [{"contact": "ghost", "role": "primary"}]}
    )
    doc["invoices"][0]["lines"][0]["amount"] = "12.345"
    doc["visits"][0]["status"] = "maybe"
    doc["contacts"][0]["favourite_colour"] = "green"
    doc["proposals"].append({**doc["proposals"][0]})
    before = _snapshot(database_url)
    with pytest.raises(ImportFailed) as failed:
        import_document(settings, doc)
    paths = {e.path for e in failed.value.errors}
    assert {"$.invoices[0].lines[0].amount", "$.visits[0].status", "$.contacts[0].favourite_colour"} <= paths
    assert _snapshot(database_url) == before

    doc2 = copy.deepcopy(build_company(date.today()))
    doc2["properties"].append(
        {"key": "p9", "branch": "nowhere", "name": "X", "contacts": [{"contact": "ghost", "role": "primary"}]}
    )
    doc2["proposals"].append({**doc2["proposals"][0]})
    with pytest.raises(ImportFailed) as failed2:
        import_document(settings, doc2)
    messages = {(e.path, e.message) for e in failed2.value.errors}
    assert ("$.properties[5].branch", "no branch with key 'nowhere'") in messages
    assert ("$.properties[5].contacts[0].contact", "no contact with key 'ghost'") in messages
    assert ("$.proposals[13].key", "key 'o-delivered' appears twice in the file") in messages
    assert _snapshot(database_url) == before


def test_a_time_zone_that_is_a_folder_of_the_zone_database_is_refused(settings: Settings) -> None:
    """ "America" names a folder of the zone database: zoneinfo raised IsADirectoryError for it, which
    the import did not expect (a traceback, not an error report); a branch holding it crashed "today"."""
    for name in ("America", "America/", "Mars/Olympus_Mons"):
        doc = copy.deepcopy(build_company(date.today()))
        doc["branches"][0]["time_zone"] = name
        with pytest.raises(ImportFailed) as failed:
            import_document(settings, doc)
        assert [e.path for e in failed.value.errors] == ["$.branches[0].time_zone"], name
        assert "is not an IANA time zone" in failed.value.errors[0].message
    assert branch_zone("America") == branch_zone("") == ZoneInfo("UTC")
    assert branch_zone("America/New_York") == ZoneInfo("America/New_York")


def test_payments_beyond_the_total_are_refused(settings: Settings) -> None:
    doc = build_company(date.today())
    doc["invoices"][0]["payments"] = [{"amount": "500.00", "paid_on": "2026-01-01"}]
    with pytest.raises(ImportFailed) as failed:
        import_document(settings, doc)
    assert failed.value.errors[0].path == "$.invoices[0]"


def test_command_line_import_and_error_report(tmp_path: Path, settings: Settings, database_url: str) -> None:
    env = {**os.environ, "PORTAL_DATABASE_URL": database_url, "PORTAL_DATA_DIR": str(tmp_path)}
    good = tmp_path / "company.json"
    doc = build_company(date.today())
    doc["contacts"].append({"key": "zed", "branch": "north", "name": "Zed", "email": "zed@example.com"})
    good.write_text(json.dumps(doc))
    done = subprocess.run(
        [sys.executable, "-m", "server", "import", str(good)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"branches": [{"slug": "BAD SLUG", "name": ""}], "contacts": [{"key": "x"}]}))
    failed = subprocess.run(
        [sys.executable, "-m", "server", "import", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1
    assert "nothing was written" in failed.stderr
    assert "$.branches[0].slug" in failed.stderr and "$.contacts[0].email" in failed.stderr
    assert _count(database_url, "contacts") == 6


def test_seed_demo_twice_is_stable(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("PORTAL_DATABASE_URL", None)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "server", "seed-demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "pat@example.com" in done.stdout
    url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text("branches"))).scalar_one() == 2
    engine.dispose()
