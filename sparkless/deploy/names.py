"""One deployment's names, limits and client settings, shared by ``deploy`` and ``doctor``.

The names follow ``infra/terraform/modules/sparkless`` (role ``<function>-role``, log group
``/aws/lambda/<function>``), so ``doctor`` checks a Terraform deployment just as well.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

DEFAULT_FUNCTION = "sparkless-executor"
DEFAULT_PREFIX = "shuffle"
DEFAULT_MEMORY_MB = 2048
DEFAULT_TIMEOUT_S = 300
DEFAULT_EPHEMERAL_MB = 2048
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_EXPIRATION_DAYS = 3
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096)

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_FUNCTION = re.compile(r"[A-Za-z0-9_-]{1,59}")  # 64 minus "-role"
_PREFIX = re.compile(r"[A-Za-z0-9!_.*'()\-]+(/[A-Za-z0-9!_.*'()\-]+)*")


@dataclass(frozen=True)
class Target:
    """Where a deployment lives; checked on construction so errors name the flag."""

    region: str
    bucket: str
    prefix: str = DEFAULT_PREFIX
    function: str = DEFAULT_FUNCTION
    endpoint_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.prefix.strip("/"))
        if not _BUCKET.fullmatch(self.bucket):
            raise ValueError(f"--bucket {self.bucket!r} is not a valid S3 bucket name")
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"--prefix {self.prefix!r} must be a non-empty key prefix")
        if not _FUNCTION.fullmatch(self.function):
            raise ValueError(f"--function-name {self.function!r}: 1-59 letters, digits, '-' or '_'")
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", self.region):
            raise ValueError(f"--region {self.region!r} is not an AWS region name")
        if self.endpoint_url and not self.endpoint_url.startswith(("http://", "https://")):
            raise ValueError(f"--endpoint-url {self.endpoint_url!r} is not an http(s) URL")

    @property
    def role_name(self) -> str:
        return f"{self.function}-role"

    @property
    def policy_name(self) -> str:
        return f"{self.function}-shuffle"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def store_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def objects_arn(self) -> str:
        """The only objects the function may touch."""
        return f"{self.bucket_arn()}/{self.prefix}/*"

    def log_group_arn(self, account: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{account}:log-group:{self.log_group}"


def client_conf(target: Target, memory_mb: int | None, timeout_s: int | None) -> dict[str, str]:
    """The ``spark.sparkless.*`` settings a client needs (the Terraform ``spark_conf``)."""
    conf = {
        "spark.sparkless.platform": "lambda",
        "spark.sparkless.lambda.function": target.function,
        "spark.sparkless.lambda.region": target.region,
    }
    if memory_mb:
        conf["spark.sparkless.lambda.memory"] = str(memory_mb)
    if timeout_s:
        conf["spark.sparkless.lambda.timeout"] = str(timeout_s)
    if target.endpoint_url:  # LocalStack or another Lambda-API endpoint
        conf["spark.sparkless.lambda.endpoint"] = target.endpoint_url
        conf["spark.sparkless.s3.endpoint"] = target.endpoint_url
    conf["spark.sparkless.store"] = target.store_uri
    return conf


def conf_text(conf: dict[str, str]) -> str:
    """The settings as ``--conf`` lines, then as one JSON object."""
    lines = [f"--conf {k}={v}" for k, v in conf.items()]
    return "\n".join([*lines, json.dumps(conf, indent=2)])
