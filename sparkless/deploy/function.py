"""The log group and the Lambda function (a container image whose CMD is the handler)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sparkless.deploy.aws import error_code
from sparkless.deploy.names import Target
from sparkless.deploy.plan import DeployError, Plan

ROLE_PROPAGATION_S = 60.0  # a new IAM role takes ~10 s before Lambda may assume it
SETTLE_S = 300.0


@dataclass(frozen=True)
class FunctionSpec:
    image_uri: str | None
    memory_mb: int
    timeout_s: int
    ephemeral_mb: int

    def __post_init__(self) -> None:
        if not 128 <= self.memory_mb <= 10240:
            raise ValueError(f"--memory must be in [128, 10240] MB, got {self.memory_mb}")
        if not 1 <= self.timeout_s <= 900:
            raise ValueError(f"--timeout must be in [1, 900] s, got {self.timeout_s}")
        if not 512 <= self.ephemeral_mb <= 10240:
            raise ValueError(
                f"--ephemeral-storage must be in [512, 10240] MB, got {self.ephemeral_mb}"
            )
        if self.image_uri is not None and not (":" in self.image_uri or "@" in self.image_uri):
            raise ValueError(f"--image-uri {self.image_uri!r} needs a :tag or @sha256:digest")


def ensure_log_group(plan: Plan, target: Target, logs: Any, retention_days: int) -> None:
    """Created by us (not lazily by Lambda) so that it has a retention from the start."""
    name = target.log_group
    found = [
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        if g["logGroupName"] == name
    ]
    if found:
        plan.unchanged(f"log group {name}")
    else:
        plan.do("create", f"log group {name}", "", lambda: logs.create_log_group(logGroupName=name))
    detail = f"{retention_days} days"
    if found and found[0].get("retentionInDays") == retention_days:
        plan.unchanged(f"log group {name} retention", detail)
    else:
        plan.do(
            "update" if found else "create",
            f"log group {name} retention",
            detail,
            lambda: logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days),
        )


def _settle(lam: Any, name: str) -> None:
    """Wait until the function accepts another change (Lambda refuses one mid-update)."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        cfg = lam.get_function_configuration(FunctionName=name)
        if cfg.get("State", "Active") != "Pending" and cfg.get("LastUpdateStatus") != "InProgress":
            if cfg.get("State") == "Failed":
                raise DeployError(f"function {name} failed: {cfg.get('StateReason')}")
            return
        time.sleep(1.0)
    raise DeployError(f"function {name} still updating after {SETTLE_S:.0f} s")


def _create(lam: Any, kwargs: dict[str, Any]) -> None:
    deadline = time.monotonic() + ROLE_PROPAGATION_S
    while True:
        try:
            lam.create_function(**kwargs)
            break
        except Exception as e:
            young_role = error_code(e) == "InvalidParameterValueException" and "assume" in str(e)
            if not young_role or time.monotonic() > deadline:
                raise
            time.sleep(2.0)
    _settle(lam, kwargs["FunctionName"])


def ensure_function(
    plan: Plan, target: Target, lam: Any, role_arn: str, spec: FunctionSpec
) -> None:
    name = target.function
    try:
        current = lam.get_function(FunctionName=name)
    except Exception as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
        current = None
    config = {
        "Role": role_arn,
        "MemorySize": spec.memory_mb,
        "Timeout": spec.timeout_s,
        "EphemeralStorage": {"Size": spec.ephemeral_mb},
    }
    shape = f"{spec.memory_mb} MB, {spec.timeout_s} s, /tmp {spec.ephemeral_mb} MB"
    if current is None:
        if not spec.image_uri:
            raise DeployError(
                f"function {name} does not exist yet: give --image-uri (an ECR image built "
                "from infra/lambda/Dockerfile) to create it"
            )
        kwargs = {
            "FunctionName": name,
            "PackageType": "Image",
            "Code": {"ImageUri": spec.image_uri},
            "Description": "sparkless executor: runs one task attempt per invocation",
            **config,
        }
        plan.do(
            "create", f"function {name}", f"{spec.image_uri}, {shape}", lambda: _create(lam, kwargs)
        )
        return

    cfg = current["Configuration"]
    if cfg.get("PackageType") != "Image":
        raise DeployError(
            f"function {name} exists as a {cfg.get('PackageType', 'Zip')} package; sparkless "
            "deploys a container image. Delete it or choose another --function-name"
        )
    have = {
        "Role": cfg.get("Role"),
        "MemorySize": cfg.get("MemorySize"),
        "Timeout": cfg.get("Timeout"),
        "EphemeralStorage": {"Size": cfg.get("EphemeralStorage", {}).get("Size", 512)},
    }
    if have == config:
        plan.unchanged(f"function {name} configuration", shape)
    else:
        diff = ", ".join(f"{k} {have[k]} -> {v}" for k, v in config.items() if have[k] != v)

        def update_config() -> None:
            _settle(lam, name)
            lam.update_function_configuration(FunctionName=name, **config)
            _settle(lam, name)

        plan.do("update", f"function {name} configuration", diff, update_config)

    image = current.get("Code", {}).get("ImageUri")
    if spec.image_uri is None or spec.image_uri == image:
        plan.unchanged(f"function {name} image", str(image))
    else:

        def update_code() -> None:
            _settle(lam, name)
            lam.update_function_code(FunctionName=name, ImageUri=spec.image_uri)
            _settle(lam, name)

        plan.do("update", f"function {name} image", f"{image} -> {spec.image_uri}", update_code)
