"""Command-line arguments of ``deploy`` and ``doctor`` (argparse only: cheap to import)."""

from __future__ import annotations

import argparse

from sparkless.deploy.names import (
    DEFAULT_EPHEMERAL_MB,
    DEFAULT_EXPIRATION_DAYS,
    DEFAULT_FUNCTION,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_MEMORY_MB,
    DEFAULT_PREFIX,
    DEFAULT_TIMEOUT_S,
)


def _common(p: argparse.ArgumentParser, *, function_required: bool) -> None:
    p.add_argument("--region", required=True, help="AWS region, e.g. eu-west-1")
    p.add_argument("--bucket", required=True, help="the shuffle bucket")
    p.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        help=f"key prefix in the bucket (default {DEFAULT_PREFIX})",
    )
    p.add_argument(
        "--function-name",
        required=function_required,
        default=DEFAULT_FUNCTION,
        help=f"the executor function (default {DEFAULT_FUNCTION})",
    )
    p.add_argument(
        "--endpoint-url",
        default=None,
        help="one endpoint for every AWS API (LocalStack, moto); default: AWS itself",
    )


def add_deploy_arguments(p: argparse.ArgumentParser) -> None:
    _common(p, function_required=False)
    p.add_argument(
        "--image-uri",
        default=None,
        help="ECR image built from infra/lambda/Dockerfile; needed to create the function, "
        "optional to update it",
    )
    p.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, help="function memory, MB")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S, help="function timeout, s")
    p.add_argument(
        "--ephemeral-storage", type=int, default=DEFAULT_EPHEMERAL_MB, help="/tmp size, MB"
    )
    p.add_argument(
        "--log-retention-days", type=int, default=DEFAULT_LOG_RETENTION_DAYS, help="log retention"
    )
    p.add_argument(
        "--expiration-days",
        type=int,
        default=DEFAULT_EXPIRATION_DAYS,
        help="days after which objects under the prefix expire",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan; call no mutating API")


def add_doctor_arguments(p: argparse.ArgumentParser) -> None:
    _common(p, function_required=True)
    p.add_argument("--redis", default=None, help="a redis:// or rediss:// store URI to PING")
