"""Spark's automatic column names (``toPrettySQL``) for unresolved expressions.

``df.select(df.a + 1)`` is a column named ``(a + 1)``; ``count(*)`` is
``count(1)``. Jobs index results by these names, so they must match Spark's.
"""

from __future__ import annotations

from sqlglot import exp

_BINARY = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
    exp.IntDiv: "div",
    exp.EQ: "=",
    exp.NEQ: "!=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.NullSafeEQ: "<=>",
    exp.And: "AND",
    exp.Or: "OR",
    exp.BitwiseAnd: "&",
    exp.BitwiseOr: "|",
    exp.BitwiseXor: "^",
    exp.DPipe: "||",
}


def spark_name(e: exp.Expression) -> str:
    if isinstance(e, exp.Alias):
        return e.alias
    if isinstance(e, exp.Lambda) and e.meta.get("lambda_pretty"):
        params = ["namedlambdavariable()"] * len(e.expressions)
        return f"lambdafunction({', '.join([spark_name(e.this), *params])})"
    if "pretty" in e.meta:  # set where the node was built (a Connect call or literal)
        call = e.meta.get("pretty_call")
        args = _call_args(e, call[2]) if call else None
        # Re-rendered from the children: an argument's name can be set later (``r.a``).
        return call_name(call[0], args, call[1]) if args is not None else e.meta["pretty"]
    if "spark_name" in e.meta and not isinstance(e, exp.Func):
        return e.meta["spark_name"]
    if isinstance(e, exp.Column):
        attr = e.meta.get("attr")
        if attr is not None:
            return attr.name
        if isinstance(e.this, exp.Star):
            return "*"
        return e.name
    if isinstance(e, exp.Dot):
        return e.expression.name
    if isinstance(e, exp.Star):
        return "*"
    if isinstance(e, exp.Null):
        return "NULL"
    if isinstance(e, exp.Boolean):
        return "true" if e.this else "false"
    if isinstance(e, exp.Literal):
        return str(e.this)
    if isinstance(e, (exp.Paren, exp.IgnoreNulls)):
        return spark_name(e.this)
    op = _BINARY.get(type(e))
    if op is not None:
        return f"({spark_name(e.this)} {op} {spark_name(e.expression)})"
    if isinstance(e, exp.Neg):
        return f"(- {spark_name(e.this)})"
    if isinstance(e, exp.Not):
        inner = e.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return f"({spark_name(inner.this)} IS NOT NULL)"
        if isinstance(inner, exp.In):
            return f"(NOT {spark_name(inner)})"
        return f"(NOT {spark_name(inner)})"
    if isinstance(e, exp.Is) and isinstance(e.expression, exp.Null):
        return f"({spark_name(e.this)} IS NULL)"
    if isinstance(e, exp.In):
        items = ", ".join(spark_name(x) for x in e.expressions)
        return f"({spark_name(e.this)} IN ({items}))"
    if isinstance(e, exp.Between):
        return (
            f"({spark_name(e.this)} BETWEEN {spark_name(e.args['low'])} "
            f"AND {spark_name(e.args['high'])})"
        )
    if isinstance(e, exp.Like):
        return f"{spark_name(e.this)} LIKE {spark_name(e.expression)}"
    if isinstance(e, exp.RegexpLike):
        return f"RLIKE({spark_name(e.this)}, {spark_name(e.expression)})"
    if isinstance(e, (exp.Cast, exp.TryCast)):
        prefix = "try_cast" if e.args.get("safe") else "CAST"
        to = e.meta.get("spark_type") or e.to.sql("spark").upper()
        return f"{prefix}({spark_name(e.this)} AS {to})"
    if isinstance(e, exp.Case):
        parts = ["CASE"]
        if e.this is not None:
            parts.append(spark_name(e.this))
        for w in e.args.get("ifs", []):
            parts.append(f"WHEN {spark_name(w.this)} THEN {spark_name(w.args['true'])}")
        if e.args.get("default") is not None:
            parts.append(f"ELSE {spark_name(e.args['default'])}")
        parts.append("END")
        return " ".join(parts)
    if isinstance(e, exp.If):
        false = e.args.get("false")
        args = [e.this, e.args["true"]] + ([false] if false is not None else [])
        return f"(IF({', '.join(spark_name(a) for a in args)}))"
    if isinstance(e, exp.Window):
        return f"{spark_name(e.this)} OVER ({_window_spec(e)})"
    if isinstance(e, exp.Ordered):
        direction = "DESC" if e.args.get("desc") else "ASC"
        nulls_first = e.args.get("nulls_first")
        if not e.args.get("explicit_nulls"):
            nulls_first = direction == "ASC"
        return f"{spark_name(e.this)} {direction} NULLS {'FIRST' if nulls_first else 'LAST'}"
    if isinstance(e, exp.Func):
        return _function_name(e)
    return e.sql("spark")


# Spark's prettyName for a few functions is upper case (Rank, DenseRank, PercentRank).
_UPPER_NAMES = {"rank": "RANK", "dense_rank": "DENSE_RANK", "percent_rank": "PERCENT_RANK"}


def _function_name(e: exp.Func) -> str:
    name = e.meta.get("spark_name") or _sql_function_name(e)
    name = _UPPER_NAMES.get(name, name)
    distinct = False
    args: list[exp.Expression] = []
    for key in e.arg_types:
        value = e.args.get(key)
        if value is None or key in ("distinct",):
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, exp.Distinct):
                distinct = True
                args.extend(v.expressions)
            elif isinstance(v, exp.Expression):
                args.append(v)
    if isinstance(e, exp.Count) and (not args or isinstance(args[0], exp.Star)):
        return "count(1)"
    rendered = ", ".join(spark_name(a) for a in args)
    return f"{name}({'DISTINCT ' if distinct else ''}{rendered})"


def _sql_function_name(e: exp.Func) -> str:
    if isinstance(e, exp.Anonymous):
        return str(e.this).lower()
    text = e.sql("spark")
    head = text.split("(", 1)[0].strip()
    return head.lower() if head and " " not in head else type(e).__name__.lower()


_RANKING = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile, exp.CumeDist, exp.PercentRank,
            exp.Lag, exp.Lead)


def _window_spec(w: exp.Window) -> str:
    """Spark prints the frame it will use, defaults included."""
    parts = []
    if w.args.get("partition_by"):
        parts.append("PARTITION BY " + ", ".join(spark_name(p) for p in w.args["partition_by"]))
    order = w.args.get("order")
    if order is not None and order.expressions:
        parts.append("ORDER BY " + ", ".join(spark_name(o) for o in order.expressions))
    spec = w.args.get("spec")
    if spec is not None:
        def side(value: object, s: object) -> str:
            text = value if isinstance(value, str) else spark_name(value)  # type: ignore[arg-type]
            return f"{text} {str(s).upper()}".strip() if s else str(text)

        frame = (
            f"{str(spec.args.get('kind')).upper()} BETWEEN "
            f"{side(spec.args.get('start'), spec.args.get('start_side'))} AND "
            f"{side(spec.args.get('end'), spec.args.get('end_side'))}"
        )
    elif isinstance(w.this, _RANKING) or (order is not None and order.expressions and isinstance(w.this, (exp.RowNumber,))):
        frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    elif order is not None and order.expressions:
        frame = "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    else:
        frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    if isinstance(w.this, (exp.Lag, exp.Lead)):
        offset = w.this.args.get("offset")
        n = int(offset.this) if isinstance(offset, exp.Literal) else 1
        n = -n if isinstance(w.this, exp.Lag) else n
        frame = f"ROWS BETWEEN {n} FOLLOWING AND {n} FOLLOWING"
    parts.append(frame)
    return " ".join(parts)


# --------------------------------------------------------------------------- function calls
#
# Spark names a function call after the *resolved* expression: the class's prettyName
# (upper case for the math functions), every child including defaults the user left out,
# and non-child parameters (first's ignoreNulls) left out. ``call_name`` renders that from
# the name the client called and its arguments.

_CALL_NAMES = {
    **{n: n.upper() for n in (
        "acos", "asin", "atan", "cos", "sin", "tan", "cosh", "sinh", "tanh", "acosh", "asinh",
        "atanh", "cbrt", "exp", "expm1", "log10", "log2", "log1p", "sqrt", "cot", "sec", "csc",
        "degrees", "radians", "signum", "e", "pi", "hypot", "atan2", "spark_partition_id",
        "regexp_like", "regexp", "rlike", "ceil", "floor")},
    "rank": "RANK",
    "dense_rank": "DENSE_RANK",
    "percent_rank": "PERCENT_RANK",
    "pow": "POWER",
    "power": "POWER",
    "mean": "avg",
    "current_database": "current_schema",
    "dateadd": "date_add",
    "to_varchar": "to_char",
}

# Parameters Spark fills in when the caller leaves them out, by argument count given.
_DEFAULTS: dict[str, dict[int, list[str]]] = {
    "sort_array": {1: ["true"]},
    "round": {1: ["0"]},
    "bround": {1: ["0"]},
    "split": {2: ["-1"]},
    "months_between": {2: ["true"]},
    "percentile_approx": {2: ["10000"]},
    "approx_percentile": {2: ["10000"]},
    "percentile": {2: ["1"]},
    "listagg": {1: ["NULL"]},
    "string_agg": {1: ["NULL"]},
    "regexp_replace": {3: ["1"]},
    "regexp_extract": {2: ["1"]},
    "regexp_extract_all": {2: ["1"]},
    "regexp_instr": {2: ["0"]},
    "overlay": {3: ["-1"]},
    "locate": {2: ["1"]},
    "position": {2: ["1"]},
    "substr": {2: ["2147483647"]},
    "substring": {2: ["2147483647"]},
    "sentences": {1: ["", ""], 2: [""]},
    "mask": {1: ["X", "x", "n", "NULL"], 2: ["x", "n", "NULL"], 3: ["n", "NULL"], 4: ["NULL"]},
    "str_to_map": {1: [",", ":"], 2: [":"]},
    "replace": {2: [""]},
    "unix_timestamp": {0: ["current_timestamp()", "yyyy-MM-dd HH:mm:ss"],
                       1: ["yyyy-MM-dd HH:mm:ss"]},
    "to_unix_timestamp": {1: ["yyyy-MM-dd HH:mm:ss"]},
    "from_unixtime": {1: ["yyyy-MM-dd HH:mm:ss"]},
    "make_interval": {i: ["0"] * (7 - i) for i in range(7)},
    "lag": {1: ["1", "NULL"], 2: ["NULL"]},
    "lead": {1: ["1", "NULL"], 2: ["NULL"]},
    "lpad": {2: [" "]},
    "rpad": {2: [" "]},
    "aes_encrypt": {2: ["GCM", "DEFAULT", "", ""], 3: ["DEFAULT", "", ""], 4: ["", ""], 5: [""]},
    "aes_decrypt": {2: ["GCM", "DEFAULT", ""], 3: ["DEFAULT", ""], 4: [""]},
    "try_aes_decrypt": {2: ["GCM", "DEFAULT", ""], 3: ["DEFAULT", ""], 4: [""]},
    "hmac": {2: ["SHA-256"]},
    "instr": {3: ["1"]},
    # sketches (sparkless/plan/functions_sketch.py)
    "hll_sketch_agg": {1: ["12"]},
    "hll_union_agg": {1: ["false"]},
    "hll_union": {2: ["false"]},
    "theta_sketch_agg": {1: ["12"]},
    "theta_union_agg": {1: ["12"]},
    "theta_union": {2: ["12"]},
    **{f"tuple_{f}_{t}": d for t in ("double", "integer") for f, d in (
        ("sketch_agg", {2: ["12", "sum"], 3: ["sum"]}),
        ("union_agg", {1: ["12", "sum"], 2: ["sum"]}),
        ("intersection_agg", {1: ["sum"]}),
        ("sketch_summary", {1: ["sum"]}),
        ("union", {2: ["12", "sum"], 3: ["sum"]}),
        ("union_theta", {2: ["12", "sum"], 3: ["sum"]}),
        ("intersection", {2: ["sum"]}),
        ("intersection_theta", {2: ["sum"]}))},
}

_V = "namedlambdavariable()"
_DEFAULTS["array_sort"] = {1: [  # Spark's default comparator, as it prints it
    f"lambdafunction((IF((({_V} IS NULL) AND ({_V} IS NULL)), 0, (IF(({_V} IS NULL), 1, "
    f"(IF(({_V} IS NULL), -1, (IF(({_V} < {_V}), -1, (IF(({_V} > {_V}), 1, 0)))))))))), {_V}, {_V})"]}
_DEFAULTS["aggregate"] = _DEFAULTS["reduce"] = {
    3: ["lambdafunction(namedlambdavariable(), namedlambdavariable())"]}

# ignoreNulls (first, last, ...) and mode's deterministic flag are not children.
_DROP_SECOND = {"first", "last", "first_value", "last_value", "any_value", "mode"}
# The schema / options are not children.
_FIRST_ONLY = {"from_json", "from_csv", "from_xml", "to_json", "to_csv", "to_xml",
               "schema_of_json", "schema_of_csv", "schema_of_xml"}
_TRIM_SIDES = {"trim": "BOTH", "ltrim": "LEADING", "rtrim": "TRAILING"}


def _call_args(e: exp.Expression, count: int) -> list[exp.Expression] | None:
    """The user's arguments of a call node, where the node still holds them in order."""
    if isinstance(e, exp.Anonymous):
        return list(e.expressions) if len(e.expressions) == count else None
    values = [v for v in e.args.values() if v is not None and v != []]
    if count == 1 and len(values) == 1 and values[0] is e.this and e.this.meta.get("user_arg"):
        return [e.this]  # not an argument sqlglot wrapped (``day(x)`` → ``day(to_date(x))``)
    return None


def call_name(name: str, args: list[exp.Expression], distinct: bool = False) -> str:
    """Spark's column name for ``name(args)`` as the client called it."""
    lname = name.lower()
    rendered = [f"{spark_name(a.this)} AS {a.alias}" if isinstance(a, exp.Alias) else spark_name(a)
                for a in args]
    if lname in _FIRST_ONLY:
        rendered = rendered[:1]
    if lname in _TRIM_SIDES and len(args) == 2:  # the client sends (trimStr, src)
        return f"TRIM({_TRIM_SIDES[lname]} {rendered[0]} FROM {rendered[1]})"
    if lname in ("extract", "datepart") and len(args) == 2:
        return f"{lname}({rendered[0]} FROM {rendered[1]})"
    if lname in ("window", "session_window"):  # a time window column is named so
        return lname
    if lname == "try_make_timestamp" and len(args) == 7:  # Spark leaves the zone out (not _ltz)
        rendered = rendered[:6]
    if lname in ("variant_get", "try_variant_get") and len(args) == 3:
        rendered = rendered[:2]  # the target type is not a child
    if lname in ("bitwise_not", "~") and len(args) == 1:
        return f"~{rendered[0]}"
    if lname == "positive" and len(args) == 1:
        return f"(+ {rendered[0]})"
    if lname == "assert_true" and len(args) == 1:
        return f"assert_true({rendered[0]}, '{rendered[0]}' is not true!)"
    if lname in ("ceil", "floor") and len(args) == 2:
        return f"{lname}({', '.join(rendered)})"
    if lname == "log":
        if len(args) == 1:
            return f"ln({rendered[0]})"
        return f"LOG({', '.join(rendered)})"
    if lname in _DROP_SECOND and len(args) == 2:
        rendered = rendered[:1]
    rendered += _DEFAULTS.get(lname, {}).get(len(args), [])
    pretty = _CALL_NAMES.get(lname, name)
    if lname == "count" and len(args) == 1 and isinstance(args[0], exp.Star):
        rendered = ["1"]
    return f"{pretty}({'DISTINCT ' if distinct else ''}{', '.join(rendered)})"
