"""Date and time functions: Spark casts strings to dates/timestamps implicitly and names
days and months its own way; written as DuckDB SQL."""

from __future__ import annotations

from pyspark.sql.types import DateType, StringType, TimestampNTZType, TimestampType
from sqlglot import exp

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
    if isinstance(t, (TimestampType, TimestampNTZType)):
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


@register("make_timestamp")
def _make_timestamp(c: Call) -> exp.Expression:
    if len(c.args) > 6:
        from sparkless.errors import unsupported

        raise unsupported("make_timestamp with a time zone argument")
    y, mo, d, h, mi, s = c.args
    return template(
        "make_timestamptz(CAST({y} AS BIGINT), CAST({mo} AS BIGINT), CAST({d} AS BIGINT), "
        "CAST({h} AS BIGINT), CAST({mi} AS BIGINT), CAST({s} AS DOUBLE))",
        y=y,
        mo=mo,
        d=d,
        h=h,
        mi=mi,
        s=s,
    )


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
