"""How the local platform reads its settings from Spark conf (one place, checked once)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

MAX_CONCURRENCY = "spark.sparkless.maxConcurrency"
IDLE_TIMEOUT = "spark.sparkless.warmPool.idleTimeout"
MIN_IDLE = "spark.sparkless.warmPool.minIdle"
MAX_IDLE = "spark.sparkless.warmPool.maxIdle"
TASK_TIMEOUT = "spark.sparkless.task.timeout"
HANDLER = "spark.sparkless.local.handler"

# Spark's time suffixes (JavaUtils.timeStringAs); a bare number means seconds.
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_TIME = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*$")


def seconds(value: str | float, key: str) -> float:
    """``"60s"``, ``"2min"``, ``"500ms"``, ``"1.5"`` → seconds, as Spark reads time settings."""
    if isinstance(value, int | float):
        return float(value)
    match = _TIME.match(str(value).lower())
    if not match or match.group(2) not in ("", *_UNITS):
        raise ValueError(f"{key}={value!r} is not a duration (e.g. 60s, 500ms, 2min)")
    return float(match.group(1)) * _UNITS.get(match.group(2) or "s", 1.0)


def _int(conf: Mapping[str, Any], key: str, default: int) -> int:
    try:
        return int(conf.get(key, default))
    except ValueError:
        raise ValueError(f"{key}={conf[key]!r} is not an integer") from None


def platform_kwargs(conf: Mapping[str, Any]) -> dict[str, Any]:
    """``LocalPlatform`` keyword arguments from Spark conf; unset keys keep its defaults."""
    kwargs: dict[str, Any] = {
        "max_workers": _int(conf, MAX_CONCURRENCY, os.cpu_count() or 1),
        "min_idle": _int(conf, MIN_IDLE, 0),
    }
    if conf.get(MAX_IDLE) not in (None, ""):
        kwargs["max_idle"] = _int(conf, MAX_IDLE, kwargs["max_workers"])
    if IDLE_TIMEOUT in conf:
        kwargs["idle_ttl_s"] = seconds(conf[IDLE_TIMEOUT], IDLE_TIMEOUT)
    if conf.get(TASK_TIMEOUT):
        kwargs["task_timeout_s"] = seconds(conf[TASK_TIMEOUT], TASK_TIMEOUT)
    if conf.get(HANDLER):
        kwargs["handler"] = conf[HANDLER]
    return kwargs
