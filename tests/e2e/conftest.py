"""Input files for the e2e tests, written by plain Python (neither engine makes them)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import connect_mode
from tests.e2e.data import PEOPLE, PEOPLE_COLUMNS


@pytest.fixture(scope="session")
def datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("e2e-data")
    table = pa.table(
        {c: [r[i] for r in PEOPLE] for i, c in enumerate(PEOPLE_COLUMNS)},
        schema=pa.schema([("id", pa.int32()), ("name", pa.string()), ("dept", pa.string()),
                          ("salary", pa.float64()), ("age", pa.int32()), ("active", pa.bool_())]),
    )
    (d / "people_parquet").mkdir()
    pq.write_table(table.slice(0, 4), d / "people_parquet" / "part-0.parquet")
    pq.write_table(table.slice(4), d / "people_parquet" / "part-1.parquet")
    pq.write_table(table, d / "people.parquet")

    def cell(v):
        return "" if v is None else ("true" if v is True else "false" if v is False else v)

    with open(d / "people.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(PEOPLE_COLUMNS)
        for r in PEOPLE:
            w.writerow([cell(v) for v in r])
    with open(d / "people_noheader.csv", "w", newline="") as f:
        w = csv.writer(f)
        for r in PEOPLE:
            w.writerow([cell(v) for v in r])
    with open(d / "people.json", "w") as f:
        for r in PEOPLE:
            f.write(json.dumps({c: v for c, v in zip(PEOPLE_COLUMNS, r, strict=True)
                                if v is not None}) + "\n")
    (d / "csv_dir").mkdir()
    for i in range(3):
        with open(d / "csv_dir" / f"part-{i}.csv", "w") as f:
            f.write("k,v\n" + "".join(f"{i},{i * 10 + j}\n" for j in range(5)))
    return d


@pytest.fixture(autouse=True)
def _connect_mode_by_default():
    """e2e tests run in Connect mode unless they switch to the oracle explicitly."""
    with connect_mode():
        yield
