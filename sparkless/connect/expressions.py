"""Connect ``Expression`` protos → unresolved sqlglot trees in Spark's dialect.

The output is what parsing the equivalent Spark SQL would give, so one analyzer
serves DataFrame and SQL code alike. Connect-only facts ride along in ``meta``:
the plan id of ``df["col"]`` references and the function name the user called.
"""

from __future__ import annotations

import datetime as dt
import decimal

import sqlglot
from pyspark.sql.connect.proto import expressions_pb2 as pb
from pyspark.sql.connect.types import proto_schema_to_pyspark_data_type
from sqlglot import exp
from sqlglot.errors import ParseError

from sparkless.errors import ParseException, unsupported
from sparkless.plan import catalog
from sparkless.plan.functions_collections import (
    EXTRACT_VALUE,
    UPDATE_FIELDS,
    struct_field_names,
)
from sparkless.plan.naming import call_name, spark_name
from sparkless.plan.types import duckdb_type_sql, parse_ddl

_BINARY: dict[str, type[exp.Expression]] = {
    "+": exp.Add,
    "-": exp.Sub,
    "*": exp.Mul,
    "/": exp.Div,
    "%": exp.Mod,
    "div": exp.IntDiv,
    "==": exp.EQ,
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<>": exp.NEQ,
    ">": exp.GT,
    ">=": exp.GTE,
    "<": exp.LT,
    "<=": exp.LTE,
    "<=>": exp.NullSafeEQ,
    "and": exp.And,
    "or": exp.Or,
    "&": exp.BitwiseAnd,
    "|": exp.BitwiseOr,
    "^": exp.BitwiseXor,
}


# Binding strength of the operators above (higher binds tighter), as in Spark SQL.
_PRECEDENCE: dict[type[exp.Expression], int] = {
    exp.Or: 1,
    exp.And: 2,
    exp.Not: 3,
    **dict.fromkeys((exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ), 4),
    exp.BitwiseOr: 5,
    exp.BitwiseXor: 6,
    exp.BitwiseAnd: 7,
    **dict.fromkeys((exp.Add, exp.Sub), 8),
    **dict.fromkeys((exp.Mul, exp.Div, exp.Mod, exp.IntDiv), 9),
}


def _operand(child: exp.Expression, parent: type[exp.Expression], right: bool) -> exp.Expression:
    """``child`` in parentheses where the parent binds tighter: a Connect tree has no
    parentheses, and ``(v + 5) * 2`` must not print as ``v + 5 * 2``. Associative chains
    (``a AND b AND c``) stay bare, so conjuncts keep their shape for the optimizer."""
    mine, theirs = _PRECEDENCE.get(type(child)), _PRECEDENCE[parent]
    if mine is None or mine > theirs:
        return child
    if mine == theirs and (not right or (parent is type(child) and parent in (exp.And, exp.Or, exp.Add, exp.Mul))):
        return child
    return exp.Paren(this=child)


def parse_sql_expression(text: str) -> exp.Expression:
    """``selectExpr``/``filter("...")`` strings, parsed as Spark SQL."""
    try:
        from sparkless.plan.spark_dialect import SparklessSpark

        return sqlglot.parse_one(text, read=SparklessSpark)
    except ParseError as e:
        raise parse_error(text, e) from None


def parse_error(text: str, e: ParseError) -> ParseException:
    info = e.errors[0] if e.errors else {}
    line, col = info.get("line", 1), info.get("col", 0)
    near = info.get("highlight") or ""
    return ParseException(
        f"Syntax error at or near '{near}'.(line {line}, pos {col})\n\n== SQL ==\n{text}\n",
        "PARSE_SYNTAX_ERROR",
        sql_state="42601",
        parameters={"error": f"'{near}'", "hint": ""},
    )


def to_sql(e: pb.Expression) -> exp.Expression:
    kind = e.WhichOneof("expr_type")
    fn = _CONVERTERS.get(kind or "")
    if fn is None:
        raise unsupported(f"The Connect expression '{kind}'")
    return fn(e)


def _attribute(e: pb.Expression) -> exp.Expression:
    a = e.unresolved_attribute
    parts = split_identifier(a.unparsed_identifier)
    out = _qualified(parts)
    if a.HasField("plan_id"):
        out.meta["plan_id"] = a.plan_id
    return out


def _qualified(parts: list[str]) -> exp.Expression:
    """``a.b.c`` as a Column whose parts the analyzer resolves (qualifier or struct field)."""
    col = exp.Column(this=exp.to_identifier(parts[-1], quoted=True))
    names = ["table", "db", "catalog"]
    for name, part in zip(names, reversed(parts[:-1])):
        col.set(name, exp.to_identifier(part, quoted=True))
    if len(parts) > 4:
        raise unsupported("Column references with more than four name parts")
    return col


def split_identifier(text: str) -> list[str]:
    """Spark's multi-part identifiers: ``a.b``, with backticks quoting dots (```a.b```)."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "`":
            if quoted and i + 1 < len(text) and text[i + 1] == "`":
                cur.append("`")
                i += 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _star(e: pb.Expression) -> exp.Expression:
    s = e.unresolved_star
    if s.HasField("plan_id"):
        col = exp.Column(this=exp.Star())
        col.meta["plan_id"] = s.plan_id
        return col
    if s.HasField("unparsed_target") and s.unparsed_target:
        target = s.unparsed_target.removesuffix(".*")
        return exp.Column(this=exp.Star(), table=exp.to_identifier(target))
    return exp.Star()


def _alias(e: pb.Expression) -> exp.Expression:
    a = e.alias
    if len(a.name) > 1:  # posexplode(...).alias("p", "c"): a generator's columns
        names = [exp.to_identifier(n, quoted=True) for n in a.name]
        return exp.Aliases(this=to_sql(a.expr), expressions=names)
    if len(a.name) != 1:
        raise unsupported("Multi-name aliases")
    out = exp.alias_(to_sql(a.expr), a.name[0], quoted=True)
    if a.HasField("metadata") and a.metadata:
        import json

        out.meta["metadata"] = json.loads(a.metadata)  # the field's metadata in the schema
    return out


def _expression_string(e: pb.Expression) -> exp.Expression:
    return parse_sql_expression(e.expression_string.expression)


def _cast(e: pb.Expression) -> exp.Expression:
    c = e.cast
    if c.HasField("type_str"):
        spark_type = parse_ddl(c.type_str)
    else:
        spark_type = proto_schema_to_pyspark_data_type(c.type)
    to = exp.DataType.build(duckdb_type_sql(spark_type), dialect="duckdb")
    out = exp.Cast(this=to_sql(c.expr), to=to)
    if c.eval_mode == pb.Expression.Cast.EVAL_MODE_TRY:
        out.set("safe", True)
    out.meta["spark_type"] = spark_type.simpleString().upper()
    return out


def _sort_order(e: pb.Expression) -> exp.Expression:
    s = e.sort_order
    desc = s.direction == pb.Expression.SortOrder.SORT_DIRECTION_DESCENDING
    nulls = s.null_ordering
    if nulls == pb.Expression.SortOrder.SORT_NULLS_UNSPECIFIED:
        nulls_first = not desc
    else:
        nulls_first = nulls == pb.Expression.SortOrder.SORT_NULLS_FIRST
    return exp.Ordered(this=to_sql(s.child), desc=desc, nulls_first=nulls_first, explicit_nulls=True)


def _extract(e: pb.Expression) -> exp.Expression:
    x = e.unresolved_extract_value
    key = to_sql(x.extraction)
    child = to_sql(x.child)
    # Struct field, map value or 0-based array item: which one (and the column name,
    # ``r.a`` or ``m[k]``) depends on the child's type (plan/functions_collections.py).
    out = exp.Anonymous(this=EXTRACT_VALUE, expressions=[child, key])
    out.meta["extract"] = True
    return out


def _function(e: pb.Expression) -> exp.Expression:
    f = e.unresolved_function
    return build_function(f.function_name, [to_sql(a) for a in f.arguments], f.is_distinct)


def _call_function(e: pb.Expression) -> exp.Expression:
    f = e.call_function
    return build_function(f.function_name, [to_sql(a) for a in f.arguments], False)


def build_function(name: str, args: list[exp.Expression], distinct: bool) -> exp.Expression:
    lname = name.lower()
    if lname in _BINARY and len(args) == 2:
        op = _BINARY[lname]
        return op(this=_operand(args[0], op, False), expression=_operand(args[1], op, True))
    if lname == "not" or lname == "!":
        return exp.Not(this=args[0])
    if lname == "negative" or (lname == "-" and len(args) == 1):
        out = exp.Neg(this=args[0])
        out.meta["pretty"] = call_name("negative", args)
        return out
    if lname == "isnull":
        return exp.Is(this=args[0], expression=exp.null())
    if lname == "isnotnull":
        return exp.Not(this=exp.Is(this=args[0], expression=exp.null()))
    if lname == "in":
        return exp.In(this=args[0], expressions=args[1:])
    if lname == "like":
        like = exp.Like(this=args[0], expression=args[1])
        return exp.Escape(this=like, expression=args[2]) if len(args) > 2 else like
    if lname == "rlike":
        return exp.RegexpLike(this=args[0], expression=args[1])
    if lname == "when" or lname == "case_when":
        pairs = [exp.If(this=args[i], true=args[i + 1]) for i in range(0, len(args) - 1, 2)]
        default = args[-1] if len(args) % 2 else None
        return exp.Case(ifs=pairs, default=default)
    if lname == "distributed_sequence_id" and len(args) <= 1:  # (pandas passes a cache flag)
        # zipWithIndex / pandas-on-Spark's default index: 0, 1, ... in partition order, as a
        # window over one partition (rows keep their order: Spark's sequence follows it).
        seq = exp.Sub(this=exp.Window(this=exp.RowNumber(), over="OVER"), expression=exp.Literal.number(1))
        out = exp.Cast(this=seq, to=exp.DataType.build("BIGINT"))
        out.meta["pretty"] = "distributed_sequence_id()"
        out.meta["nullable"] = False
        return out
    if lname == "count" and len(args) == 1 and isinstance(args[0], exp.Star):
        out = exp.Count(this=exp.Star())
        out.meta["spark_name"] = "count"
        return out
    user_args = list(args)
    for a in user_args:  # before exp.func copies them: marks what the user passed
        a.meta["user_arg"] = True
    if distinct:
        args = [exp.Distinct(expressions=args)]
    try:
        if catalog.known(lname) and not distinct:
            raise ValueError(lname)  # sparkless's own translation (plan/catalog.py)
        out = exp.func(lname, *args, dialect="spark")
    except (ValueError, ParseError, TypeError):
        out = exp.Anonymous(this=lname, expressions=args)
    out.meta["spark_name"] = lname
    # Built-ins print their own (lower-case) name; anything else (a UDF) as it was called.
    shown = name if isinstance(out, exp.Anonymous) and not catalog.known(lname) else lname
    out.meta["pretty"] = call_name(shown, user_args, distinct)
    if not distinct:
        out.meta["pretty_call"] = (shown, distinct, len(user_args))
    if lname in ("struct", "named_struct"):  # field names, before aliases are dropped
        out.meta["struct_names"] = struct_field_names(lname, user_args)
    return out


def literal(e: pb.Expression) -> exp.Expression:
    lit = e.literal
    kind = lit.WhichOneof("literal_type")
    if kind == "null" or kind is None:
        return exp.null()
    value = getattr(lit, kind)
    if kind == "boolean":
        return exp.Boolean(this=value)
    if kind in ("integer",):
        out = exp.Literal.number(value)
        out.meta["pretty"] = str(value)
        return out
    if kind in ("byte", "short", "long", "float", "double"):
        sql_type = {"byte": "TINYINT", "short": "SMALLINT", "long": "BIGINT", "float": "FLOAT", "double": "DOUBLE"}[kind]
        text = repr(value) if kind in ("float", "double") else str(value)
        if text in ("nan", "inf", "-inf"):
            base: exp.Expression = exp.Literal.string({"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[text])
        else:
            base = exp.Literal.number(text)
        out = exp.Cast(this=base, to=exp.DataType.build(sql_type))
        out.meta["pretty"] = _literal_name(kind, value)
        return out
    if kind == "decimal":
        d = lit.decimal
        text = d.value
        out = exp.Cast(this=exp.Literal.number(text), to=exp.DataType.build(f"DECIMAL({d.precision}, {d.scale})"))
        out.meta["pretty"] = text
        return out
    if kind == "string":
        return exp.Literal.string(value)
    if kind == "binary":
        out = exp.Anonymous(this="unhex", expressions=[exp.Literal.string(value.hex())])
        out.meta["pretty"] = "X'" + value.hex().upper() + "'"
        return out
    if kind == "date":
        d = dt.date(1970, 1, 1) + dt.timedelta(days=value)
        out = exp.Cast(this=exp.Literal.string(d.isoformat()), to=exp.DataType.build("DATE"))
        out.meta["pretty"] = f"DATE '{d.isoformat()}'"
        return out
    if kind in ("timestamp", "timestamp_ntz"):
        ts = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=value)
        if kind == "timestamp":
            out = exp.Anonymous(this="to_timestamp", expressions=[exp.Literal.number(value / 1e6)])
        else:
            out = exp.Cast(this=exp.Literal.string(ts.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
        out.meta["pretty"] = f"TIMESTAMP '{ts.isoformat(sep=' ')}'"
        return out
    if kind == "time":  # Spark 4.1's TIME: nanoseconds of the day
        t = (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=lit.time.nano // 1000)).time()
        out = exp.Cast(this=exp.Literal.string(t.isoformat()), to=exp.DataType.build("TIME"))
        out.meta["pretty"] = f"TIME '{t.isoformat()}'"
        return out
    if kind == "array":
        items = [literal(pb.Expression(literal=x)) for x in lit.array.elements]
        return exp.Array(expressions=items)
    raise unsupported(f"Literals of kind '{kind}'")


def _literal_name(kind: str, value: object) -> str:
    if kind in ("float", "double"):
        from pyspark.sql.types import DoubleType, FloatType

        from sparkless.connect.show import format_value

        return format_value(value, DoubleType() if kind == "double" else FloatType(), "UTC")
    return str(value)


def _window(e: pb.Expression) -> exp.Expression:
    w = e.window
    order = [to_sql(pb.Expression(sort_order=o)) for o in w.order_spec]
    out = exp.Window(
        this=to_sql(w.window_function),
        partition_by=[to_sql(p) for p in w.partition_spec] or None,
        order=exp.Order(expressions=order) if order else None,
        over="OVER",
    )
    if w.HasField("frame_spec"):
        f = w.frame_spec
        kind = "ROWS" if f.frame_type == pb.Expression.Window.WindowFrame.FRAME_TYPE_ROW else "RANGE"
        start, start_side = _boundary(f.lower, "PRECEDING")
        end, end_side = _boundary(f.upper, "FOLLOWING")
        out.set("spec", exp.WindowSpec(kind=kind, start=start, start_side=start_side, end=end, end_side=end_side))
    return out


def _boundary(b: pb.Expression.Window.WindowFrame.FrameBoundary, unbounded_side: str) -> tuple[object, str | None]:
    """Spark's frame boundary → sqlglot's (value, side): negative offsets precede."""
    if b.HasField("current_row") and b.current_row:
        return "CURRENT ROW", None
    if b.HasField("unbounded") and b.unbounded:
        return "UNBOUNDED", unbounded_side
    lit = b.value.literal if b.value.HasField("literal") else None
    kind = lit.WhichOneof("literal_type") if lit is not None else None
    if kind not in ("integer", "long", "short", "byte"):
        raise unsupported("Window frame boundaries that are not integer literals")
    number = getattr(lit, kind)
    n = int(float(number))
    if n == 0:
        return "CURRENT ROW", None
    return exp.Literal.number(abs(n)), "PRECEDING" if n < 0 else "FOLLOWING"


def _udf(e: pb.Expression) -> exp.Expression:
    from sparkless.plan import python_udf

    return python_udf.call_proto(e.common_inline_user_defined_function, to_sql)


def _update_fields(e: pb.Expression) -> exp.Expression:
    """``Column.withField`` / ``dropFields``: rebuilt from the struct's type at analysis."""
    u = e.update_fields
    struct = to_sql(u.struct_expression)
    with_value = u.HasField("value_expression")
    value = to_sql(u.value_expression) if with_value else exp.null()
    out = exp.Anonymous(this=UPDATE_FIELDS, expressions=[struct, exp.Literal.string(u.field_name), value])
    out.meta["with_value"] = with_value
    shown = f"WithField({spark_name(value)})" if with_value else "dropfield()"
    out.meta["pretty"] = f"update_fields({spark_name(struct)}, {shown})"
    return out


def _lambda_function(e: pb.Expression) -> exp.Expression:
    """Spark's ``lambdafunction``: its variables stay names until the higher-order function
    that takes it types them (plan/functions_collections.py)."""
    f = e.lambda_function
    names = [".".join(v.name_parts) for v in f.arguments]
    body = to_sql(f.function)
    out = exp.Lambda(this=body, expressions=[exp.to_identifier(n, quoted=True) for n in names])
    out.meta["lambda_pretty"] = True  # named from its body when named (plan/naming.py)
    return out


def _lambda_variable(e: pb.Expression) -> exp.Expression:
    out = _qualified(list(e.unresolved_named_lambda_variable.name_parts))
    out.meta["pretty"] = "namedlambdavariable()"
    return out


def _subquery(e: pb.Expression) -> exp.Expression:
    """``df.scalar()`` / ``df.exists()`` / ``col.isin(df)``: the SQL path's subquery nodes
    over a placeholder for the referenced relation (connect/subqueries.py plans them)."""
    from sparkless.connect.subqueries import placeholder

    s = e.subquery_expression
    node = placeholder(s.plan_id)
    kind = s.subquery_type
    if kind == pb.SubqueryExpression.SUBQUERY_TYPE_SCALAR:
        return exp.Subquery(this=node)
    if kind == pb.SubqueryExpression.SUBQUERY_TYPE_EXISTS:
        return exp.Exists(this=node)
    if kind == pb.SubqueryExpression.SUBQUERY_TYPE_IN:
        values = [to_sql(v) for v in s.in_subquery_values]
        this = values[0] if len(values) == 1 else exp.Tuple(expressions=values)
        return exp.In(this=this, query=node)
    raise unsupported("Table arguments (DataFrame.asTable) to table-valued functions")


_CONVERTERS = {
    "subquery_expression": _subquery,
    "lambda_function": _lambda_function,
    "update_fields": _update_fields,
    "unresolved_named_lambda_variable": _lambda_variable,
    "literal": literal,
    "unresolved_attribute": _attribute,
    "unresolved_function": _function,
    "call_function": _call_function,
    "expression_string": _expression_string,
    "unresolved_star": _star,
    "alias": _alias,
    "cast": _cast,
    "sort_order": _sort_order,
    "unresolved_extract_value": _extract,
    "common_inline_user_defined_function": _udf,
    "window": _window,
}

__all__ = ["to_sql", "parse_sql_expression", "split_identifier", "decimal"]
