"""S3 as a file system for user data: ``s3://`` and ``s3a://`` paths of readers, writers,
tables and the warehouse (not the shuffle store, which is ``storage/s3/store.py``).

pyarrow's own ``S3FileSystem`` (the AWS C++ SDK in the pyarrow wheel) does the I/O: ranged
reads, multipart writes, listing, server-side copy. DuckDB reads through it as an fsspec
file system registered on the connection (``con.register_filesystem``), since its httpfs
extension cannot be fetched where functions run; Parquet footers, row groups and
projection still come as ranged GETs.

Where a setting comes from, first match wins (Spark users set the Hadoop keys; ours
follow ``storage/s3/config.py``)::

    endpoint   spark.sparkless.s3.endpoint, spark.hadoop.fs.s3a.endpoint, fs.s3a.endpoint,
               AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL                     (else AWS)
    region     spark.sparkless.s3.region, spark.hadoop.fs.s3a.endpoint.region,
               fs.s3a.endpoint.region, AWS_REGION, AWS_DEFAULT_REGION    (else us-east-1)
    keys       spark.sparkless.s3.accessKeyId / secretAccessKey / sessionToken,
               spark.hadoop.fs.s3a.access.key / secret.key / session.token (and fs.s3a.*),
               else the SDK's chain: AWS_ACCESS_KEY_ID ..., profiles, the Lambda role
    TLS        an endpoint without a scheme uses https unless
               fs.s3a.connection.ssl.enabled=false (Hadoop's rule)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

SCHEMES = ("s3", "s3a")
_HADOOP = ("spark.hadoop.fs.s3a.", "fs.s3a.")


def _first(conf: Mapping[str, str], keys: list[str], env: tuple[str, ...] = ()) -> str | None:
    for k in keys:
        v = conf.get(k)
        if v not in (None, ""):
            return str(v)
    for e in env:
        if os.environ.get(e):
            return os.environ[e]
    return None


def _hadoop(suffix: str) -> list[str]:
    return [p + suffix for p in _HADOOP]


def options(conf: Mapping[str, str] | None) -> dict[str, Any]:
    """Keyword arguments of ``pyarrow.fs.S3FileSystem`` for this job's settings."""
    conf = conf or {}
    endpoint = _first(
        conf,
        ["spark.sparkless.s3.endpoint", *_hadoop("endpoint")],
        ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    )
    region = _first(
        conf,
        ["spark.sparkless.s3.region", *_hadoop("endpoint.region"), *_hadoop("region")],
        ("AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    out: dict[str, Any] = {"region": region or "us-east-1"}
    if endpoint:
        if "://" in endpoint:
            scheme, _, host = endpoint.partition("://")
        else:
            ssl = (_first(conf, _hadoop("connection.ssl.enabled")) or "true").lower() != "false"
            scheme, host = ("https" if ssl else "http"), endpoint
        out["endpoint_override"] = host.rstrip("/")
        out["scheme"] = scheme
    key = _first(conf, ["spark.sparkless.s3.accessKeyId", *_hadoop("access.key")])
    secret = _first(conf, ["spark.sparkless.s3.secretAccessKey", *_hadoop("secret.key")])
    token = _first(conf, ["spark.sparkless.s3.sessionToken", *_hadoop("session.token")])
    if key and secret:
        out["access_key"], out["secret_key"] = key, secret
        if token:
            out["session_token"] = token
    style = _first(conf, ["spark.sparkless.s3.addressingStyle"])
    path_style = _first(conf, _hadoop("path.style.access"))
    out["force_virtual_addressing"] = style == "virtual" or (
        path_style is not None and path_style.lower() == "false" and style != "path"
    )
    return out


_filesystems: dict[tuple[int, tuple], Any] = {}
_lock = threading.Lock()


def filesystem(conf: Mapping[str, str] | None):  # noqa: ANN201 - pyarrow.fs.S3FileSystem
    """One pyarrow S3 file system per (process, settings): its connections are reused."""
    from pyarrow import fs as pafs

    opts = options(conf)
    key = (os.getpid(), tuple(sorted(opts.items())))
    with _lock:
        s3 = _filesystems.get(key)
        if s3 is None:
            s3 = pafs.S3FileSystem(
                **opts, connect_timeout=5, request_timeout=60, allow_bucket_creation=False,
                allow_bucket_deletion=False,
            )
            _filesystems[key] = s3
    return s3


def strip(uri: str) -> str:
    """``s3a://bucket/key`` → ``bucket/key`` (what pyarrow's file system takes)."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ValueError(f"not an s3:// or s3a:// path: {uri!r}")
    return rest.strip("/")


def fsspec_filesystem(conf: Mapping[str, str] | None):  # noqa: ANN201 - fsspec file system
    """The same file system as fsspec sees it, answering to ``s3://`` and ``s3a://``."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class S3Files(ArrowFSWrapper):
        protocol = SCHEMES
        cachable = False

    return S3Files(filesystem(conf))
