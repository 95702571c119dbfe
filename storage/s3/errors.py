"""botocore exceptions → the store's typed errors, with messages a Spark user can act on.

botocore has already retried throttles, 5xx and dropped connections (``standard`` or
``adaptive`` mode) by the time an exception reaches us, so what is left is either worth a
task retry (``TransientStoreError``) or permanent (``StoreError`` / ``BlockNotFound``).
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from storage.base import BlockNotFound, StoreError, TransientStoreError

MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
MISSING_BUCKET = {"NoSuchBucket"}
DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}
TRANSIENT = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "503",
    "500",
}
TRANSIENT_IO = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    IncompleteReadError,
    ResponseStreamingError,
)
# Failures while reading a response body, which botocore does not retry itself.
STREAM_BROKEN = (IncompleteReadError, ResponseStreamingError, ReadTimeoutError)


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def translate(e: Exception, *, store: str, bucket: str, key: str = "", op: str) -> StoreError:
    """The typed error for ``e``, raised by ``op`` on ``key`` (may be empty)."""
    where = f"{key!r} in {store}" if key else store
    if isinstance(e, ClientError):
        code = error_code(e)
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = e.response.get("Error", {}).get("Message", "") or str(e)
        if code in MISSING_BUCKET:
            return StoreError(
                f"S3 bucket {bucket!r} does not exist (store {store}); create it or fix the URI",
                store=store,
                key=key,
            )
        if code in MISSING_KEY:
            return BlockNotFound(f"no such key {where}", store=store, key=key)
        if code in DENIED:
            return StoreError(
                f"access denied to S3 bucket {bucket!r} ({op} {where}: {code}); check the "
                "credentials, region and the bucket policy",
                store=store,
                key=key,
            )
        if code in TRANSIENT or status >= 500 or status == 429:
            return TransientStoreError(
                f"S3 {op} of {where} failed after retries: {code} {message}", store=store, key=key
            )
        return StoreError(f"S3 {op} of {where} failed: {code} {message}", store=store, key=key)
    if isinstance(e, TRANSIENT_IO):
        return TransientStoreError(
            f"S3 {op} of {where} failed after retries: {e}", store=store, key=key
        )
    if isinstance(e, NoCredentialsError | PartialCredentialsError):
        return StoreError(
            f"no usable AWS credentials for S3 bucket {bucket!r} (store {store}): {e}; set "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, a role, or "
            "spark.sparkless.s3.accessKeyId/secretAccessKey",
            store=store,
            key=key,
        )
    if isinstance(e, BotoCoreError):
        return StoreError(f"S3 {op} of {where} failed: {e}", store=store, key=key)
    raise TypeError(f"not a botocore error: {e!r}")
