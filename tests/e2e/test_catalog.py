"""Tables and the catalog (issue 6): saveAsTable / insertInto / spark.table on the warehouse,
SQL DDL and DML, temp and global temp views, spark.catalog.* -- against Apache Spark."""

from __future__ import annotations

import uuid

import pytest
from pyspark.errors import AnalysisException

from tests.conftest import classic_mode, connect_mode


@pytest.fixture
def name():
    """A fresh table name; the table is dropped on both engines afterwards."""
    return f"t_{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _cleanup(spark, oracle, request):
    yield
    n = request.node.funcargs.get("name")
    if n is None:
        return
    for sess, mode in ((oracle, classic_mode), (spark, connect_mode)):
        with mode():
            for obj in ("TABLE", "VIEW"):
                try:
                    sess.sql(f"DROP {obj} IF EXISTS {n}")
                    sess.sql(f"DROP {obj} IF EXISTS {n}_2")
                except AnalysisException:
                    pass


def _df(s):
    return s.createDataFrame(
        [(1, "a", 1.5), (2, "b", None), (3, None, 3.0)], "id INT, s STRING, d DOUBLE"
    )


def test_save_as_table_and_read_back(compare, name):
    def fn(s):
        _df(s).write.saveAsTable(name)
        return s.table(name)

    compare(fn)
    compare(lambda s: s.sql(f"SELECT id, s FROM {name} WHERE id > 1"))


@pytest.mark.parametrize("mode", ["append", "overwrite", "ignore"])
def test_save_as_table_modes(compare, name, mode):
    def fn(s):
        _df(s).write.saveAsTable(name)
        _df(s).where("id > 1").write.mode(mode).saveAsTable(name)
        return s.table(name)

    compare(fn)


def test_save_as_table_exists_error(compare, name):
    def fn(s):
        _df(s).write.saveAsTable(name)
        with pytest.raises(AnalysisException) as e:
            _df(s).write.saveAsTable(name)
        return e.value.getCondition()

    ours, theirs = compare.values(fn)
    assert ours == theirs == "TABLE_OR_VIEW_ALREADY_EXISTS"


def test_insert_into_by_position_with_cast(compare, name):
    def fn(s):
        _df(s).write.saveAsTable(name)
        s.createDataFrame([(9, "z", 7)], "x BIGINT, y STRING, z INT").write.insertInto(name)
        return s.table(name)

    compare(fn)


def test_insert_into_overwrite(compare, name):
    def fn(s):
        _df(s).write.saveAsTable(name)
        _df(s).where("id = 3").write.insertInto(name, overwrite=True)
        return s.table(name)

    compare(fn)


def test_partitioned_table(compare, name):
    def fn(s):
        _df(s).write.partitionBy("id").saveAsTable(name)
        return s.table(name)

    compare(fn)
    ours, theirs = compare.values(
        lambda s: [(c.name, c.dataType, c.isPartition) for c in s.catalog.listColumns(name)]
    )
    assert ours == theirs


def test_missing_table_errors(compare):
    def fn(s):
        with pytest.raises(AnalysisException) as e:
            s.table("no_such_table_xyz").collect()
        return e.value.getCondition()

    ours, theirs = compare.values(fn)
    assert ours == theirs == "TABLE_OR_VIEW_NOT_FOUND"


def test_ctas_insert_drop(compare, name):
    def fn(s):
        s.sql(f"CREATE TABLE {name} USING parquet AS SELECT id, id * 2 AS twice FROM range(5)")
        s.sql(f"INSERT INTO {name} SELECT 10, 20")
        s.sql(f"INSERT INTO {name} VALUES (11, 22), (12, 24)")
        return s.table(name)

    compare(fn)

    def drop(s):
        s.sql(f"DROP TABLE {name}")
        s.sql(f"DROP TABLE IF EXISTS {name}")
        with pytest.raises(AnalysisException) as e:
            s.sql(f"DROP TABLE {name}")
        return s.catalog.tableExists(name), e.value.getCondition()

    ours, theirs = compare.values(drop)
    assert ours == theirs


def test_create_table_with_schema_then_insert_overwrite(compare, name):
    def fn(s):
        s.sql(f"CREATE TABLE {name} (a INT, b STRING) USING parquet")
        s.sql(f"INSERT INTO {name} VALUES (1, 'x')")
        s.sql(f"INSERT OVERWRITE TABLE {name} SELECT 2, 'y'")
        return s.table(name)

    compare(fn)


def test_create_table_exists(compare, name):
    def fn(s):
        s.sql(f"CREATE TABLE {name} (a INT) USING parquet")
        s.sql(f"CREATE TABLE IF NOT EXISTS {name} (a INT) USING parquet")
        with pytest.raises(AnalysisException) as e:
            s.sql(f"CREATE TABLE {name} (a INT) USING parquet")
        return e.value.getCondition()

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_views(compare, name):
    def fn(s):
        s.range(5).createOrReplaceTempView(name)
        s.sql(f"CREATE OR REPLACE TEMP VIEW {name}_2 AS SELECT id * 10 AS x FROM {name}")
        out = sorted(r.x for r in s.table(f"{name}_2").collect())
        tables = sorted(
            (t.name, t.tableType, t.isTemporary)
            for t in s.catalog.listTables()
            if t.name.startswith(name)
        )
        dropped = s.catalog.dropTempView(name), s.catalog.dropTempView(name)
        s.sql(f"DROP VIEW {name}_2")
        return out, tables, dropped, s.catalog.tableExists(f"{name}_2")

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_global_temp_views(compare, new_session, name):
    def fn(s):
        s.range(3).createOrReplaceGlobalTempView(name)
        s.sql(f"CREATE OR REPLACE GLOBAL TEMP VIEW {name}_2 AS SELECT 1 AS one")
        rows = sorted(r.id for r in s.table(f"global_temp.{name}").collect())
        listed = sorted(
            t.name for t in s.catalog.listTables("global_temp") if t.name.startswith(name)
        )
        return rows, listed

    ours, theirs = compare.values(fn)
    assert ours == theirs
    # another session of the same server sees them (they are global)
    other = new_session()
    assert sorted(r.id for r in other.table(f"global_temp.{name}").collect()) == [0, 1, 2]
    ours, theirs = compare.values(
        lambda s: (
            s.catalog.dropGlobalTempView(name),
            s.catalog.dropGlobalTempView(name),
            s.catalog.dropGlobalTempView(f"{name}_2"),
        )
    )
    assert ours == theirs


def test_catalog_metadata(compare, name):
    def fn(s):
        _df(s).write.saveAsTable(name)
        t = [x for x in s.catalog.listTables() if x.name == name][0]
        cols = [
            (c.name, c.dataType, c.nullable, c.isPartition) for c in s.catalog.listColumns(name)
        ]
        got = s.catalog.getTable(name)
        return (
            s.catalog.currentDatabase(),
            (t.name, t.catalog, t.namespace, t.tableType, t.isTemporary),
            cols,
            s.catalog.tableExists(name),
            s.catalog.tableExists(f"default.{name}"),
            s.catalog.tableExists("nope_nope"),
            (got.name, got.tableType),
            [d.name for d in s.catalog.listDatabases()],
            s.catalog.databaseExists("default"),
        )

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_show_tables(compare, name):
    def fn(s):
        s.sql(f"CREATE TABLE {name} (a INT) USING parquet")
        return s.sql(f"SHOW TABLES LIKE '{name}*'")

    compare(fn)


def test_table_survives_restart(tmp_path):
    """Metadata sits next to the data in the warehouse: a new server sees the table."""
    from pyspark.sql.connect.session import SparkSession as RemoteSession

    from tests.conftest import REFERENCE, start_server

    if REFERENCE:
        pytest.skip("Spark without Hive keeps its catalog in memory")
    rows = []
    for i in range(2):
        srv = start_server(tmp_path / "work")
        try:
            s = RemoteSession.builder.remote(srv.url).create()
            if i == 0:
                s.range(4).write.saveAsTable("kept")
            rows = sorted(r.id for r in s.table("kept").collect())
            s.stop()
        finally:
            srv.stop()
    assert rows == [0, 1, 2, 3]
    assert (tmp_path / "work" / "spark-warehouse" / "kept").is_dir()


def test_static_partition_insert_and_properties(compare, name):
    def fn(s):
        s.sql(
            f"CREATE TABLE {name} (id INT, p INT) USING parquet PARTITIONED BY (p) "
            "TBLPROPERTIES ('k1' = 'v1')"
        )
        s.sql(f"INSERT INTO {name} PARTITION (p = 1) SELECT 5")
        s.sql(f"INSERT INTO {name} VALUES (6, 2)")
        return s.table(name)

    compare(fn)
    ours, theirs = compare.values(
        lambda s: (
            s.catalog.getTableProperties(name).get("k1"),
            sorted(x.partition for x in s.catalog.listPartitions(name)),
        )
    )
    assert ours == theirs


def test_external_table_from_path_option(compare, name, tmp_path):
    path = str(tmp_path / "ext")

    def fn(s):
        s.range(3).selectExpr("id AS a", "id * 2 AS b").write.mode("overwrite").parquet(path)
        s.sql(f"CREATE TABLE {name} USING parquet OPTIONS (path '{path}')")
        return s.table(name)

    compare(fn)
    ours, theirs = compare.values(lambda s: s.catalog.getTable(name).tableType)
    assert ours == theirs == "EXTERNAL"


def test_functions_in_the_catalog(compare):
    def fn(s):
        return (
            s.catalog.functionExists("count"),
            s.catalog.functionExists("default.nope_fn"),
            "to_date" in {f.name for f in s.catalog.listFunctions(pattern="to_*")},
            s.catalog.listFunctions(pattern="*not_existing_func*"),
        )

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_create_table_string(spark, name):
    spark.sql(f"CREATE TABLE {name} (id INT, s STRING) USING parquet")
    text = spark.catalog.getCreateTableString(name)
    assert (
        text.startswith(f"CREATE TABLE spark_catalog.default.{name} (") and "USING parquet" in text
    )


@pytest.mark.parametrize(
    "stmt",
    [
        "DROP VIEW {t}",
        "INSERT INTO {t} SELECT 1, 2, 3, 4",
        "INSERT INTO {t} SELECT 1",
        "CREATE TABLE {t} (x INT) USING parquet",
        "SELECT * FROM no_such_db_x.{t}",
        "USE no_such_db_x",
        "DROP DATABASE no_such_db_x",
        "DROP TABLE no_such_table_x",
        "CREATE DATABASE default",
    ],
)
def test_error_conditions(compare, name, stmt):
    def fn(s):
        s.sql(f"CREATE TABLE {name} (a INT, b STRING) USING parquet")
        with pytest.raises(AnalysisException) as e:
            s.sql(stmt.format(t=name)).collect()
        return e.value.getCondition()

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_temp_view_errors(compare, name):
    def fn(s):
        s.range(1).createTempView(name)
        with pytest.raises(AnalysisException) as e:
            s.range(1).createTempView(name)
        with pytest.raises(AnalysisException) as e2:
            s.catalog.setCurrentDatabase("no_such_db_x")
        return e.value.getCondition(), e2.value.getCondition()

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_persistent_view(compare, name):
    def fn(s):
        s.range(4).write.saveAsTable(name)
        s.sql(f"CREATE VIEW {name}_2 AS SELECT id * 3 AS x FROM {name} WHERE id > 0")
        rows = sorted(r.x for r in s.table(f"{name}_2").collect())
        kinds = sorted(
            (t.name, t.tableType) for t in s.catalog.listTables() if t.name.startswith(name)
        )
        s.sql(f"DROP VIEW {name}_2")
        return rows, kinds, s.catalog.tableExists(f"{name}_2")

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_overwrite_of_a_table_read_by_the_query(compare, name):
    """Spark refuses; the table keeps its rows."""

    def fn(s):
        _df(s).write.saveAsTable(name)
        with pytest.raises(AnalysisException) as e:
            s.table(name).where("id > 1").write.mode("overwrite").saveAsTable(name)
        with pytest.raises(AnalysisException) as e2:
            s.sql(f"INSERT OVERWRITE TABLE {name} SELECT * FROM {name}")
        return e.value.getCondition(), e2.value.getCondition() is not None, s.table(name).count()

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_describe_table(compare, name):
    def fn(s):
        s.sql(f"CREATE TABLE {name} (a INT, b STRING, p INT) USING parquet PARTITIONED BY (p)")
        return s.sql(f"DESCRIBE TABLE {name}")

    compare(fn, ordered=True)
    compare(lambda s: s.sql(f"DESCRIBE {name}"), ordered=True)
