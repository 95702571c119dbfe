"""The DuckDB single-node reference of the sort benchmark validates like the others, and
the engine list is parsed strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpcds.sort import bench, engines, gen, valsort


def test_20mb_sort_on_duckdb_validates(tmp_path: Path) -> None:
    m = gen.generate("20MB", tmp_path / "in", per_partition=50_000)
    run = engines.run_duckdb(str(tmp_path / "in"), str(tmp_path / "out"))
    assert run.status == "ok", run.error
    assert run.job_seconds and run.job_seconds <= run.wall_seconds
    v = valsort.validate(tmp_path / "out", m["records"], int(m["checksum"], 16), workers=1)
    assert v.ok, v.errors
    assert v.summary.records == 200_000 and len(v.summary.files) == 1


def test_engine_list_accepts_aliases_and_subsets_and_rejects_unknown_names() -> None:
    assert bench.engine_list("all") == ["sparkless", "spark", "duckdb"]
    assert bench.engine_list("both") == ["sparkless", "spark"]
    assert bench.engine_list("sparkless, duckdb,sparkless") == ["sparkless", "duckdb"]
    with pytest.raises(ValueError, match="unknown engine 'presto'"):
        bench.engine_list("sparkless,presto")
