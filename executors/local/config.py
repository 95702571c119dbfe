"""How the local platform reads its settings from Spark conf (one place, checked once)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from storage.units import parse_duration

MAX_CONCURRENCY = "spark.sparkless.maxConcurrency"
IDLE_TIMEOUT = "spark.sparkless.warmPool.idleTimeout"
MIN_IDLE = "spark.sparkless.warmPool.minIdle"
MAX_IDLE = "spark.sparkless.warmPool.maxIdle"
TASK_TIMEOUT = "spark.sparkless.task.timeout"
HANDLER = "spark.sparkless.local.handler"

def seconds(value: str | float, key: str) -> float:
    """``"60s"``, ``"2min"``, ``"500ms"``, ``"1.5"`` → seconds (storage.units, Spark's rules)."""
    return parse_duration(value, key)


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
