"""The scale benchmark cannot rot: its generator, the import, and one measurement pass, at a small size."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from bench import generator
from bench.__main__ import main
from bench.dataset import prepare


def test_generator_is_deterministic_and_has_the_asked_shape() -> None:
    sizes = generator.SMALL_SIZES
    today = date(2026, 11, 26)
    first = generator.build_company(sizes, 7, today)
    assert first == generator.build_company(sizes, 7, today.replace(day=3)), "same seed and month, same document"
    assert first != generator.build_company(sizes, 8, today)
    main_links = [
        link["role"] for p in first["properties"] for link in p["contacts"] if link["contact"] == generator.MAIN_CONTACT
    ]
    assert len(main_links) == sizes.properties
    assert main_links.count("primary") == sizes.properties * 6 // 10
    assert main_links.count("billing") == sizes.properties * 2 // 10
    assert len(first["contacts"]) == 1 + sizes.other_contacts
    comments = sum(len(r["comments"]) for r in first["requests"][: sizes.requests])
    assert comments == sizes.comments
    statuses = {o["opportunity_status"] for o in first["proposals"]}
    assert len(statuses) >= 5, statuses
    paid = sum(
        1
        for inv in first["invoices"][: sizes.invoices]
        if sum(float(p["amount"]) for p in inv["payments"]) + float(inv["applied_credits"])
        >= sum(float(line["amount"]) for line in inv["lines"]) - 0.005
    )
    assert 0.6 < paid / sizes.invoices < 0.8


def test_small_run_imports_serves_measures_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    cache = tmp_path / "cache"
    assert main(["--small", "--requests", "2", "--warmup", "1", "--cache", str(cache), "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["import"]["records_per_second"] > 0
    assert results["machine"]["python_reference_ms"] > 0  # what makes two runs' timings comparable
    measured = {r["name"]: r for r in results["server"] if r["available"]}
    assert "invoices due, first page, all 1,000 properties" in measured
    lists = [r for r in measured.values() if r["kind"] == "list"]
    assert len(lists) >= 6 and all(r["p50_ms"] > 0 and r["floor_p50_ms"] > 0 for r in lists)
    assert all({"name", "value", "limit", "unit"} <= set(t) for t in results["targets"])
    bare = next(r for r in results["server"] if r["name"].startswith("reference: bare FastAPI"))
    assert bare["p50_ms"] > 0
    ratios = [t for t in results["targets"] if t["name"].endswith("API / floor (p50)")]
    assert ratios and all(t["best_possible"] > 0 for t in ratios), "each ratio says how low FastAPI alone allows"
    assert any(t["name"].startswith("balance") for t in results["targets"])
    client = {t["name"]: t for t in results["targets"] if t["name"].startswith("client: ")}
    assert len(client) == 6 and all(t["value"] is not None and t["value"] > 0 for t in client.values()), results[
        "client_probe"
    ]
    probe = results["client_probe"]
    assert probe["ok"] and all(rows > 0 for rows in probe["first_page_rows"].values())
    assert probe["invoice_pdf_pages"] >= 1 and probe["filter_changes"] >= 2
    assert probe["render_child_peak_rss_mb"] > 0  # PyMuPDF's memory, in the render child
    assert [f["name"] for f in results["client"] if f["limit"] is None] == ["PDF render child: peak RSS"]

    again = prepare(
        cache, generator.SMALL_SIZES, generator.DEFAULT_SEED, datetime.now(UTC).date(), None, log=lambda _: None
    )
    assert again.import_stats["cached"] is True
