"""A 20 MB sort through sparkless (embedded server, file store) validates end to end."""

from __future__ import annotations

from pathlib import Path

from tpcds.sort import bench, engines, gen, valsort


def test_20mb_sort_on_sparkless_with_file_store_validates(tmp_path: Path) -> None:
    m = gen.generate("20MB", tmp_path / "in", per_partition=50_000)
    store = (tmp_path / "store").as_uri()
    run = engines.run_sparkless(str(tmp_path / "in"), str(tmp_path / "out"), store)
    assert run.status == "ok", run.error
    assert run.job_seconds and run.stages and run.cost.get("gb_seconds", 0) > 0
    v = valsort.validate(tmp_path / "out", m["records"], int(m["checksum"], 16), workers=1)
    assert v.ok, v.errors
    assert v.summary.records == 200_000
    assert bench.balance(v.summary.files) is not None
