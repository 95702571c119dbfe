"""Where the Parquet lives: a local directory or ``s3://bucket/prefix``.

Why boto3 and not DuckDB: DuckDB's httpfs extension would have to be downloaded, which
cannot happen offline, while boto3 is already a dependency and honours
``AWS_ENDPOINT_URL`` (LocalStack, MinIO) by itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def _client():  # noqa: ANN202 -- boto3 client types are generated at run time
    import boto3

    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def upload_dir(local: Path, uri: str) -> None:
    """Copy every file under ``local`` to ``uri`` keeping relative paths."""
    parsed = urlparse(uri)
    prefix = parsed.path.strip("/")
    client = _client()
    for path in sorted(local.rglob("*")):
        if path.is_file():
            key = "/".join(filter(None, [prefix, path.relative_to(local).as_posix()]))
            client.upload_file(str(path), parsed.netloc, key)
    print(f"tpcds: uploaded {local} to {uri}", flush=True)


def download_dir(uri: str, local: Path) -> Path:
    """Mirror ``uri`` into ``local`` (skipping files already there); return ``local``."""
    parsed = urlparse(uri)
    prefix = parsed.path.strip("/")
    client = _client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=parsed.netloc, Prefix=prefix)
    for page in pages:
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):].lstrip("/")
            target = local / rel
            if not target.exists() or target.stat().st_size != obj["Size"]:
                target.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(parsed.netloc, obj["Key"], str(target))
    return local


def table_uri(data: str, table: str) -> str:
    """The URI of one table's directory, as an engine reads it."""
    if is_s3(data):
        return data.rstrip("/") + "/" + table
    return str(Path(data).resolve() / table)
