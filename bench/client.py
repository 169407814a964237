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

from bench.server import HOST, ROOT, Api

# name, limit, unit: the client targets of issue 8.
CLIENT_TARGETS: tuple[tuple[str, float, str], ...] = (
    ("client: start to every tab's first page (password typed in)", 1500, "ms"),
    ("client: start to every tab's first page (returning user, stored token)", 1500, "ms"),
    ("client: filter change all -> one -> all, every tab repopulated, p50", 150, "ms"),
    ("client: longest GUI-thread stall (5 ms heartbeat)", 50, "ms"),
    ("client: peak RSS", 350, "MB"),
    ("client: View invoice to first PDF page painted (10 pages)", 150, "ms"),
)
# Returning-user starts measured (each a process of its own; only the start-up is measured).
TOKEN_STARTS = 3


# Figures without a target of their own, measured with the full probe.
RENDER_CHILD_RSS = "PDF render child: peak RSS"


@dataclass
class ClientFigure:
    name: str
    value: float | None
    limit: float | None  # None: a figure reported beside the targets, not one of them
    unit: str
    note: str = ""


def run_probe(
    port: int, branch: str, email: str, password: str, rounds: int, pdf_rounds: int, token: str | None = None
) -> dict[str, Any]:
    """The probe's JSON line; {"ok": False, "error": ...} when it failed or printed nothing usable.
    With `token`, a returning user's start only (see bench.client_probe)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    portal_url = f"http://{HOST}:{port}/portal/{branch}"
    command = [sys.executable, "-m", "bench.client_probe", portal_url, email, password]
    command += ["--rounds", str(rounds), "--pdf-rounds", str(pdf_rounds)]
    if token is not None:
        # One argument, "--token=…": a token starting with "-" would otherwise read as an option.
        command += [f"--token={token}", "--start-only"]
    command += ["--spawned-at", repr(time.time())]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as hung:
        tail = _text(hung.stderr).strip().splitlines()[-12:]
        return {"ok": False, "error": "the client probe did not finish within 300 s: " + " | ".join(tail)}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            outcome: dict[str, Any] = json.loads(line)
            return outcome
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"ok": False, "error": f"the client probe exited with {done.returncode}: {' | '.join(tail)}"}


def measure_client(
    port: int, branch: str, email: str, password: str, *, rounds: int = 10, pdf_rounds: int = 5
) -> tuple[list[ClientFigure], dict[str, Any]]:
    """The client targets, plus the probe's whole outcome (for results.json): the full probe with a
    password sign-in, then `TOKEN_STARTS` returning-user starts (the median counts)."""
    probe = run_probe(port, branch, email, password, rounds, pdf_rounds)
    if not probe.get("ok"):
        note = f"not measured: {probe.get('error')}"
        return [ClientFigure(name, None, limit, unit, note) for name, limit, unit in CLIENT_TARGETS] + [
            ClientFigure(RENDER_CHILD_RSS, None, None, "MB", note)
        ], probe
    token_starts = []
    for _ in range(TOKEN_STARTS):
        # A token of its own for each start, as a user's last session left it (the probe keeps it valid).
        api = Api(port, branch)
        api.sign_in(email, password)
        token_starts.append(run_probe(port, branch, email, password, 0, 0, token=api.token))
        api.close()
    probe["token_starts"] = token_starts
    failed = next((start for start in token_starts if not start.get("ok")), None)
    if failed is None:
        middle = sorted(token_starts, key=lambda start: float(start["startup_ms"]))[len(token_starts) // 2]
        token_figure: tuple[float | None, str] = (
            middle["startup_ms"],
            f"median of {len(token_starts)} starts {[s['startup_ms'] for s in token_starts]}; worst GUI stall "
            f"(ms) {[s['worst_stall_ms'] for s in token_starts]}; phases of the median start (ms): "
            f"{middle['startup_phases_ms']}",
        )
    else:
        token_figure = (None, f"not measured: {failed.get('error')}")
    filter_note = (
        f"{probe['filter_changes']} changes; to one {probe['filter_to_one_p50_ms']} ms, to all "
        f"{probe['filter_to_all_p50_ms']} ms; max {probe['filter_change_max_ms']} ms"
    )
    values = (
        (probe["startup_ms"], f"phases (ms): {probe['startup_phases_ms']}; {probe['properties']} properties"),
        token_figure,
        (probe["filter_change_p50_ms"], filter_note),
        (
            probe["worst_stall_ms"],
            f"during {probe['worst_stall_during']}, split (ms) {probe.get('worst_stall_split_ms')}; "
            f"worst per phase (ms): {probe['worst_stall_by_phase_ms']}",
        ),
        (probe["peak_rss_mb"], "VmHWM of the client process (ru_maxrss where there is none)"),
        (
            probe["view_invoice_first_page_p50_ms"],
            f"p50 of {probe['view_invoice_rounds']}; the invoice PDF has {probe['invoice_pdf_pages']} page(s); "
            f"a 10-page PDF, viewer alone (no download): p50 {probe['ten_page_viewer_first_page_p50_ms']} ms",
        ),
    )
    figures = [
        ClientFigure(name, None if value is None else float(value), limit, unit, note)
        for (name, limit, unit), (value, note) in zip(CLIENT_TARGETS, values, strict=True)
    ]
    child_rss = probe.get("render_child_peak_rss_mb")
    figures.append(
        ClientFigure(
            RENDER_CHILD_RSS,
            None if child_rss is None else float(child_rss),
            None,
            "MB",
            "VmHWM of the one process that renders every PDF (PyMuPDF lives there, not in the client)",
        )
    )
    return figures, probe


def _text(output: str | bytes | None) -> str:
    """What a timed-out child wrote so far (bytes even in text mode, or None)."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""
