"""A small sort through every shuffle store validates (issue 7: "a small sort through each
store validates"). Each store's real server runs on loopback (``tests.stores.servers``:
moto's S3 server, a Redis-compatible server, the crail metadata + storage servers); the job
is the benchmark's own unchanged PySpark script against an embedded sparkless server whose
shuffle store is that URI, and the output is checked with our valsort."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stores.servers import STORE_NAMES, running_store
from tpcds.sort import engines, gen, valsort

RECORDS = 40_000  # 4 MB in 4 files: several map tasks, a range shuffle, several reduce tasks


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    src = tmp_path_factory.mktemp("sort-in")
    m = gen.generate(f"{RECORDS * 100}B", src, per_partition=RECORDS // 4, workers=1)
    return src, m


@pytest.mark.parametrize("store", STORE_NAMES)
def test_small_sort_through_each_store_validates(
    store: str, data: tuple[Path, dict], tmp_path: Path
) -> None:
    src, m = data
    # small reduce partitions, so the range shuffle has several reduce tasks to read
    conf = {"spark.sql.adaptive.advisoryPartitionSizeInBytes": "1m"}
    with running_store(store, tmp_path) as running:
        run = engines.run_sparkless(str(src), str(tmp_path / "out"), running.uri, conf=conf)
    assert run.status == "ok", run.error
    assert run.metrics["store"] == running.uri
    # the shuffle really went through this store (bytes are after the store's codec: none
    # on file://, LZ4 over the network, so only "some" is checkable, not "all")
    assert run.metrics["store_bytes_written"] > 0 and run.metrics["store_bytes_read"] > 0
    assert run.metrics["store_requests"] > 0
    shuffles = [s for s in run.stages if s.phase.startswith("map/shuffle")]
    assert shuffles and sum(len(s.task_seconds) for s in shuffles) >= 2
    v = valsort.validate(tmp_path / "out", m["records"], int(m["checksum"], 16), workers=1)
    assert v.ok, v.errors
    assert v.summary.records == RECORDS and len(v.summary.files) >= 2
