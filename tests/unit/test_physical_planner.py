"""Stage cutting without processes: which exchanges a plan gets, and that every
fragment is SQL DuckDB binds over the inputs the planner says it reads."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from sparkless.conf import SessionConf
from sparkless.physical.planner import (
    BlockRead,
    BroadcastRead,
    Fixed,
    PhysicalPlanner,
    Shuffled,
    ShuffleRead,
    stage_deps,
)
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.builder import PlanBuilder
from sparkless.plan.type_oracle import TypeOracle


def spark(sql: str) -> sqlglot.exp.Expression:
    return sqlglot.parse_one(sql, read="spark")


@pytest.fixture()
def env():
    conf = SessionConf({"spark.sql.shuffle.partitions": "8"})
    oracle = TypeOracle()
    builder = PlanBuilder(Analyzer(conf, oracle))
    return conf, oracle, builder


def plan(env, logical, parallelism: int = 2):
    conf, oracle, _ = env
    return PhysicalPlanner(conf, "job", parallelism, oracle).plan(logical)


def facts(b: PlanBuilder, rows: int = 100):
    return b.range(0, rows, 1, 3)


def test_narrow_operators_make_one_stage(env):
    _, _, b = env
    p = b.filter(b.project(facts(b), [spark("id * 2 AS x")]), spark("x > 10"))
    phys = plan(env, p)
    assert phys.shuffles == {}
    assert len(phys.result) == 1 and isinstance(phys.result[0], Fixed)
    assert len(phys.result[0].frags) == 3  # one task per range split


def test_grouped_aggregate_is_two_phase_hash_exchange(env):
    _, _, b = env
    p = b.aggregate(facts(b), [spark("id % 5")], [spark("sum(id)"), spark("count(*)")])
    phys = plan(env, p)
    (dep,) = phys.shuffles.values()
    assert dep.partitioning["kind"] == "hash" and dep.num_partitions == 8
    assert "partial" in dep.description
    (group,) = phys.result
    assert isinstance(group, Shuffled) and group.shuffle_ids == [dep.shuffle_id]


def test_count_distinct_falls_back_to_one_phase(env):
    _, _, b = env
    p = b.aggregate(facts(b), [spark("id % 5")], [spark("count(DISTINCT id)")])
    (dep,) = plan(env, p).shuffles.values()
    assert "partial" not in dep.description


def test_global_aggregate_uses_single_partition(env):
    _, _, b = env
    agg = plan(env, b.aggregate(facts(b), [], [spark("max(id)")]))
    assert [d.partitioning["kind"] for d in agg.shuffles.values()] == ["single"]


def test_global_sort_is_range_partitioned_on_sampled_bounds(env):
    _, _, b = env
    srt = plan(env, b.sort(facts(b), [spark("id DESC"), spark("id % 3")]))
    sample, ranged = srt.shuffles.values()
    assert sample.partitioning["kind"] == "single" and "Sample" in sample.description
    assert ranged.partitioning == {"kind": "precomputed", "column": "__k0"}
    assert ranged.num_partitions == 8
    # Every range map task reads the sample (the bounds), and the result reads the ranges.
    for g in ranged.parts:
        assert all(any(isinstance(i, BroadcastRead) for i in f.inputs) for f in g.frags)
    assert stage_deps(srt.result) == {ranged.shuffle_id}


def test_small_side_is_broadcast(env):
    _, _, b = env
    big = b.range(0, 10_000_000, 1, 4)
    small = b.local(pa.table({"k": [1, 2, 3]}), None)
    phys = plan(env, b.join(big, small, "inner", spark("id = k")))
    (dep,) = phys.shuffles.values()
    assert dep.partitioning["kind"] == "single" and "Broadcast" in dep.description
    (group,) = phys.result
    assert isinstance(group, Fixed) and len(group.frags) == 4
    assert all(any(isinstance(i, BroadcastRead) for i in f.inputs) for f in group.frags)
    assert stage_deps(phys.result) == {dep.shuffle_id}


def test_broadcast_respects_join_type_and_threshold(env):
    conf, _, b = env
    big = b.range(0, 10_000_000, 1, 4)
    small = b.local(pa.table({"k": [1, 2, 3]}), None)
    # A full outer join cannot broadcast; a disabled threshold turns broadcasting off.
    full = plan(env, b.join(big, small, "full", spark("id = k")))
    assert all(d.partitioning["kind"] == "hash" for d in full.shuffles.values())
    conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    inner = plan(env, b.join(big, small, "inner", spark("id = k")))
    assert len(inner.shuffles) == 2
    assert all(d.partitioning["kind"] == "hash" for d in inner.shuffles.values())


def test_fragments_bind_in_duckdb(env):
    """Every task's SQL binds over inputs of the declared schemas."""
    _, oracle, b = env
    conf, _, _ = env
    conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    left = b.local(pa.table({"k": [1, 2], "v": ["a", "b"]}), None)
    right = b.range(0, 10, 1, 2)
    joined = b.join(left, right, "left", spark("k = id"))
    p = b.sort(b.aggregate(joined, [spark("v")], [spark("v"), spark("sum(id) AS s")]), [spark("s")])
    phys = plan(env, p)
    con = duckdb.connect()
    schemas = {sid: dep.schema for sid, dep in phys.shuffles.items()}
    groups = list(phys.result) + [g for d in phys.shuffles.values() for g in d.parts]
    for g in groups:
        frags = g.frags if isinstance(g, Fixed) else [g.frag]
        for f in frags:
            for i in f.inputs:
                if isinstance(i, BlockRead):
                    con.register(i.name, i.table)
                elif isinstance(i, (ShuffleRead, BroadcastRead)):
                    con.register(i.name, schemas[i.shuffle_id].empty_table())
            con.sql(f.sql).fetchall()
            for i in f.inputs:
                con.unregister(i.name)


def test_stage_graph_is_acyclic_with_broadcast_aggregate_and_range_sort(env):
    """Fragments must never share input lists: a stage that read its own shuffle would wait
    forever (seen when a range sort's bounds were appended to a shared template)."""
    _, _, b = env
    big = b.range(0, 1_000_000, 1, 3)
    small = b.local(pa.table({"k": [1, 2, 3], "name": ["a", "b", "c"]}), None)
    joined = b.join(big, small, "inner", spark("id % 3 = k"))
    agg = b.aggregate(joined, [spark("name")], [spark("name"), spark("count(*) AS n")])
    phys = plan(env, b.sort(agg, [spark("n DESC")]))
    deps = {sid: stage_deps(dep.parts) for sid, dep in phys.shuffles.items()}
    for sid, ds in deps.items():
        assert sid not in ds
    order: list[int] = []
    while len(order) < len(deps):  # a topological order exists
        ready = [s for s, ds in deps.items() if s not in order and ds <= set(order)]
        assert ready, f"cycle among {deps}"
        order.extend(ready)


def test_filters_and_projections_reach_the_parquet_scan(env, tmp_path):
    """Pushdown happens inside each fragment: DuckDB reads only the needed column and
    applies the predicate in the scan."""
    from sparkless.plan import sources

    conf, oracle, b = env
    path = tmp_path / "t.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS a, range * 2 AS b, 'x' AS c FROM range(1000)) TO '{path}'")
    scan = sources.read("parquet", [str(path)], {}, None, con)
    p = b.project(b.filter(scan, spark("b > 5")), [spark("a")])
    (group,) = plan(env, p).result
    (frag,) = group.frags
    compact = con.sql(f"EXPLAIN {frag.sql}").fetchall()[0][1].replace(" ", "")
    assert "Filters:b>5" in compact
    assert "Projections:a│" in compact  # only the column the query needs


def _ten_files(tmp_path, con) -> list[str]:
    paths = []
    for i in range(10):  # 10 files of ~1 MB: Spark packs them 3+3+3+1 at a 4 MB split
        path = tmp_path / f"part-{i}.parquet"
        con.execute(
            f"COPY (SELECT range AS a, md5(range::VARCHAR) || md5((range + {i})::VARCHAR) AS s "
            f"FROM range(20000)) TO '{path}' (COMPRESSION uncompressed)"
        )
        paths.append(str(path))
    return paths


def test_global_sort_over_files_balances_its_map_tasks(env, tmp_path):
    """The read keeps Spark's FilePartition tasks (what getNumPartitions shows); the map side
    of a sort over it is packed for 4 tasks per slot, so 2 slots do not end 6 files vs 4."""
    from sparkless.plan import sources

    conf, _, b = env
    con = duckdb.connect()
    files = _ten_files(tmp_path, con)
    size = max(os.path.getsize(f) for f in files)
    conf.set("spark.sql.files.maxPartitionBytes", str(3 * size + 2 * (4 << 20) + size // 2))
    scan = sources.read("parquet", files, {}, None, con)
    (read,) = plan(env, b.project(scan, [spark("a"), spark("s")])).result
    assert [len(f.sql.split(".parquet'")) - 1 for f in read.frags] == [3, 3, 3, 1]
    srt = plan(env, b.sort(b.filter(scan, spark("a > 5")), [spark("s")]))
    sample, ranged = srt.shuffles.values()
    assert [len(g.frags) for g in ranged.parts] == [10]
    # the sample reads one column and keeps 1,000 rows a file: one task per slot, each the
    # UNION ALL of its files' own samples
    assert [len(g.frags) for g in sample.parts] == [2]
    assert [f.sql.count("USING SAMPLE reservoir") for f in sample.parts[0].frags] == [5, 5]
    # a partition-dependent projection keeps the read's tasks: its values depend on them
    pid = plan(env, b.sort(b.project(scan, [spark("s"), spark("spark_partition_id() AS p")]), [spark("s")]))
    assert [len(g.frags) for g in list(pid.shuffles.values())[1].parts] == [4]


def test_pack_fragments_merges_neighbours_and_keeps_their_inputs():
    from sparkless.physical.planner import BroadcastRead, Fixed, Frag, pack_fragments

    bounds = BroadcastRead(0, "b")
    frags = [Frag(f"SELECT {i} AS x FROM b", [bounds]) for i in range(5)]
    (packed,) = pack_fragments([Fixed(frags)], 2)
    assert [f.sql.count("SELECT") for f in packed.frags] == [2, 3]
    assert all(f.inputs == [bounds] for f in packed.frags)  # one input, named once
    con = duckdb.connect()
    con.execute("CREATE TABLE b AS SELECT 1")
    rows = sorted(r for f in packed.frags for (r,) in con.sql(f.sql).fetchall())
    assert rows == [0, 1, 2, 3, 4]
    # few enough already, or two different inputs under one name: left as they are
    assert pack_fragments([Fixed(frags[:2])], 2)[0].frags == frags[:2]
    clash = [Frag("SELECT 1 FROM b", [bounds]), Frag("SELECT 2 FROM b", [BroadcastRead(1, "b")])] * 2
    assert pack_fragments([Fixed(clash)], 2)[0].frags == clash
