"""Resolve Spark expressions against a plan's columns and render them for DuckDB.

Both front doors produce the same input here: a sqlglot tree in Spark's dialect
with user column names (parsed Spark SQL, or a Connect expression converted by
``sparkless.connect.expressions``). The analyzer returns a tree whose columns are
the internal ``_c<id>`` names and whose operators carry Spark's semantics (ANSI
errors, integral sums, Spark's casts, null ordering), plus Spark's name for the
column and its type (asked of DuckDB, see type_oracle.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import (
    ArrayType,
    ByteType,
    DataType,
    DayTimeIntervalType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
)
from sqlglot import exp

from sparkless.conf import SessionConf
from sparkless.errors import AnalysisException
from sparkless.plan import functions, functions_collections
from sparkless.plan.ir import Attribute, NamedExpr, Plan, SortKey
from sparkless.plan.naming import spark_name
from sparkless.plan.type_oracle import TypeOracle
from sparkless.plan.types import duckdb_type_sql

INTEGRAL = (ByteType, ShortType, IntegerType, LongType)
FRACTIONAL = (FloatType, DoubleType, DecimalType)

AGGREGATES = (exp.AggFunc,)


def quote_name(name: str) -> str:
    return f"`{name}`"


class Scope:
    """The columns an expression may refer to."""

    def __init__(self, attrs: list[Attribute], case_sensitive: bool = False) -> None:
        self.attrs = attrs
        self.case_sensitive = case_sensitive

    def _eq(self, a: str, b: str) -> bool:
        return a == b if self.case_sensitive else a.lower() == b.lower()

    def resolve(self, parts: list[str], plan_id: int | None = None) -> tuple[Attribute, list[str]]:
        """The attribute a (possibly qualified) name denotes, and any struct fields after it."""
        candidates = self.attrs
        if plan_id is not None:
            tagged = [a for a in candidates if plan_id in a.plan_ids]
            if tagged:
                candidates = tagged
        found: list[tuple[Attribute, list[str]]] = []
        if len(parts) >= 2:
            found = [
                (a, parts[2:])
                for a in candidates
                if a.qualifier is not None
                and self._eq(a.qualifier, parts[0])
                and self._eq(a.name, parts[1])
            ]
        if not found:
            found = [(a, parts[1:]) for a in candidates if self._eq(a.name, parts[0])]
        if not found and len(parts) > 1 and plan_id is None:
            joined = ".".join(parts)
            found = [(a, []) for a in candidates if self._eq(a.name, joined)]
        unique = {a.id: (a, rest) for a, rest in found}
        if len(unique) == 1:
            return next(iter(unique.values()))
        name = ".".join(quote_name(p) for p in parts)
        if len(unique) > 1:
            raise AnalysisException(
                f"Reference {name} is ambiguous, could be: "
                f"[{', '.join(self._display(a) for a, _ in unique.values())}].",
                "AMBIGUOUS_REFERENCE",
                sql_state="42704",
                parameters={"name": name},
            )
        suggestion = ", ".join(self._display(a) for a in self.attrs)
        raise AnalysisException(
            f"A column, variable, or function parameter with name {name} cannot be resolved. "
            f"Did you mean one of the following? [{suggestion}].",
            "UNRESOLVED_COLUMN.WITH_SUGGESTION",
            sql_state="42703",
            parameters={"objectName": name, "proposal": suggestion},
        )

    @staticmethod
    def _display(a: Attribute) -> str:
        return f"`{a.qualifier}`.`{a.name}`" if a.qualifier else f"`{a.name}`"


@dataclass
class Resolved:
    expr: exp.Expression
    name: str
    nullable: bool
    attr: Attribute | None = None  # set when the expression is a bare column reference


class Analyzer:
    def __init__(self, conf: SessionConf, oracle: TypeOracle) -> None:
        self.conf = conf
        self.oracle = oracle
        self.udfs: dict = {}  # spark.udf.register: lower-cased name -> python_udf.PythonFunction

    # ---- expressions -------------------------------------------------------------

    def resolve(self, e: exp.Expression, scope: Scope) -> Resolved:
        if self.udfs:  # calls of spark.udf.register'ed functions, named as registered
            from sparkless.plan.python_udf import mark_registered

            mark_registered(e, self.udfs)
        functions_collections.name_extracts(e, self, scope)  # `r.a` or `m[k]`: by type
        self._expand_star_args(e, scope)
        name = spark_name(e)
        if isinstance(e, (exp.Cast, exp.TryCast)) and "spark_type" in e.meta:
            inner = e.this  # Spark: Column.cast of a column (or of its casts) keeps its name
            while isinstance(inner, (exp.Cast, exp.TryCast)) and "spark_type" in inner.meta:
                inner = inner.this
            if isinstance(inner, exp.Column):
                name = spark_name(inner)
        if isinstance(e, exp.Alias):
            inner = self.resolve(e.this, scope)
            return Resolved(inner.expr, e.alias, inner.nullable)
        out = self._translate(e.copy(), scope)
        attr = out.meta.get("attr") if isinstance(out, exp.Column) else None
        if attr is not None:
            name = attr.name
        return Resolved(out, name, nullability(out), attr)

    def type_of(self, e: exp.Expression, scope: Scope) -> DataType:
        return self.oracle.spark_type(e.sql("duckdb"), scope.attrs)

    def named(self, e: exp.Expression, scope: Scope) -> NamedExpr:
        r = self.resolve(e, scope)
        if r.attr is not None:
            return NamedExpr(r.expr, r.attr)
        dtype = refine_type(r.expr, self.type_of(r.expr, scope))
        return NamedExpr(r.expr, Attribute(r.name, dtype, r.nullable, metadata=e.meta.get("metadata")))

    def condition(self, e: exp.Expression, scope: Scope) -> exp.Expression:
        r = self.resolve(e, scope)
        from pyspark.sql.types import BooleanType, NullType

        dtype = self.type_of(r.expr, scope)
        if not isinstance(dtype, (BooleanType, NullType)):
            raise AnalysisException(
                f"Cannot resolve \"{r.name}\" due to data type mismatch: the filter condition "
                f"must be of type \"BOOLEAN\", but got \"{dtype.simpleString().upper()}\".",
                "DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN",
                sql_state="42K09",
            )
        return r.expr

    def sort_key(self, e: exp.Expression, scope: Scope) -> SortKey:
        ascending, nulls_first = True, None
        if isinstance(e, exp.Ordered):
            ascending = not e.args.get("desc")
            nf = e.args.get("nulls_first")
            nulls_first = nf if e.args.get("explicit_nulls") else None
            e = e.this
        if nulls_first is None:
            nulls_first = ascending  # Spark: ASC NULLS FIRST, DESC NULLS LAST
        return SortKey(self.resolve(e, scope).expr, ascending, bool(nulls_first))

    def expand_star(self, e: exp.Expression, scope: Scope) -> list[exp.Expression] | None:
        """``*`` / ``t.*`` as the column references they stand for; None if not a star."""
        if isinstance(e, exp.Star):
            return [self._ref(a) for a in scope.attrs]
        if isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
            qual = e.table
            plan_id = e.meta.get("plan_id")
            attrs = [
                a
                for a in scope.attrs
                if (plan_id is not None and plan_id in a.plan_ids)
                or (plan_id is None and a.qualifier is not None and scope._eq(a.qualifier, qual))
            ]
            if not attrs and plan_id is None:  # `s.*` of a struct column: its fields
                fields = self._struct_fields(e, scope)
                if fields is not None:
                    return fields
            if not attrs:
                raise AnalysisException(
                    f"Cannot resolve {qual}.* given input columns "
                    f"{', '.join(Scope._display(a) for a in scope.attrs)}.",
                    "CANNOT_RESOLVE_STAR_EXPAND",
                    sql_state="42704",
                )
            return [self._ref(a) for a in attrs]
        return None

    def _struct_fields(self, e: exp.Column, scope: Scope) -> list[exp.Expression] | None:
        parts = [p.name for p in e.parts[:-1]]
        try:
            attr, path = scope.resolve(parts)
        except AnalysisException:
            return None
        dtype: DataType = attr.dtype
        for name in path:
            if not isinstance(dtype, StructType) or name not in dtype.names:
                return None
            dtype = dtype[name].dataType
        if not isinstance(dtype, StructType):
            return None
        return [exp.alias_(exp.column(f.name, table=parts[-1], db=parts[-2] if len(parts) > 1
                                      else None, quoted=True), f.name, quoted=True)
                for f in dtype.fields] if len(parts) <= 2 else None

    def _expand_star_args(self, e: exp.Expression, scope: Scope) -> None:
        """``hash('*')``: Spark calls (and names) the function with every column."""
        for node in list(e.walk()):
            if not isinstance(node, exp.Anonymous) or "python_udf" in node.meta:
                continue
            if not any(isinstance(a, exp.Star) or (isinstance(a, exp.Column) and isinstance(
                    a.this, exp.Star)) for a in node.expressions):
                continue
            args: list[exp.Expression] = []
            for a in node.expressions:
                args.extend(self.expand_star(a, scope) or [a])
            node.set("expressions", args)
            call = node.meta.get("pretty_call")
            if call:
                node.meta["pretty_call"] = (call[0], call[1], len(args))

    @staticmethod
    def _ref(a: Attribute) -> exp.Column:
        col = exp.column(a.col)
        col.meta["attr"] = a
        col.meta["resolved"] = True
        return col

    def _translate(self, e: exp.Expression, scope: Scope) -> exp.Expression:
        """Children first, then this node: Spark semantics rendered for DuckDB."""
        if isinstance(e, exp.Column) and e.meta.get("resolved"):
            return e
        if isinstance(e, exp.Lambda):  # typed and translated by its higher-order function
            return e
        if isinstance(e, (exp.Column, exp.Dot)) and not isinstance(e.this, exp.Star):
            return self._column(e, scope)
        if isinstance(e, exp.Alias):
            return self._translate(e.this, scope)
        from sparkless.plan import generators

        if generators.generator_call(e) is not None:  # plan_select takes the ones it may
            raise generators.misplaced(e)
        for key, value in list(e.args.items()):
            if isinstance(value, exp.Expression):
                e.set(key, self._translate(value, scope))
            elif isinstance(value, list):
                e.set(
                    key,
                    [self._translate(v, scope) if isinstance(v, exp.Expression) else v for v in value],
                )
        if isinstance(e, (exp.Anonymous, exp.Window)):
            from sparkless.plan import python_udf

            if isinstance(e, exp.Anonymous) and str(e.this).lower() in self.udfs:
                e.meta.setdefault("python_udf", self.udfs[str(e.this).lower()])
            if python_udf.is_call(e):
                return python_udf.resolve(e, self, scope)
            if isinstance(e, exp.Window):
                e = python_udf.fix_window(e)
        return functions.translate(e, self, scope)

    def _column(self, e: exp.Expression, scope: Scope) -> exp.Expression:
        parts = column_parts(e)
        attr, fields = scope.resolve(parts, e.meta.get("plan_id"))
        out: exp.Expression = self._ref(attr)
        for f in fields:
            out = exp.Bracket(this=out, expressions=[exp.Literal.string(f)])
        return out

    # ---- plans -------------------------------------------------------------------

    def scope(self, plan: Plan) -> Scope:
        return Scope(plan.output, self.conf.case_sensitive)

    def project_list(self, exprs: list[exp.Expression], scope: Scope) -> list[NamedExpr]:
        out: list[NamedExpr] = []
        for e in exprs:
            expanded = self.expand_star(e, scope)
            for item in expanded if expanded is not None else [e]:
                out.append(self.named(item, scope))
        return out


def column_parts(e: exp.Expression) -> list[str]:
    if isinstance(e, exp.Column):
        return [p.name for p in e.parts]
    if isinstance(e, exp.Dot):
        return [*column_parts(e.this), e.expression.name]
    return [e.name]


def nullability(e: exp.Expression) -> bool:
    """Spark's nullability of a translated expression, by its usual rules."""
    if isinstance(e, exp.Column):
        attr = e.meta.get("attr")
        return attr.nullable if attr is not None else True
    if isinstance(e, exp.Null):
        return True
    if isinstance(e, (exp.Literal, exp.Boolean)):
        return False
    if "nullable" in e.meta:
        return bool(e.meta["nullable"])
    if isinstance(e, (exp.Is, exp.Not)) and isinstance(e.this, exp.Null):
        return False
    if isinstance(e, exp.Is):
        return False
    if isinstance(e, (exp.Array, exp.Struct, exp.VarMap, exp.Map)):  # array(), struct(), map()
        return False
    if isinstance(e, (exp.Count, exp.ApproxDistinct)):  # approx_count_distinct: never null
        return False
    if isinstance(e, (exp.AggFunc, exp.Anonymous)):
        return True
    if isinstance(e, exp.Coalesce):
        return all(nullability(a) for a in [e.this, *e.expressions])
    if isinstance(e, exp.Case):
        branches = [i.args["true"] for i in e.args.get("ifs", [])]
        default = e.args.get("default")
        return default is None or any(nullability(b) for b in [*branches, default])
    children = [c for c in e.iter_expressions() if not isinstance(c, exp.DataType)]
    return any(nullability(c) for c in children)


def refine_type(e: exp.Expression, dtype: DataType) -> DataType:
    """What DuckDB's types cannot say: e.g. collect_list's elements are never null."""
    if isinstance(dtype, DayTimeIntervalType):  # DuckDB's one INTERVAL: which Spark one
        from sparkless.plan.functions_datetime import interval_type

        known = interval_type(e)
        if isinstance(known, DataType):
            return known
    if isinstance(dtype, ArrayType) and e.meta.get("contains_null") is False:
        return ArrayType(dtype.elementType, False)
    if isinstance(dtype, ArrayType) and isinstance(e, exp.Array) and e.expressions:
        # array(...): containsNull only if an item may be null; items' own refinements
        items = [refine_type(x, dtype.elementType) for x in e.expressions
                 if not isinstance(x, exp.Null)]
        element = items[0] if items and all(i == items[0] for i in items) else dtype.elementType
        return ArrayType(element, any(nullability(x) for x in e.expressions))
    flags = e.meta.get("field_nullable")  # struct(...) / withField: Spark's per-field nullability
    if flags is None and isinstance(e, exp.Struct) and isinstance(dtype, StructType):
        values = [x.expression if isinstance(x, (exp.PropertyEQ, exp.Slice)) else
                  x.this if isinstance(x, exp.Alias) else x for x in e.expressions]
        if len(values) == len(dtype.fields):  # SQL named_struct(...) / struct(...)
            flags = [nullability(v) for v in values]
            dtype = StructType([StructField(f.name, refine_type(v, f.dataType), f.nullable,
                                            f.metadata) for f, v in zip(dtype.fields, values)])
    if isinstance(dtype, StructType) and flags and len(flags) == len(dtype.fields):
        return StructType([StructField(f.name, f.dataType, bool(n), f.metadata)
                           for f, n in zip(dtype.fields, flags, strict=True)])
    return dtype


def is_aggregate(e: exp.Expression) -> bool:
    """An aggregate call outside window functions and outside subqueries."""
    from sparkless.plan.catalog import is_aggregate_call

    def prune(n: exp.Expression) -> bool:
        return isinstance(n, (exp.Window, exp.Subquery, exp.Exists)) or (
            isinstance(n, exp.In) and n.args.get("query") is not None
        )

    return any(isinstance(n, exp.AggFunc) or is_aggregate_call(n) for n in e.walk(prune=prune))


def spark_numeric_kind(dt: DataType) -> str:
    if isinstance(dt, INTEGRAL):
        return "integral"
    if isinstance(dt, DecimalType):
        return "decimal"
    if isinstance(dt, FRACTIONAL):
        return "fractional"
    if isinstance(dt, StringType):
        return "string"
    if isinstance(dt, ArrayType):
        return "array"
    return "other"


def cast_sql(e: exp.Expression, dt: DataType) -> exp.Expression:
    return exp.cast(e, exp.DataType.build(duckdb_type_sql(dt), dialect="duckdb"))
