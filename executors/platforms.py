"""Where task functions run, chosen per job by ``spark.sparkless.platform``.

A platform has ``invoke(event) -> Future[result]``, ``prewarm(n)``, ``stats()`` and
``shutdown()``, and a ``from_conf(conf)`` classmethod that reads (and checks) its own
settings. Adding one is a line in ``PLATFORMS``; modules are imported only when chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

PLATFORM_CONF = "spark.sparkless.platform"
DEFAULT_PLATFORM = "local"

PLATFORMS: dict[str, str] = {
    "local": "executors.local.platform:LocalPlatform",
    "lambda": "executors.aws_lambda.platform:LambdaPlatform",
}


def open_platform(name: str | None = None, conf: Mapping[str, Any] | None = None) -> Any:
    """A new platform: ``name`` if given, else ``conf["spark.sparkless.platform"]`` (local)."""
    conf = conf or {}
    name = (name or conf.get(PLATFORM_CONF) or DEFAULT_PLATFORM).strip().lower()
    if name not in PLATFORMS:
        raise ValueError(
            f"unknown {PLATFORM_CONF} {name!r}; supported: {', '.join(sorted(PLATFORMS))}"
        )
    module, _, cls_name = PLATFORMS[name].partition(":")
    return getattr(importlib.import_module(module), cls_name).from_conf(conf)
