"""How an ``s3://bucket/prefix`` store is configured (the S3 backend owns its settings).

Where a setting comes from, first match wins:

1. the URI query, e.g. ``s3://shuffle/jobs?endpoint_url=http://127.0.0.1:5000&region=us-east-1``;
2. the Spark conf passed to ``S3Config.from_uri(uri, conf)`` (keys below);
3. boto3's usual chain for endpoint, region and credentials: ``AWS_ENDPOINT_URL_S3`` /
   ``AWS_ENDPOINT_URL``, ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` /
   ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``~/.aws/config``,
   the Lambda execution role ...;
4. the defaults in ``S3Config``.

Functions receive only the store URI today (the driver does not forward conf yet), so a
setting a function needs must be in the URI or in the functions' environment. Credentials
are accepted in the URI for completeness but travel in every task descriptor and log line
that prints it — prefer the environment or an IAM role.

URI option            Spark conf key                                 default
--------------------  ---------------------------------------------  ----------------
endpoint_url          spark.sparkless.s3.endpoint                    boto3 chain (AWS)
region                spark.sparkless.s3.region                      boto3 chain
access_key_id         spark.sparkless.s3.accessKeyId                 boto3 chain
secret_access_key     spark.sparkless.s3.secretAccessKey             boto3 chain
session_token         spark.sparkless.s3.sessionToken                boto3 chain
profile               spark.sparkless.s3.profile                     boto3 chain
addressing_style      spark.sparkless.s3.addressingStyle             auto (path|virtual)
multipart_threshold   spark.sparkless.s3.multipartThreshold          64 MiB
multipart_chunksize   spark.sparkless.s3.multipartChunkSize          16 MiB (>= 5 MiB)
coalesce_gap          spark.sparkless.s3.coalesceGap                 1 MiB
coalesce_limit        spark.sparkless.s3.coalesceLimit               32 MiB
fetch_threads         spark.sparkless.s3.fetchThreads                16
max_pool_connections  spark.sparkless.s3.maxPoolConnections          fetch_threads + 16
retry_mode            spark.sparkless.s3.retryMode                   standard (|adaptive)
max_attempts          spark.sparkless.s3.maxAttempts                 5
connect_timeout       spark.sparkless.s3.connectTimeout              5 (seconds)
read_timeout          spark.sparkless.s3.readTimeout                 60 (seconds)
spread                spark.sparkless.s3.spread                      1 (hex digits; 0-4)

Sizes take a plain byte count or a Spark-style suffix (``64m``, ``1MiB``, ``512k``).
``spread`` is the number of hex digits of the key hash put in front of every key (see
``storage/s3/store.py`` for why, and what it costs list/delete).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import parse_qs, unquote, urlsplit

from storage.units import parse_size

MiB = 1 << 20
MIN_PART = 5 * MiB  # S3's minimum size of every multipart part but the last
MAX_PARTS = 10_000  # S3's maximum number of parts of one upload

CONF_PREFIX = "spark.sparkless.s3."
# URI option -> camelCase suffix of the Spark conf key.
CONF_KEYS: dict[str, str] = {
    "endpoint_url": "endpoint",
    "region": "region",
    "access_key_id": "accessKeyId",
    "secret_access_key": "secretAccessKey",
    "session_token": "sessionToken",
    "profile": "profile",
    "addressing_style": "addressingStyle",
    "multipart_threshold": "multipartThreshold",
    "multipart_chunksize": "multipartChunkSize",
    "coalesce_gap": "coalesceGap",
    "coalesce_limit": "coalesceLimit",
    "fetch_threads": "fetchThreads",
    "max_pool_connections": "maxPoolConnections",
    "retry_mode": "retryMode",
    "max_attempts": "maxAttempts",
    "connect_timeout": "connectTimeout",
    "read_timeout": "readTimeout",
    "spread": "spread",
}
@dataclass(frozen=True)
class S3Config:
    """Everything an ``S3Store`` needs; ``None`` means "let boto3's chain decide"."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    profile: str | None = None
    addressing_style: str = "auto"
    multipart_threshold: int = 64 * MiB
    multipart_chunksize: int = 16 * MiB
    coalesce_gap: int = 1 * MiB
    coalesce_limit: int = 32 * MiB
    fetch_threads: int = 16
    max_pool_connections: int = 0  # 0: fetch_threads + 16
    retry_mode: str = "standard"
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    spread: int = 1

    def __post_init__(self) -> None:
        self._check()
        if self.max_pool_connections <= 0:
            object.__setattr__(self, "max_pool_connections", self.fetch_threads + 16)

    def _check(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", self.bucket):
            raise ValueError(f"invalid S3 bucket name {self.bucket!r}")
        if self.multipart_chunksize < MIN_PART:
            raise ValueError(
                f"multipart_chunksize must be >= 5 MiB (S3's minimum part), "
                f"got {self.multipart_chunksize}"
            )
        if self.multipart_threshold < 1:
            raise ValueError(f"multipart_threshold must be >= 1, got {self.multipart_threshold}")
        if self.coalesce_gap < 0 or self.coalesce_limit < 1:
            raise ValueError("coalesce_gap must be >= 0 and coalesce_limit >= 1")
        if self.fetch_threads < 1 or self.max_attempts < 1:
            raise ValueError("fetch_threads and max_attempts must be >= 1")
        if self.retry_mode not in ("standard", "adaptive", "legacy"):
            raise ValueError(f"retry_mode must be standard or adaptive, got {self.retry_mode!r}")
        if self.addressing_style not in ("auto", "path", "virtual"):
            raise ValueError(
                f"addressing_style must be auto, path or virtual, got {self.addressing_style!r}"
            )
        if not 0 <= self.spread <= 4:
            raise ValueError(f"spread must be 0..4 hex digits, got {self.spread}")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")

    @property
    def redacted_uri(self) -> str:
        """``s3://bucket/prefix`` — what error messages and metrics name (no secrets)."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @classmethod
    def from_uri(cls, uri: str, conf: Mapping[str, str] | None = None) -> S3Config:
        """Validate ``uri`` (+ optional Spark ``conf``); raises ``ValueError`` with the reason."""
        parts = urlsplit(uri)
        if parts.scheme.lower() != "s3":
            raise ValueError(f"not an s3:// store URI: {uri!r}")
        if not parts.netloc:
            raise ValueError(f"S3 store URI needs a bucket (s3://bucket/prefix): {uri!r}")
        prefix = unquote(parts.path).strip("/")
        if "//" in prefix:
            raise ValueError(f"S3 store prefix has an empty path component: {uri!r}")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(query) - set(CONF_KEYS)
        if unknown:
            raise ValueError(
                f"unknown S3 store option(s) {sorted(unknown)} in {uri!r}; "
                f"known: {', '.join(CONF_KEYS)}"
            )
        raw: dict[str, str] = {}
        for name, suffix in CONF_KEYS.items():
            if name in query:
                raw[name] = query[name][-1]
            elif conf and conf.get(CONF_PREFIX + suffix) not in (None, ""):
                raw[name] = str(conf[CONF_PREFIX + suffix])
        return cls(bucket=parts.netloc, prefix=prefix, **_typed(raw))


def _typed(raw: dict[str, str]) -> dict[str, object]:
    """Convert option strings to the dataclass field types, with messages that name them."""
    types = {f.name: f.type for f in fields(S3Config)}
    out: dict[str, object] = {}
    for name, value in raw.items():
        kind = types[name]
        try:
            if name in (
                "multipart_threshold",
                "multipart_chunksize",
                "coalesce_gap",
                "coalesce_limit",
            ):
                out[name] = parse_size(value, name)
            elif kind == "int":
                out[name] = int(value)
            elif kind == "float":
                out[name] = float(value)
            else:
                out[name] = value or None
        except ValueError as e:
            raise ValueError(f"bad S3 store option {name}={value!r}: {e}") from None
    return out
