"""The printed table and the JSON results (figures, targets, machine, git commit) that two runs can be compared by."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bench.client import ClientFigure
from bench.measure import Result
from bench.server import ROOT

LIST_P95_MS = 25.0
DEEP_OVER_FIRST = 1.5
API_OVER_FLOOR = 4.0
BALANCE_P50_MS = 30.0
SEARCH_P95_MS = 50.0


def _target(name: str, value: float | None, limit: float, unit: str) -> dict[str, Any]:
    return {"name": name, "value": None if value is None else round(value, 2), "limit": limit, "unit": unit}


def targets(results: Sequence[Result], client: Sequence[ClientFigure]) -> list[dict[str, Any]]:
    """One entry per target of issue 8; `value` None means not measured (the endpoint is not there yet, or the client probe failed)."""
    found: list[dict[str, Any]] = []
    by_name = {r.name: r for r in results}
    for r in results:
        if r.kind == "list":
            found.append(_target(f"{r.name}: p95", r.p95_ms, LIST_P95_MS, "ms"))
            over_floor = _target(f"{r.name}: API / floor (p50)", r.ratio, API_OVER_FLOOR, "ratio")
            if "best_possible_ratio" in r.extra:
                # The bare FastAPI route's time over this floor: no FastAPI server could do better here.
                over_floor["best_possible"] = r.extra["best_possible_ratio"]
            found.append(over_floor)
        if r.kind == "list" and r.name.startswith("invoices due, page "):
            label = r.name.split(", ", 2)[2]
            first = by_name.get(f"invoices due, first page, {label}")
            ratio = r.p50_ms / first.p50_ms if first and first.p50_ms and r.p50_ms else None
            found.append(
                _target(f"invoices due, deep page / first page (p50), {label}", ratio, DEEP_OVER_FIRST, "ratio")
            )
        if r.kind == "balance":
            found.append(_target(f"{r.name}: p50", r.p50_ms, BALANCE_P50_MS, "ms"))
        if r.kind == "search":
            found.append(_target(f"{r.name}: p95", r.p95_ms, SEARCH_P95_MS, "ms"))
    found.extend(_target(f.name, f.value, f.limit, f.unit) for f in client if f.limit is not None)
    return found


def machine(database_url: str) -> dict[str, Any]:
    model, memory = "", 0
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
        with open("/proc/meminfo") as meminfo:
            memory = next((int(line.split()[1]) // 1024 for line in meminfo if line.startswith("MemTotal")), 0)
    except OSError:
        pass
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": memory,
        "load_average": list(os.getloadavg()),
        "database": "postgresql" if database_url.startswith("postgresql") else "sqlite",
        "sqlite": sqlite3.sqlite_version,
    }
    return info


def python_reference_ms() -> float:
    """A fixed pure-Python workload (a page of records through JSON, money formatting, a sort), best of 5.

    A virtual machine's CPU speed follows its host's load, which the load average does not show: two
    runs' timings compare only as far as their reference figures do."""
    records = [
        {"id": n, "number": f"INV-{n:06d}", "total": str(Decimal(n * 37) / 100), "services": ["Mowing", "Edging"]}
        for n in range(3000)
    ]
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        page = json.loads(json.dumps(records))
        texts = sorted(f"${Decimal(r['total']):,.2f} {r['number']} {', '.join(r['services'])}" for r in page)
        best = min(best, time.perf_counter() - started)
    assert len(texts) == len(records)
    return round(best * 1000, 1)


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def _ms(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(
    results: Sequence[Result],
    import_stats: dict[str, Any],
    found: Sequence[dict[str, Any]],
    database: str,
    client: Sequence[ClientFigure] = (),
) -> str:
    lines = []
    cached = " (cached database; figures from when it was built)" if import_stats.get("cached") else ""
    lines.append(
        f"Import: {import_stats['records']:,} records in {import_stats['import_seconds']:.1f} s = "
        f"{import_stats['records_per_second']:,} records/s (CPU {import_stats.get('import_cpu_seconds', 0):.1f} s); "
        f"re-import of the same file {import_stats['reimport_seconds']:.1f} s{cached}"
    )
    lines.append("")
    # cpu ms: the server process's own CPU per request, which the machine's other load does not inflate much.
    header = f"{'endpoint':<52} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>7} {'floor ms':>9} {'x floor':>8}  note"
    lines.append(header)
    lines.append("-" * len(header))
    for r in results:
        if not r.available:
            lines.append(f"{r.name:<52} {'':>4} {'':>8} {'':>8} {'':>7} {'':>9} {'':>8}  {r.note}")
            continue
        note = r.note or (f"total {r.extra['total']:,}" if "total" in r.extra else "")
        lines.append(
            f"{r.name:<52} {r.n:>4} {_ms(r.p50_ms):>8} {_ms(r.p95_ms):>8} {_ms(r.server_cpu_ms):>7} "
            f"{_ms(r.floor_p50_ms, 2):>9} {_ms(r.ratio):>8}  {note}"
        )
    lines.append("")
    lines.append(f"Targets (issue 8 sets them for SQLite on a 2-core machine; this run: {database}):")
    for t in found:
        verdict = "not measured" if t["value"] is None else "ok" if t["value"] <= t["limit"] else "MISSED"
        value = "-" if t["value"] is None else f"{t['value']:.2f}"
        bound = f"   (a bare FastAPI route alone: {t['best_possible']:.2f})" if "best_possible" in t else ""
        lines.append(f"  {verdict:<13} {t['name']:<78} {value:>8} <= {t['limit']:g} {t['unit']}{bound}")
    for figure in client:
        if figure.limit is None:
            value = "-" if figure.value is None else f"{figure.value:.2f}"
            lines.append(f"  {'(no target)':<13} {figure.name:<78} {value:>8}    {figure.unit}")
    return "\n".join(lines)
