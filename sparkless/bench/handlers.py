"""Task handlers the startup benchmark runs in sandboxes (imported by name by the zygote).

``warm`` is the production handler's, so a benchmark sandbox initialises exactly like a
real one (its DuckDB connection), and ``timed`` is the real handler plus the moment it was
entered, on the system-wide monotonic clock, so the driver can see when a task started.
"""

from __future__ import annotations

import time
from typing import Any

from executors.handler import handler as _handler
from executors.handler import warm

__all__ = ["empty", "timed", "warm"]


def empty(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """No work at all: what remains is the dispatch path."""
    return {"status": "ok"}


def timed(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The real handler, and when it was entered (``time.monotonic`` is CLOCK_MONOTONIC)."""
    entered = time.monotonic()
    result = _handler(event, context)
    result.setdefault("metrics", {})["entered"] = entered
    return result
