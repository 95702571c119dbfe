"""How the Lambda platform reads its settings from Spark conf (one place, checked once).

``spark.sparkless.maxConcurrency`` bounds the invocations in flight; unset, it is the
function's reserved concurrency (more would only be throttled), else 64.

The same settings reach AWS, LocalStack or the project's local endpoint; only
``spark.sparkless.lambda.endpoint`` changes. Timeout and memory describe the deployed
function (they are set at deploy time, ``infra/``): the platform uses them to size its
HTTP read timeout and to turn billed milliseconds into GB-seconds, and learns them from
``GetFunctionConfiguration`` when they are unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from executors.local.config import MAX_CONCURRENCY, seconds

FUNCTION = "spark.sparkless.lambda.function"
ENDPOINT = "spark.sparkless.lambda.endpoint"
REGION = "spark.sparkless.lambda.region"
TIMEOUT = "spark.sparkless.lambda.timeout"
MEMORY = "spark.sparkless.lambda.memory"
MAX_RETRIES = "spark.sparkless.lambda.maxRetries"

DEFAULT_FUNCTION = "sparkless-executor"
DEFAULT_CONCURRENCY = 64  # Lambda scales out; this bounds in-flight invocations per driver
DEFAULT_MAX_RETRIES = 8  # ours, on top of botocore's, for throttles and service errors

# Lambda's quota for a synchronous request or response body: 6 MB.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
# Above this an event or result travels by reference through the store; the margin leaves
# room for the reference wrapper and JSON framing.
INLINE_LIMIT = SYNC_PAYLOAD_LIMIT - 64 * 1024
MAX_TIMEOUT_S = 900.0  # Lambda's maximum function timeout


@dataclass(frozen=True)
class LambdaConfig:
    function: str = DEFAULT_FUNCTION
    endpoint: str | None = None
    region: str | None = None
    max_concurrency: int | None = None  # None: the function's reserved concurrency, else 64
    timeout_s: float | None = None
    memory_mb: int | None = None
    max_retries: int = DEFAULT_MAX_RETRIES

    def __post_init__(self) -> None:
        if not self.function:
            raise ValueError(f"{FUNCTION} must name a function (name or ARN)")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError(f"{MAX_CONCURRENCY} must be >= 1, got {self.max_concurrency}")
        if self.timeout_s is not None and not 0 < self.timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"{TIMEOUT} must be in (0, 900] seconds, got {self.timeout_s}")
        if self.memory_mb is not None and not 128 <= self.memory_mb <= 10240:
            raise ValueError(f"{MEMORY} must be in [128, 10240] MB, got {self.memory_mb}")
        if self.max_retries < 0:
            raise ValueError(f"{MAX_RETRIES} must be >= 0, got {self.max_retries}")
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise ValueError(f"{ENDPOINT}={self.endpoint!r} is not an http(s) URL")


def _int(conf: Mapping[str, Any], key: str) -> int | None:
    value = conf.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{key}={value!r} is not an integer") from None


def memory_mb(value: str | int, key: str = MEMORY) -> int:
    """``"2048"``, ``"2048m"``, ``"2g"`` → MB (Spark's size suffixes; bare numbers are MB)."""
    text = str(value).strip().lower().removesuffix("b")
    scale = {"m": 1, "g": 1024}.get(text[-1:], None)
    try:
        return int(float(text[:-1]) * scale) if scale else int(text)
    except ValueError:
        raise ValueError(f"{key}={value!r} is not a memory size (e.g. 2048, 2g)") from None


def lambda_config(conf: Mapping[str, Any]) -> LambdaConfig:
    """Settings from Spark conf; the region falls back to boto3's own (AWS_REGION, profile)."""
    timeout = conf.get(TIMEOUT)
    memory = conf.get(MEMORY)
    retries = _int(conf, MAX_RETRIES)
    region = (
        conf.get(REGION) or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    return LambdaConfig(
        function=str(conf.get(FUNCTION) or DEFAULT_FUNCTION),
        endpoint=conf.get(ENDPOINT) or None,
        region=region or None,
        max_concurrency=_int(conf, MAX_CONCURRENCY),
        timeout_s=seconds(timeout, TIMEOUT) if timeout else None,
        memory_mb=memory_mb(memory) if memory else None,
        max_retries=DEFAULT_MAX_RETRIES if retries is None else retries,
    )
