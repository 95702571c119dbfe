"""Arrays, maps and higher-order functions, written as DuckDB list/map SQL.

Spark's three-valued answers (``array_contains`` is NULL when the value is absent but a
null element is present), 0-based ``[]`` against 1-based ``element_at``, ANSI errors for
out-of-bound indexes, and lambdas: a Spark ``lambdafunction`` becomes a DuckDB
``lambda``, its variables typed by the array/map it ranges over (so its body is
analysed like any expression, over a scope holding the variables as columns).
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    DataType,
    IntegerType,
    MapType,
    NullType,
    StringType,
)
from sqlglot import exp

from sparkless.errors import AnalysisException, unsupported
from sparkless.plan.catalog import Call, nullable_any, register, template
from sparkless.plan.ir import Attribute

# --------------------------------------------------------------------------- lambdas


def bind_lambda(
    c: Call, lam: exp.Expression, types: list[DataType]
) -> tuple[list[str], exp.Expression]:
    """Translate a lambda's body with its variables typed; the DuckDB parameter names and
    the body. Spark's lambda variables shadow the plan's columns."""
    from sparkless.plan.analyzer import Scope

    if not isinstance(lam, exp.Lambda):
        raise AnalysisException(
            f"`{c.name}` needs a lambda function argument.",
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            sql_state="42K09",
        )
    names = [p.name for p in lam.expressions]
    if len(names) > len(types):
        raise AnalysisException(
            f"The lambda function of `{c.name}` takes at most {len(types)} arguments, "
            f"got {len(names)}.",
            "INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH",
            sql_state="42K0D",
        )
    attrs = [Attribute(n, t, True) for n, t in zip(names, types, strict=False)]
    lowered = {n.lower() for n in names}
    scope = Scope(
        [*attrs, *[a for a in c.scope.attrs if a.name.lower() not in lowered]],
        c.scope.case_sensitive,
    )
    body = c.analyzer._translate(lam.this.copy(), scope)
    return [a.col for a in attrs], body


def _lambda(params: list[str], body: exp.Expression) -> exp.Expression:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def _element(c: Call, i: int) -> DataType:
    t = c.type(i)
    if isinstance(t, ArrayType):
        return t.elementType
    if isinstance(t, NullType):
        return NullType()
    raise AnalysisException(
        f'Cannot resolve "{c.name}" due to data type mismatch: the input should be an array, '
        f'got "{t.simpleString().upper()}".',
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        sql_state="42K09",
    )


def _map_types(c: Call, i: int) -> tuple[DataType, DataType]:
    t = c.type(i)
    if not isinstance(t, MapType):
        raise AnalysisException(
            f'Cannot resolve "{c.name}" due to data type mismatch: the input should be a map, '
            f'got "{t.simpleString().upper()}".',
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            sql_state="42K09",
        )
    return t.keyType, t.valueType


def _with_index(c: Call, lam: exp.Expression, element: DataType) -> tuple[exp.Expression, bool]:
    """A DuckDB lambda for a Spark (x[, i]) lambda; Spark's index is 0-based, DuckDB's 1."""
    params, body = bind_lambda(c, lam, [element, IntegerType()])
    if len(params) == 2:
        idx = params[1]
        shifted = f"{idx}_1"
        body = body.transform(
            lambda n: (
                exp.paren(template(f"CAST({shifted} - 1 AS INTEGER)"))
                if isinstance(n, exp.Column) and n.name == idx and not n.table
                else n
            )
        )
        return _lambda([params[0], shifted], body), True
    return _lambda(params, body), False


@register("transform")
def _transform(c: Call) -> exp.Expression:
    fn, _ = _with_index(c, c.arg(1), _element(c, 0))
    return template("list_transform({a}, {f})", nullable=nullable_any(c.arg(0)), a=c.arg(0), f=fn)


@register("filter")
def _filter(c: Call) -> exp.Expression:
    fn, _ = _with_index(c, c.arg(1), _element(c, 0))
    if not isinstance(fn, exp.Lambda):
        raise unsupported("filter without a lambda")
    keep = _lambda([p.name for p in fn.expressions], template("coalesce({b}, false)", b=fn.this))
    return template("list_filter({a}, {f})", nullable=nullable_any(c.arg(0)), a=c.arg(0), f=keep)


def _predicate_counts(c: Call) -> tuple[exp.Expression, exp.Expression]:
    params, body = bind_lambda(c, c.arg(1), [_element(c, 0)])
    trues = template(
        "len(list_filter({a}, {f}))",
        a=c.arg(0),
        f=_lambda(params, template("coalesce({b}, false)", b=body)),
    )
    falses = template(
        "len(list_filter({a}, {f}))",
        a=c.arg(0),
        f=_lambda(params, template("coalesce(NOT {b}, false)", b=body)),
    )
    return trues, falses


@register("exists")
def _exists(c: Call) -> exp.Expression:
    trues, falses = _predicate_counts(c)
    return template(
        "CASE WHEN {a} IS NULL THEN NULL WHEN {t} > 0 THEN true "
        "WHEN {f} < len({a}) THEN NULL ELSE false END",
        nullable=True,
        a=c.arg(0),
        t=trues,
        f=falses,
    )


@register("forall")
def _forall(c: Call) -> exp.Expression:
    trues, falses = _predicate_counts(c)
    return template(
        "CASE WHEN {a} IS NULL THEN NULL WHEN {f} > 0 THEN false "
        "WHEN {t} < len({a}) THEN NULL ELSE true END",
        nullable=True,
        a=c.arg(0),
        t=trues,
        f=falses,
    )


@register("aggregate", "reduce")
def _aggregate(c: Call) -> exp.Expression:
    from sparkless.plan.types import duckdb_type_sql

    zero_type = c.type(1)
    acc_sql = duckdb_type_sql(zero_type)
    params, merge = bind_lambda(c, c.arg(2), [zero_type, _element(c, 0)])
    merge = exp.cast(merge, acc_sql)
    out = template(
        "list_reduce({a}, {f}, CAST({z} AS " + acc_sql + "))",
        a=c.arg(0),
        f=_lambda(params, merge),
        z=c.arg(1),
    )
    out = template("CASE WHEN {a} IS NULL THEN NULL ELSE {r} END", a=c.arg(0), r=out)
    if len(c.args) > 3:
        (acc,), finish = bind_lambda(c, c.arg(3), [zero_type])
        out = template("list_transform([{r}], {f})[1]", r=out, f=_lambda([acc], finish))
    out.meta["nullable"] = True
    return out


@register("zip_with")
def _zip_with(c: Call) -> exp.Expression:
    params, body = bind_lambda(c, c.arg(2), [_element(c, 0), _element(c, 1)])
    x, y = params
    body = body.transform(
        lambda n: (
            (
                template("list_extract({a}, zi_)", a=c.arg(0))
                if n.name == x
                else template("list_extract({b}, zi_)", b=c.arg(1))
            )
            if isinstance(n, exp.Column) and n.name in (x, y) and not n.table
            else n
        )
    )
    return template(
        "CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE "
        "list_transform(range(1, greatest(len({a}), len({b})) + 1), {f}) END",
        nullable=True,
        a=c.arg(0),
        b=c.arg(1),
        f=_lambda(["zi_"], body),
    )


def _entries_lambda(
    c: Call, lam: exp.Expression, build: str
) -> tuple[exp.Expression, exp.Expression]:
    k, v = _map_types(c, 0)
    params, body = bind_lambda(c, lam, [k, v])
    kp = params[0]
    vp = params[1] if len(params) > 1 else None
    body = body.transform(
        lambda n: (
            (template("me_.key") if n.name == kp else template("me_.value"))
            if isinstance(n, exp.Column) and n.name in (kp, vp) and not n.table
            else n
        )
    )
    return _lambda(["me_"], template(build, b=body)), body


@register("map_filter")
def _map_filter(c: Call) -> exp.Expression:
    fn, _ = _entries_lambda(c, c.arg(1), "coalesce({b}, false)")
    return template(
        "map_from_entries(list_filter(map_entries({m}), {f}))",
        nullable=nullable_any(c.arg(0)),
        m=c.arg(0),
        f=fn,
    )


@register("transform_values")
def _transform_values(c: Call) -> exp.Expression:
    fn, _ = _entries_lambda(c, c.arg(1), "{'key': me_.key, 'value': {b}}")
    return template(
        "map_from_entries(list_transform(map_entries({m}), {f}))",
        nullable=nullable_any(c.arg(0)),
        m=c.arg(0),
        f=fn,
    )


@register("transform_keys")
def _transform_keys(c: Call) -> exp.Expression:
    fn, _ = _entries_lambda(c, c.arg(1), "{'key': {b}, 'value': me_.value}")
    return template(
        "map_from_entries(list_transform(map_entries({m}), {f}))",
        nullable=nullable_any(c.arg(0)),
        m=c.arg(0),
        f=fn,
    )


# --------------------------------------------------------------------------- arrays


@register("array_contains")
def _array_contains(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {a} IS NULL OR {v} IS NULL THEN NULL WHEN list_contains({a}, {v}) THEN true "
        "WHEN len(list_filter({a}, lambda e: e IS NULL)) > 0 THEN NULL ELSE false END",
        a=c.arg(0),
        v=c.arg(1),
    )


@register("array_position")
def _array_position(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {a} IS NULL OR {v} IS NULL THEN NULL "
        "ELSE CAST(coalesce(list_position(list_transform({a}, lambda e: coalesce(e = {v}, false)), true), 0) AS BIGINT) END",
        a=c.arg(0),
        v=c.arg(1),
    )


def _distinct(a: exp.Expression) -> exp.Expression:
    """Order-preserving distinct, one NULL kept (Spark's array_distinct)."""
    return template(
        "list_filter({a}, lambda e, i: i = list_position(list_transform({a}, "
        "lambda f: f IS NOT DISTINCT FROM e), true))",
        a=a,
    )


@register("array_distinct")
def _array_distinct(c: Call) -> exp.Expression:
    return _distinct(c.arg(0))


@register("array_union")
def _array_union(c: Call) -> exp.Expression:
    return _distinct(
        template(
            "CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE list_concat({a}, {b}) END",
            a=c.arg(0),
            b=c.arg(1),
        )
    )


@register("array_repeat")
def _array_repeat(c: Call) -> exp.Expression:
    return template(
        "list_transform(range(greatest(CAST({n} AS BIGINT), 0)), lambda i: {x})",
        nullable=nullable_any(c.arg(1)),
        x=c.arg(0),
        n=c.arg(1),
    )


@register("size", "cardinality", "array_size")
def _size(c: Call) -> exp.Expression:
    t = c.type(0)
    n = "len({a})" if isinstance(t, ArrayType) else "cardinality({a})"
    on_null = "NULL" if c.ansi or c.name == "array_size" else "-1"
    return template(
        f"CAST(CASE WHEN {{a}} IS NULL THEN {on_null} ELSE {n} END AS INTEGER)",
        nullable=c.ansi or c.name == "array_size",
        a=c.arg(0),
    )


@register("arrays_overlap")
def _arrays_overlap(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL WHEN list_has_any({a}, {b}) THEN true "
        "WHEN len({a}) > 0 AND len({b}) > 0 AND (len(list_filter({a}, lambda e: e IS NULL)) > 0 "
        "OR len(list_filter({b}, lambda e: e IS NULL)) > 0) THEN NULL ELSE false END",
        nullable=True,
        a=c.arg(0),
        b=c.arg(1),
    )


@register("flatten")
def _flatten(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN len(list_filter({a}, lambda e: e IS NULL)) > 0 THEN NULL ELSE flatten({a}) END",
        nullable=True,
        a=c.arg(0),
    )


@register("reverse")
def _reverse(c: Call) -> exp.Expression:
    if isinstance(c.type(0), ArrayType):
        return template("list_reverse({a})", a=c.arg(0))
    if isinstance(c.type(0), BinaryType):  # the bytes reversed: hex pairs in reverse order
        return template(
            "unhex(array_to_string(list_reverse(regexp_extract_all(hex({a}), '..')), ''))",
            a=c.arg(0),
        )
    a = c.arg(0) if isinstance(c.type(0), StringType) else exp.cast(c.arg(0), "VARCHAR")
    return template("reverse({a})", a=a)


@register("get")
def _get(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {i} < 0 THEN NULL ELSE list_extract({a}, {i} + 1) END",
        nullable=True,
        a=c.arg(0),
        i=c.arg(1),
    )


def _element_at(c: Call, fail: bool) -> exp.Expression:
    t = c.type(0)
    if isinstance(t, MapType):
        missing = (
            "error('[MAP_KEY_DOES_NOT_EXIST] Key ' || CAST({k} AS VARCHAR) || ' does not exist.')"
            if False
            else "NULL"
        )
        return template(
            f"CASE WHEN list_contains(map_keys({{m}}), {{k}}) THEN map_extract_value({{m}}, {{k}}) ELSE {missing} END",
            nullable=True,
            m=c.arg(0),
            k=c.arg(1),
        )
    zero = (
        "error('[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 "
        "(the first element has index 1).')"
        if fail
        else "NULL"
    )
    oob = (
        "error('[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index ' || CAST({i} AS VARCHAR) || "
        "' is out of bounds. The array has ' || CAST(len({a}) AS VARCHAR) || ' elements. "
        "Use `try_element_at` to tolerate accessing element at invalid index and return NULL "
        "instead.')"
        if fail
        else "NULL"
    )
    return template(
        f"CASE WHEN {{i}} = 0 THEN {zero} WHEN abs({{i}}) > len({{a}}) THEN {oob} "
        "ELSE list_extract({a}, {i}) END",
        nullable=True,
        a=c.arg(0),
        i=c.arg(1),
    )


@register("element_at")
def _element_at_ansi(c: Call) -> exp.Expression:
    return _element_at(c, c.ansi)


@register("try_element_at")
def _try_element_at(c: Call) -> exp.Expression:
    return _element_at(c, False)


@register("map_contains_key")
def _map_contains_key(c: Call) -> exp.Expression:
    return template("list_contains(map_keys({m}), {k})", m=c.arg(0), k=c.arg(1))


@register("sort_array")
def _sort_array(c: Call) -> exp.Expression:
    asc = c.literal_value(1) if len(c.args) > 1 else True
    order = "'ASC', 'NULLS FIRST'" if asc else "'DESC', 'NULLS LAST'"
    return template(f"list_sort({{a}}, {order})", a=c.arg(0))


@register("array_sort")
def _array_sort(c: Call) -> exp.Expression:
    if len(c.args) > 1:
        raise unsupported("array_sort with a comparator function")
    return template("list_sort({a}, 'ASC', 'NULLS LAST')", a=c.arg(0))


# --------------------------------------------------------------------------- [] and .

EXTRACT_VALUE = "__extract_value"


def _field_name(t: DataType, key: object, case_sensitive: bool) -> str:
    from pyspark.sql.types import StructType

    assert isinstance(t, StructType)
    hits = [
        f.name
        for f in t.fields
        if (f.name == key if case_sensitive else f.name.lower() == str(key).lower())
    ]
    if not hits:
        raise AnalysisException(
            f"No such struct field `{key}` in {', '.join('`' + f.name + '`' for f in t.fields)}.",
            "FIELD_NOT_FOUND",
            sql_state="42704",
        )
    return hits[0]


@register(EXTRACT_VALUE)
def _extract_value(c: Call) -> exp.Expression:
    """``col[key]`` / ``col.field``: struct field, map value (NULL when absent) or Spark's
    0-based array item (out of bounds is an ANSI error, else NULL)."""
    from pyspark.sql.types import StructType

    t = c.type(0)
    if isinstance(t, StructType):
        name = _field_name(t, c.literal_value(1), c.analyzer.conf.case_sensitive)
        return template(f"struct_extract({{s}}, '{name}')", nullable=True, s=c.arg(0))
    if isinstance(t, MapType):
        return template("map_extract_value({m}, {k})", nullable=True, m=c.arg(0), k=c.arg(1))
    if isinstance(t, ArrayType):
        oob = (
            "error('[INVALID_ARRAY_INDEX] The index ' || CAST({i} AS VARCHAR) || ' is out of "
            "bounds. The array has ' || CAST(len({a}) AS VARCHAR) || ' elements. Use the SQL "
            "function `get()` to tolerate accessing element at invalid index and return NULL "
            "instead.')"
            if c.ansi
            else "NULL"
        )
        return template(
            f"CASE WHEN {{i}} < 0 OR {{i}} >= len({{a}}) THEN {oob} ELSE list_extract({{a}}, {{i}} + 1) END",
            nullable=True,
            a=c.arg(0),
            i=c.arg(1),
        )
    raise AnalysisException(
        f"Field name should be a non-null string literal, but it's {c.args[1].sql('spark')}; "
        f"or the column is not a struct, map or array ({t.simpleString()}).",
        "INVALID_EXTRACT_BASE_FIELD_TYPE",
        sql_state="42000",
    )


def name_extracts(e: exp.Expression, analyzer, scope) -> None:  # noqa: ANN001
    """Spark names ``r.a`` for a struct field and ``m[k]`` / ``l[0]`` otherwise: set the
    name of every extract in ``e`` from its child's type (before ``e`` is named)."""
    from pyspark.sql.types import StructType

    from sparkless.plan.naming import spark_name

    for node in e.find_all(exp.Anonymous):
        if not node.meta.get("extract") or "pretty" in node.meta:
            continue
        child, key = node.expressions
        try:
            struct = isinstance(
                analyzer.type_of(analyzer._translate(child.copy(), scope), scope), StructType
            )
        except Exception:  # e.g. a lambda variable: typed only inside its function
            struct = isinstance(key, exp.Literal) and key.is_string
        node.meta["pretty"] = (
            f"{spark_name(child)}.{key.name}"
            if struct
            else f"{spark_name(child)}[{spark_name(key)}]"
        )


# --------------------------------------------------------------------------- construction


def struct_field_names(name: str, args: list[exp.Expression]) -> list[str] | None:
    """Spark's field names for ``struct(...)`` / ``named_struct(...)``, read before the
    analyzer drops aliases: an alias or a column's name, else ``col<n>``."""
    if name == "named_struct":
        keys = args[0::2]
        if not all(isinstance(k, exp.Literal) and k.is_string for k in keys):
            return None
        return [k.this for k in keys]
    names = []
    for i, a in enumerate(args):
        if isinstance(a, exp.Alias):
            names.append(a.alias)
        elif isinstance(a, exp.Column) and not isinstance(a.this, exp.Star):
            names.append(a.name)
        elif a.meta.get("extract") and isinstance(a.expressions[1], exp.Literal):
            names.append(a.expressions[1].name)
        else:
            names.append(f"col{i + 1}")
    return names


@register("struct", "named_struct")
def _struct(c: Call) -> exp.Expression:
    names = c.node.meta.get("struct_names")
    values = c.args[1::2] if c.name == "named_struct" else c.args
    if names is None or len(names) != len(values):
        raise unsupported(f"{c.name} with computed field names")
    out = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(n, quoted=True), expression=v)
            for n, v in zip(names, values, strict=True)
        ]
    )
    out.meta["nullable"] = False
    out.meta["field_nullable"] = [nullable_any(v) for v in values]
    return out


@register("array_insert")
def _array_insert(c: Call) -> exp.Expression:
    """1-based position; past the end pads with NULLs; negative counts from the end (-1
    appends); before the start pads NULLs after the new element; 0 is an error."""
    zero = (
        "error('[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or "
        "> 0 (the first element has index 1).')"
    )
    pos = "(CASE WHEN {p} > 0 THEN {p} ELSE len({a}) + {p} + 2 END)"
    nulls = "list_transform(range({n}), lambda i: NULL)"
    after = (
        f"list_concat(list_concat(list_slice({{a}}, 1, {pos} - 1), "
        f"{nulls.format(n='greatest(' + pos + ' - 1 - len({a}), 0)')}), "
        f"list_concat([{{x}}], list_slice({{a}}, {pos}, len({{a}}))))"
    )
    before = f"list_concat(list_concat([{{x}}], {nulls.format(n='1 - ' + pos)}), {{a}})"
    return template(
        f"CASE WHEN {{a}} IS NULL OR {{p}} IS NULL THEN NULL WHEN {{p}} = 0 THEN {zero} "
        f"WHEN {pos} >= 1 THEN {after} ELSE {before} END",
        nullable=True,
        a=c.arg(0),
        p=c.arg(1),
        x=c.arg(2),
    )


@register("array_intersect", "array_except")
def _array_intersect(c: Call) -> exp.Expression:
    """Order of the first array, duplicates removed, NULL a value like any other."""
    keep = "" if c.name == "array_intersect" else "NOT "
    kept = template(
        f"list_filter({{a}}, lambda e: {keep}list_bool_or(list_transform({{b}}, "
        "lambda f: f IS NOT DISTINCT FROM e)) IS TRUE)",
        a=c.arg(0),
        b=c.arg(1),
    )
    return _distinct(kept)


UPDATE_FIELDS = "__update_fields"


def _rebuilt(
    struct: exp.Expression,
    t: DataType,
    path: list[str],
    value: exp.Expression | None,
    case_sensitive: bool,
) -> exp.Expression:
    """``struct`` with the field at ``path`` replaced or added (value) or dropped (None)."""
    from pyspark.sql.types import StructType

    if not isinstance(t, StructType):
        raise AnalysisException(
            f"Cannot update field `{path[0]}`: the column is not a struct ({t.simpleString()}).",
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            sql_state="42K09",
        )

    def same(a: str, b: str) -> bool:
        return a == b if case_sensitive else a.lower() == b.lower()

    head, rest = path[0], path[1:]
    fields: list[tuple[str, exp.Expression]] = []
    fields_kept: dict[str, exp.Expression] = {}
    found = False
    for f in t.fields:
        current = template(f"struct_extract({{s}}, '{f.name}')", nullable=True, s=struct)
        if same(f.name, head):
            found = True
            if rest:
                fields.append((f.name, _rebuilt(current, f.dataType, rest, value, case_sensitive)))
            elif value is not None:
                fields.append((f.name, value))
            continue
        fields.append((f.name, current))
        fields_kept[f.name] = current
    if not found:
        if rest or value is None:
            if value is None and not rest:
                return struct  # Spark: dropping a missing field is a no-op
            raise AnalysisException(
                f"No such struct field `{head}`.", "FIELD_NOT_FOUND", sql_state="42704"
            )
        fields.append((head, value))
    if not fields:
        raise AnalysisException(
            "Cannot drop all fields in struct.",
            "DATATYPE_MISMATCH.CANNOT_DROP_ALL_FIELDS",
            sql_state="42K09",
        )
    packed = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(n, quoted=True), expression=v) for n, v in fields
        ]
    )
    out = template("CASE WHEN {s} IS NULL THEN NULL ELSE {p} END", s=struct, p=packed)
    out.meta["nullable"] = nullable_any(struct)
    # Field nullability: a kept field's as far as known (DuckDB's types say nullable), a
    # new or replaced one's from its value.
    before = dict(
        zip(
            [f.name for f in t.fields],
            struct.meta.get("field_nullable") or [True] * len(t.fields),
            strict=True,
        )
    )
    out.meta["field_nullable"] = [
        nullable_any(v) if n not in before or v is not fields_kept.get(n) else before[n]
        for n, v in fields
    ]
    return out


@register(UPDATE_FIELDS)
def _update_fields(c: Call) -> exp.Expression:
    """Column.withField / dropFields (Connect ``update_fields``); a dotted name reaches into
    nested structs."""
    from sparkless.connect.expressions import split_identifier

    path = split_identifier(str(c.literal_value(1)))
    value = c.args[2] if c.node.meta.get("with_value") else None
    return _rebuilt(c.arg(0), c.type(0), path, value, c.analyzer.conf.case_sensitive)
