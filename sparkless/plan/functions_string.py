"""String functions: Spark's semantics (Java regexes' find, 1-based positions, 0 for not
found, the client's argument order) written as DuckDB SQL."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    ByteType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
)
from sqlglot import exp

from executors import builtins
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan.catalog import Call, register, template


def _text(c: Call, i: int) -> exp.Expression:
    """An argument as VARCHAR (Spark implicitly casts atomic values to string)."""
    a = c.arg(i)
    return a if isinstance(c.type(i), StringType) else exp.cast(a, "VARCHAR")


def _bytes(c: Call, i: int) -> exp.Expression:
    """An argument as BLOB: Spark casts strings to their UTF-8 bytes."""
    a = c.arg(i)
    return a if isinstance(c.type(i), BinaryType) else template("encode({s})", s=_text(c, i))


@register("btrim")
def _btrim(c: Call) -> exp.Expression:
    if len(c.args) == 1:
        return template("trim({s}, ' ')", s=c.arg(0))
    return template("trim({s}, {t})", s=c.arg(0), t=c.arg(1))


@register("trim", "ltrim", "rtrim")
def _trim(c: Call) -> exp.Expression:
    # The client sends (trimStr, src) when a trim string is given.
    if len(c.args) == 1:
        return template(f"{c.name}({{s}}, ' ')", s=_text(c, 0))
    return template(f"{c.name}({{s}}, {{t}})", s=_text(c, 1), t=_text(c, 0))


@register("substring_index")
def _substring_index(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {n} = 0 OR {d} = '' THEN '' "
        "WHEN {n} > 0 THEN array_to_string(list_slice(string_split({s}, {d}), 1, {n}), {d}) "
        "ELSE array_to_string(list_slice(string_split({s}, {d}), "
        "greatest(len(string_split({s}, {d})) + {n} + 1, 1), len(string_split({s}, {d}))), {d}) END",
        s=c.arg(0),
        d=c.arg(1),
        n=c.arg(2),
    )


@register("split")
def _split(c: Call) -> exp.Expression:
    limit = c.literal_value(2) if len(c.args) > 2 and c.is_literal(2) else None
    if len(c.args) > 2 and (limit is None or (isinstance(limit, int) and limit > 0)):
        # java.lang.String.split with a limit: a Python built-in (executors.builtin_strings)
        out = template(f"{builtins.call('split')}({{s}}, {{r}}, CAST({{n}} AS INTEGER))",
                       s=_text(c, 0), r=_text(c, 1), n=c.arg(2))
        out.meta["contains_null"] = False
        return out
    out = template("regexp_split_to_array({s}, {r})", s=c.arg(0), r=c.arg(1))
    out.meta["contains_null"] = False
    return out


@register("base64")
def _base64(c: Call) -> exp.Expression:
    return template("to_base64({b})", b=_bytes(c, 0))


@register("octet_length")
def _octet_length(c: Call) -> exp.Expression:
    return template("CAST(octet_length({b}) AS INTEGER)", b=_bytes(c, 0))


@register("bit_length")
def _bit_length(c: Call) -> exp.Expression:
    return template("CAST(octet_length({b}) * 8 AS INTEGER)", b=_bytes(c, 0))


@register("replace")
def _replace(c: Call) -> exp.Expression:
    rep = c.arg(2, exp.Literal.string(""))
    return template("replace({s}, {f}, {r})", s=c.arg(0), f=c.arg(1), r=rep)


@register("elt")
def _elt(c: Call) -> exp.Expression:
    items = exp.Array(expressions=[_text(c, i) for i in range(1, len(c.args))])
    n = len(c.args) - 1
    bad = (
        f"error('[INVALID_ARRAY_INDEX] The index ' || CAST({{i}} AS VARCHAR) || "
        f"' is out of bounds. The array has {n} elements.')"
        if c.ansi
        else "NULL"
    )
    return template(
        f"CASE WHEN {{i}} < 1 OR {{i}} > {n} THEN {bad} ELSE list_extract({{a}}, {{i}}) END",
        nullable=True,
        i=c.arg(0),
        a=items,
    )


@register("find_in_set")
def _find_in_set(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {s} IS NULL OR {l} IS NULL THEN NULL WHEN contains({s}, ',') THEN 0 "
        "ELSE CAST(coalesce(list_position(string_split({l}, ','), {s}), 0) AS INTEGER) END",
        s=c.arg(0),
        l=c.arg(1),
    )


@register("regexp_substr")
def _regexp_substr(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN regexp_matches({s}, {r}) THEN regexp_extract({s}, {r}, 0) END",
        nullable=True,
        s=c.arg(0),
        r=c.arg(1),
    )


@register("regexp", "regexp_like", "rlike")
def _regexp_like(c: Call) -> exp.Expression:
    return template("regexp_matches({s}, {r})", s=c.arg(0), r=c.arg(1))


@register("levenshtein")
def _levenshtein(c: Call) -> exp.Expression:
    if len(c.args) == 2:
        return template("CAST(levenshtein({a}, {b}) AS INTEGER)", a=c.arg(0), b=c.arg(1))
    return template(
        "CAST(CASE WHEN levenshtein({a}, {b}) > {t} THEN -1 ELSE levenshtein({a}, {b}) END AS INTEGER)",
        a=c.arg(0),
        b=c.arg(1),
        t=c.arg(2),
    )


@register("format_string", "printf")
def _format_string(c: Call) -> exp.Expression:
    args = ", ".join(f"{{a{i}}}" for i in range(len(c.args)))
    out = template(f"printf({args})", **{f"a{i}": a for i, a in enumerate(c.args)})
    out.meta["nullable"] = True
    return out


@register("mask")
def _mask(c: Call) -> exp.Expression:
    def rep(i: int, default: str | None) -> exp.Expression:
        return c.arg(i, exp.Literal.string(default) if default is not None else exp.null())

    upper, lower, digit, other = rep(1, "X"), rep(2, "x"), rep(3, "n"), rep(4, None)
    return template(
        "array_to_string(list_transform(string_split({s}, ''), lambda ch: CASE "
        "WHEN regexp_full_match(ch, '[A-Z]') THEN coalesce({u}, ch) "
        "WHEN regexp_full_match(ch, '[a-z]') THEN coalesce({l}, ch) "
        "WHEN regexp_full_match(ch, '[0-9]') THEN coalesce({d}, ch) "
        "ELSE coalesce({o}, ch) END), '')",
        s=c.arg(0),
        u=upper,
        l=lower,
        d=digit,
        o=other,
    )


@register("quote")
def _quote(c: Call) -> exp.Expression:
    return template("'''' || replace({s}, '''', '\\''') || ''''", s=c.arg(0))


@register("chr", "char")
def _chr(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {n} < 0 THEN '' ELSE chr(CAST({n} % 256 AS INTEGER)) END", n=c.arg(0)
    )


@register("url_encode")
def _url_encode(c: Call) -> exp.Expression:
    # java.net.URLEncoder: space is '+', '*' stays, '~' is escaped.
    return template(
        "replace(replace(replace(url_encode({s}), '%20', '+'), '~', '%7E'), '%2A', '*')", s=c.arg(0)
    )


@register("typeof")
def _typeof(c: Call) -> exp.Expression:
    out = exp.Literal.string(c.type(0).simpleString())
    out.meta["nullable"] = False
    return out


_REGEX_META = set("\\^$.|?*+()[]{}")


def _plain(c: Call, i: int, default: str) -> str | None:
    """A delimiter given as a literal without regex metacharacters, else None."""
    if i < len(c.args) and not c.is_literal(i):
        return None
    value = c.literal_value(i) if i < len(c.args) else default
    if not isinstance(value, str) or not value or _REGEX_META & set(value):
        return None
    return value.replace("'", "''")


@register("str_to_map")
def _str_to_map(c: Call) -> exp.Expression:
    """Pairs split on pairDelim, each on its first keyValueDelim (no delimiter: NULL value).
    Delimiters are regexes in Spark; plain-text ones (the usual ``,`` and ``:``) only."""
    pair, kv = _plain(c, 1, ","), _plain(c, 2, ":")
    if pair is None or kv is None:  # regexes or columns: a Python built-in
        return template(
            f"map_from_entries({builtins.call('str_to_map')}({{s}}, {{p}}, {{k}}))",
            s=_text(c, 0),
            p=_text(c, 1) if len(c.args) > 1 else exp.Literal.string(","),
            k=_text(c, 2) if len(c.args) > 2 else exp.Literal.string(":"),
        )
    k = f"strpos(p, '{kv}')"
    return template(
        f"map_from_entries(list_transform(string_split({{s}}, '{pair}'), lambda p: "
        f"{{'key': CASE WHEN {k} > 0 THEN substr(p, 1, {k} - 1) ELSE p END, "
        f"'value': CASE WHEN {k} > 0 THEN substr(p, {k} + {len(kv)}) END}}))",
        s=c.arg(0),
    )


@register("array_join")
def _array_join(c: Call) -> exp.Expression:
    if not isinstance(c.type(0), ArrayType):
        raise unsupported("array_join of a non-array")
    items = template("list_transform({a}, lambda v: CAST(v AS VARCHAR))", a=c.arg(0))
    if len(c.args) > 2:
        items = template("list_transform({a}, lambda v: coalesce(v, {n}))", a=items, n=c.arg(2))
    return template(
        "array_to_string(list_filter({a}, lambda v: v IS NOT NULL), {d})", a=items, d=c.arg(1)
    )


@register("locate", "position")
def _locate(c: Call) -> exp.Expression:
    """1-based position of substr in str at or after pos; 0 when absent or pos < 1."""
    pos = c.arg(2, exp.Literal.number(1))
    return template(
        "CASE WHEN {s} IS NULL OR {sub} IS NULL OR {p} IS NULL THEN NULL WHEN {p} < 1 THEN 0 ELSE CAST(coalesce(nullif(instr(substr({s}, {p}), {sub}), 0) "
        "+ {p} - 1, 0) AS INTEGER) END",
        sub=c.arg(0),
        s=c.arg(1),
        p=pos,
    )


def _builtin(name: str, *args: exp.Expression, nullable: bool | None = None) -> exp.Expression:
    params = ", ".join(f"{{a{i}}}" for i in range(len(args)))
    return template(f"{builtins.call(name)}({params})", nullable=nullable,
                    **{f"a{i}": a for i, a in enumerate(args)})


@register("soundex")
def _soundex(c: Call) -> exp.Expression:
    return _builtin("soundex", _text(c, 0))


@register("sentences")
def _sentences(c: Call) -> exp.Expression:
    lang = _text(c, 1) if len(c.args) > 1 else exp.Literal.string("")
    country = _text(c, 2) if len(c.args) > 2 else exp.Literal.string("")
    return _builtin("sentences", _text(c, 0), lang, country, nullable=True)


@register("conv")
def _conv(c: Call) -> exp.Expression:
    return _builtin("conv", _text(c, 0), exp.cast(c.arg(1), "INTEGER"),
                    exp.cast(c.arg(2), "INTEGER"), nullable=True)


@register("format_number")
def _format_number(c: Call) -> exp.Expression:
    if isinstance(c.type(1), StringType):
        raise unsupported("format_number with a pattern string")
    return _builtin("format_number", exp.cast(c.arg(0), "VARCHAR"),
                    exp.cast(c.arg(1), "INTEGER"), nullable=True)


@register("instr")
def _instr(c: Call) -> exp.Expression:
    """1-based position of the n-th occurrence of substr at or after start (0: none)."""
    start = c.arg(2) if len(c.args) > 2 else exp.Literal.number(1)
    nth = c.arg(3) if len(c.args) > 3 else exp.Literal.number(1)
    return template(
        "CASE WHEN {s} IS NULL OR {sub} IS NULL THEN NULL "
        "WHEN {p} < 1 OR {n} < 1 THEN 0 "
        "WHEN len(string_split(substr({s}, {p}), {sub})) - 1 < {n} THEN 0 "
        "ELSE CAST({p} + list_sum(list_transform(list_slice(string_split(substr({s}, {p}), {sub}), "
        "1, {n}), lambda x: length(x))) + ({n} - 1) * length({sub}) AS INTEGER) END",
        s=_text(c, 0), sub=_text(c, 1), p=start, n=nth,
    )


@register("ilike")
def _ilike(c: Call) -> exp.Expression:
    """Spark's ILIKE escapes with a backslash unless told otherwise (DuckDB: no escape)."""
    esc = c.literal_value(2) if len(c.args) > 2 else "\\"
    op = "ILIKE" if c.name == "ilike" else "LIKE"
    esc_sql = "'" + str(esc).replace("'", "''") + "'"
    return template(f"{{a}} {op} {{b}} ESCAPE {esc_sql}", a=_text(c, 0), b=_text(c, 1))


def _binary_pad(c: Call, side: str) -> exp.Expression:
    """lpad/rpad of binary (or a string with a binary pad): bytes, as Spark's ByteArray."""
    b = _bytes(c, 0)
    pad = _bytes(c, 2)
    body = (
        "CASE WHEN {n} <= 0 THEN ''::BLOB WHEN octet_length({b}) >= {n} "
        "THEN unhex(substr(hex({b}), 1, 2 * {n})) WHEN octet_length({p}) = 0 THEN {b} ELSE "
    )
    fill = "unhex(substr(repeat(hex({p}), CAST({n} AS INTEGER)), 1, 2 * ({n} - octet_length({b}))))"
    body += (f"{fill} || {{b}}" if side == "l" else f"{{b}} || {fill}") + " END"
    return template(body, nullable=True, b=b, n=c.arg(1), p=pad)


@register("lpad", "rpad")
def _pad(c: Call) -> exp.Expression:
    name = c.name
    if isinstance(c.type(0), BinaryType) and len(c.args) > 2:
        return _binary_pad(c, name[0])
    pad = _text(c, 2) if len(c.args) > 2 else exp.Literal.string(" ")
    if len(c.args) > 2 and isinstance(c.type(2), BinaryType):  # Spark casts it to string
        pad = template("decode({p})", p=c.arg(2))
    return template(
        f"CASE WHEN {{n}} <= 0 THEN '' WHEN length({{s}}) >= {{n}} THEN left({{s}}, {{n}}) "
        f"WHEN {{p}} = '' THEN {{s}} ELSE {name}({{s}}, {{n}}, {{p}}) END",
        s=_text(c, 0), n=exp.cast(c.arg(1), "INTEGER"), p=pad,
    )


def _binary_test(c: Call, sql: str) -> exp.Expression:
    if isinstance(c.type(0), BinaryType) or isinstance(c.type(1), BinaryType):
        return template(sql.replace("{a}", "hex({a})").replace("{b}", "hex({b})"),
                        nullable=True, a=_bytes(c, 0), b=_bytes(c, 1))
    return template(sql, a=_text(c, 0), b=_text(c, 1))


@register("contains")
def _contains(c: Call) -> exp.Expression:
    if isinstance(c.type(0), BinaryType) or isinstance(c.type(1), BinaryType):
        # hex digits pair up: a match must start at an even offset
        return template(
            "list_contains(list_transform(range(0, length(hex({a})), 2), "
            "lambda i: substr(hex({a}), i + 1, length(hex({b})))), hex({b})) OR octet_length({b}) = 0",
            a=_bytes(c, 0), b=_bytes(c, 1))
    return template("contains({a}, {b})", a=_text(c, 0), b=_text(c, 1))


@register("startswith")
def _startswith(c: Call) -> exp.Expression:
    return _binary_test(c, "starts_with({a}, {b})")


@register("endswith")
def _endswith(c: Call) -> exp.Expression:
    return _binary_test(c, "suffix({a}, {b})")


def _number_format(c: Call) -> str:
    fmt = c.literal_value(1)
    if not isinstance(fmt, str):
        raise AnalysisException(
            f"The format of `{c.name}` must be a string literal.",
            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
            sql_state="42K09",
        )
    return fmt


def _to_number(c: Call, strict: bool) -> exp.Expression:
    from executors.builtin_strings import number_format

    fmt = _number_format(c)
    precision, scale = number_format(fmt)
    body = f"{builtins.call('to_number')}({{s}}, {{f}}, {'true' if strict else 'false'})"
    return template(f"CAST({body} AS DECIMAL({precision}, {scale}))",
                    nullable=None if strict else True, s=_text(c, 0), f=exp.Literal.string(fmt))


@register("to_number")
def _to_number_strict(c: Call) -> exp.Expression:
    return _to_number(c, True)


@register("try_to_number")
def _try_to_number(c: Call) -> exp.Expression:
    return _to_number(c, False)


@register("to_char", "to_varchar")
def _to_char(c: Call) -> exp.Expression:
    """Numbers by Spark's number format; dates and timestamps as date_format."""
    t = c.type(0)
    if not isinstance(t, (ByteType, ShortType, IntegerType, LongType, FloatType, DoubleType,
                          DecimalType)):
        return exp.func("date_format", c.arg(0), c.arg(1), dialect="spark")
    fmt = _number_format(c)
    # A double's shortest text, as Spark makes its BigDecimal (a DECIMAL cast is inexact).
    return template(f"{builtins.call('to_char_number')}(CAST({{v}} AS VARCHAR), {{f}})",
                    v=c.arg(0), f=exp.Literal.string(fmt))


@register("collation")
def _collation(c: Call) -> exp.Expression:
    """sparkless strings have the default collation only."""
    if not isinstance(c.type(0), StringType):
        raise AnalysisException(
            f'Cannot resolve "collation" due to data type mismatch: the input must be a string, '
            f'not "{c.type(0).simpleString().upper()}".',
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            sql_state="42K09",
        )
    out = exp.Literal.string("SYSTEM.BUILTIN.UTF8_BINARY")
    out.meta["nullable"] = False
    return out


# reflect / java_method call Java static methods; sparkless runs no JVM, so it knows an
# allow-list of methods and renders each as SQL with the Java method's result. Departure:
# DuckDB's UUID parser is stricter than Java's UUID.fromString (which takes "1-1-1-1-1").
_REFLECT: dict[tuple[str, str, int], str] = {
    ("java.util.UUID", "fromString", 1): "CAST(CAST({a0} AS UUID) AS VARCHAR)",
    ("java.util.UUID", "randomUUID", 0): "CAST(uuid() AS VARCHAR)",
    ("java.lang.String", "valueOf", 1): "coalesce(CAST({a0} AS VARCHAR), 'null')",  # strings
    ("scala.Predef", "require", 1):
        "CASE WHEN {a0} THEN NULL ELSE error('[REFLECT] java.lang.IllegalArgumentException: "
        "requirement failed') END",
}


def _reflect(c: Call, strict: bool) -> exp.Expression:
    cls, method = c.literal_value(0), c.literal_value(1)
    args = c.args[2:]
    body = _REFLECT.get((str(cls), str(method), len(args)))
    if cls == "java.lang.String" and not isinstance(c.type(2), StringType):
        body = None  # Java's text for numbers and dates differs from a cast
    if body is None:
        raise unsupported(f"{c.name} of {cls}.{method} with {len(args)} argument(s) (sparkless "
                          "knows java.util.UUID.fromString/randomUUID, String.valueOf of a string)")
    if not strict:
        body = f"try({body})" if "error(" not in body else "CAST(NULL AS VARCHAR)"
    out = template(f"CAST({body} AS VARCHAR)", nullable=True,
                   **{f"a{i}": a for i, a in enumerate(args)})
    return out


@register("reflect", "java_method")
def _reflect_strict(c: Call) -> exp.Expression:
    return _reflect(c, True)


@register("try_reflect")
def _try_reflect(c: Call) -> exp.Expression:
    return _reflect(c, False)
