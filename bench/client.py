"""The desktop client's measurements (issue 8, part 3): `bench.client_probe` in a child process.

A child process makes "process start" a real start (interpreter, Qt and app imports, sign-in, every tab's
first page) and its peak RSS the client's alone. It runs the real client classes with plain Qt under
QT_QPA_PLATFORM=offscreen against the benchmark's server and prints one JSON line, parsed here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.server import HOST, ROOT

# name, limit, unit: the client targets of issue 8.
CLIENT_TARGETS: tuple[tuple[str, float, str], ...] = (
    ("client: start to every tab's first page", 1500, "ms"),
    ("client: filter change all -> one -> all, every tab repopulated, p50", 150, "ms"),
    ("client: longest GUI-thread stall (5 ms heartbeat)", 50, "ms"),
    ("client: peak RSS", 350, "MB"),
    ("client: View invoice to first PDF page painted (10 pages)", 150, "ms"),
)


@dataclass
class ClientFigure:
    name: str
    value: float | None
    limit: float
    unit: str
    note: str = ""


def run_probe(port: int, branch: str, email: str, password: str, rounds: int, pdf_rounds: int) -> dict[str, Any]:
    """The probe's JSON line; {"ok": False, "error": ...} when it failed or printed nothing usable."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    portal_url = f"http://{HOST}:{port}/portal/{branch}"
    command = [sys.executable, "-m", "bench.client_probe", portal_url, email, password]
    command += ["--rounds", str(rounds), "--pdf-rounds", str(pdf_rounds), "--spawned-at", repr(time.time())]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "the client probe did not finish within 300 s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            outcome: dict[str, Any] = json.loads(line)
            return outcome
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"ok": False, "error": f"the client probe exited with {done.returncode}: {' | '.join(tail)}"}


def measure_client(
    port: int, branch: str, email: str, password: str, *, rounds: int = 10, pdf_rounds: int = 5
) -> tuple[list[ClientFigure], dict[str, Any]]:
    """The five client targets, plus the probe's whole outcome (for results.json)."""
    probe = run_probe(port, branch, email, password, rounds, pdf_rounds)
    if not probe.get("ok"):
        note = f"not measured: {probe.get('error')}"
        return [ClientFigure(name, None, limit, unit, note) for name, limit, unit in CLIENT_TARGETS], probe
    filter_note = (
        f"{probe['filter_changes']} changes; to one {probe['filter_to_one_p50_ms']} ms, to all "
        f"{probe['filter_to_all_p50_ms']} ms; max {probe['filter_change_max_ms']} ms"
    )
    values = (
        (probe["startup_ms"], f"phases (ms): {probe['startup_phases_ms']}; {probe['properties']} properties"),
        (probe["filter_change_p50_ms"], filter_note),
        (
            probe["worst_stall_ms"],
            f"during {probe['worst_stall_during']}; worst per phase (ms): {probe['worst_stall_by_phase_ms']}",
        ),
        (probe["peak_rss_mb"], "ru_maxrss of the client process"),
        (
            probe["view_invoice_first_page_p50_ms"],
            f"p50 of {probe['view_invoice_rounds']}; the invoice PDF has {probe['invoice_pdf_pages']} page(s); "
            f"a 10-page PDF, viewer alone (no download): p50 {probe['ten_page_viewer_first_page_p50_ms']} ms",
        ),
    )
    figures = [
        ClientFigure(name, float(value), limit, unit, note)
        for (name, limit, unit), (value, note) in zip(CLIENT_TARGETS, values, strict=True)
    ]
    return figures, probe
