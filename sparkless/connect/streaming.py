"""Structured Streaming: planned far enough to answer schema and ``isStreaming``, never run.

sparkless executes batch queries only. ``spark.readStream...load()`` gives a plan whose
leaf is a :class:`StreamingRelation`, so analysis works as in Spark (schemas, ``df``'s
repr, ``isStreaming`` is True, ``withWatermark`` checks its column), and running it --
or starting a stream -- raises UNSUPPORTED_FEATURE.SPARKLESS rather than computing a
batch answer that is not what Spark would stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import LongType, StructType, TimestampType

from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir

# Built-in sources whose schema is fixed (Spark's RateStreamProvider.SCHEMA, ...).
_FIXED_SCHEMAS = {
    "rate": [("timestamp", TimestampType()), ("value", LongType())],
    "rate-micro-batch": [("timestamp", TimestampType()), ("value", LongType())],
}


@dataclass(eq=False)
class StreamingRelation(ir.Plan):
    """An unbounded source: typed output, no way to execute it here."""

    source: str
    attrs: list[ir.Attribute]

    @property
    def output(self) -> list[ir.Attribute]:
        return self.attrs

    def describe(self) -> str:
        return f"StreamingRelation {self.source}, [{', '.join(a.name for a in self.attrs)}]"


def streaming_source(fmt: str, schema: StructType | None) -> ir.Plan:
    """``readStream.format(fmt)[.schema(s)].load()``."""
    fmt = (fmt or "").lower()
    if fmt in _FIXED_SCHEMAS:
        attrs = [ir.Attribute(n, t, True) for n, t in _FIXED_SCHEMAS[fmt]]
    elif schema is not None:
        attrs = [ir.Attribute(f.name, f.dataType, f.nullable) for f in schema.fields]
    else:
        raise unsupported(f"Streaming reads from the source '{fmt}' without a schema")
    return StreamingRelation(fmt, attrs)


def is_streaming(plan: ir.Plan) -> bool:
    return any(isinstance(n, StreamingRelation) for n in ir.walk(plan))


def check_batch(plan: ir.Plan) -> None:
    """Refuse to run a streaming plan as a batch query."""
    if is_streaming(plan):
        raise unsupported("Structured Streaming queries (readStream / writeStream)")


_UNITS_MS = {
    "week": 604_800_000, "day": 86_400_000, "hour": 3_600_000, "minute": 60_000,
    "second": 1_000, "millisecond": 1, "microsecond": 0.001,
}


def delay_ms(text: str) -> int:
    """``'10 minutes'`` / ``'1 hour 30 seconds'`` (an interval string) in milliseconds."""
    words = text.strip().lower().removeprefix("interval").split()
    if len(words) % 2:
        raise AnalysisException(f"Cannot parse the interval '{text}'.", "INVALID_INTERVAL_FORMAT")
    total = 0.0
    for number, unit in zip(words[::2], words[1::2]):
        unit = unit.removesuffix("s")
        if unit not in _UNITS_MS:
            raise AnalysisException(f"Cannot parse the interval '{text}'.", "INVALID_INTERVAL_FORMAT")
        total += float(number) * _UNITS_MS[unit]
    return int(total)


def with_watermark(child: ir.Plan, event_time: str, delay: str) -> ir.Plan:
    """``withWatermark(col, delay)``: the column must be a timestamp, and gets Spark's
    ``spark.watermarkDelayMs`` metadata; the rows are unchanged (a watermark only bounds a
    stream's state, which sparkless never keeps)."""
    from pyspark.sql.types import TimestampNTZType

    scope_attrs = [a for a in child.output if a.name.lower() == event_time.lower()]
    if not scope_attrs:
        raise AnalysisException(
            f"A column, variable, or function parameter with name `{event_time}` cannot be resolved.",
            "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION", sql_state="42703",
        )
    if not isinstance(scope_attrs[0].dtype, (TimestampType, TimestampNTZType)):
        raise AnalysisException(
            f"Event time must be defined on a window or a timestamp, but {event_time} is of type "
            f"{scope_attrs[0].dtype.simpleString()}.",
            "EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE", sql_state="42K09",
        )
    from dataclasses import replace

    from sparkless.plan.analyzer import Analyzer

    marked = scope_attrs[0].id
    meta = {"spark.watermarkDelayMs": delay_ms(delay)}
    return ir.Project(child, [
        ir.NamedExpr(Analyzer._ref(a), replace(a, metadata={**(a.metadata or {}), **meta}) if a.id == marked else a)
        for a in child.output
    ])
