"""AnalyzePlan and friends as the client uses them: isLocal, inputFiles, sameSemantics,
semanticHash, DDL parsing, spark.version, interrupts."""

from __future__ import annotations

import os

import pytest
from pyspark.sql import functions as F

from tests.e2e.data import people


@pytest.mark.parametrize("which", ["local_relation", "range", "parquet"])
def test_is_local(compare, datadir, which):
    make = {"local_relation": lambda s: people(s),
            "range": lambda s: s.range(10),
            "parquet": lambda s: s.read.parquet(str(datadir / "people_parquet"))}[which]
    ours, theirs = compare.values(lambda s: make(s).isLocal())
    if which == "local_relation":
        # Classic Spark builds a LogicalRDD from a Python list; Spark Connect sends a
        # LocalRelation, which Spark Connect's own server reports as local.
        assert ours is True
    else:
        assert ours == theirs


def test_input_files(compare, datadir):
    ours, theirs = compare.values(
        lambda s: s.read.parquet(str(datadir / "people_parquet")).where("id > 1").inputFiles())
    assert sorted(os.path.basename(f) for f in ours) == sorted(
        os.path.basename(f) for f in theirs)


def test_same_semantics(spark):
    a = spark.range(10).where(F.col("id") > 3).select("id")
    b = spark.range(10).where(F.col("id") > 3).select("id")
    c = spark.range(10).where(F.col("id") > 4).select("id")
    assert a.sameSemantics(b)
    assert not a.sameSemantics(c)


def test_semantic_hash_is_stable(spark):
    a = spark.range(10).where(F.col("id") > 3)
    b = spark.range(10).where(F.col("id") > 3)
    assert isinstance(a.semanticHash(), int)
    assert a.semanticHash() == b.semanticHash()


@pytest.mark.parametrize("ddl", ["a INT, b STRING", "x array<struct<y: double, z: map<string, "
                                 "bigint>>>", "d DATE, t TIMESTAMP, m DECIMAL(12, 3)"])
def test_ddl_schema_parsing(compare, ddl):
    compare(lambda s: s.createDataFrame([], ddl))


def test_version_is_a_spark_version(spark):
    parts = spark.version.split(".")
    assert len(parts) >= 2 and all(p.isdigit() for p in parts[:2]), spark.version


def test_interrupt_all_when_idle(spark):
    assert isinstance(spark.interruptAll(), list)
    assert spark.range(3).count() == 3
