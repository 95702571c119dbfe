"""df.na / df.stat / describe / summary / sample (issue 6), against Apache Spark."""

from __future__ import annotations

import math

import pytest

NA_SCHEMA = "id INT, name STRING, score DOUBLE, flag BOOLEAN, n BIGINT"
NA_ROWS = [
    (1, "a", 1.5, True, 10),
    (2, None, None, None, None),
    (3, "c", float("nan"), False, 30),
    (None, "d", 4.0, None, 40),
    (5, None, 2.5, True, None),
]


def na(s):
    return s.createDataFrame(NA_ROWS, NA_SCHEMA)


@pytest.mark.parametrize(
    "fn",
    [
        lambda d: d.na.fill(0),
        lambda d: d.na.fill(2.7),
        lambda d: d.fillna("x"),
        lambda d: d.fillna(True),
        lambda d: d.fillna(7, subset=["id", "name"]),
        lambda d: d.fillna({"id": 9, "name": "zz", "score": 0.5}),
        lambda d: d.na.drop(),
        lambda d: d.dropna(how="all"),
        lambda d: d.dropna(thresh=4),
        lambda d: d.dropna(subset=["name", "score"]),
        lambda d: d.na.replace(1, 100),
        lambda d: d.na.replace(["a", "c"], ["A", None], "name"),
        lambda d: d.replace({1.5: 9.0, 4.0: 8.0}),
        lambda d: d.replace(True, False),
    ],
    ids=[
        "fill0",
        "fill_double",
        "fill_str",
        "fill_bool",
        "fill_subset",
        "fill_dict",
        "drop",
        "drop_all",
        "drop_thresh",
        "drop_subset",
        "replace_num",
        "replace_str",
        "replace_dict",
        "replace_bool",
    ],
)
def test_na(compare, fn):
    compare(lambda s: fn(na(s)))


NUM_ROWS = [(i, float(i * i) / 3, f"s{i % 4}", i % 3, str(i)) for i in range(1, 12)]
NUM_SCHEMA = "i INT, d DOUBLE, s STRING, k INT, t STRING"


def nums(s):
    return s.createDataFrame(NUM_ROWS, NUM_SCHEMA)


def _stats(df):
    """describe()/summary() rows; mean and stddev parsed: Spark's last digit depends on its
    partitions (sums, and per-partition Welford updates merged pairwise)."""
    out = []
    for r in df.collect():
        if r[0] in ("stddev", "mean"):
            out.append((r[0], *(None if v is None else float(v) for v in r[1:])))
        else:
            out.append(tuple(r))
    return out


def _same_stats(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert len(a) == len(b) and a[0] == b[0]
        for x, y in zip(a[1:], b[1:]):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-14) or (math.isnan(x) and math.isnan(y)), (
                    a,
                    b,
                )
            else:
                assert x == y, (a, b)


@pytest.mark.parametrize(
    "fn",
    [
        lambda s: nums(s).describe(),
        lambda s: nums(s).describe("i", "s"),
        lambda s: na(s).describe(),
        lambda s: nums(s).summary(),
        lambda s: nums(s).summary("count", "min", "10%", "90%", "max", "count_distinct"),
        lambda s: s.range(0).summary(),
        lambda s: s.createDataFrame(
            [("Bob", 13, 40.3, 150.5), ("Alice", 12, 37.8, 142.3), ("Tom", 11, 44.1, 142.2)],
            ["name", "age", "weight", "height"],
        ).describe(),
    ],
    ids=[
        "describe",
        "describe_cols",
        "describe_nulls",
        "summary",
        "summary_stats",
        "summary_empty",
        "describe_doctest",
    ],
)
def test_describe_summary(compare, fn):
    ours, theirs = compare.both(fn)
    assert ours.schema == theirs.schema
    _same_stats(_stats(ours), _stats(theirs))


def test_corr_cov(compare):
    ours, theirs = compare.values(
        lambda s: (nums(s).stat.corr("i", "d"), nums(s).cov("i", "k"), nums(s).corr("k", "d"))
    )
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(ours, theirs)), (ours, theirs)


def test_approx_quantile(compare):
    ours, theirs = compare.values(
        lambda s: nums(s).approxQuantile(["i", "d"], [0.0, 0.1, 0.25, 0.5, 0.75, 1.0], 0.0)
    )
    assert ours == theirs
    ours, theirs = compare.values(lambda s: s.range(1000).approxQuantile("id", [0.3, 0.77], 0.0))
    assert ours == theirs


def test_crosstab(compare):
    compare(lambda s: nums(s).crosstab("k", "s"))
    compare(lambda s: na(s).crosstab("name", "flag"))


def test_freq_items(compare):
    compare(
        lambda s: s.createDataFrame(
            [(1, "a")] * 5 + [(2, "b")] * 3 + [(3, "c")], "x INT, y STRING"
        ).freqItems(["x", "y"], 0.3),
        sort_arrays=True,
    )


def test_sample_is_deterministic_and_respects_fraction(spark):
    df = spark.range(0, 20000, 1, 4)
    a = sorted(r.id for r in df.sample(fraction=0.3, seed=7).collect())
    b = sorted(r.id for r in df.sample(fraction=0.3, seed=7).collect())
    c = sorted(r.id for r in df.sample(fraction=0.3, seed=8).collect())
    assert a == b  # same seed, same partitions: same rows
    assert a != c
    assert 0.27 * 20000 < len(a) < 0.33 * 20000
    n = df.sample(withReplacement=True, fraction=2.0, seed=3).count()
    assert 1.9 * 20000 < n < 2.1 * 20000


@pytest.mark.parametrize("parts", [1, 3])
def test_sample_draws_sparks_rows(compare, parts):
    """Spark's rows, not just as many: XORShiftRandom(seed + partition) per row, as Spark's
    BernoulliCellSampler and sampleBy draw, over ranges split as Spark splits them."""
    compare(lambda s: s.range(0, 300, 1, parts).sample(fraction=0.3, seed=11))
    compare(lambda s: s.range(0, 300, 1, parts).sample(True, 0.7, seed=5))  # PoissonSampler
    compare(lambda s: s.range(0, 300, 1, parts).selectExpr("id", "id % 3 AS key")
            .sampleBy("key", fractions={0: 0.2, 1: 0.6}, seed=4))


def test_random_split_partitions_the_rows(spark):
    df = spark.range(10000)
    parts = df.randomSplit([1.0, 2.0, 1.0], seed=11)
    ids = [sorted(r.id for r in p.collect()) for p in parts]
    assert sorted(x for p in ids for x in p) == list(range(10000))
    assert 2200 < len(ids[0]) < 2800 and 4600 < len(ids[1]) < 5400
    again = [sorted(r.id for r in p.collect()) for p in df.randomSplit([1.0, 2.0, 1.0], seed=11)]
    assert again == ids


def test_sample_of_equal_rows(spark):
    """Identical rows are drawn independently (sampleBy's usual input is one key column)."""
    df = spark.range(0, 3000, 1, 3).selectExpr("id % 2 AS key")
    n = df.sample(fraction=0.25, seed=5).count()
    assert 600 < n < 900
    counts = {
        r.key: r["count"]
        for r in df.sampleBy("key", {0: 0.1, 1: 0.3}, seed=1).groupBy("key").count().collect()
    }
    assert 100 < counts[0] < 200 and 370 < counts[1] < 530


def test_sample_by(spark, compare):
    df = spark.range(0, 6000).selectExpr("id", "id % 3 AS key")
    got = df.sampleBy("key", fractions={0: 0.1, 1: 0.5}, seed=0)
    counts = {r.key: r["count"] for r in got.groupBy("key").count().collect()}
    assert 2 not in counts
    assert 150 < counts[0] < 250 and 900 < counts[1] < 1100
    assert sorted(r.id for r in got.collect()) == sorted(
        r.id for r in df.sampleBy("key", fractions={0: 0.1, 1: 0.5}, seed=0).collect()
    )


def test_approx_count_distinct(compare):
    compare(
        lambda s: nums(s).selectExpr(
            "approx_count_distinct(s) AS a", "approx_count_distinct(i) AS b"
        )
    )
