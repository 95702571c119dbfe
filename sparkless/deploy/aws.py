"""boto3 clients for one target, and the few facts about botocore errors we act on."""

from __future__ import annotations

from typing import Any

from sparkless.deploy.names import Target


def client(target: Target, service: str, *, attempts: int = 3) -> Any:
    """A client for ``service`` at the target's region and endpoint (LocalStack, moto).

    Few retries: a deploy or a check should report a broken endpoint in seconds, not
    after botocore's standard backoff.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": attempts, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client(
        service, region_name=target.region, endpoint_url=target.endpoint_url, config=config
    )


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def http_status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return 0
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def account_id(target: Target) -> str:
    """The caller's account (for ARNs of the log group and the role)."""
    return str(client(target, "sts").get_caller_identity()["Account"])
