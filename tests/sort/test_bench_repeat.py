"""``run --repeat``: interleaved rounds, medians over valid runs, per-round ratios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tpcds.sort import bench, gen, report


def _run(engine: str, rnd: int, mbps: float | None) -> dict[str, Any]:
    ok = mbps is not None
    return {
        "engine": engine, "round": rnd, "status": "ok" if ok else "FAILED",
        "mbps": mbps, "job_seconds": 1000 / mbps if ok else None, "wall_seconds": 1.0,
        "size_bytes": 10**9, "stages": [], "metrics": {}, "cost": {},
        "validation": {"ok": ok, "errors": [] if ok else ["record 7 out of order"]},
    }


def test_summary_takes_the_median_of_valid_runs_and_points_at_the_nearest_run() -> None:
    results = [_run("sparkless", 1, 200.0), _run("spark", 1, 50.0),
               _run("spark", 2, 60.0), _run("sparkless", 2, None),
               _run("sparkless", 3, 240.0), _run("spark", 3, 55.0)]
    sparkless, spark = bench.summarize(results)
    assert (sparkless["runs"], sparkless["valid"]) == (3, 2)  # named as the runs name them
    assert sparkless["mbps_median"] == 220.0  # the FAILED run is no sample
    assert (sparkless["mbps_min"], sparkless["mbps_max"]) == (200.0, 240.0)
    assert sparkless["median_run"] in (0, 4)
    assert spark["mbps_median"] == 55.0 and spark["median_run"] == 5
    # Only rounds where both engines were valid give a ratio.
    assert bench.round_ratios(results, "sparkless", "spark") == [4.0, 240.0 / 55.0]


def test_summary_of_an_engine_without_a_valid_run_has_no_figures() -> None:
    (s,) = bench.summarize([_run("duckdb", 1, None)])
    assert s["valid"] == 0 and s["mbps_median"] is None and s["median_run"] is None


def test_markdown_of_repeated_runs_shows_rounds_medians_and_ratio_spread() -> None:
    # Engines as the runs name them (Spark's run says "spark local[2]", not "spark").
    results = [_run("sparkless", 1, 200.0), _run("spark local[2]", 1, 50.0),
               _run("spark local[2]", 2, 40.0), _run("sparkless", 2, 240.0)]
    doc = {"date": "2026-12-07", "repeat": 2, "results": results,
           "summary": bench.summarize(results)}
    md = report.markdown(doc)
    assert "| round | engine |" in md
    assert "| sparkless | 2 / 2 | 220.0 | 200.0 – 240.0 |" in md
    assert "sparkless / spark local[2] MB/s ratio: 4.89 (of the medians); within a round 4.00 – 6.00" in md


def test_markdown_of_an_old_single_run_document_is_unchanged_in_shape() -> None:
    doc = {"date": "2026-12-06", "results": [_run("sparkless", 1, 200.0), _run("duckdb", 1, 400.0)]}
    md = report.markdown(doc)
    assert "| round |" not in md and "valid runs" not in md
    assert "sparkless / duckdb MB/s ratio: 0.50\n" in md


def test_repeat_rotates_engine_order_and_keeps_rates_of_the_median_run(tmp_path: Path) -> None:
    gen.generate("4MB", tmp_path / "in", per_partition=10_000)
    store = (tmp_path / "store").as_uri()
    doc = bench.run_all("sparkless,duckdb", str(tmp_path / "in"), str(tmp_path / "res"), store,
                        repeat=2)
    order = [(r["round"], r["engine"]) for r in doc["results"]]
    assert order == [(1, "sparkless"), (1, "duckdb"), (2, "duckdb"), (2, "sparkless")]
    assert all(r["status"] == "ok" for r in doc["results"]), [r.get("error") for r in doc["results"]]
    saved = json.loads((tmp_path / "res" / "results.json").read_text())
    sparkless = next(s for s in saved["summary"] if s["engine"] == "sparkless")
    assert sparkless["valid"] == 2
    median = saved["results"][sparkless["median_run"]]
    assert median["engine"] == "sparkless"
    assert json.loads((tmp_path / "res" / "rates.json").read_text()) == median["rates"]
    md = report.markdown(saved)
    assert "Stages of each engine's median run" in md and "within a round" in md
