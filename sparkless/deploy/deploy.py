"""``sparkless deploy``: bucket, role, log group, function — in that order, each only
changed where it differs — then the client settings.

Order matters: the function's role must exist (and name the log group) before the
function, and the log group before the function's first write.
"""

from __future__ import annotations

import argparse
import sys

from sparkless.deploy.aws import account_id, client
from sparkless.deploy.bucket import ensure_bucket
from sparkless.deploy.function import FunctionSpec, ensure_function, ensure_log_group
from sparkless.deploy.names import LOG_RETENTION_DAYS, Target, client_conf, conf_text
from sparkless.deploy.plan import DeployError, Plan
from sparkless.deploy.role import ensure_role


def run(
    target: Target,
    spec: FunctionSpec,
    *,
    dry_run: bool,
    log_retention_days: int,
    expiration_days: int,
) -> Plan:
    """Bring the deployment to ``target``/``spec``; returns what was (or would be) done."""
    plan = Plan(dry_run=dry_run)
    account = account_id(target)
    ensure_bucket(plan, target, client(target, "s3"), expiration_days)
    role_arn = ensure_role(plan, target, client(target, "iam"), account)
    ensure_log_group(plan, target, client(target, "logs"), log_retention_days)
    ensure_function(plan, target, client(target, "lambda"), role_arn, spec)
    return plan


def main(args: argparse.Namespace) -> int:
    try:
        target = Target(
            region=args.region,
            bucket=args.bucket,
            prefix=args.prefix,
            function=args.function_name,
            endpoint_url=args.endpoint_url,
        )
        spec = FunctionSpec(args.image_uri, args.memory, args.timeout, args.ephemeral_storage)
        if args.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(f"--log-retention-days must be one of {LOG_RETENTION_DAYS}")
        if args.expiration_days < 1:
            raise ValueError("--expiration-days must be >= 1")
    except ValueError as e:
        print(f"sparkless deploy: error: {e}", file=sys.stderr)
        return 2
    try:
        plan = run(
            target,
            spec,
            dry_run=args.dry_run,
            log_retention_days=args.log_retention_days,
            expiration_days=args.expiration_days,
        )
    except DeployError as e:
        print(f"sparkless deploy: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # botocore: no credentials, endpoint down, access denied ...
        print(f"sparkless deploy: AWS refused or could not be reached: {e}", file=sys.stderr)
        return 1
    where = target.endpoint_url or f"AWS {target.region}"
    head = "plan (dry run: nothing was changed)" if args.dry_run else "done"
    changed = len(plan.changes)
    print(f"sparkless deploy to {where}: {head}; {changed} change(s)")
    print(plan.text())
    print("\nClient settings:")
    print(conf_text(client_conf(target, spec.memory_mb, spec.timeout_s)))
    return 0
