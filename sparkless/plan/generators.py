"""Generators (explode, posexplode, inline, stack, json_tuple and their _outer forms).

A generator turns one row into zero or more rows, so it is a plan node (``ir.Generate``),
not an expression: a select list holding one becomes a Generate under a Project, as in
Spark; ``LATERAL VIEW [OUTER]`` and ``FROM explode(...)`` become one too. Each task runs it
on its own rows with DuckDB's ``unnest`` in a select list (several unnests of equal
length there are zipped), which drops rows whose list is NULL or empty -- the _outer
forms unnest ``[NULL]`` instead.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pyspark.sql.types import (
    ArrayType,
    DataType,
    IntegerType,
    MapType,
    NullType,
    StringType,
    StructType,
)
from sqlglot import exp

from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir
from sparkless.plan.analyzer import (
    Analyzer,
    Scope,
    cast_sql,
    is_aggregate,
    refine_type,
)

if TYPE_CHECKING:
    from sparkless.plan.builder import PlanBuilder

_CLASSES = {
    "Explode": "explode",
    "ExplodeOuter": "explode_outer",
    "Posexplode": "posexplode",
    "PosexplodeOuter": "posexplode_outer",
    "Inline": "inline",
    "Stack": "stack",
}
NAMES = {"explode", "explode_outer", "posexplode", "posexplode_outer", "inline", "inline_outer",
         "stack", "json_tuple"}


def generator_call(e: exp.Expression) -> tuple[str, list[exp.Expression]] | None:
    """``(spark name, arguments)`` when ``e`` is a generator call, else None."""
    if isinstance(e, exp.Anonymous):
        if "python_udf" in e.meta:  # a user's function that happens to be called "explode"
            return None
        name = str(e.this).lower()
        return (name, list(e.expressions)) if name in NAMES else None
    name = _CLASSES.get(type(e).__name__.lstrip("_"))
    if name is None:
        return None
    args = [e.this] if e.this is not None else []
    return name, args + list(e.expressions or [])


def _unalias(e: exp.Expression) -> tuple[exp.Expression, list[str] | None]:
    if isinstance(e, exp.Alias):
        return e.this, [e.alias]
    if isinstance(e, exp.Aliases):
        return e.this, [i.name for i in e.expressions]
    return e, None


def has_generator(exprs: list[exp.Expression]) -> bool:
    return any(generator_call(n) is not None for e in exprs for n in e.walk())


def _error(kind: str, detail: str) -> AnalysisException:
    return AnalysisException(
        f"The generator is not supported: {detail}.",
        f"UNSUPPORTED_GENERATOR.{kind}",
        sql_state="42K0E",
    )


def misplaced(e: exp.Expression) -> AnalysisException:
    """A generator the analyzer met as an expression: outside a select list's top level."""
    return _error("OUTSIDE_SELECT", f"outside the SELECT clause, found: {e.sql('spark')}")


# ---- planning ---------------------------------------------------------------------------


def plan_select(b: PlanBuilder, child: ir.Plan, exprs: list[exp.Expression]) -> ir.Plan:
    """A select list with one generator: Generate over ``child``, then the list over it."""
    a = b.a
    scope = a.scope(child)
    items: list[exp.Expression] = []
    for e in exprs:
        expanded = a.expand_star(e, scope)
        items.extend(expanded if expanded is not None else [e])
    found = [i for i, e in enumerate(items) if generator_call(_unalias(e)[0]) is not None]
    for e in items:
        inner = _unalias(e)[0]
        if generator_call(inner) is None and has_generator([inner]):
            raise _error("NESTED_IN_EXPRESSIONS", f'nested in expressions "{inner.sql("spark")}"')
    if any(is_aggregate(e) for e in items):
        raise unsupported("A generator with aggregate functions in one SELECT")
    # Several generators apply one after another (Spark 4 nests their Generates): each
    # one's rows are joined with every row of the ones before it.
    plan: ir.Plan = child
    produced: dict[int, list[ir.Attribute]] = {}
    for gi in found:
        call, names = _unalias(items[gi])
        gen = generate(a, plan, call, outer=None, names=names, qualifier=None, scope=scope)
        produced[gi] = gen.attrs
        plan = gen
    named: list[ir.NamedExpr] = []
    for i, e in enumerate(items):
        if i in produced:
            named += [ir.NamedExpr(Analyzer._ref(attr), attr) for attr in produced[i]]
        else:
            named.append(a.named(e, scope))
    windows = [w for n in named for w in n.expr.find_all(exp.Window)]
    if windows:
        from sparkless.plan.builder import common_partition_keys

        return ir.WindowProject(plan, named, common_partition_keys(windows))
    return ir.Project(plan, named)


def lateral_view(b: PlanBuilder, child: ir.Plan, lateral: exp.Lateral) -> ir.Plan:
    """``LATERAL VIEW [OUTER] gen(...) t AS c1, c2``: the child's columns and the generator's."""
    alias = lateral.args.get("alias")
    names = [c.name for c in alias.columns] if alias is not None and alias.columns else None
    qualifier = alias.name.lower() if alias is not None and alias.name else None
    if generator_call(lateral.this) is None:
        raise unsupported(f"LATERAL {lateral.this.sql('spark')}")
    return generate(b.a, child, lateral.this, bool(lateral.args.get("outer")), names, qualifier)


def table_function(b: PlanBuilder, node: exp.Table) -> ir.Plan:
    """``FROM explode(array(1, 2)) [AS t(c)]``: the generator's rows from one empty row."""
    import pyarrow as pa

    one = b.local(pa.table({"__one": [1]}), None)
    alias = node.args.get("alias")
    names = [c.name for c in alias.columns] if alias is not None and alias.columns else None
    qualifier = alias.name.lower() if alias is not None and alias.name else None
    gen = generate(b.a, one, node.this, None, names, qualifier)
    return ir.Project(gen, [ir.NamedExpr(Analyzer._ref(attr), attr) for attr in gen.attrs])


def generate(
    a: Analyzer,
    child: ir.Plan,
    call: exp.Expression,
    outer: bool | None,
    names: list[str] | None,
    qualifier: str | None,
    scope: Scope | None = None,
) -> ir.Generate:
    """``call`` over ``child``; its arguments resolve in ``scope`` (default: the child's)."""
    found = generator_call(call)
    assert found is not None
    name, raw = found
    scope = scope or a.scope(child)
    if outer is None or name.endswith("_outer"):
        outer = bool(outer) or name.endswith("_outer")
    kind = name.removesuffix("_outer")
    args = [a.resolve(x, scope) for x in raw]
    exprs = [r.expr for r in args]
    types = [_spark_type(a, r.expr, r.attr, scope) for r in args]
    shown = call.sql("spark")
    is_map = False
    if kind in ("explode", "posexplode"):
        _arity(name, raw, 1, 1)
        t = types[0]
        if isinstance(t, ArrayType):
            fields = [("col", t.elementType, t.containsNull)]
        elif isinstance(t, MapType):
            is_map = True
            fields = [("key", t.keyType, False), ("value", t.valueType, t.valueContainsNull)]
        else:
            raise _type_error(shown, '("ARRAY" or "MAP")', raw[0], t)
        if kind == "posexplode":
            fields.insert(0, ("pos", IntegerType(), False))
    elif kind == "inline":
        _arity(name, raw, 1, 1)
        t = types[0]
        if not (isinstance(t, ArrayType) and isinstance(t.elementType, StructType)):
            raise _type_error(shown, '"ARRAY<STRUCT>"', raw[0], t)
        fields = [(f.name, f.dataType, f.nullable or t.containsNull) for f in t.elementType.fields]
    elif kind == "stack":
        exprs, fields = _stack(a, shown, exprs, types)
    elif kind == "json_tuple":
        if len(raw) < 2:
            raise AnalysisException(
                f"The `json_tuple` requires > 1 parameters but the actual number is {len(raw)}.",
                "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                sql_state="42605",
            )
        fields = [(f"c{i}", StringType(), True) for i in range(len(raw) - 1)]
    else:  # pragma: no cover - NAMES lists only the kinds above
        raise unsupported(f"The generator {name}")
    if names is not None and len(names) != len(fields):
        raise AnalysisException(
            "The number of aliases supplied in the AS clause does not match the number of "
            f"columns output by the UDTF. Expected {len(fields)} aliases, but got "
            f"{', '.join(names)}.",
            "UDTF_ALIAS_NUMBER_MISMATCH",
            sql_state="42802",
        )
    attrs = [
        ir.Attribute(names[i] if names else n, t, nullable or outer, qualifier=qualifier)
        for i, (n, t, nullable) in enumerate(fields)
    ]
    return ir.Generate(child, kind, exprs, outer, is_map, attrs)


def _spark_type(a: Analyzer, e: exp.Expression, attr: ir.Attribute | None, scope: Scope) -> DataType:
    return attr.dtype if attr is not None else refine_type(e, a.type_of(e, scope))


def _arity(name: str, args: list[exp.Expression], lo: int, hi: int) -> None:
    if not lo <= len(args) <= hi:
        raise AnalysisException(
            f"The `{name}` requires {lo} parameters but the actual number is {len(args)}.",
            "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
            sql_state="42605",
        )


def _type_error(shown: str, required: str, arg: exp.Expression, t: DataType) -> AnalysisException:
    return AnalysisException(
        f'Cannot resolve "{shown}" due to data type mismatch: The first parameter requires '
        f'{required} type, however "{arg.sql("spark")}" has the type "{t.simpleString().upper()}".',
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        sql_state="42K09",
    )


def _stack(
    a: Analyzer, shown: str, exprs: list[exp.Expression], types: list[DataType]
) -> tuple[list[exp.Expression], list[tuple[str, DataType, bool]]]:
    """stack(n, v1, ..., vk): n rows of ceil(k / n) columns (missing cells NULL); each
    column's type is its non-NULL values' (Spark's StackCoercion casts the NULLs)."""
    n = exprs[0]
    if not (isinstance(n, exp.Literal) and n.is_int and int(n.this) > 0):
        raise AnalysisException(
            f'Cannot resolve "{shown}" due to data type mismatch: The first parameter requires '
            'a positive integer literal.',
            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
            sql_state="42K09",
        )
    rows = int(n.this)
    values, vtypes = exprs[1:], types[1:]
    width = -(-len(values) // rows)
    col_types: list[DataType] = []
    for j in range(width):
        seen = [vtypes[r * width + j] for r in range(rows) if r * width + j < len(values)]
        concrete = [t for t in seen if not isinstance(t, NullType)]
        for t in concrete[1:]:
            if t != concrete[0]:
                raise AnalysisException(
                    f'Cannot resolve "{shown}" due to data type mismatch: The data type of the '
                    f'column ({j}) do not have the same type: "{concrete[0].simpleString().upper()}" '
                    f'!= "{t.simpleString().upper()}".',
                    "DATATYPE_MISMATCH.STACK_COLUMN_DIFF_TYPES",
                    sql_state="42K09",
                )
        col_types.append(concrete[0] if concrete else NullType())
    cells: list[exp.Expression] = []
    for r in range(rows):
        for j in range(width):
            k = r * width + j
            v = values[k] if k < len(values) else exp.null()
            t = col_types[j]
            cells.append(v if isinstance(t, NullType) else cast_sql(v, t))
    return cells, [(f"col{j}", t, True) for j, t in enumerate(col_types)]


# ---- rendering --------------------------------------------------------------------------


def generate_sql(p: ir.Generate, child_sql: str) -> str:
    """One task's rows of ``p`` over its child's rows ``child_sql``, as DuckDB SQL."""
    keep = [a.col for a in p.child.output]
    out = [a.col for a in p.attrs]
    src = f"({child_sql}) AS t"
    if p.generator == "json_tuple":
        j = p.args[0].sql("duckdb")
        cols = [f"{_json_field(j, f)} AS {c}" for f, c in zip(p.args[1:], out)]
        return f"SELECT {', '.join([*keep, *cols])} FROM {src}"
    if p.generator in ("explode", "posexplode"):
        e = p.args[0].sql("duckdb")
        size = f"cardinality({e})" if p.is_map else f"len({e})"
        lists = [f"map_keys({e})", f"map_values({e})"] if p.is_map else [e]
        if p.generator == "posexplode":
            lists.insert(0, f"CAST(range(CAST({size} AS BIGINT)) AS INTEGER[])")
        cols = [f"unnest({_outer(x, size, p.outer)}) AS {c}" for x, c in zip(lists, out)]
        return f"SELECT {', '.join([*keep, *cols])} FROM {src}"
    # inline / stack: unnest a list of structs, then take their fields by position
    if p.generator == "inline":
        e = p.args[0].sql("duckdb")
        items = _outer(e, f"len({e})", p.outer)
    else:
        width = len(p.attrs)
        cells = [c.sql("duckdb") for c in p.args]
        rows = [f"row({', '.join(cells[i:i + width])})" for i in range(0, len(cells), width)]
        items = f"[{', '.join(rows)}]"
    inner = f"SELECT {', '.join([*keep, f'unnest({items}) AS __g'])} FROM {src}"
    fields = [f"struct_extract_at(__g, {i + 1}) AS {c}" for i, c in enumerate(out)]
    return f"SELECT {', '.join([*keep, *fields])} FROM ({inner}) AS g"


def _outer(items: str, size: str, outer: bool) -> str:
    return f"(CASE WHEN {size} > 0 THEN {items} ELSE [NULL] END)" if outer else items


def _json_field(doc: str, field: exp.Expression) -> str:
    """Spark's json_tuple: a field's value as text (strings unquoted), NULL when the
    document is not valid JSON or lacks the field."""
    key = field
    while isinstance(key, (exp.Cast, exp.Paren)):
        key = key.this
    if not (isinstance(key, exp.Literal) and key.is_string):
        raise unsupported("json_tuple with a field name that is not a string literal")
    path = "$." + json.dumps(key.this)
    path_sql = exp.Literal.string(path).sql("duckdb")
    return f"(CASE WHEN json_valid({doc}) THEN json_extract_string({doc}, {path_sql}) END)"


__all__ = ["NAMES", "generate_sql", "generator_call", "has_generator", "lateral_view",
           "misplaced", "plan_select", "table_function"]
