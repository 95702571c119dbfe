"""The shuffle bucket: private, encrypted, owner-enforced, TLS-only, expiring its prefix.

Settings that others may share (lifecycle rules, bucket policy statements) are merged by
rule ID / statement Sid, never replaced wholesale: the bucket may hold more than shuffle.
"""

from __future__ import annotations

import json
from typing import Any

from sparkless.deploy.aws import error_code, http_status
from sparkless.deploy.names import Target
from sparkless.deploy.plan import DeployError, Plan

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
TLS_SID = "DenyInsecureTransport"


def lifecycle_rule_id(target: Target) -> str:
    return "sparkless-expire-" + target.prefix.replace("/", "-")


def bucket_exists(s3: Any, bucket: str) -> bool:
    """True if it exists and is ours; a 403 means someone else's bucket (or no rights)."""
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except Exception as e:
        if http_status(e) == 404 or error_code(e) in ("404", "NoSuchBucket", "NotFound"):
            return False
        if http_status(e) == 403:
            raise DeployError(
                f"bucket {bucket} exists but these credentials may not use it (403): bucket "
                "names are global, so it may belong to another account; choose another --bucket"
            ) from e
        raise


def _get(call: Any, missing: tuple[str, ...], **kwargs: Any) -> Any:
    """A getter's response, or None when the setting is absent (error code in ``missing``)."""
    try:
        return call(**kwargs)
    except Exception as e:
        if error_code(e) in missing:
            return None
        raise


def _lifecycle_rule(target: Target, days: int) -> dict[str, Any]:
    return {
        "ID": lifecycle_rule_id(target),
        "Status": "Enabled",
        "Filter": {"Prefix": f"{target.prefix}/"},
        "Expiration": {"Days": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def _same_rule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("ID", "Status", "Filter", "Expiration", "AbortIncompleteMultipartUpload")
    return all(a.get(k) == b.get(k) for k in keys)


def tls_statement(target: Target) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [target.bucket_arn(), f"{target.bucket_arn()}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def ensure_bucket(plan: Plan, target: Target, s3: Any, expiration_days: int) -> None:
    """Create the bucket if absent, then bring each of its settings to what we need."""
    b = target.bucket
    exists = bucket_exists(s3, b)
    if exists:
        plan.unchanged(f"bucket {b}")
    else:
        kwargs: dict[str, Any] = {"Bucket": b}
        if target.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
        plan.do("create", f"bucket {b}", target.region, lambda: s3.create_bucket(**kwargs))
    verb = "update" if exists else "create"

    owner = exists and _get(
        s3.get_bucket_ownership_controls, ("OwnershipControlsNotFoundError",), Bucket=b
    )
    if owner and owner["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced":
        plan.unchanged(f"bucket {b} ownership", "BucketOwnerEnforced")
    else:
        rules = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        plan.do(
            verb,
            f"bucket {b} ownership",
            "BucketOwnerEnforced: ACLs off",
            lambda: s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls=rules),
        )

    pab = exists and _get(
        s3.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), Bucket=b
    )
    if pab and pab["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCK:
        plan.unchanged(f"bucket {b} public access block", "all four on")
    else:
        plan.do(
            verb,
            f"bucket {b} public access block",
            "all four on",
            lambda: s3.put_public_access_block(
                Bucket=b, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK
            ),
        )

    enc = exists and _get(
        s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",), Bucket=b
    )
    if enc:  # any default encryption (SSE-S3 or a KMS key someone chose) is kept
        algo = enc["ServerSideEncryptionConfiguration"]["Rules"][0][
            "ApplyServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        plan.unchanged(f"bucket {b} encryption", algo)
    else:
        sse = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
        plan.do(
            verb,
            f"bucket {b} encryption",
            "SSE-S3 (AES256)",
            lambda: s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=sse),
        )

    _ensure_lifecycle(plan, target, s3, exists, expiration_days)
    _ensure_tls_policy(plan, target, s3, exists)


def _ensure_lifecycle(plan: Plan, target: Target, s3: Any, exists: bool, days: int) -> None:
    b = target.bucket
    current = exists and _get(
        s3.get_bucket_lifecycle_configuration, ("NoSuchLifecycleConfiguration",), Bucket=b
    )
    rules: list[dict[str, Any]] = list(current["Rules"]) if current else []
    ours = _lifecycle_rule(target, days)
    mine = [r for r in rules if r.get("ID") == ours["ID"]]
    what = f"bucket {b} lifecycle"
    detail = f"expire {target.prefix}/ after {days} days"
    if mine and _same_rule(mine[0], ours):
        plan.unchanged(what, detail)
        return
    others = [r for r in rules if r.get("ID") != ours["ID"]]
    config = {"Rules": [*others, ours]}
    plan.do(
        "update" if current else "create",
        what,
        detail,
        lambda: s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=config),
    )


def _ensure_tls_policy(plan: Plan, target: Target, s3: Any, exists: bool) -> None:
    b = target.bucket
    if (target.endpoint_url or "").startswith("http://"):
        # An emulator over plain HTTP (moto, LocalStack): moto evaluates bucket policies,
        # and a TLS-only policy would deny every request made through that endpoint.
        plan.skip(f"bucket {b} policy", "TLS-only policy not set: the endpoint is plain http://")
        return
    current = exists and _get(s3.get_bucket_policy, ("NoSuchBucketPolicy",), Bucket=b)
    doc = json.loads(current["Policy"]) if current else {"Version": "2012-10-17", "Statement": []}
    statements = doc.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    ours = tls_statement(target)
    what = f"bucket {b} policy"
    if any(st.get("Sid") == TLS_SID and _same_statement(st, ours) for st in statements):
        plan.unchanged(what, "TLS only")
        return
    doc["Statement"] = [st for st in statements if st.get("Sid") != TLS_SID] + [ours]
    text = json.dumps(doc)
    plan.do(
        "update" if current else "create",
        what,
        "deny requests without TLS",
        lambda: s3.put_bucket_policy(Bucket=b, Policy=text),
    )


def _same_statement(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal up to the forms AWS rewrites (a lone Principal '*' as {'AWS': '*'})."""

    def norm(st: dict[str, Any]) -> str:
        st = dict(st)
        if st.get("Principal") in ({"AWS": "*"}, {"AWS": ["*"]}):
            st["Principal"] = "*"
        return json.dumps(st, sort_keys=True)

    return norm(a) == norm(b)
