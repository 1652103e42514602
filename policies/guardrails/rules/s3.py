"""S3: no public ACLs, a public access block on every bucket, no bucket policy open to everyone.

Property names are pulumi-aws's engine inputs (sdk/python/pulumi_aws/s3/bucket.py, bucket_v2.py,
bucket_acl.py, bucket_public_access_block.py, account_public_access_block.py, bucket_policy.py).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_true
from guardrails.documents import parse_policy_document
from guardrails.framework import Findings, Resource, Rule, RuleInfo, Stack, StackCheck, resource_rule
from guardrails.values import Unknown, as_list, dig, shown

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKETS = (BUCKET, BUCKET_V2)
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
BUCKET_ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"

# Canned ACLs that grant everyone (AllUsers) or every AWS account (AuthenticatedUsers) access.
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEE_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


# --- aws-s3-bucket-no-public-acl ----------------------------------------------------------------------


def _check_public_acl(resource: Resource, findings: Findings) -> None:
    acl = resource.props.get("acl")
    if not findings.unknown(acl) and isinstance(acl, str) and acl.lower() in PUBLIC_CANNED_ACLS:
        findings.violation(f"acl is {acl}; the bucket's objects would be readable by anyone. Use private.")
    # Bucket/BucketV2 take `grants` [{uri, permissions}]; BucketAcl takes accessControlPolicy.grants.
    grants = resource.props.get("grants")
    where = "grants"
    if resource.type in (BUCKET_ACL, BUCKET_ACL_V2):
        grants, where = dig(resource.props, "accessControlPolicy", "grants"), "accessControlPolicy.grants"
    if findings.unknown(grants):
        return
    for index, grant in enumerate(as_list(grants)):
        uri = dig(grant, "uri") if resource.type in BUCKETS else dig(grant, "grantee", "uri")
        if findings.unknown(uri):
            continue
        if uri in PUBLIC_GRANTEE_GROUPS:
            findings.violation(f"{where}[{index}] grants the group {uri.rsplit('/', 1)[-1]} access to the bucket.")


NO_PUBLIC_ACL = resource_rule(
    RuleInfo(
        name="aws-s3-bucket-no-public-acl",
        description="S3 bucket ACLs grant nothing to everyone or to every AWS account.",
        severity=Severity.HIGH,
        remediation_steps=(
            "Remove the public canned ACL or grant (AllUsers, AuthenticatedUsers) and set "
            'BucketOwnershipControls object_ownership="BucketOwnerEnforced", which turns ACLs off.'
        ),
        frameworks=("fsbp:S3.2", "fsbp:S3.3", "checkov:CKV_AWS_20", "checkov:CKV_AWS_57"),
        limits="Object ACLs (aws.s3.BucketObject acl) are not judged.",
    ),
    dict.fromkeys((*BUCKETS, BUCKET_ACL, BUCKET_ACL_V2), _check_public_acl),
)


# --- aws-s3-bucket-public-access-block -----------------------------------------------------------------

BLOCK_SETTINGS = Expectations(
    *(
        Expect(flag, is_true, "the block lets public ACLs or policies through", unset="not set (false)")
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
)


def _check_public_access_block_stack(stack: Stack, findings: Findings) -> None:
    if stack.of_type(ACCOUNT_PUBLIC_ACCESS_BLOCK):
        return  # The account-wide block covers every bucket (its flags are judged per resource).
    blocks = stack.of_type(PUBLIC_ACCESS_BLOCK)
    referenced = set().union(*(block.references("bucket") for block in blocks))
    waiting = [block.props.get("bucket") for block in blocks if isinstance(block.props.get("bucket"), Unknown)]
    for bucket in stack.of_type(*BUCKETS):
        if bucket.keys("bucket", "id") & referenced:
            continue
        if waiting:
            findings.unknown_any(*waiting, urn=bucket.urn)
            continue
        findings.violation(
            f"Bucket {shown(bucket.name)} has no aws.s3.BucketPublicAccessBlock in the stack; one public ACL or "
            "policy away from being public.",
            bucket.urn,
        )


PUBLIC_ACCESS_BLOCK_RULE = Rule(
    RuleInfo(
        name="aws-s3-bucket-public-access-block",
        description="Every S3 bucket in the stack has a public access block with all four settings on.",
        severity=Severity.MEDIUM,
        remediation_steps=(
            "Add aws.s3.BucketPublicAccessBlock(bucket=<bucket>.id, block_public_acls=True, "
            "block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True) for each bucket "
            "(or one aws.s3.AccountPublicAccessBlock)."
        ),
        frameworks=("fsbp:S3.1", "fsbp:S3.8", "checkov:CKV2_AWS_6"),
        limits=(
            "A block is matched to its bucket by name or by the engine's property dependency; an account-wide "
            "block set outside the stack is not seen."
        ),
    ),
    checks=dict.fromkeys((PUBLIC_ACCESS_BLOCK, ACCOUNT_PUBLIC_ACCESS_BLOCK), BLOCK_SETTINGS),
    stack_check=StackCheck(
        _check_public_access_block_stack, reads=(*BUCKETS, PUBLIC_ACCESS_BLOCK, ACCOUNT_PUBLIC_ACCESS_BLOCK)
    ),
)


# --- aws-s3-bucket-policy-not-public ------------------------------------------------------------------


def _check_policy_not_public(resource: Resource, findings: Findings) -> None:
    policy: Any = resource.props.get("policy")
    if resource.type in BUCKETS and policy in (None, ""):
        return  # The inline policy is optional on a bucket.
    document = parse_policy_document(policy, "policy")
    for problem in document.problems:
        findings.violation(f"The bucket policy cannot be judged, so it does not pass: {problem}.")
    for statement in document.allow_statements:
        if statement.grants_public_access:
            findings.violation(
                f"{statement.label} allows a public principal with no Condition that restricts it to known "
                "accounts, organisations or services; name the principals."
            )
    findings.unknown_any(*document.unknowns)


POLICY_NOT_PUBLIC = resource_rule(
    RuleInfo(
        name="aws-s3-bucket-policy-not-public",
        description="S3 bucket policies grant nothing to a public principal without a restricting condition.",
        severity=Severity.HIGH,
        remediation_steps=(
            "Name the accounts, roles or service principals that need the bucket, or restrict the statement "
            "with a Condition on aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceAccount."
        ),
        frameworks=("fsbp:S3.2", "fsbp:S3.3", "checkov:CKV_AWS_70"),
        limits="Which conditions restrict a public principal is the policy-document model's judgement (documents.py).",
    ),
    dict.fromkeys((BUCKET_POLICY, *BUCKETS), _check_policy_not_public),
)
