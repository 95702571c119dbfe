"""Text and ORC sources and sinks, partition directory names, file order of a read --
each written by one engine and read by both, against Apache Spark."""

from __future__ import annotations

import os

import pytest

from tests.conftest import classic_mode, connect_mode


def _write(session, connect: bool, fn) -> None:
    with connect_mode() if connect else classic_mode():
        fn(session)


@pytest.fixture(params=["sparkless", "spark"])
def writer(request, spark, oracle):
    """Which engine writes the files (both engines then read them)."""
    return (spark, True) if request.param == "sparkless" else (oracle, False)


def test_text_round_trip(compare, writer, tmp_path):
    session, connect = writer
    path = str(tmp_path / "t")
    _write(session, connect, lambda s: s.createDataFrame(
        [("a",), ("b b",), (None,), ("",), ("c",)], "v STRING").coalesce(1).write.text(path))
    compare(lambda s: s.read.text(path))
    compare(lambda s: s.read.schema("line STRING").text(path))
    compare(lambda s: s.read.text(path, wholetext=True))


def test_text_lines_with_crlf_and_no_final_newline(compare, tmp_path):
    (tmp_path / "x.txt").write_bytes(b"one\r\ntwo\rthree\n\nfour")
    (tmp_path / "y.txt").write_bytes(b"")
    compare(lambda s: s.read.text(str(tmp_path)))


def test_text_write_needs_one_string_column(spark):
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException, match="single column"):
        spark.range(3).selectExpr("id", "id AS b").write.text("/tmp/never-written-sparkless")


def test_orc_round_trip(compare, writer, tmp_path):
    session, connect = writer
    path = str(tmp_path / "o")
    _write(session, connect, lambda s: s.createDataFrame(
        [(1, "x", 1.5, True), (2, None, None, None)], "a BIGINT, b STRING, c DOUBLE, d BOOLEAN"
    ).write.orc(path))
    compare(lambda s: s.read.orc(path))
    compare(lambda s: s.read.format("orc").load(path).where("a > 1"))


def test_partition_directories_named_as_spark(spark, oracle, tmp_path):
    """Spark's escapePathName: a space stays, '/', '=', ':', '%' become %XX; NULL and ''
    are __HIVE_DEFAULT_PARTITION__."""
    rows = [(1, "Hyukjin Kwon"), (2, "a/b=c:d%"), (3, None), (4, "")]
    dirs = {}
    for name, session, connect in (("ours", spark, True), ("theirs", oracle, False)):
        path = str(tmp_path / name)
        _write(session, connect, lambda s, p=path: s.createDataFrame(rows, "id INT, k STRING")
               .write.partitionBy("k").parquet(p))
        dirs[name] = sorted(d for d in os.listdir(path) if not d.startswith(("_", ".")))
    assert dirs["ours"] == dirs["theirs"]


def test_partitioned_read_back_by_both(compare, writer, tmp_path):
    session, connect = writer
    path = str(tmp_path / "p")
    _write(session, connect, lambda s: s.createDataFrame(
        [(100, "Hyukjin Kwon"), (120, "Ruifeng Zheng"), (7, "a/b")], "age INT, name STRING"
    ).write.partitionBy("name").parquet(path))
    compare(lambda s: s.read.parquet(path))
    compare(lambda s: s.read.parquet(os.path.join(path, "name=Hyukjin Kwon")))


def test_partitioned_orc_and_text_writes(compare, spark, tmp_path):
    path = str(tmp_path / "po")
    with connect_mode():
        spark.createDataFrame([(1, "x y"), (2, None)], "a INT, k STRING").write.partitionBy("k").orc(path)
    assert sorted(d for d in os.listdir(path) if not d.startswith("_")) == [
        "k=__HIVE_DEFAULT_PARTITION__", "k=x y"]
    compare(lambda s: s.read.orc(os.path.join(path, "k=x y")))
    tpath = str(tmp_path / "pt")
    with connect_mode():
        spark.createDataFrame([("v1", 1), ("v2", 2)], "v STRING, k INT").write.partitionBy("k").text(tpath)
    compare(lambda s: s.read.text(os.path.join(tpath, "k=2")))


def test_read_of_several_files_comes_largest_first(compare, tmp_path):
    """Spark packs files into scan tasks largest first: a plain read shows them so."""
    small, large = tmp_path / "d1", tmp_path / "d2"
    small.mkdir()
    large.mkdir()
    (small / "a.json").write_text('{"age":30,"name":"Bob"}\n')
    (large / "b.json").write_text('{"age":25,"name":"Alice"}\n')
    compare(lambda s: s.read.json([str(small), str(large)]), ordered=True)


def test_xml_round_trip(compare, writer, tmp_path):
    session, connect = writer
    path = str(tmp_path / "x")
    _write(session, connect, lambda s: s.createDataFrame(
        [(100, "Hyukjin Kwon", 1.5), (7, "a & b", None)], "age BIGINT, name STRING, score DOUBLE"
    ).coalesce(1).write.option("rowTag", "person").xml(path))
    compare(lambda s: s.read.option("rowTag", "person").xml(path))
    compare(lambda s: s.read.option("rowTag", "person").schema("name STRING, age INT").xml(path))


def test_read_of_a_dataframe_of_strings(compare):
    def json_df(s):
        return s.createDataFrame([('{"name": "Alice", "age": 25}',), ('{"name": "Bob", "age": 30}',)],
                                 "value STRING")

    def xml_df(s):
        return s.createDataFrame([("<p><name>Alice</name><age>25</age></p>",),
                                  ("<p><name>Bob</name><age>30.5</age></p>",)], "value STRING")

    compare(lambda s: s.read.json(json_df(s)))
    compare(lambda s: s.read.json(json_df(s), schema="name STRING, age INT"))
    compare(lambda s: s.read.option("rowTag", "p").xml(xml_df(s)))
