"""``DataFrame.show()`` text, byte for byte as Apache Spark 4 renders it.

A Connect client's ``show()`` sends a ShowString relation and prints whatever
string comes back, so users compare it with Spark's by eye and by tests. This
module reproduces ``Dataset.showString`` (layout) and ``ToPrettyString`` (cell
text), including Java's ``Double.toString`` and Java's UTF-16 string lengths.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    CalendarIntervalType,
    DataType,
    DateType,
    DayTimeIntervalType,
    DecimalType,
    DoubleType,
    FloatType,
    MapType,
    NullType,
    StructType,
    TimestampNTZType,
    TimestampType,
    TimeType,
    VariantType,
    VariantVal,
    YearMonthIntervalType,
)

__all__ = [
    "day_time_interval_string",
    "format_value",
    "java_double_to_string",
    "java_float_to_string",
    "show_string",
    "year_month_interval_string",
]

# --------------------------------------------------------------------------- Java numbers

_TWO_DIGITS = Context(prec=2, rounding=ROUND_HALF_EVEN)


def _java_fp_string(x: float, shortest: str, round_trips: Callable[[Decimal], bool]) -> str:
    """Java (JDK 19+) ``toString`` of a finite non-zero float given its shortest digits.

    Java picks the shortest decimal that rounds back to ``x``; when that has one
    digit it picks the closest decimal of one *or two* digits instead (so
    ``4.9E-324``, not ``5E-324``). Plain notation for 1e-3 <= |x| < 1e7,
    otherwise ``d.dddE±n``; always at least one digit after the point.
    """
    dec = Decimal(shortest)
    if len(dec.normalize().as_tuple().digits) == 1:
        two = _TWO_DIGITS.plus(Decimal(x))
        if round_trips(two):
            dec = two
    sign, digits_t, exponent = dec.normalize().as_tuple()
    digits = "".join(map(str, digits_t))
    e = exponent + len(digits) - 1  # value = d.ddd x 10^e
    out = "-" if sign else ""
    if 1e-3 <= abs(x) < 1e7:
        if e >= 0:
            whole = digits[: e + 1].ljust(e + 1, "0")
            frac = digits[e + 1 :] or "0"
            return f"{out}{whole}.{frac}"
        return f"{out}0.{'0' * (-e - 1)}{digits}"
    return f"{out}{digits[0]}.{digits[1:] or '0'}E{e}"


def _special(x: float) -> str | None:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    return None


def java_double_to_string(x: float) -> str:
    """``java.lang.Double.toString`` (JDK 19+ shortest-round-trip algorithm)."""
    special = _special(x)
    if special is not None:
        return special
    return _java_fp_string(x, repr(x), lambda d: float(d) == x)


def java_float_to_string(x: float) -> str:
    """``java.lang.Float.toString`` of the float32 nearest ``x`` (JDK 19+ algorithm)."""
    f = np.float32(x)
    special = _special(float(f))
    if special is not None:
        return special
    shortest = np.format_float_scientific(f, unique=True, trim="-")
    return _java_fp_string(float(f), shortest, lambda d: np.float32(str(d)) == f)


# --------------------------------------------------------------------------- dates and times

_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


@lru_cache(maxsize=64)
def _zone(time_zone: str) -> _dt.tzinfo:
    """Session time zone as tzinfo: region ids, ``UTC``/``Z`` and ``+08:00``-style offsets."""
    if time_zone in ("UTC", "Z", "GMT", "UT"):
        return _dt.UTC
    m = _OFFSET_RE.match(time_zone)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        delta = _dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return _dt.timezone(sign * delta)
    return ZoneInfo(time_zone)


def _date_str(d: _dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _fraction(micros: int) -> str:
    """Spark's fraction formatter: up to 6 digits, trailing zeros (and the dot) dropped."""
    return "." + f"{micros:06d}".rstrip("0") if micros else ""


def _datetime_str(t: _dt.datetime) -> str:
    return f"{_date_str(t)} {t.hour:02d}:{t.minute:02d}:{t.second:02d}{_fraction(t.microsecond)}"


def _timestamp_ntz(value: int | _dt.datetime) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=None)
    return (_EPOCH + _dt.timedelta(microseconds=value)).replace(tzinfo=None)


def _timestamp(value: int | _dt.datetime, time_zone: str) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        instant = value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    else:
        instant = _EPOCH + _dt.timedelta(microseconds=value)
    return instant.astimezone(_zone(time_zone))


def _micros(value: int | _dt.timedelta) -> int:
    if isinstance(value, _dt.timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if isinstance(value, pa.MonthDayNano):  # DuckDB's INTERVAL, as a day-time interval
        return (value.months * 30 + value.days) * 86_400_000_000 + value.nanoseconds // 1000
    return int(value)


def calendar_interval_string(value: Any) -> str:
    """Spark's ``CalendarInterval.toString`` (make_interval): ``1 years 3 months 8 days
    12 hours 30 minutes 1.001001 seconds``, ``0 seconds`` when empty."""
    months, days, micros = value.months, value.days, value.nanoseconds // 1000
    parts = []
    if months:
        years, rest = int(months / 12), months - int(months / 12) * 12
        parts += [f"{years} years"] if years else []
        parts += [f"{rest} months"] if rest else []
    if days:
        parts.append(f"{days} days")
    if micros:
        hours = int(micros / 3_600_000_000)
        micros -= hours * 3_600_000_000
        minutes = int(micros / 60_000_000)
        micros -= minutes * 60_000_000
        parts += [f"{hours} hours"] if hours else []
        parts += [f"{minutes} minutes"] if minutes else []
        if micros:
            seconds = format(Decimal(micros).scaleb(-6).normalize(), "f")
            parts.append(f"{seconds} seconds")
    return " ".join(parts) if parts else "0 seconds"


_DT_NAMES = ("DAY", "HOUR", "MINUTE", "SECOND")
_DT_UNITS = (86_400_000_000, 3_600_000_000, 60_000_000)
_LONG_MIN = -(2**63)


def _seconds_str(rest: int) -> str:
    """``BigDecimal.valueOf(rest, 6).stripTrailingZeros.toPlainString`` with a lead zero."""
    whole, frac = divmod(rest, 1_000_000)
    text = str(whole) + (("." + f"{frac:06d}".rstrip("0")) if frac else "")
    return ("0" if rest < 10_000_000 else "") + text


def day_time_interval_string(micros: int, start: int, end: int) -> str:
    """Spark's ANSI ``IntervalUtils.toDayTimeIntervalString``."""
    fields = _DT_NAMES[start] if start == end else f"{_DT_NAMES[start]} TO {_DT_NAMES[end]}"
    if micros == _LONG_MIN:
        # Negating Long.MinValue overflows in Java; Spark spells this one value out.
        first = ("-106751991", "-2562047788", "-153722867280", "-9223372036854.775808")[start]
        base = "-106751991 04:00:54.775808000"
        tail = "" if start == end else base[(10, 13, 16)[start] : (0, 13, 16, 26)[end]]
        return f"INTERVAL '{first}{tail}' {fields}"
    sign, rest = ("-", -micros) if micros < 0 else ("", micros)
    if start == 3:
        body = _seconds_str(rest)
    else:
        lead, rest = divmod(rest, _DT_UNITS[start])
        body = str(lead) if start == 0 else f"{lead:02d}"
    for unit in range(start + 1, end + 1):
        if unit == 3:
            body += ":" + _seconds_str(rest)
        else:
            value, rest = divmod(rest, _DT_UNITS[unit])
            body += (" " if unit == 1 else ":") + f"{value:02d}"
    return f"INTERVAL '{sign}{body}' {fields}"


def year_month_interval_string(months: int, start: int, end: int) -> str:
    """Spark's ANSI ``IntervalUtils.toYearMonthIntervalString``."""
    sign, absolute = ("-", -months) if months < 0 else ("", months)
    if start == end:
        body = f"{sign}{absolute // 12}" if start == 0 else str(months)
        return f"INTERVAL '{body}' {('YEAR', 'MONTH')[start]}"
    return f"INTERVAL '{sign}{absolute // 12}-{absolute % 12}' YEAR TO MONTH"


def _time_str(value: int | _dt.time) -> str:
    """TIME values: ``HH:mm:ss`` plus the trimmed fraction; ints are nanoseconds of the day."""
    if isinstance(value, _dt.time):
        return (
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(value.microsecond)}"
        )
    seconds, nanos = divmod(int(value), 1_000_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    frac = ("." + f"{nanos:09d}".rstrip("0")) if nanos else ""
    return f"{hour:02d}:{minute:02d}:{second:02d}{frac}"


# --------------------------------------------------------------------------- cell text


def format_value(value: Any, dtype: DataType, time_zone: str = "UTC") -> str:
    """Spark 4 ``ToPrettyString`` of one value: the text ``show()`` prints in a cell.

    Values are Python values as pyarrow's ``as_py`` gives them; timestamps,
    dates and intervals may also be plain ints (epoch micros, epoch days,
    micros, months) as :func:`show_string` passes them to keep full range.
    Maps are dicts or lists of (key, value) pairs; structs are dicts or tuples.
    """
    if value is None:
        return "NULL"
    if isinstance(dtype, BooleanType):
        return "true" if value else "false"
    if isinstance(dtype, DoubleType):
        return java_double_to_string(float(value))
    if isinstance(dtype, FloatType):
        return java_float_to_string(float(value))
    if isinstance(dtype, DecimalType):
        dec = value if isinstance(value, Decimal) else Decimal(value)
        return format(abs(dec) if dec == 0 else dec, "f")
    if isinstance(dtype, BinaryType):
        return "[" + " ".join(f"{b:02X}" for b in bytes(value)) + "]"
    if isinstance(dtype, DateType):
        day = value if isinstance(value, _dt.date) else _EPOCH_DATE + _dt.timedelta(days=value)
        return _date_str(day)
    if isinstance(dtype, TimestampType):
        return _datetime_str(_timestamp(value, time_zone))
    if isinstance(dtype, TimestampNTZType):
        return _datetime_str(_timestamp_ntz(value))
    if isinstance(dtype, DayTimeIntervalType):
        return day_time_interval_string(_micros(value), dtype.startField, dtype.endField)
    if isinstance(dtype, YearMonthIntervalType):
        months = value.months if isinstance(value, pa.MonthDayNano) else int(value)
        return year_month_interval_string(months, dtype.startField, dtype.endField)
    if isinstance(dtype, CalendarIntervalType) and isinstance(value, pa.MonthDayNano):
        return calendar_interval_string(value)
    if isinstance(dtype, TimeType):
        return _time_str(value)
    if isinstance(dtype, ArrayType):
        return "[" + ", ".join(format_value(v, dtype.elementType, time_zone) for v in value) + "]"
    if isinstance(dtype, MapType):
        pairs = value.items() if isinstance(value, dict) else value
        inner = ", ".join(
            f"{format_value(k, dtype.keyType, time_zone)} -> "
            f"{format_value(v, dtype.valueType, time_zone)}"
            for k, v in pairs
        )
        return "{" + inner + "}"
    if isinstance(dtype, StructType):
        items = value.values() if isinstance(value, dict) else value
        inner = ", ".join(
            format_value(v, f.dataType, time_zone) for v, f in zip(items, dtype.fields, strict=True)
        )
        return "{" + inner + "}"
    if isinstance(dtype, NullType):
        return "NULL"
    if isinstance(dtype, VariantType):  # the variant's JSON text, as Spark casts it
        if isinstance(value, dict):
            value = VariantVal(bytes(value["value"]), bytes(value["metadata"]))
        elif isinstance(value, tuple):  # Spark's field order: value, metadata
            value = VariantVal(bytes(value[0]), bytes(value[1]))
        return value.toJson(time_zone)
    return str(value)


# --------------------------------------------------------------------------- Arrow -> values

_TO_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}
_TO_NANOS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _scaled(arr: pa.Array, unit: str) -> list[int | None]:
    ints = arr.cast(pa.int64()).to_pylist()
    factor = _TO_MICROS[unit]
    if factor is None:
        return [None if v is None else v // 1000 for v in ints]
    return [None if v is None else v * factor for v in ints]


def _py_values(arr: pa.Array) -> list[Any]:
    """Python values of an Arrow array, in the forms :func:`format_value` takes.

    Temporal values become ints so that any year prints; structs become tuples
    so that duplicate field names survive; nested arrays recurse.
    """
    t = arr.type
    if pa.types.is_dictionary(t):
        return _py_values(arr.dictionary_decode())
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return _scaled(arr, t.unit)
    if pa.types.is_date32(t):
        return arr.cast(pa.int32()).to_pylist()
    if pa.types.is_date64(t):
        return [None if v is None else v // 86_400_000 for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_time(t):
        factor = _TO_NANOS[t.unit]
        ints = arr.cast(pa.int64() if pa.types.is_time64(t) else pa.int32()).to_pylist()
        return [None if v is None else v * factor for v in ints]
    if pa.types.is_map(t):
        # A map is a list of (key, value) structs; view it so as to reuse the list path.
        entry = pa.field("entries", pa.struct([t.key_field, t.item_field]), nullable=False)
        return _py_values(arr.view(pa.list_(entry)))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _regroup(arr, _py_values(arr.flatten()))
    if pa.types.is_struct(t):
        children = [_py_values(child) for child in arr.flatten()]
        rows = zip(*children, strict=True) if children else [()] * len(arr)
        valid = arr.is_valid().to_pylist()
        return [tuple(row) if ok else None for ok, row in zip(valid, rows, strict=True)]
    if t.id == 21:  # INTERVAL_MONTHS: Spark's YearMonthIntervalType on the wire
        return arr.view(pa.int32()).to_pylist()
    return arr.to_pylist()


def _regroup(arr: pa.Array, flat: list[Any]) -> list[Any]:
    """Cut the flattened child values back into one list per non-null parent row."""
    out: list[Any] = []
    pos = 0
    for n in pc.list_value_length(arr).to_pylist():
        if n is None:
            out.append(None)
        else:
            out.append(flat[pos : pos + n])
            pos += n
    return out


def _rows(data: Iterable[pa.RecordBatch] | pa.Table, limit: int) -> tuple[list[list[Any]], bool]:
    """At most ``limit`` rows as value lists, and whether more rows were available."""
    batches = data.to_batches() if isinstance(data, pa.Table) else data
    rows: list[list[Any]] = []
    more = False
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if len(rows) >= limit:
            more = True
            break
        take = batch.slice(0, limit - len(rows))
        more = more or take.num_rows < batch.num_rows
        columns = [_py_values(col) for col in take.columns]
        rows.extend(
            [list(r) for r in zip(*columns, strict=True)] if columns else [[]] * take.num_rows
        )
    return rows, more


# --------------------------------------------------------------------------- layout

_META = str.maketrans(
    {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f", "\b": "\\b", "\v": "\\v", "\a": "\\a"}
)
# Utils.stringHalfWidth: characters that take two columns on a terminal.
_FULL_WIDTH = re.compile(
    "[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19"
    "\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6]"
)


def _java_len(s: str) -> int:
    """``String.length``: UTF-16 code units, so astral characters count twice."""
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def _half_width(s: str) -> int:
    return _java_len(s) + len(_FULL_WIDTH.findall(s))


def _java_prefix(s: str, n: int) -> str:
    """``s.substring(0, n)`` in UTF-16 units; a split surrogate pair becomes ``?``
    as Java's UTF-8 encoder writes it when the string is sent to the client."""
    out: list[str] = []
    used = 0
    for c in s:
        width = 2 if ord(c) > 0xFFFF else 1
        if used + width > n:
            if used < n:
                out.append("?")
            break
        out.append(c)
        used += width
    return "".join(out)


def _cell(text: str, truncate: int) -> str:
    text = text.translate(_META)
    if truncate > 0 and _java_len(text) > truncate:
        if truncate < 4:  # no ellipsis for very narrow columns
            return _java_prefix(text, truncate)
        return _java_prefix(text, truncate - 3) + "..."
    return text


def _pad(cell: str, width: int, left: bool) -> str:
    fill = " " * max(width - _half_width(cell), 0)
    return fill + cell if left else cell + fill


def _table(rows: Sequence[Sequence[str]], truncate: int) -> Iterator[str]:
    widths = [3] * len(rows[0])
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _half_width(cell))
    sep = "+" + "+".join("-" * w for w in widths) + "+\n"
    lines = [
        "|" + "|".join(_pad(c, w, truncate > 0) for c, w in zip(row, widths, strict=True)) + "|\n"
        for row in rows
    ]
    yield sep
    yield lines[0]
    yield sep
    yield from lines[1:]
    yield sep


def _vertical(rows: Sequence[Sequence[str]]) -> Iterator[str]:
    names, data = rows[0], rows[1:]
    name_width = max([3, *(_half_width(n) for n in names)])
    data_width = max([3, *(_half_width(c) for row in data for c in row)])
    for i, row in enumerate(data):
        yield f"-RECORD {i}".ljust(name_width + data_width + 5, "-") + "\n"
        for name, cell in zip(names, row, strict=True):
            yield f" {_pad(name, name_width, False)} | {_pad(cell, data_width, False)} \n"


def show_string(
    batches: Iterable[pa.RecordBatch] | pa.Table,
    schema: StructType,
    num_rows: int,
    truncate: int,
    vertical: bool,
    has_more_data: bool = False,
    time_zone: str = "UTC",
) -> str:
    """Spark 4 ``Dataset.showString`` of the first ``num_rows`` rows of ``batches``.

    Pass ``num_rows + 1`` rows (or ``has_more_data=True``) so that the
    ``only showing top N rows`` footer appears exactly when Spark prints it;
    rows beyond ``num_rows`` are never formatted.
    """
    num_rows = max(num_rows, 0)
    values, more = _rows(batches, num_rows)
    more = more or has_more_data
    header = [_cell(name, 0) for name in schema.fieldNames()]
    body = [
        [
            _cell(format_value(v, f.dataType, time_zone), truncate)
            for v, f in zip(row, schema.fields, strict=True)
        ]
        for row in values
    ]
    rows = [header, *body]
    if vertical:
        if not body:
            return "(0 rows)"
        text = "".join(_vertical(rows))
    else:
        text = "".join(_table(rows, truncate))
    if more:
        text += f"only showing top {num_rows} {'row' if num_rows == 1 else 'rows'}"
    return text
