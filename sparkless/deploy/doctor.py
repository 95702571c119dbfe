"""``sparkless doctor``: is this deployment usable, and if not, what to do about it.

Each check yields one line of a checklist — ok, WARN or FAIL — and a fix in plain words for
anything not ok. The bucket round trip runs with *your* credentials, not the function's;
whether the function may do the same is what the role-policy check reads.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sparkless.deploy.aws import client, error_code, http_status
from sparkless.deploy.bucket import PUBLIC_ACCESS_BLOCK, lifecycle_rule_id
from sparkless.deploy.names import Target
from sparkless.deploy.policy import audit, missing_rights

OK, WARN, FAIL = "ok", "WARN", "FAIL"


@dataclass(frozen=True)
class Check:
    status: str
    what: str
    fix: str = ""

    def line(self) -> str:
        text = f"[{self.status:<4}] {self.what}"
        return text + (f"\n         fix: {self.fix}" if self.fix else "")


def _deploy_hint(target: Target) -> str:
    return (
        f"run `sparkless deploy --region {target.region} --bucket {target.bucket} "
        f"--prefix {target.prefix} --function-name {target.function}` (or terraform apply)"
    )


def check_function(target: Target) -> tuple[list[Check], dict[str, Any] | None]:
    lam = client(target, "lambda", attempts=1)
    name = target.function
    try:
        cfg = lam.get_function_configuration(FunctionName=name)
    except Exception as e:
        if error_code(e) == "ResourceNotFoundException":
            fix = f"{_deploy_hint(target)} with --image-uri to create it, or check --region"
            return [Check(FAIL, f"function {name} does not exist in {target.region}", fix)], None
        return [
            Check(FAIL, f"cannot read function {name}: {e}", "check credentials and region")
        ], None
    checks = [
        Check(
            OK if cfg.get("State", "Active") == "Active" else FAIL,
            f"function {name} exists ({cfg.get('PackageType')}, {cfg.get('MemorySize')} MB, "
            f"{cfg.get('Timeout')} s, state {cfg.get('State', 'unknown')})",
            ""
            if cfg.get("State", "Active") == "Active"
            else f"it is {cfg.get('State')}: {cfg.get('StateReason', 'see the Lambda console')}",
        )
    ]
    checks.append(_dry_run_invoke(lam, name))
    return checks, cfg


def _dry_run_invoke(lam: Any, name: str) -> Check:
    """Lambda's DryRun checks the caller may invoke, without running the function."""
    try:
        resp = lam.invoke(FunctionName=name, InvocationType="DryRun")
    except Exception as e:
        status, code = http_status(e), error_code(e)
        if code in ("AccessDeniedException", "AccessDenied") or status == 403:
            return Check(
                FAIL,
                f"you may not invoke {name} ({code or status})",
                "grant the driver's identity lambda:InvokeFunction on the function's ARN",
            )
        if status >= 500 or code in ("500", "InternalServerError", "ServiceException"):
            return Check(
                FAIL,
                f"a DryRun invocation of {name} failed inside the Lambda service (HTTP {status}): "
                "the endpoint tried to run the function and could not",
                "on AWS, retry and read the function's log group; on moto or LocalStack, "
                "running a container-image function needs a Docker engine, which this "
                "endpoint does not have (creating and configuring the function works without one)",
            )
        return Check(FAIL, f"DryRun invocation of {name} failed: {e}", "see the message above")
    status = resp.get("StatusCode")
    if status == 204:
        return Check(OK, f"function {name} is invokable (DryRun -> 204)")
    return Check(WARN, f"DryRun invocation of {name} answered {status}, expected 204")


def check_bucket(target: Target) -> list[Check]:
    s3 = client(target, "s3", attempts=2)
    key = f"{target.prefix}/_sparkless_doctor/{uuid.uuid4().hex}"
    body = b"sparkless doctor"
    where = f"s3://{target.bucket}/{key}"
    step = "write"
    try:
        s3.put_object(Bucket=target.bucket, Key=key, Body=body)
        step = "read"
        got = s3.get_object(Bucket=target.bucket, Key=key)["Body"].read()
        if got != body:
            return [
                Check(
                    FAIL,
                    f"read back different bytes from {where}",
                    "check for a proxy or an S3-compatible store that rewrites objects",
                )
            ]
        step = "delete"
        s3.delete_object(Bucket=target.bucket, Key=key)
    except Exception as e:
        code = error_code(e)
        if code in ("NoSuchBucket",):
            return [Check(FAIL, f"bucket {target.bucket} does not exist", _deploy_hint(target))]
        if code in ("AccessDenied", "403") or http_status(e) == 403:
            return [
                Check(
                    FAIL,
                    f"access denied to {step} {where}",
                    _denied_fix(target, s3),
                )
            ]
        return [
            Check(
                FAIL, f"could not {step} {where}: {e}", "check the endpoint, region and credentials"
            )
        ]
    checks = [
        Check(OK, f"bucket {target.bucket}: write, read and delete under {target.prefix}/ work")
    ]
    return checks + _bucket_settings(target, s3)


def _denied_fix(target: Target, s3: Any) -> str:
    """Name the usual culprit: a TLS-only bucket policy reached over plain http://."""
    policy = _setting(s3.get_bucket_policy, Bucket=target.bucket)
    if (
        policy
        and "aws:SecureTransport" in policy.get("Policy", "")
        and (target.endpoint_url or "").startswith("http://")
    ):
        return (
            f"the bucket policy denies requests without TLS, and {target.endpoint_url} is "
            "plain http: use an https endpoint, or drop that statement on an emulator"
        )
    return (
        "give your identity s3:PutObject, s3:GetObject and s3:DeleteObject on "
        f"{target.objects_arn()}, and check the bucket policy for a Deny"
    )


def _setting(call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except Exception:
        return None


def _bucket_settings(target: Target, s3: Any) -> list[Check]:
    b, hint = target.bucket, _deploy_hint(target)
    out = []
    pab = _setting(s3.get_public_access_block, Bucket=b)
    if pab and pab["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCK:
        out.append(Check(OK, f"bucket {b} blocks public access"))
    else:
        out.append(
            Check(FAIL, f"bucket {b} does not block public access (all four settings)", hint)
        )
    if _setting(s3.get_bucket_encryption, Bucket=b):
        out.append(Check(OK, f"bucket {b} has default encryption"))
    else:
        out.append(Check(FAIL, f"bucket {b} has no default encryption", hint))
    life = _setting(s3.get_bucket_lifecycle_configuration, Bucket=b)
    prefixes = [
        (r.get("Filter") or {}).get("Prefix", r.get("Prefix"))
        for r in (life or {}).get("Rules", [])
        if r.get("Status") == "Enabled" and r.get("Expiration")
    ]
    if any(p is not None and f"{target.prefix}/".startswith(p) for p in prefixes):
        out.append(Check(OK, f"objects under {target.prefix}/ expire (lifecycle)"))
    else:
        out.append(
            Check(
                WARN,
                f"nothing expires objects under {target.prefix}/: a crashed job's shuffle "
                "data stays (and costs) forever",
                f"{hint}; it adds the lifecycle rule {lifecycle_rule_id(target)}",
            )
        )
    return out


def _role_documents(iam: Any, role: str) -> dict[str, dict[str, Any]]:
    """Every policy document on the role: inline ones and the default versions of attached."""
    docs: dict[str, dict[str, Any]] = {}
    for name in iam.list_role_policies(RoleName=role).get("PolicyNames", []):
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        docs[name] = json.loads(doc) if isinstance(doc, str) else doc
    for att in iam.list_attached_role_policies(RoleName=role).get("AttachedPolicies", []):
        pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
        ver = iam.get_policy_version(PolicyArn=att["PolicyArn"], VersionId=pol["DefaultVersionId"])
        doc = ver["PolicyVersion"]["Document"]
        docs[att["PolicyName"]] = json.loads(doc) if isinstance(doc, str) else doc
    return docs


def check_role(target: Target, cfg: dict[str, Any] | None) -> list[Check]:
    role_arn = (cfg or {}).get("Role")
    role = role_arn.rsplit("/", 1)[-1] if role_arn else target.role_name
    iam = client(target, "iam", attempts=2)
    try:
        docs = _role_documents(iam, role)
    except Exception as e:
        if error_code(e) == "NoSuchEntity":
            return [Check(FAIL, f"role {role} does not exist", _deploy_hint(target))]
        return [
            Check(
                WARN,
                f"cannot read role {role}'s policies: {e}",
                "doctor needs iam:Get*/List* on the role to check it",
            )
        ]
    problems, granted = audit(docs, target)
    out = [
        Check(
            FAIL,
            f"role {role}: {p}",
            f"narrow it to {target.store_uri}/* ({_deploy_hint(target)} writes the least-privilege policy)",
        )
        for p in problems
    ]
    missing = missing_rights(granted)
    if missing:
        out.append(
            Check(
                FAIL,
                f"role {role} may not {', '.join(missing)} under {target.store_uri}/: the "
                "function cannot write or read shuffle blocks",
                _deploy_hint(target),
            )
        )
    if not out:
        out.append(Check(OK, f"role {role} reaches only {target.store_uri}/ and its own resources"))
    return out


def check_redis(uri: str) -> Check:
    import redis

    shown = _redact(uri)
    try:
        client_ = redis.Redis.from_url(uri, socket_timeout=5, socket_connect_timeout=5)
        try:
            client_.ping()
        finally:
            client_.close()
    except redis.AuthenticationError as e:
        return Check(
            FAIL,
            f"Redis at {shown} refused the password: {e}",
            "put the AUTH token in the URI: rediss://:TOKEN@host:6379/0",
        )
    except redis.ConnectionError as e:
        tls = (
            ""
            if uri.startswith("rediss://")
            else " ElastiCache with transit encryption needs rediss://."
        )
        return Check(
            FAIL,
            f"Redis at {shown} is not reachable: {e}",
            "run doctor from inside the VPC (ElastiCache has no public endpoint) and allow "
            f"the caller's security group on port 6379.{tls}",
        )
    except Exception as e:
        return Check(
            FAIL, f"Redis at {shown}: {e}", "check the URI (redis:// or rediss://host:port/db)"
        )
    return Check(OK, f"Redis at {shown} answers PING")


def _redact(uri: str) -> str:
    scheme, sep, rest = uri.partition("://")
    creds, at, host = rest.rpartition("@")
    return f"{scheme}{sep}***@{host}" if at else uri


def run(target: Target, redis_uri: str | None) -> list[Check]:
    checks, cfg = check_function(target)
    checks += check_bucket(target)
    checks += check_role(target, cfg)
    if redis_uri:
        checks.append(check_redis(redis_uri))
    return checks


def _lines(checks: list[Check]) -> Iterator[str]:
    for c in checks:
        yield c.line()
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    yield f"{len(checks)} checks: {failed} failed, {warned} warnings" + (
        "" if failed else "; healthy"
    )


def main(args: argparse.Namespace) -> int:
    try:
        target = Target(
            region=args.region,
            bucket=args.bucket,
            prefix=args.prefix,
            function=args.function_name,
            endpoint_url=args.endpoint_url,
        )
    except ValueError as e:
        print(f"sparkless doctor: error: {e}", file=sys.stderr)
        return 2
    checks = run(target, args.redis)
    print(
        f"sparkless doctor: function {target.function}, store {target.store_uri}, "
        f"{target.endpoint_url or 'AWS ' + target.region}"
    )
    print("\n".join(_lines(checks)))
    return 1 if any(c.status == FAIL for c in checks) else 0
