"""Sizes as Spark writes them (``64m``, ``64MB``, ``64MiB``, ``1g``, ``4096``): binary units.

The one parser for every layer (Spark conf, store URIs, CLI flags); it lives at the
bottom of the dependency graph so storage, executors and the driver can all use it.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(value: str | int, what: str = "size") -> int:
    """Bytes from ``123``, ``64k``, ``64m``, ``64MB``, ``64MiB``, ``1.5g``."""
    if isinstance(value, int):
        return value
    m = _SIZE.fullmatch(value)
    if not m:
        raise ValueError(f"{what} must be a size like 1048576, 64k, 64MB or 64MiB, got {value!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


# Spark's time suffixes (JavaUtils.timeStringAs); a bare number means seconds.
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_TIME = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*")


def parse_duration(value: str | float, what: str = "duration") -> float:
    """Seconds from ``"60s"``, ``"2min"``, ``"500ms"``, ``"1.5"``, as Spark reads time settings."""
    if isinstance(value, int | float):
        return float(value)
    m = _TIME.fullmatch(str(value).lower())
    if not m or m.group(2) not in ("", *_TIME_UNITS):
        raise ValueError(f"{what}={value!r} is not a duration (e.g. 60s, 500ms, 2min)")
    return float(m.group(1)) * _TIME_UNITS[m.group(2) or "s"]
