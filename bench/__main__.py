"""`python -m bench`: build (or reuse) the large company, serve it, measure, print the table, write the results."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import generator
from bench.client import ClientFigure, measure_client
from bench.dataset import Dataset, prepare
from bench.floor import Floor
from bench.measure import Context, Result, best_possible_ratios, measure_bare_app, measure_server
from bench.report import git_state, machine, python_reference_ms, table, targets
from bench.server import ROOT, Api, running_bare_app, running_server


def _log(message: str) -> None:
    print(message, flush=True)


def _run_copy(dataset: Dataset) -> str:
    """A fresh copy of the imported database for this run, so payments and sign-ins never touch the cache."""
    url = dataset.database_url
    if url.startswith("postgresql"):
        admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_run" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}_run" TEMPLATE "{name}"'))
        admin.dispose()
        return f"{url}_run"
    source = Path(url.split("///", 1)[1])
    target = source.with_name("run.sqlite3")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def _drop_run_copy(url: str) -> None:
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        admin = create_engine(
            admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://user@host:port/db); the benchmark creates its own databases there. "
        "Default: SQLite files under the cache folder",
    )
    parser.add_argument("--requests", type=int, default=60, help="timed requests per endpoint (at least 50)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=generator.DEFAULT_SEED)
    parser.add_argument("--small", action="store_true", help="a small company (a quick check, not the benchmark)")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench")
    parser.add_argument(
        "--out", type=Path, help="results file (default bench/results.json, or results-postgresql.json)"
    )
    parser.add_argument(
        "--only",
        choices=("server", "client"),
        help="measure only the server's endpoints or only the client (a partial run; its results file defaults to "
        "results-<part>.json in the cache folder, so bench/results.json keeps a whole run)",
    )
    args = parser.parse_args(argv)
    if args.requests < 50 and not args.small:
        parser.error("--requests must be at least 50")
    postgres = bool(args.database_url and args.database_url.startswith("postgresql"))
    if args.database_url and not postgres:
        parser.error("--database-url must be a postgresql:// URL (SQLite is the default)")
    name = "results-postgresql.json" if postgres else "results.json"
    out = args.out or (args.cache / f"results-{args.only}.json" if args.only else ROOT / "bench" / name)
    sizes = generator.SMALL_SIZES if args.small else generator.DEFAULT_SIZES
    today = datetime.now(UTC).date()
    started = time.perf_counter()
    load_before = machine(args.database_url or "")["load_average"]
    reference_ms = python_reference_ms()

    args.cache.mkdir(parents=True, exist_ok=True)
    dataset = prepare(args.cache, sizes, args.seed, today, args.database_url, log=_log)
    run_url = _run_copy(dataset)
    try:
        with running_server(run_url, dataset.folder, dataset.facts["branch"]) as (port, pid):
            api = Api(port, dataset.facts["branch"])
            api.sign_in(dataset.facts["contact_email"], dataset.facts["password"])
            staff_api = Api(port, dataset.facts["branch"])
            staff_api.sign_in(dataset.facts["staff_email"], dataset.facts["password"])
            db = Floor(run_url)
            try:
                results: list[Result] = []
                client: list[ClientFigure] = []
                probe: dict[str, Any] = {}
                if args.only != "client":
                    _log(f"measuring the server ({args.requests} requests each after {args.warmup} warm-up) ...")
                    ctx = Context(api, staff_api, db, dataset, today)
                    results = measure_server(ctx, pid, args.warmup, args.requests, _log)
                    with running_bare_app(dataset.folder) as bare_port:
                        bare = measure_bare_app(bare_port, args.warmup, args.requests, _log)
                    best_possible_ratios(results, bare)
                    results.insert(0, bare)
                if args.only != "server":
                    _log("measuring the client (bench.client_probe) ...")
                    client, probe = measure_client(
                        port,
                        dataset.facts["branch"],
                        dataset.facts["contact_email"],
                        dataset.facts["password"],
                        rounds=3 if args.small else 10,
                        pdf_rounds=2 if args.small else 5,
                    )
            finally:
                db.close()
                api.close()
                staff_api.close()
    finally:
        _drop_run_copy(run_url)

    found = targets(results, client)
    info = machine(args.database_url or "")
    info["load_average_before"] = load_before
    info["python_reference_ms"] = reference_ms
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": info,
        "sizes": sizes.as_dict(),
        "seed": args.seed,
        "only": args.only,
        "requests": args.requests,
        "warmup": args.warmup,
        "import": dataset.import_stats,
        "server": [asdict(r) for r in results],
        "client": [asdict(f) for f in client],
        "client_probe": probe,
        "targets": found,
        "seconds": round(time.perf_counter() - started, 1),
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print()
    print(table(results, dataset.import_stats, found, info["database"], client))
    print()
    for figure in client:
        shown = "not measured" if figure.value is None else f"{figure.value:g} {figure.unit}"
        limit = "no target" if figure.limit is None else f"limit {figure.limit:g} {figure.unit}"
        print(f"{figure.name}: {shown} ({limit}); {figure.note}")
    print(f"load average before / after: {load_before} / {info['load_average']} ({info['cpus']} CPUs)")
    print(f"this machine's Python speed: {reference_ms} ms for the reference workload (lower is faster)")
    print(f"results written to {out} in {document['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
