"""Host memory per run: free memory before, memory reported to the host during."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpcds.sort import host, report


def test_during_gives_free_memory_before_and_reported_delta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meminfo, reported = tmp_path / "meminfo", tmp_path / "reported_kib"
    monkeypatch.setattr(host, "MEMINFO", meminfo)
    monkeypatch.setattr(host, "REPORTED_KIB", reported)
    meminfo.write_text("MemTotal:       24683772 kB\nMemFree:        2097152 kB\nCached: 1 kB\n")
    reported.write_text("1000\n")
    before = host.sample()
    reported.write_text(str(1000 + 3 * 1024 * 1024) + "\n")
    assert host.during(before, host.sample()) == {"mem_free_mb_before": 2048.0, "reported_mb": 3072.0}


def test_a_kernel_without_free_page_reporting_reports_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "REPORTED_KIB", tmp_path / "absent")
    monkeypatch.setattr(host, "MEMINFO", tmp_path / "absent-too")
    s = host.sample()
    assert s == {"mem_free_kib": None, "reported_kib": None}
    assert host.during(s, s) == {"mem_free_mb_before": None, "reported_mb": None}


def test_report_shows_host_memory_per_run_and_dashes_when_unknown() -> None:
    run = {"engine": "duckdb", "status": "ok", "mbps": 300.0, "job_seconds": 3.3,
           "wall_seconds": 3.5, "size_bytes": 10**9, "stages": [], "metrics": {}, "cost": {},
           "validation": {"ok": True, "errors": []}}
    md = report.markdown({"results": [run | {"host_memory": {"mem_free_mb_before": 19000.4,
                                                              "reported_mb": 812.6}}]})
    assert "| 19000 / 813 |" in md
    assert "| – / – |" in report.markdown({"results": [run]})  # results.json of older runs
