"""df.write parquet/csv/json x modes, partitionBy; read back with both engines; atomicity."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F

from tests.conftest import assert_same, classic_mode, materialize
from tests.e2e.data import PEOPLE_DDL, people

FORMATS = ["parquet", "csv", "json"]
SCHEMA = {"parquet": None, "csv": PEOPLE_DDL, "json": PEOPLE_DDL}
STAGING_MARKERS = ("_temporary", "staging", ".tmp", "inprogress", "_attempt", ".sparkless")


def first_rows(s):
    return people(s).where("id <= 4")


def other_rows(s):
    return people(s).where("id > 4")


def write(df, fmt: str, path: Path, mode: str | None = None, partition_by=None):
    w = df.write.format(fmt)
    if mode is not None:
        w = w.mode(mode)
    if partition_by:
        w = w.partitionBy(*partition_by)
    if fmt == "csv":
        w = w.option("header", "true")
    w.save(str(path))


def read(s, fmt: str, path: Path):
    r = s.read.format(fmt)
    if fmt == "csv":
        r = r.option("header", "true")
    if SCHEMA[fmt]:
        r = r.schema(SCHEMA[fmt])
    return r.load(str(path))


def data_files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")
                  if p.is_file() and not p.name.startswith((".", "_")))


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if any(m in p.name.lower() for m in STAGING_MARKERS))


def check_written(compare, fmt: str, ours_path: Path, spark_path: Path, partitioned=()):
    """Our output, read by Apache Spark, equals Spark's own output read by Spark; and our
    output read back by sparkless agrees too."""
    assert ours_path.is_dir(), f"no output directory at {ours_path}"
    assert data_files(ours_path), f"no data files under {ours_path}"
    assert not leftovers(ours_path.parent), f"staging leftovers: {leftovers(ours_path.parent)}"
    with classic_mode():
        expected = materialize(read(compare.oracle, fmt, spark_path).select(*PEOPLE_COLS))
        ours_by_spark = materialize(read(compare.oracle, fmt, ours_path).select(*PEOPLE_COLS))
    assert_same(ours_by_spark, expected, check_nullability=False)
    ours_by_ours = materialize(read(compare.spark, fmt, ours_path).select(*PEOPLE_COLS))
    assert_same(ours_by_ours, expected, check_nullability=False)
    if partitioned:
        dirs = sorted(p.name for p in ours_path.iterdir() if p.is_dir())
        spark_dirs = sorted(p.name for p in spark_path.iterdir() if p.is_dir())
        assert dirs == spark_dirs, f"partition directories differ: {dirs} vs spark {spark_dirs}"


PEOPLE_COLS = ["id", "name", "dept", "salary", "age", "active"]


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "ours").mkdir()
    (tmp_path / "spark").mkdir()
    return tmp_path / "ours", tmp_path / "spark"


def do_both(compare, dirs, steps):
    """steps: list of (df_fn, fmt, mode, partition_by) applied in order on both engines."""
    ours_dir, spark_dir = dirs
    for df_fn, fmt, mode, part in steps:
        with classic_mode():
            write(df_fn(compare.oracle), fmt, spark_dir / "out", mode, part)
        write(df_fn(compare.spark), fmt, ours_dir / "out", mode, part)
    return ours_dir / "out", spark_dir / "out"


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_new_path(compare, dirs, fmt):
    ours, theirs = do_both(compare, dirs, [(people, fmt, None, None)])
    check_written(compare, fmt, ours, theirs)
    assert sorted(os.listdir(dirs[0])) == ["out"], "something was left next to the output"


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_shortcut_methods(compare, tmp_path, fmt):
    def w(s, path):
        df = people(s)
        if fmt == "csv":
            df.write.csv(str(path), header=True)
        else:
            getattr(df.write, fmt)(str(path))

    with classic_mode():
        w(compare.oracle, tmp_path / "spark")
    w(compare.spark, tmp_path / "ours")
    check_written(compare, fmt, tmp_path / "ours", tmp_path / "spark")


# "errorifexists" is refused by the pyspark Connect client itself (UNSUPPORTED_OPERATION)
@pytest.mark.parametrize("mode", ["error", "overwrite", "append", "ignore"])
def test_write_mode_on_new_path(compare, dirs, mode):
    fmt = "parquet"
    ours, theirs = do_both(compare, dirs, [(people, fmt, mode, None)])
    check_written(compare, fmt, ours, theirs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["overwrite", "append", "ignore"])
def test_write_mode_on_existing_path(compare, dirs, fmt, mode):
    ours, theirs = do_both(compare, dirs, [(first_rows, fmt, None, None),
                                           (other_rows, fmt, mode, None)])
    check_written(compare, fmt, ours, theirs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", [None, "error"])
def test_write_error_mode_on_existing_path_raises(compare, dirs, fmt, mode):
    ours_dir, spark_dir = dirs
    with classic_mode():
        write(first_rows(compare.oracle), fmt, spark_dir / "out")
        with pytest.raises(AnalysisException):
            write(other_rows(compare.oracle), fmt, spark_dir / "out", mode)
    write(first_rows(compare.spark), fmt, ours_dir / "out")
    before = data_files(ours_dir / "out")
    with pytest.raises(AnalysisException) as ei:
        write(other_rows(compare.spark), fmt, ours_dir / "out", mode)
    assert "already exists" in str(ei.value).lower() or "PATH_ALREADY_EXISTS" in str(ei.value)
    assert data_files(ours_dir / "out") == before, "an error-mode write changed the target"
    check_written(compare, fmt, ours_dir / "out", spark_dir / "out")
    assert compare.spark.range(2).count() == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_partition_by(compare, dirs, fmt):
    ours, theirs = do_both(compare, dirs, [(people, fmt, None, ["dept"])])
    check_written(compare, fmt, ours, theirs, partitioned=["dept"])


def test_partition_by_two_columns_append(compare, dirs):
    ours, theirs = do_both(compare, dirs, [(first_rows, "parquet", None, ["active", "dept"]),
                                           (other_rows, "parquet", "append", ["active", "dept"])])
    check_written(compare, "parquet", ours, theirs, partitioned=["active", "dept"])
    sub = sorted(str(p.relative_to(ours)) for p in ours.glob("*/*") if p.is_dir())
    spark_sub = sorted(str(p.relative_to(theirs)) for p in theirs.glob("*/*") if p.is_dir())
    assert sub == spark_sub


def test_partition_by_overwrite(compare, dirs):
    ours, theirs = do_both(compare, dirs, [(people, "parquet", None, ["dept"]),
                                           (first_rows, "parquet", "overwrite", ["dept"])])
    check_written(compare, "parquet", ours, theirs, partitioned=["dept"])


def test_write_multi_partition_result(compare, dirs):
    def big(s):
        return (s.range(0, 5000, 1, 4).select(
            F.col("id").cast("int").alias("id"), F.concat(F.lit("n"), F.col("id")).alias("name"),
            (F.col("id") % 3).cast("string").alias("dept"), (F.col("id") / 7).alias("salary"),
            (F.col("id") % 90).cast("int").alias("age"), (F.col("id") % 2 == 0).alias("active"))
            .repartition(3, "dept"))

    ours, theirs = do_both(compare, dirs, [(big, "parquet", None, None)])
    check_written(compare, "parquet", ours, theirs)


def test_write_then_read_back_is_usable(compare, tmp_path):
    people(compare.spark).write.parquet(str(tmp_path / "p"))
    compare(lambda s: s.read.parquet(str(tmp_path / "p")).groupBy("dept")
            .agg(F.sum("salary").alias("t")))


def _failing_df(s):
    # fails inside a task at run time (id 5 divides by zero), not during planning
    return s.range(0, 10, 1, 2).select(
        F.col("id"), (F.lit(1) / (F.col("id") - 5)).alias("boom"))


@pytest.mark.sparkless_only
@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_write_leaves_no_directory(spark, tmp_path, fmt):
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        with pytest.raises(Exception) as ei:
            write(_failing_df(spark), fmt, tmp_path / "out")
        assert "DIVIDE_BY_ZERO" in str(ei.value)
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")
    assert not (tmp_path / "out").exists(), (
        f"half-written output visible: {sorted(str(p) for p in (tmp_path / 'out').rglob('*'))}")
    assert os.listdir(tmp_path) == [], f"leftovers next to the target: {os.listdir(tmp_path)}"
    assert spark.range(3).count() == 3


@pytest.mark.sparkless_only
@pytest.mark.parametrize("mode", ["overwrite", "append"])
def test_failed_write_leaves_existing_output_unchanged(compare, spark, tmp_path, mode):
    target = tmp_path / "out"
    people(spark).write.parquet(str(target))
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        with pytest.raises(Exception) as ei:
            _failing_df(spark).write.mode(mode).parquet(str(target))
        assert "DIVIDE_BY_ZERO" in str(ei.value)
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")
    after = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before, "a failed write changed the existing output"
    assert not leftovers(tmp_path), f"staging leftovers: {leftovers(tmp_path)}"
    compare(lambda s: s.read.parquet(str(target)) if s is spark else people(s))
