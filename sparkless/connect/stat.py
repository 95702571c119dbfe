"""``df.na.*`` and ``df.stat.*`` / ``describe`` / ``summary`` / ``sample`` relations.

They compose existing IR: a Project (fill / replace), a Filter (drop, sample), an
Aggregate (corr, cov, approxQuantile). Those whose *schema* depends on the data
(describe, summary, crosstab, freqItems) run one aggregate job and answer with a
small local relation, rendered as Spark renders values (``cast(x as string)``).

Quantiles are Spark's ``percentile_approx`` on data that fits its sketch exactly: the
value of rank ``ceil(p * n)`` -- DuckDB's ``quantile_disc`` is the same rank.

Sampling is a pure function of the row, the seed (and, with replacement, the copy
number): ``hash(row..., seed) / 2^64`` in ``[lower, upper)``. The rows picked are not
Spark's, but they are the same for a seed however the data is partitioned, and
``randomSplit``'s ranges are disjoint and cover every row.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from pyspark.sql.connect.proto import expressions_pb2 as epb
from pyspark.sql.connect.proto import relations_pb2 as pb
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    FractionalType,
    IntegralType,
    LongType,
    NumericType,
    StringType,
    StructField,
    StructType,
)
from sqlglot import exp

from sparkless.connect.expressions import to_sql
from sparkless.errors import AnalysisException, IllegalArgumentException
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.types import arrow_type_of, duckdb_type_sql

if TYPE_CHECKING:
    from sparkless.connect.relations import RelationConverter

TWO_64 = "18446744073709551616.0"


def _duck(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'::DOUBLE"
        if math.isinf(value):
            return "'Infinity'::DOUBLE" if value > 0 else "'-Infinity'::DOUBLE"
        return f"{value!r}::DOUBLE"
    return str(value)


def _py(lit: epb.Expression.Literal) -> Any:
    kind = lit.WhichOneof("literal_type")
    if kind in (None, "null"):
        return None
    return getattr(lit, kind)


def _cast_value(value: Any, dt: DataType) -> Any:
    """``lit(value).cast(dt)`` for the simple values na.fill / na.replace take."""
    if value is None:
        return None
    if isinstance(dt, IntegralType):
        return int(value)  # Spark truncates toward zero
    if isinstance(dt, (FloatType, DoubleType)):
        return float(value)
    if isinstance(dt, DecimalType):
        return Decimal(str(value))
    if isinstance(dt, StringType):
        return str(value)
    return value


def _typed(value: Any, dt: DataType) -> str:
    v = _cast_value(value, dt)
    if v is None:
        return f"CAST(NULL AS {duckdb_type_sql(dt)})"
    if isinstance(v, Decimal):
        return f"CAST('{v}' AS {duckdb_type_sql(dt)})"
    return f"CAST({_sql_literal(v)} AS {duckdb_type_sql(dt)})"


def _column_error(name: str, child: ir.Plan) -> AnalysisException:
    return AnalysisException(
        f"A column, variable, or function parameter with name `{name}` cannot be resolved. Did you "
        f"mean one of the following? [{', '.join(f'`{a.name}`' for a in child.output)}].",
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        sql_state="42703",
    )


def _select(conv: RelationConverter, child: ir.Plan, names: list[str]) -> list[ir.Attribute]:
    scope = conv.b.a.scope(child)
    out = []
    for n in names:
        try:
            attr, _ = scope.resolve([n])
        except AnalysisException:
            raise _column_error(n, child) from None
        out.append(attr)
    return out


def _kind(v: Any) -> type:
    if isinstance(v, bool):
        return BooleanType
    if isinstance(v, (int, float)):
        return NumericType
    return StringType


def _ref(a: ir.Attribute) -> str:
    return a.col


# ---- na ------------------------------------------------------------------------------


def fill_na(conv: RelationConverter, r: pb.NAFill) -> ir.Plan:
    child = conv.convert(r.input)
    values = [_py(v) for v in r.values]
    if len(values) == 1:
        target = _kind(values[0])
        attrs = _select(conv, child, list(r.cols)) if r.cols else child.output
        value = float(values[0]) if target is NumericType else values[0]  # Spark: fill(double)
        fills = {a.id: value for a in attrs if isinstance(a.dtype, target)}
    else:
        fills = {a.id: v for a, v in zip(_select(conv, child, list(r.cols)), values)}
    exprs = []
    for a in child.output:
        if a.id not in fills:
            exprs.append(ir.NamedExpr(Analyzer._ref(a), a))
            continue
        col = a.col
        if isinstance(a.dtype, (FloatType, DoubleType)):
            col = f"CASE WHEN isnan({col}) THEN NULL ELSE {col} END"
        value = fills[a.id]
        e = _duck(f"COALESCE({col}, {_typed(value, a.dtype)})")
        # Spark's cast of a fractional literal to an integral/decimal column may be null.
        may_null = isinstance(value, float) and isinstance(a.dtype, (IntegralType, DecimalType))
        nullable = a.nullable and (value is None or may_null)
        exprs.append(ir.NamedExpr(e, ir.Attribute(a.name, a.dtype, nullable)))
    return ir.Project(child, exprs)


def drop_na(conv: RelationConverter, r: pb.NADrop) -> ir.Plan:
    child = conv.convert(r.input)
    attrs = _select(conv, child, list(r.cols)) if r.cols else child.output
    need = r.min_non_nulls if r.HasField("min_non_nulls") else len(attrs)
    terms = []
    for a in attrs:
        ok = f"{a.col} IS NOT NULL"
        if isinstance(a.dtype, (FloatType, DoubleType)):
            ok += f" AND NOT isnan({a.col})"
        terms.append(f"(CASE WHEN {ok} THEN 1 ELSE 0 END)")
    if need <= 0:
        return child
    return ir.Filter(child, _duck(f"({' + '.join(terms) or '0'}) >= {need}"))


def replace(conv: RelationConverter, r: pb.NAReplace) -> ir.Plan:
    child = conv.convert(r.input)
    pairs = [(_py(x.old_value), _py(x.new_value)) for x in r.replacements]
    if not pairs:
        return child
    keys = [k for k, _ in pairs if k is not None]
    target = _kind(keys[0]) if keys else StringType
    attrs = _select(conv, child, list(r.cols)) if r.cols else child.output
    chosen = {a.id for a in attrs if isinstance(a.dtype, target)}
    exprs = []
    for a in child.output:
        if a.id not in chosen:
            exprs.append(ir.NamedExpr(Analyzer._ref(a), a))
            continue
        whens = []
        for old, new in pairs:
            if old is None:
                cond = f"{a.col} IS NULL"
            elif target is NumericType:
                if isinstance(old, float) and math.isnan(old):
                    cond = f"isnan(CAST({a.col} AS DOUBLE))"
                else:
                    cond = f"CAST({a.col} AS DOUBLE) = {_sql_literal(float(old))}"
            else:
                cond = f"{a.col} = {_sql_literal(old)}"
            whens.append(f"WHEN {cond} THEN {_typed(new, a.dtype)}")
        e = _duck(f"CASE {' '.join(whens)} ELSE {a.col} END")
        nullable = a.nullable or any(n is None for _, n in pairs)
        exprs.append(ir.NamedExpr(e, ir.Attribute(a.name, a.dtype, nullable)))
    return ir.Project(child, exprs)


# ---- describe / summary -------------------------------------------------------------

DESCRIBE = ["count", "mean", "stddev", "min", "max"]
SUMMARY = ["count", "mean", "stddev", "min", "25%", "50%", "75%", "max"]


def describe(conv: RelationConverter, r: pb.StatDescribe) -> ir.Plan:
    child = conv.convert(r.input)
    attrs = _select(conv, child, list(r.cols)) if r.cols else child.output
    return _summary(conv, child, attrs, DESCRIBE)


def summary(conv: RelationConverter, r: pb.StatSummary) -> ir.Plan:
    child = conv.convert(r.input)
    return _summary(conv, child, child.output, list(r.statistics) or SUMMARY)


def _as_double(a: ir.Attribute) -> str:
    q = "`" + a.name.replace("`", "``") + "`"
    return f"try_cast({q} AS DOUBLE)" if isinstance(a.dtype, StringType) else f"CAST({q} AS DOUBLE)"


def _percent(stat: str) -> float:
    try:
        p = float(stat[:-1]) / 100.0
    except ValueError:
        raise IllegalArgumentException(f"Unable to parse {stat} as a percentile") from None
    if not 0.0 <= p <= 1.0:
        raise IllegalArgumentException("percentiles should be in the range [0.0, 1.0]")
    return p


def _summary(
    conv: RelationConverter, child: ir.Plan, attrs: list[ir.Attribute], stats: list[str]
) -> ir.Plan:
    from sparkless.connect.show import format_value

    session = conv.session
    cols = [a for a in attrs if isinstance(a.dtype, (NumericType, StringType))]
    lowered = [s.lower() for s in stats]
    for s in lowered:
        if s not in (
            "count",
            "count_distinct",
            "approx_count_distinct",
            "mean",
            "stddev",
            "min",
            "max",
        ) and not s.endswith("%"):
            raise IllegalArgumentException(f"{s} is not a recognised statistic.")
    percentiles = [_percent(s) for s in lowered if s.endswith("%")]
    out_schema = StructType(
        [StructField("summary", StringType(), True)]
        + [StructField(a.name, StringType(), True) for a in cols]
    )
    if not cols:
        table = pa.table({"summary": pa.array(stats, pa.string())})
        return conv.b.local(table, StructType([StructField("summary", StringType(), True)]))
    # The aggregates: Spark's functions (by name, through the analyzer), then the percentiles.
    spark_aggs: list[exp.Expression] = []
    slots: list[list[tuple[str, int | None]]] = []  # per column: (kind, index) per statistic
    source = child
    if "stddev" in lowered:
        # Two passes, as Spark's central moments come out (DuckDB's one-pass stddev_samp can
        # differ in the last digits): the means first, joined to every row.
        means = [
            exp.alias_(sqlglot.parse_one(f"avg({_as_double(a)})", read="spark"), f"__mean{i}")
            for i, a in enumerate(cols)
        ]
        source = conv.b.join(child, conv.b.aggregate(child, [], means), "cross", None)
    for ci, a in enumerate(cols):
        q = "`" + a.name.replace("`", "``") + "`"
        casted = f"try_cast({q} AS DOUBLE)" if isinstance(a.dtype, StringType) else q
        d, m = _as_double(a), f"`__mean{ci}`"
        stddev = f"CASE WHEN count({d}) > 1 THEN sqrt(sum(({d} - {m}) * ({d} - {m})) / (count({d}) - 1)) END"
        per: list[tuple[str, int | None]] = []
        for s in lowered:
            sql = {
                "count": f"count({q})",
                "count_distinct": f"count(DISTINCT {q})",
                "approx_count_distinct": f"approx_count_distinct({q})",
                "mean": f"avg({casted})",
                "stddev": stddev,
                "min": f"min({q})",
                "max": f"max({q})",
            }.get(s)
            if sql is None:
                per.append(("pct", percentiles.index(_percent(s))))
                continue
            spark_aggs.append(
                exp.alias_(sqlglot.parse_one(sql, read="spark"), f"__s{len(spark_aggs)}")
            )
            per.append(("agg", len(spark_aggs) - 1))
        slots.append(per)
    agg = conv.b.aggregate(source, [], spark_aggs)
    assert isinstance(agg, ir.Aggregate)
    pct_attrs: list[ir.Attribute | None] = []
    if percentiles:
        plist = ", ".join(repr(p) for p in percentiles)
        for a in cols:
            src = f"TRY_CAST({a.col} AS DOUBLE)" if isinstance(a.dtype, StringType) else a.col
            dt = DoubleType() if isinstance(a.dtype, StringType) else a.dtype
            attr = ir.Attribute(f"pct_{a.name}", ArrayType(dt, True))
            agg.aggs.append(ir.NamedExpr(_duck(f"quantile_disc({src}, [{plist}])"), attr))
            pct_attrs.append(attr)
    row = session.collect(agg).to_pylist()
    values = list(row[0].values()) if row else [None] * len(agg.aggs)
    tz = session.conf.time_zone
    columns: dict[str, list[str | None]] = {"summary": list(stats)}
    for ci, per in enumerate(slots):
        cells: list[str | None] = []
        for kind, idx in per:
            if kind == "agg":
                v, dt = values[idx], agg.aggs[idx].attr.dtype
            else:
                arr = values[len(spark_aggs) + ci]
                v = arr[idx] if arr else None
                dt = pct_attrs[ci].dtype.elementType
            cells.append(None if v is None else format_value(v, dt, tz))
        columns[f"c{ci}"] = cells
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return conv.b.local(table, out_schema)


# ---- correlation, covariance, quantiles --------------------------------------------


def _numeric(child: ir.Plan, a: ir.Attribute, what: str) -> None:
    if not isinstance(a.dtype, NumericType):
        raise IllegalArgumentException(
            f"requirement failed: Currently {what} calculation for columns with dataType "
            f"{a.dtype.simpleString()} not supported."
        )


def _pair_agg(
    conv: RelationConverter, child: ir.Plan, c1: str, c2: str, fn: str, what: str
) -> ir.Plan:
    a, b = _select(conv, child, [c1, c2])
    _numeric(child, a, what)
    _numeric(child, b, what)
    q = lambda n: "CAST(`" + n.replace("`", "``") + "` AS DOUBLE)"  # noqa: E731
    e = sqlglot.parse_one(f"{fn}({q(a.name)}, {q(b.name)})", read="spark")
    return conv.b.aggregate(child, [], [exp.alias_(e, f"{fn}({c1}, {c2})", quoted=True)])


def corr(conv: RelationConverter, r: pb.StatCorr) -> ir.Plan:
    method = r.method if r.HasField("method") else "pearson"
    if method != "pearson":
        raise IllegalArgumentException(
            f"Currently only the calculation of the Pearson Correlation coefficient is supported. {method}"
        )
    return _pair_agg(conv, conv.convert(r.input), r.col1, r.col2, "corr", "correlation")


def cov(conv: RelationConverter, r: pb.StatCov) -> ir.Plan:
    return _pair_agg(conv, conv.convert(r.input), r.col1, r.col2, "covar_samp", "covariance")


def approx_quantile(conv: RelationConverter, r: pb.StatApproxQuantile) -> ir.Plan:
    child = conv.convert(r.input)
    if r.relative_error < 0:
        raise IllegalArgumentException(
            f"Relative Error must be non-negative but got {r.relative_error}"
        )
    probs = list(r.probabilities)
    for p in probs:
        if not 0.0 <= p <= 1.0:
            raise IllegalArgumentException(
                f"percentile should be in the range [0.0, 1.0], but got {p}."
            )
    attrs = _select(conv, child, list(r.cols))
    for a in attrs:
        _numeric(child, a, "quantile")
    plist = ", ".join(repr(float(p)) for p in probs)
    parts = [
        f"coalesce(quantile_disc(CAST({a.col} AS DOUBLE), [{plist}]) FILTER (WHERE NOT isnan(CAST({a.col} AS DOUBLE))), [])"
        if probs
        else "CAST([] AS DOUBLE[])"
        for a in attrs
    ]
    attr = ir.Attribute("approx_quantile", ArrayType(ArrayType(DoubleType(), True), True), True)
    return ir.Aggregate(child, [], [ir.NamedExpr(_duck(f"[{', '.join(parts)}]"), attr)])


# ---- crosstab / freqItems -------------------------------------------------------------


def crosstab(conv: RelationConverter, r: pb.StatCrosstab) -> ir.Plan:
    from sparkless.connect.show import format_value

    session = conv.session
    child = conv.convert(r.input)
    a, b = _select(conv, child, [r.col1, r.col2])
    q = lambda n: "`" + n.replace("`", "``") + "`"  # noqa: E731
    agg = conv.b.aggregate(
        child,
        [sqlglot.parse_one(q(a.name), read="spark"), sqlglot.parse_one(q(b.name), read="spark")],
        [exp.alias_(sqlglot.parse_one("count(1)", read="spark"), "n")],
    )
    tz = session.conf.time_zone

    def clean(v: Any, dt: DataType) -> str:
        return "null" if v is None else format_value(v, dt, tz)

    counts: dict[str, dict[str, int]] = {}
    heads: set[str] = set()
    for row in session.collect(agg).to_pylist():
        k1, k2, n = list(row.values())
        x, y = clean(k1, a.dtype), clean(k2, b.dtype)
        heads.add(y)
        counts.setdefault(x, {})[y] = n
    columns = sorted(heads)
    name = f"{r.col1}_{r.col2}"
    fields = [StructField(name, StringType(), True)] + [
        StructField(c, LongType(), False) for c in columns
    ]
    data = {name: pa.array(list(counts), pa.string())}
    for i, c in enumerate(columns):
        data[f"__{i}"] = pa.array([counts[x].get(c, 0) for x in counts], pa.int64())
    return conv.b.local(pa.table(data), StructType(fields))


def freq_items(conv: RelationConverter, r: pb.StatFreqItems) -> ir.Plan:
    session = conv.session
    child = conv.convert(r.input)
    support = r.support if r.HasField("support") else 0.01
    if not 1e-4 <= support <= 1.0:
        raise IllegalArgumentException(f"support ({support}) must be greater than 1e-4.")
    attrs = _select(conv, child, list(r.cols))
    fields, data = [], {}
    for i, a in enumerate(attrs):
        q = "`" + a.name.replace("`", "``") + "`"
        agg = conv.b.aggregate(
            child,
            [sqlglot.parse_one(q, read="spark")],
            [exp.alias_(sqlglot.parse_one("count(1)", read="spark"), "n")],
        )
        rows = [list(x.values()) for x in session.collect(agg).to_pylist()]
        items = _frequent(rows, int(1 / support))
        dt = ArrayType(a.dtype, True)
        fields.append(StructField(f"{a.name}_freqItems", dt, False))
        data[f"__{i}"] = pa.array([items], arrow_type_of(dt))
    return conv.b.local(pa.table(data), StructType(fields))


def _frequent(counts: list[list[Any]], size: int) -> list[Any]:
    """Spark's FreqItemCounter (Karp et al.) fed with (value, count) pairs: every value of
    frequency above ``1 / size`` survives, with possible false positives."""
    base: dict[Any, int] = {}
    for key, n in sorted(counts, key=lambda kv: -kv[1]):
        if key in base:
            base[key] += n
        elif len(base) < size:
            base[key] = n
        else:
            low = min(base.values())
            if n - low >= 0:
                base[key] = n
                base = {k: v - low for k, v in base.items() if v > low}
            else:
                base = {k: v - n for k, v in base.items()}
    return list(base)


# ---- sampling ---------------------------------------------------------------------------


def _uniform(attrs: list[ir.Attribute], seed: int, extra: str = "") -> str:
    cols = ", ".join([a.col for a in attrs] + [str(seed)] + ([extra] if extra else []))
    return f"(hash({cols}) / {TWO_64})"


def _numbered(child: ir.Plan) -> tuple[ir.Plan, ir.Attribute]:
    """``child`` with each row's ordinal among the identical rows of its partition, so equal
    rows are drawn independently; it does not depend on the order of the rows. A plain
    Project: the window runs inside each task's fragment, with no exchange."""
    dup = ir.Attribute("__dup", LongType(), False)
    by = ", ".join(a.col for a in child.output)
    window = _duck(f"row_number() OVER (PARTITION BY {by})" if by else "row_number() OVER ()")
    exprs = [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output] + [ir.NamedExpr(window, dup)]
    return ir.Project(child, exprs), dup


def _orderable(dt: DataType) -> bool:
    from pyspark.sql.types import MapType

    return not isinstance(dt, MapType)


def _drawn(conv: RelationConverter, child: ir.Plan, seed: int, keep) -> ir.Plan:  # noqa: ANN001
    """Rows of ``child`` for which ``keep(draw)`` holds, ``draw`` being ``rand(seed)``:
    Spark's XORShiftRandom(seed + partition) stream, one draw per row in scan order (what
    both Spark's BernoulliCellSampler and sampleBy consume), so a DataFrame split into
    Spark's partitions gets Spark's rows. A column first: the draw is per-row state."""
    draw = exp.Anonymous(this="rand", expressions=[exp.cast(exp.Literal.number(seed), "BIGINT")])
    drawn = conv.b.with_columns(child, ["__draw"], [draw])
    picked = conv.b.filter(drawn, keep(exp.column("__draw", quoted=True)))
    return ir.Project(picked, [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output])


def _poisson_copies(child: ir.Plan, seed: int, fraction: float) -> ir.Plan:
    """Each row repeated as many times as Spark's PoissonSampler draws for it
    (``executors/builtin_sampling.py``): a count per row in scan order, then that many
    copies by unnesting ``range(count)``."""
    from pyspark.sql.types import IntegerType

    row = exp.Window(this=exp.RowNumber(), over="OVER")
    row.meta["per_task"] = True  # the task's own rows, in scan order: no exchange
    pid = exp.cast(exp.Anonymous(this="getvariable", expressions=[exp.Literal.string("sparkless_partition_id")]), "INT")
    draw = exp.Anonymous(this="sparkless_poisson_count", expressions=[
        exp.cast(exp.Literal.number(seed), "BIGINT"), pid, row, exp.cast(exp.Literal.number(repr(fraction)), "DOUBLE"),
    ])
    draw.meta["nondeterministic"] = True
    copies = ir.Attribute("__copies", IntegerType(), False)
    counted = ir.Project(child, [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output] + [ir.NamedExpr(draw, copies)])
    positive = ir.Filter(counted, _duck(f"{copies.col} > 0"))
    copy = ir.Attribute("__copy", LongType(), False)
    each = _duck(f"range(CAST({copies.col} AS BIGINT))")
    repeated = ir.Generate(positive, "explode", [each], False, False, [copy])
    return ir.Project(repeated, [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output])


def sample(conv: RelationConverter, r: pb.Sample) -> ir.Plan:
    import random

    child = conv.convert(r.input)
    seed = r.seed if r.HasField("seed") else random.randint(0, 2**62)
    lo, hi = r.lower_bound, r.upper_bound
    if r.with_replacement and 0.0 < hi - lo < 40.0:
        return _poisson_copies(child, seed, hi - lo)
    if r.with_replacement:
        # Poisson(fraction) copies of each row, as Binomial(m, fraction / m) over m candidates
        # (Spark's Poisson draws for a mean of 40 and more use another algorithm).
        fraction = hi - lo
        m = max(16, math.ceil(fraction * 8))
        numbered, dup = _numbered(child)
        rng = conv.b.range(0, m, 1, 1)
        copy = rng.output[0]
        joined = ir.Join(numbered, rng, "cross", None)
        cond = _duck(f"{_uniform([*child.output, dup], seed, copy.col)} < {fraction / m!r}")
        picked = ir.Filter(joined, cond)
        return ir.Project(picked, [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output])
    if hi - lo >= 1.0:  # Spark takes every row without drawing
        return child
    if r.deterministic_order:  # randomSplit: Spark sorts each partition before drawing
        keys = [ir.SortKey(Analyzer._ref(a)) for a in child.output if _orderable(a.dtype)]
        child = ir.Sort(child, keys, is_global=False) if keys else child
    return _drawn(conv, child, seed, lambda u: exp.and_(
        exp.GTE(this=u, expression=exp.Literal.number(repr(lo))),
        exp.LT(this=u.copy(), expression=exp.Literal.number(repr(hi))),
    ))


def sample_by(conv: RelationConverter, r: pb.StatSampleBy) -> ir.Plan:
    """Spark's sampleBy: ``filter(rand(seed) < fractions.getOrElse(key, 0.0))`` -- one
    ``rand(seed)`` draw per row, so it picks Spark's rows where the partitions match."""
    import random

    child = conv.convert(r.input)
    seed = r.seed if r.HasField("seed") else random.randint(0, 2**62)
    key = to_sql(r.col)
    ifs = []
    for f in r.fractions:
        if not 0.0 <= f.fraction <= 1.0:
            raise IllegalArgumentException(
                f"requirement failed: Fractions must be in [0, 1], but got {f.fraction}."
            )
        stratum = to_sql(epb.Expression(literal=f.stratum))
        ifs.append(exp.If(this=exp.EQ(this=key.copy(), expression=stratum),
                          true=exp.Literal.number(repr(f.fraction))))
    fraction = exp.Case(ifs=ifs, default=exp.Literal.number("0.0")) if ifs else exp.Literal.number("0.0")
    return _drawn(conv, child, seed, lambda u: exp.LT(this=u, expression=fraction))


HANDLERS = {
    "fill_na": fill_na,
    "drop_na": drop_na,
    "replace": replace,
    "describe": describe,
    "summary": summary,
    "corr": corr,
    "cov": cov,
    "approx_quantile": approx_quantile,
    "crosstab": crosstab,
    "freq_items": freq_items,
    "sample": sample,
    "sample_by": sample_by,
}

__all__ = ["HANDLERS", "FractionalType"]
