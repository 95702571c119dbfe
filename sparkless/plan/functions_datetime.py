"""Date and time functions: Spark casts strings to dates/timestamps implicitly and names
days and months its own way; written as DuckDB SQL."""

from __future__ import annotations

from pyspark.sql.types import (
    ByteType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    TimestampNTZType,
    TimestampType,
    TimeType,
)
from sqlglot import exp

from executors import builtins
from executors.builtin_datetime import strptime_pattern
from sparkless.plan.catalog import Call, register, template


def _date(c: Call, i: int) -> exp.Expression:
    """An argument as DATE: strings (with or without a time part) and timestamps cast."""
    a, t = c.arg(i), c.type(i)
    if isinstance(t, DateType):
        return a
    if isinstance(t, StringType):
        c.node.meta["from_string"] = True  # a cast that may fail: Spark's result is nullable
        return template("CAST(CAST({a} AS TIMESTAMP) AS DATE)", a=a)
    return exp.cast(a, "DATE")


def _timestamp(c: Call, i: int) -> exp.Expression:
    """An argument as a timestamp; a string keeps its wall-clock time (fields of a Spark
    timestamp read in the session zone are the ones the string names)."""
    a, t = c.arg(i), c.type(i)
    if isinstance(t, (TimestampType, TimestampNTZType, TimeType)):
        return a
    if isinstance(t, StringType):  # the wall-clock time the string names
        c.node.meta["from_string"] = True
        return exp.cast(a, "TIMESTAMP")
    return exp.cast(a, "TIMESTAMPTZ")


@register("hour", "minute")
def _hour_minute(c: Call) -> exp.Expression:
    return template(f"CAST({c.name}({{t}}) AS INTEGER)", t=_timestamp(c, 0))


@register("second")
def _second(c: Call) -> exp.Expression:
    return template("CAST(second({t}) AS INTEGER)", t=_timestamp(c, 0))


@register("dayname")
def _dayname(c: Call) -> exp.Expression:
    return template("strftime({d}, '%a')", d=_date(c, 0))


@register("monthname")
def _monthname(c: Call) -> exp.Expression:
    return template("strftime({d}, '%b')", d=_date(c, 0))


@register("quarter")
def _quarter(c: Call) -> exp.Expression:
    return template("CAST(quarter({d}) AS INTEGER)", d=_date(c, 0))


@register("weekday")
def _weekday(c: Call) -> exp.Expression:
    return template("CAST(isodow({d}) - 1 AS INTEGER)", d=_date(c, 0))


@register("last_day")
def _last_day(c: Call) -> exp.Expression:
    return template("CAST(last_day({d}) AS DATE)", d=_date(c, 0))


@register("add_months")
def _add_months(c: Call) -> exp.Expression:
    return template(
        "CAST({d} + to_months(CAST({n} AS INTEGER)) AS DATE)", d=_date(c, 0), n=c.arg(1)
    )


_DOW = {
    "SU": 0,
    "SUN": 0,
    "SUNDAY": 0,
    "MO": 1,
    "MON": 1,
    "MONDAY": 1,
    "TU": 2,
    "TUE": 2,
    "TUESDAY": 2,
    "WE": 3,
    "WED": 3,
    "WEDNESDAY": 3,
    "TH": 4,
    "THU": 4,
    "THURSDAY": 4,
    "FR": 5,
    "FRI": 5,
    "FRIDAY": 5,
    "SA": 6,
    "SAT": 6,
    "SATURDAY": 6,
}


@register("next_day")
def _next_day(c: Call) -> exp.Expression:
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in _DOW.items())
    target = f"(CASE upper({{w}}) {cases} END)"
    bad = (
        "error('[ILLEGAL_DAY_OF_WEEK] Illegal input for day of week: ' || {w} || '.')"
        if c.ansi
        else "NULL"
    )
    return template(
        f"CASE WHEN {target} IS NULL AND {{w}} IS NOT NULL THEN {bad} "
        f"ELSE CAST({{d}} + CAST(((({target} - dayofweek({{d}})) + 6) % 7) + 1 AS INTEGER) AS DATE) END",
        nullable=True,
        d=_date(c, 0),
        w=c.arg(1),
    )


_TRUNC_DATE = {
    "YEAR": "year",
    "YYYY": "year",
    "YY": "year",
    "QUARTER": "quarter",
    "MONTH": "month",
    "MM": "month",
    "MON": "month",
    "WEEK": "week",
}
_TRUNC_TS = {
    **_TRUNC_DATE,
    "DAY": "day",
    "DD": "day",
    "HOUR": "hour",
    "MINUTE": "minute",
    "SECOND": "second",
    "MILLISECOND": "millisecond",
    "MICROSECOND": "microsecond",
}


def _unit_case(unit: exp.Expression, units: dict[str, str], body: str) -> str:
    return (
        "CASE "
        + " ".join(
            f"WHEN upper({{u}}) = '{k}' THEN {body.format(unit=v)}" for k, v in units.items()
        )
        + " END"
    )


@register("trunc")
def _trunc(c: Call) -> exp.Expression:
    body = _unit_case(c.arg(1), _TRUNC_DATE, "CAST(date_trunc('{unit}', {{d}}) AS DATE)")
    return template(body, nullable=True, d=_date(c, 0), u=c.arg(1))


@register("date_trunc")
def _date_trunc(c: Call) -> exp.Expression:
    body = _unit_case(c.arg(0), _TRUNC_TS, "CAST(date_trunc('{unit}', {{t}}) AS TIMESTAMPTZ)")
    return template(body, nullable=True, t=_timestamp(c, 1), u=c.arg(0))


@register("date_from_unix_date")
def _date_from_unix_date(c: Call) -> exp.Expression:
    return template("CAST(DATE '1970-01-01' + CAST({n} AS INTEGER) AS DATE)", n=c.arg(0))


@register("unix_date")
def _unix_date(c: Call) -> exp.Expression:
    return template("CAST({d} - DATE '1970-01-01' AS INTEGER)", d=_date(c, 0))


@register("timestamp_seconds")
def _timestamp_seconds(c: Call) -> exp.Expression:
    return template("to_timestamp(CAST({x} AS DOUBLE))", x=c.arg(0))


@register("timestamp_millis")
def _timestamp_millis(c: Call) -> exp.Expression:
    return template("to_timestamp(0) + to_milliseconds(CAST({x} AS BIGINT))", x=c.arg(0))


@register("timestamp_micros")
def _timestamp_micros(c: Call) -> exp.Expression:
    return template("to_timestamp(0) + to_microseconds(CAST({x} AS BIGINT))", x=c.arg(0))


@register("months_between")
def _months_between(c: Call) -> exp.Expression:
    """Whole months when the days of month match or both are month ends; else the
    remainder counts a month as 31 days, rounded to 8 digits unless roundOff=false."""
    t1, t2 = _timestamp(c, 0), _timestamp(c, 1)
    round_off = c.literal_value(2) if len(c.args) > 2 else True
    frac = (
        "(CAST(day({a}) - day({b}) AS DOUBLE) * 86400 + "
        "(epoch({a}) - epoch(date_trunc('day', {a}))) - (epoch({b}) - epoch(date_trunc('day', {b})))"
        ") / 2678400.0"
    )
    months = "CAST((year({a}) - year({b})) * 12 + month({a}) - month({b}) AS DOUBLE)"
    whole = (
        "day({a}) = day({b}) OR (day({a}) = day(last_day({a})) AND day({b}) = day(last_day({b})))"
    )
    value = f"CASE WHEN {whole} THEN {months} ELSE {months} + {frac} END"
    if round_off:
        value = f"round({value}, 8)"
    return template(value, nullable=True, a=t1, b=t2)


@register("date_add", "dateadd")
def _date_add(c: Call) -> exp.Expression:
    return template("CAST({d} + CAST({n} AS INTEGER) AS DATE)", d=_date(c, 0), n=c.arg(1))


@register("date_sub")
def _date_sub(c: Call) -> exp.Expression:
    return template("CAST({d} - CAST({n} AS INTEGER) AS DATE)", d=_date(c, 0), n=c.arg(1))


@register("dayofweek")
def _dayofweek(c: Call) -> exp.Expression:
    return template("CAST(dayofweek({d}) + 1 AS INTEGER)", d=_date(c, 0))


@register("current_timezone")
def _current_timezone(c: Call) -> exp.Expression:
    out = exp.Literal.string(c.analyzer.conf.time_zone)
    out.meta["nullable"] = False
    return out


# ---- parsing with Spark's datetime patterns, in the session time zone ---------------------
#
# Executors run DuckDB with TimeZone = spark.sql.session.timeZone (executors/handler.py), so
# a TIMESTAMPTZ cast of a zone-less string or a TIMESTAMP reads it in the session's zone, as
# Spark does, and hour()/date parts of a TIMESTAMPTZ are the session's wall clock.

DEFAULT_PATTERN = "yyyy-MM-dd HH:mm:ss"


def _strptime(c: Call, a: exp.Expression, fmt_at: int, safe: bool) -> exp.Expression:
    """``a`` parsed with the Spark pattern at ``fmt_at`` (zone-less TIMESTAMP): DuckDB's
    strptime when the pattern is a literal (converted here), else a Python built-in."""
    if c.is_literal(fmt_at):
        fmt = exp.Literal.string(strptime_pattern(str(c.literal_value(fmt_at))))
        return template(f"{'try_strptime' if safe else 'strptime'}({{a}}, {{f}})", a=a, f=fmt)
    fn = builtins.call("try_strptime" if safe else "strptime")
    return template(f"{fn}({{a}}, {{f}})", a=a, f=c.arg(fmt_at))


def _parse(c: Call, i: int, target: str, safe: bool, fmt_at: int | None = None) -> exp.Expression:
    """Argument ``i`` as ``target`` (TIMESTAMPTZ for Spark's timestamp, TIMESTAMP for
    timestamp_ntz, DATE, TIME): strings parsed (with the pattern at ``fmt_at`` if given),
    other datetimes cast; ``safe``: NULL instead of an error for what does not parse."""
    a, t = c.arg(i), c.type(i)
    cast = "TRY_CAST" if safe else "CAST"
    if isinstance(t, StringType):
        c.node.meta["from_string"] = True
        if fmt_at is not None and fmt_at < len(c.args):
            return template(f"CAST({{p}} AS {target})", p=_strptime(c, a, fmt_at, safe))
        return template(f"{cast}({{a}} AS {target})", a=a)
    if isinstance(t, (IntegerType, LongType, ShortType, ByteType, DoubleType, FloatType, DecimalType)):
        if target in ("TIMESTAMPTZ", "TIMESTAMP"):  # seconds since the epoch
            return template(f"CAST(to_timestamp(CAST({{a}} AS DOUBLE)) AS {target})", a=a)
    return template(f"CAST({{a}} AS {target})", a=a)


def _safe(c: Call) -> bool:
    return c.name.startswith("try_") or not c.ansi


@register("to_timestamp", "to_timestamp_ltz", "try_to_timestamp")
def _to_timestamp(c: Call) -> exp.Expression:
    out = _parse(c, 0, "TIMESTAMPTZ", _safe(c), 1)
    if _safe(c):
        out.meta["nullable"] = True
    return out


@register("to_timestamp_ntz")
def _to_timestamp_ntz(c: Call) -> exp.Expression:
    out = _parse(c, 0, "TIMESTAMP", _safe(c), 1)
    if _safe(c):
        out.meta["nullable"] = True
    return out


@register("to_date", "try_to_date")
def _to_date(c: Call) -> exp.Expression:
    if isinstance(c.type(0), StringType) and len(c.args) < 2:  # '2015-04-08 12:12:12' too
        cast = "TRY_CAST" if _safe(c) else "CAST"
        c.node.meta["from_string"] = True
        out = template(f"CAST({cast}({{a}} AS TIMESTAMP) AS DATE)", a=c.arg(0))
    else:
        out = _parse(c, 0, "DATE", _safe(c), 1)
    if _safe(c):
        out.meta["nullable"] = True
    return out


@register("unix_timestamp", "to_unix_timestamp")
def _unix_timestamp(c: Call) -> exp.Expression:
    """Whole seconds since the epoch (bigint, floored); strings parsed in the session zone
    with the pattern (default ``yyyy-MM-dd HH:mm:ss``)."""
    if not c.args:
        return template("CAST(floor(epoch(current_timestamp)) AS BIGINT)", nullable=False)
    if isinstance(c.type(0), StringType) and len(c.args) < 2:
        c.args.append(exp.Literal.string(DEFAULT_PATTERN))
    ts = _parse(c, 0, "TIMESTAMPTZ", _safe(c), 1)
    return template("CAST(floor(epoch_us({t}) / 1000000) AS BIGINT)", nullable=True, t=ts)


def _epoch_units(c: Call, per_second: int) -> exp.Expression:
    ts = _parse(c, 0, "TIMESTAMPTZ", _safe(c))
    if per_second == 1_000_000:
        return template("epoch_us({t})", t=ts)
    n = 1_000_000 // per_second
    return template(f"CAST(floor(epoch_us({{t}}) / {n}) AS BIGINT)", t=ts)


@register("unix_seconds")
def _unix_seconds(c: Call) -> exp.Expression:
    return _epoch_units(c, 1)


@register("unix_millis")
def _unix_millis(c: Call) -> exp.Expression:
    return _epoch_units(c, 1000)


@register("unix_micros")
def _unix_micros(c: Call) -> exp.Expression:
    return _epoch_units(c, 1_000_000)


def zone_sql(z: exp.Expression) -> exp.Expression:
    """A Spark zone id as ICU knows it: offsets (``+08:00``) as ``GMT+08:00``, ``Z`` as UTC."""
    return template(
        "CASE WHEN {z} IN ('Z', 'z') THEN 'UTC' WHEN regexp_matches({z}, '^[+-]') "
        "THEN 'GMT' || {z} ELSE {z} END",
        z=z,
    )


@register("from_utc_timestamp")
def _from_utc_timestamp(c: Call) -> exp.Expression:
    """The instant whose UTC wall clock is ``ts``'s wall clock in ``tz`` (Spark's convertTz)."""
    ts = _parse(c, 0, "TIMESTAMPTZ", not c.ansi)
    return template("timezone('UTC', timezone({z}, {t}))", t=ts, z=zone_sql(c.arg(1)))


@register("to_utc_timestamp")
def _to_utc_timestamp(c: Call) -> exp.Expression:
    """The instant whose wall clock in ``tz`` is ``ts``'s UTC wall clock."""
    ts = _parse(c, 0, "TIMESTAMPTZ", not c.ansi)
    return template("timezone({z}, timezone('UTC', {t}))", t=ts, z=zone_sql(c.arg(1)))


def _make_local(c: Call) -> tuple[exp.Expression, exp.Expression | None]:
    """make_timestamp's arguments as a zone-less TIMESTAMP and the zone argument, if any:
    ``(year, month, day, hour, min, sec[, tz])`` or ``(date, time[, tz])``. Invalid fields
    give NULL (try_ forms, no ANSI) or Spark's error -- checked with arithmetic, not with
    DuckDB's try(): its optimizer may hoist a shared make_timestamp() out of the try()."""
    if len(c.args) in (2, 3):
        local = template("CAST({d} AS DATE) + CAST({t} AS TIME)", d=c.arg(0), t=c.arg(1))
        return local, c.args[2] if len(c.args) == 3 else None
    if len(c.args) not in (6, 7):
        from sparkless.errors import AnalysisException

        raise AnalysisException(
            f"The `{c.name}` requires 6 or 7 parameters but the actual number is {len(c.args)}.",
            "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
            sql_state="42605",
        )
    y, mo, d, h, mi, s = c.args[:6]
    leap = "(({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0)"
    last = (f"CASE WHEN {{mo}} = 2 THEN (CASE WHEN {leap} THEN 29 ELSE 28 END) "
            "WHEN {mo} IN (4, 6, 9, 11) THEN 30 ELSE 31 END")
    valid = (f"{{mo}} BETWEEN 1 AND 12 AND {{d}} BETWEEN 1 AND ({last}) AND {{h}} BETWEEN 0 AND 23 "
             "AND {mi} BETWEEN 0 AND 59 AND {s} >= 0 AND {s} < 60")
    bad = "NULL" if _safe(c) else (
        "error('[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid date or time fields in " + c.name
        + ". If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.')")
    local = template(
        f"CASE WHEN {valid} THEN make_timestamp({{y}}, {{mo}}, {{d}}, {{h}}, {{mi}}, {{s}}) "
        f"ELSE {bad} END",
        y=exp.cast(y, "BIGINT"), mo=exp.cast(mo, "BIGINT"), d=exp.cast(d, "BIGINT"),
        h=exp.cast(h, "BIGINT"), mi=exp.cast(mi, "BIGINT"), s=exp.cast(s, "DOUBLE"),
    )
    return local, c.args[6] if len(c.args) == 7 else None


def _nullable(c: Call, e: exp.Expression) -> exp.Expression:
    e.meta["nullable"] = True  # Spark: make_timestamp's result may be NULL even under ANSI
    return e


@register("make_timestamp", "make_timestamp_ltz", "try_make_timestamp", "try_make_timestamp_ltz")
def _make_timestamp(c: Call) -> exp.Expression:
    local, zone = _make_local(c)
    if zone is None:
        out = template("CAST({l} AS TIMESTAMPTZ)", l=local)
    else:
        out = template("timezone({z}, {l})", l=local, z=zone_sql(zone))
    return _nullable(c, out)


@register("make_timestamp_ntz", "try_make_timestamp_ntz")
def _make_timestamp_ntz(c: Call) -> exp.Expression:
    local, _ = _make_local(c)
    return _nullable(c, local)


# ---- TIME (Spark 4.1's TimeType; DuckDB's TIME, microseconds of the day) ------------------

_TIME_UNITS = {"HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000,
               "MILLISECOND": 1000, "MICROSECOND": 1}


def _unit_micros(c: Call, i: int) -> exp.Expression:
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in _TIME_UNITS.items())
    bad = (
        "error('[INVALID_PARAMETER_VALUE.TIME_UNIT] The value of parameter(s) `unit` in `"
        + c.name + "` is invalid: ' || {u} || '.')"
    )
    return template(f"COALESCE(CASE upper({{u}}) {cases} END, {bad})", u=c.arg(i))


def _time(c: Call, i: int) -> exp.Expression:
    a, t = c.arg(i), c.type(i)
    if isinstance(t, TimeType):
        return a
    return _parse(c, i, "TIME", False)


@register("time_diff")
def _time_diff(c: Call) -> exp.Expression:
    """Whole units from start to end, truncated toward zero (bigint)."""
    return template(
        "CAST(trunc((epoch_us({e}) - epoch_us({s})) / {n}) AS BIGINT)",
        n=_unit_micros(c, 0), s=_time(c, 1), e=_time(c, 2),
    )


@register("time_trunc")
def _time_trunc(c: Call) -> exp.Expression:
    return template(
        "TIME '00:00:00' + to_microseconds(CAST(epoch_us({t}) // {n} * {n} AS BIGINT))",
        n=_unit_micros(c, 0), t=_time(c, 1),
    )


def _time_from(c: Call, per_second: int) -> exp.Expression:
    micros = f"CAST({{x}} * {1_000_000 // per_second} AS BIGINT)"
    if per_second == 1:  # seconds may be fractional: Spark keeps microseconds
        micros = "CAST(round(CAST({x} AS DECIMAL(20, 6)) * 1000000) AS BIGINT)"
    bad = (
        "error('[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid value for " + c.name
        + ": ' || CAST({x} AS VARCHAR) || ' is out of the range of a day.')"
    )
    return template(
        f"CASE WHEN {micros} < 0 OR {micros} >= 86400000000 THEN {bad} "
        f"ELSE TIME '00:00:00' + to_microseconds({micros}) END",
        nullable=True,
        x=c.arg(0),
    )


@register("time_from_seconds")
def _time_from_seconds(c: Call) -> exp.Expression:
    return _time_from(c, 1)


@register("time_from_millis")
def _time_from_millis(c: Call) -> exp.Expression:
    return _time_from(c, 1000)


@register("time_from_micros")
def _time_from_micros(c: Call) -> exp.Expression:
    return _time_from(c, 1_000_000)


@register("time_to_seconds")
def _time_to_seconds(c: Call) -> exp.Expression:
    return template("CAST(epoch_us({t}) / 1000000 AS DECIMAL(14, 6))", t=_time(c, 0))


@register("time_to_millis")
def _time_to_millis(c: Call) -> exp.Expression:
    return template("epoch_us({t}) // 1000", t=_time(c, 0))


@register("time_to_micros")
def _time_to_micros(c: Call) -> exp.Expression:
    return template("epoch_us({t})", t=_time(c, 0))


@register("to_time", "try_to_time")
def _to_time(c: Call) -> exp.Expression:
    safe = c.name.startswith("try_")
    out = _parse(c, 0, "TIME", safe, 1)
    if safe:
        out.meta["nullable"] = True
    return out


@register("make_time")
def _make_time(c: Call) -> exp.Expression:
    return template(
        "make_time(CAST({h} AS BIGINT), CAST({m} AS BIGINT), CAST({s} AS DOUBLE))",
        nullable=True,
        h=c.arg(0), m=c.arg(1), s=c.arg(2),
    )


# ---- extract / date_part -------------------------------------------------------------------

_FIELD_ALIASES = {
    **dict.fromkeys(("Y", "YEARS", "YR", "YRS"), "YEAR"),
    "QTR": "QUARTER",
    **dict.fromkeys(("MON", "MONS", "MONTHS"), "MONTH"),
    **dict.fromkeys(("W", "WEEKS"), "WEEK"),
    **dict.fromkeys(("D", "DAYS"), "DAY"),
    "DOW": "DAYOFWEEK",
    "DOW_ISO": "DAYOFWEEK_ISO",
    **dict.fromkeys(("H", "HOURS", "HR", "HRS"), "HOUR"),
    **dict.fromkeys(("M", "MIN", "MINS", "MINUTES"), "MINUTE"),
    **dict.fromkeys(("S", "SEC", "SECONDS", "SECS"), "SECOND"),
}
_DATE_FIELDS = {
    "YEAR": "CAST(year({t}) AS INTEGER)",
    "YEAROFWEEK": "CAST(isoyear({t}) AS INTEGER)",
    "QUARTER": "CAST(quarter({t}) AS INTEGER)",
    "MONTH": "CAST(month({t}) AS INTEGER)",
    "WEEK": "CAST(week({t}) AS INTEGER)",
    "DAY": "CAST(day({t}) AS INTEGER)",
    "DAYOFWEEK": "CAST(dayofweek({t}) + 1 AS INTEGER)",
    "DAYOFWEEK_ISO": "CAST(isodow({t}) AS INTEGER)",
    "DOY": "CAST(dayofyear({t}) AS INTEGER)",
}
_TIME_FIELDS = {
    "HOUR": "CAST(hour({t}) AS INTEGER)",
    "MINUTE": "CAST(minute({t}) AS INTEGER)",
    # Spark: the seconds with their fraction, decimal(8, 6)
    "SECOND": "CAST(CAST(microsecond({t}) AS DECIMAL(8, 0)) / 1000000 AS DECIMAL(8, 6))",
}


@register("extract", "date_part", "datepart")
def _extract(c: Call) -> exp.Expression:
    from sparkless.errors import AnalysisException, unsupported

    given = str(c.literal_value(0)).upper()
    field = _FIELD_ALIASES.get(given, given)
    t = c.type(1)
    fields = {**(_DATE_FIELDS if not isinstance(t, TimeType) else {}),
              **(_TIME_FIELDS if not isinstance(t, DateType) else {})}
    if field not in fields:
        raise AnalysisException(
            f"The value of parameter(s) `field` in `{c.name}` is invalid: {given!r}.",
            "INVALID_EXTRACT_FIELD",
            sql_state="22023",
        )
    if not isinstance(t, (DateType, TimestampType, TimestampNTZType, StringType, TimeType)):
        raise unsupported(f"{c.name} from {t.simpleString()}")
    src = c.arg(1) if isinstance(t, (DateType, TimeType)) else _timestamp(c, 1)
    return template(fields[field], t=src)


# ---- time windows and row ids --------------------------------------------------------------

_DURATION_UNITS = {
    "microsecond": 1, "millisecond": 1000, "second": 1_000_000, "minute": 60_000_000,
    "hour": 3_600_000_000, "day": 86_400_000_000, "week": 604_800_000_000,
}


def _duration_micros(c: Call, i: int) -> int:
    return duration_micros(str(c.literal_value(i)))


def duration_micros(given: str) -> int:
    """A window duration string (``'5 seconds'``, ``'1 hour 30 minutes'``) in microseconds;
    months and years are not fixed lengths, so Spark refuses them here too."""
    import re

    from sparkless.errors import AnalysisException

    text = given.strip().lower().removeprefix("interval").strip()
    parts = re.findall(r"(-?\d+(?:\.\d+)?)\s*([a-z]+?)s?\b", text)
    total = 0.0
    for number, unit in parts:
        if unit not in _DURATION_UNITS:
            raise AnalysisException(
                f"The window duration {text!r} must be a fixed length (no months or years).",
                "DATATYPE_MISMATCH.INVALID_WINDOW_DURATION",
                sql_state="42K09",
            )
        total += float(number) * _DURATION_UNITS[unit]
    if not parts or total <= 0:
        raise AnalysisException(
            f"The window duration ({text}) must be greater than 0.",
            "DATATYPE_MISMATCH.INVALID_WINDOW_DURATION",
            sql_state="42K09",
        )
    return int(total)


@register("window")
def _window(c: Call) -> exp.Expression:
    """A tumbling time window ``struct<start, end>``: ``start`` is the timestamp floored to a
    multiple of the duration (offset by startTime), as Spark's TimeWindowing computes it."""
    from sparkless.errors import unsupported

    size = _duration_micros(c, 1)
    slide = _duration_micros(c, 2) if len(c.args) > 2 else size
    start = _duration_micros(c, 3) if len(c.args) > 3 else 0
    if slide != size:
        raise unsupported("window() with a slide duration different from the window duration")
    t = c.arg(0)
    if isinstance(c.type(0), StringType):
        t = exp.cast(t, "TIMESTAMPTZ")
    lo = f"{{t}} - to_microseconds(((epoch_us({{t}}) - {start}) % {slide} + {slide}) % {slide})"
    out = template(
        f"struct_pack(\"start\" := {lo}, \"end\" := {lo} + to_microseconds({size}))",
        nullable=False, t=t,
    )
    out.meta["field_nullable"] = [True, True]
    out.meta["window_time_of"] = t  # rows with a NULL time are dropped (builder.time_window_rows)
    return out


@register("window_time")
def _window_time(c: Call) -> exp.Expression:
    """The event time of a window: its end less one microsecond."""
    return template("{w}['end'] - INTERVAL 1 MICROSECOND", nullable=True, w=c.arg(0))


@register("monotonically_increasing_id")
def _monotonically_increasing_id(c: Call) -> exp.Expression:
    """Spark's ``(partitionIndex << 33) + rowIndex``: the partition index is filled in per
    task (as for spark_partition_id()); the row index is per task, so no exchange."""
    from sparkless.plan.functions import PARTITION_ID_SQL

    out = template(
        f"(CAST({PARTITION_ID_SQL} AS BIGINT) << 33) + row_number() OVER () - 1", nullable=False
    )
    for w in out.find_all(exp.Window):
        w.meta["per_task"] = True
    out.meta["nondeterministic"] = True
    return out


# ---- casts ---------------------------------------------------------------------------------

_INTEGRAL_SQL = ("TINYINT", "SMALLINT", "INT", "BIGINT")


def datetime_cast(value: exp.Expression, source: object, target: exp.DataType,
                  safe: bool) -> exp.Expression | None:
    """Spark's casts from and to timestamps where DuckDB's differ or are missing, else None:
    to string without a zone suffix and with the fraction's trailing zeros cut; to and from
    numbers as seconds since the epoch (integers floored)."""
    to = target.this
    cast = "TRY_CAST" if safe else "CAST"
    if isinstance(source, (TimestampType, TimestampNTZType)):
        if to in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
            return template(
                "strftime({t}, '%Y-%m-%d %H:%M:%S') || CASE WHEN strftime({t}, '%f') = '000000' "
                "THEN '' ELSE '.' || rtrim(strftime({t}, '%f'), '0') END",
                t=value,
            )
        if isinstance(source, TimestampType) and target.sql("duckdb") in _INTEGRAL_SQL:
            return template(
                f"{cast}(floor(epoch_us({{t}}) / 1000000) AS {target.sql('duckdb')})", t=value
            )
        if isinstance(source, TimestampType) and to in (exp.DataType.Type.DOUBLE,
                                                        exp.DataType.Type.FLOAT):
            return template(f"CAST(epoch_us({{t}}) / 1000000 AS {target.sql('duckdb')})", t=value)
    numeric = (ByteType, ShortType, IntegerType, LongType, FloatType, DoubleType, DecimalType)
    if isinstance(source, numeric) and to == exp.DataType.Type.TIMESTAMPTZ:
        return template("to_timestamp(CAST({x} AS DOUBLE))", x=value)
    return None


# ---- intervals -----------------------------------------------------------------------------
#
# DuckDB has one INTERVAL (months, days, microseconds); Spark has three types over it:
# YearMonthIntervalType (months), DayTimeIntervalType (microseconds) and CalendarIntervalType
# (all three, from make_interval). The Spark type rides on the expression (``spark_dtype``)
# and is inferred through arithmetic by ``interval_type``; values convert at the edges
# (connect/session.conform, connect/show).


def _interval(out: exp.Expression, dtype: object) -> exp.Expression:
    out.meta["spark_dtype"] = dtype
    return out


def _micros_sql(seconds: exp.Expression) -> exp.Expression:
    return template("CAST(round(CAST({s} AS DECIMAL(38, 6)) * 1000000) AS BIGINT)", s=seconds)


@register("make_interval", "try_make_interval")
def _make_interval(c: Call) -> exp.Expression:
    from pyspark.sql.types import CalendarIntervalType

    zero = exp.Literal.number(0)
    y, mo, w, d, h, mi = (c.arg(i, zero) for i in range(6))
    s = c.arg(6, zero)
    out = template(
        "to_months(CAST({y} AS INTEGER) * 12 + CAST({mo} AS INTEGER)) "
        "+ to_days(CAST({w} AS INTEGER) * 7 + CAST({d} AS INTEGER)) "
        "+ to_microseconds(CAST({h} AS BIGINT) * 3600000000 + CAST({mi} AS BIGINT) * 60000000 "
        "+ {us})",
        y=y, mo=mo, w=w, d=d, h=h, mi=mi, us=_micros_sql(s),
    )
    if c.name.startswith("try_") or not c.ansi:
        out = template("try({e})", nullable=True, e=out)
    return _interval(out, CalendarIntervalType())


@register("make_dt_interval")
def _make_dt_interval(c: Call) -> exp.Expression:
    from pyspark.sql.types import DayTimeIntervalType

    zero = exp.Literal.number(0)
    d, h, mi = (c.arg(i, zero) for i in range(3))
    out = template(
        "to_microseconds(CAST({d} AS BIGINT) * 86400000000 + CAST({h} AS BIGINT) * 3600000000 "
        "+ CAST({mi} AS BIGINT) * 60000000 + {us})",
        d=d, h=h, mi=mi, us=_micros_sql(c.arg(3, zero)),
    )
    return _interval(out, DayTimeIntervalType(0, 3))


@register("make_ym_interval")
def _make_ym_interval(c: Call) -> exp.Expression:
    from pyspark.sql.types import YearMonthIntervalType

    zero = exp.Literal.number(0)
    out = template("to_months(CAST({y} AS INTEGER) * 12 + CAST({m} AS INTEGER))",
                   y=c.arg(0, zero), m=c.arg(1, zero))
    return _interval(out, YearMonthIntervalType(0, 1))


def interval_type(e: exp.Expression) -> object | None:
    """The Spark interval type of a translated expression DuckDB types as INTERVAL, or None
    when it cannot tell (callers keep DuckDB's answer: a day-time interval)."""
    from pyspark.sql.types import CalendarIntervalType, DayTimeIntervalType, YearMonthIntervalType

    from sparkless.plan.types import _interval_type

    known = e.meta.get("spark_dtype")
    if known is not None:
        return known
    if isinstance(e, exp.Column) and e.meta.get("attr") is not None:
        return e.meta["attr"].dtype
    if isinstance(e, exp.Interval):
        try:
            return _interval_type(e)
        except ValueError:
            return None
    if isinstance(e, (exp.Paren, exp.Neg)):
        return interval_type(e.this)
    if isinstance(e, (exp.Add, exp.Sub)):
        a, b = interval_type(e.this), interval_type(e.expression)
        if isinstance(a, YearMonthIntervalType) and isinstance(b, YearMonthIntervalType):
            return YearMonthIntervalType(min(a.startField, b.startField), max(a.endField, b.endField))
        if isinstance(a, DayTimeIntervalType) and isinstance(b, DayTimeIntervalType):
            return DayTimeIntervalType(min(a.startField, b.startField), max(a.endField, b.endField))
        if isinstance(a, CalendarIntervalType) or isinstance(b, CalendarIntervalType):
            return CalendarIntervalType()
        return a or b
    if isinstance(e, (exp.Mul, exp.Div)):
        return interval_type(e.this) or interval_type(e.expression)
    if isinstance(e, (exp.Case, exp.If)):
        branches = [i.args.get("true") for i in e.args.get("ifs") or []] + [e.args.get("default")]
        for b in branches:
            t = interval_type(b) if isinstance(b, exp.Expression) else None
            if t is not None:
                return t
    if isinstance(e, exp.Anonymous) and str(e.this).lower() == "try" and e.expressions:
        return interval_type(e.expressions[0])
    return None


def interval_arith(c: Call, op: str) -> exp.Expression | None:
    """try_add/try_subtract/try_multiply/try_divide with an interval operand, else None: a
    date plus a year-month interval stays a date (DuckDB's is a timestamp); division by
    zero is NULL."""
    from pyspark.sql.types import DayTimeIntervalType

    left, right = c.type(0), c.type(1)
    if not (isinstance(left, DayTimeIntervalType) or isinstance(right, DayTimeIntervalType)):
        return None  # DuckDB's INTERVAL reads as a day-time interval: any interval is here
    kinds = [interval_type(a) for a in c.args[:2]]
    a, b = c.arg(0), c.arg(1)
    if op == "/":
        out = template("try({a} / CAST(nullif({b}, 0) AS DOUBLE))", nullable=True, a=a, b=b)
    else:
        out = template(f"try({{a}} {op} {{b}})", nullable=True, a=a, b=b)
    from pyspark.sql.types import YearMonthIntervalType

    if (isinstance(left, DateType) or isinstance(right, DateType)) and any(
            isinstance(k, YearMonthIntervalType) for k in kinds):
        out = template("CAST({e} AS DATE)", nullable=True, e=out)
    else:
        out.meta["spark_dtype"] = next((k for k in kinds if k is not None), None)
        if out.meta["spark_dtype"] is None:
            del out.meta["spark_dtype"]
    return out


@register("counter_diff")
def _counter_diff(c: Call) -> exp.Expression:
    """``counter_diff(c[, start]).over(w)``: the increase of a monotonic counter since the
    previous row; NULL on the first row, on a reset (the value went down) or when the
    counter's start time changed. Written with lag(), which the window's OVER reaches."""
    v = c.arg(0)
    reset = "lag({v}) IS NULL OR {v} < lag({v})"
    if len(c.args) > 1:
        reset += " OR {s} IS DISTINCT FROM lag({s})"
        return template(f"CASE WHEN {reset} THEN NULL ELSE {{v}} - lag({{v}}) END",
                        nullable=True, v=v, s=c.arg(1))
    return template(f"CASE WHEN {reset} THEN NULL ELSE {{v}} - lag({{v}}) END", nullable=True, v=v)


@register("session_window")
def _session_window(c: Call) -> exp.Expression:
    """Planned by its groupBy (plan/session_windows.py); anywhere else it is not supported."""
    from sparkless.errors import unsupported

    raise unsupported("session_window outside groupBy")
