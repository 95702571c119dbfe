"""A moto S3 server on 127.0.0.1 for the store tests (imported by them; not a conftest).

moto's server mode is a real HTTP endpoint, so the store's botocore stack — signing,
retries, ranged GETs, multipart, pagination — runs exactly as against AWS.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

# Credentials moto accepts; set for this process and inherited by the function workers.
# Config files are pointed away so a developer's ~/.aws cannot leak into the tests.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
AWS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@dataclass
class MotoS3:
    endpoint: str
    client: Any  # a boto3 S3 client, for arranging and inspecting buckets directly

    def objects(self, bucket: str, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            keys += [o["Key"] for o in page.get("Contents", ())]
        return keys


@contextlib.contextmanager
def aws_test_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*AWS_ENV, *AWS_UNSET)}
    os.environ.update(AWS_ENV)
    for k in AWS_UNSET:
        os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def moto_s3() -> Iterator[MotoS3]:
    """A moto server on a free loopback port, for as long as the context lasts."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        raise RuntimeError(
            "the S3 store tests need moto's server mode: pip install 'moto[server]'"
        ) from e
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield MotoS3(endpoint, boto3.client("s3", endpoint_url=endpoint))
    finally:
        server.stop()
