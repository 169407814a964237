"""The benchmark database: generated and imported once, then reused while nothing that shapes it has changed.

The cache key hashes the generator's source, every migration file, the seed, the sizes and the month the
dates are anchored on; anything else (the importer, the API) can change without rebuilding.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import generator
from bench.server import ROOT

MIGRATIONS = ROOT / "server" / "migrations"


@dataclass
class Dataset:
    database_url: str
    folder: Path
    facts: dict[str, Any]
    import_stats: dict[str, Any]


def cache_key(sizes: generator.Sizes, seed: int, today: date) -> str:
    digest = hashlib.sha256()
    for path in [Path(generator.__file__), *sorted(MIGRATIONS.rglob("*.py"))]:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps([sizes.as_dict(), seed, generator.anchor_date(today).isoformat()]).encode())
    return digest.hexdigest()[:16]


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _pg_database(server_url: str, key: str) -> str:
    """The benchmark's own database on the PostgreSQL server that `server_url` points at."""
    return server_url.rsplit("/", 1)[0] + f"/bench_{key}"


def _pg_reset(server_url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin = create_engine(_sa_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _vacuum(database_url: str) -> None:
    """What autovacuum would do a little later: planner statistics, and the visibility map index-only scans need."""
    engine = create_engine(_sa_url(database_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _invoice_count(database_url: str) -> int | None:
    """None when the database is missing or was never fully imported."""
    if database_url.startswith("sqlite") and not Path(database_url.split("///", 1)[1]).exists():
        return None
    try:
        engine = create_engine(_sa_url(database_url))
        with engine.connect() as conn:
            count = int(conn.execute(text("SELECT count(*) FROM invoices")).scalar_one())
        engine.dispose()
        return count
    except Exception:
        return None


def facts_of(document: dict[str, Any]) -> dict[str, Any]:
    """What the measurements need to know about the generated company, kept with the cached database."""
    sizes: dict[str, int] = {}
    for prop in document["invoices"]:
        sizes[prop["property"]] = sizes.get(prop["property"], 0) + 1
    main = [p["key"] for p in document["properties"] if p["contacts"][0]["contact"] == generator.MAIN_CONTACT]
    return {
        "branch": generator.BRANCH,
        "contact_email": generator.MAIN_EMAIL,
        "staff_email": generator.STAFF_EMAIL,
        "password": generator.PASSWORD,
        "largest_property": max(main, key=lambda key: sizes.get(key, 0)),
        "search_invoice_number": document["invoices"][len(document["invoices"]) // 2]["number"],
        "invoices": len(document["invoices"]),
        "records": generator.count_records(document),
        "sections": {name: len(rows) for name, rows in document.items()},
    }


def import_file(path: Path, database_url: str, data_dir: Path) -> dict[str, Any]:
    """`python -m server import` as an operator runs it; returns its wall time and the importer's own figure."""
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir.resolve())}
    env.pop("PORTAL_DATABASE_URL", None)
    started = time.perf_counter()
    cpu_before = _children_cpu()
    done = subprocess.run(
        [sys.executable, "-m", "server", "import", str(path), "--database-url", database_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    found = re.search(r"in ([0-9.]+) s", done.stdout)
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "importer_seconds": float(found.group(1)) if found else wall,
        "output": done.stdout.strip(),
    }


def _children_cpu() -> float:
    """CPU seconds of finished child processes: the import's own work, however busy the machine is."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def prepare(
    cache: Path, sizes: generator.Sizes, seed: int, today: date, server_url: str | None, log: Any = print
) -> Dataset:
    """The imported database for these settings, built now only when no valid cached one exists."""
    key = cache_key(sizes, seed, today)
    folder = cache / key
    kind = "postgresql" if server_url else "sqlite"
    database_url = _pg_database(server_url, key) if server_url else f"sqlite:///{(folder / 'portal.sqlite3').resolve()}"
    stats_file = folder / f"import-{kind}.json"
    facts_file = folder / "facts.json"
    if stats_file.exists() and facts_file.exists():
        facts = json.loads(facts_file.read_text())
        if _invoice_count(database_url) == facts["invoices"]:
            stats = json.loads(stats_file.read_text())
            log(f"reusing the {kind} database of {stats['when']} ({key}): generator, schema and sizes unchanged")
            return Dataset(database_url, folder, facts, {**stats, "cached": True})
    folder.mkdir(parents=True, exist_ok=True)
    for stale in cache.iterdir():
        if stale.is_dir() and stale != folder and re.fullmatch(r"[0-9a-f]{16}", stale.name):
            shutil.rmtree(stale, ignore_errors=True)
    document_file = folder / "company.json"
    log(f"generating the company (seed {seed}) ...")
    started = time.perf_counter()
    document = generator.build_company(sizes, seed, today)
    facts = facts_of(document)
    document_file.write_text(json.dumps(document))
    generate_seconds = time.perf_counter() - started
    del document
    if server_url:
        _pg_reset(server_url, database_url)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(folder / "portal.sqlite3") + suffix).unlink(missing_ok=True)
    log(f"importing {facts['records']:,} records into {kind} ...")
    first = import_file(document_file, database_url, folder)
    log("importing the same file again (must change nothing) ...")
    again = import_file(document_file, database_url, folder)
    if server_url:
        _vacuum(database_url)
    stats = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "records": facts["records"],
        "generate_seconds": round(generate_seconds, 2),
        "import_seconds": round(first["importer_seconds"], 2),
        "import_wall_seconds": round(first["wall_seconds"], 2),
        "import_cpu_seconds": round(first["cpu_seconds"], 2),
        "records_per_second": round(facts["records"] / first["importer_seconds"]),
        "reimport_seconds": round(again["importer_seconds"], 2),
        "reimport_cpu_seconds": round(again["cpu_seconds"], 2),
        "importer_output": first["output"],
    }
    facts_file.write_text(json.dumps(facts, indent=2))
    stats_file.write_text(json.dumps(stats, indent=2))
    return Dataset(database_url, folder, facts, {**stats, "cached": False})
