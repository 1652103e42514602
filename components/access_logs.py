"""The bucket an Application Load Balancer writes its access logs to: private, encrypted, expiring."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

import components.iam as iam


def access_log_bucket(
    name: str, *, account_id: pulumi.Input[str], force_destroy: pulumi.Input[bool], parent: pulumi.Resource
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """A private, encrypted bucket the region's ELB log delivery may write to under `<name>/`, and nothing else.

    Returns the bucket and the resources a load balancer must wait for before it enables logging to it: ELB
    checks the bucket's policy when access logs are switched on ("Access Denied for bucket ... Please check
    S3bucket permission", Elastic Load Balancing's access-log docs), and the engine creates siblings in parallel.
    Its resources are named `<name>-access-logs` and are children of `parent`.
    """
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(f"{name}-access-logs", force_destroy=force_destroy, opts=child)
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-access-logs",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-access-logs",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    # ALB access logs support SSE-S3 only.
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-access-logs",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-access-logs",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=365),
            )
        ],
        opts=child,
    )
    elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    policy = aws.s3.BucketPolicy(
        f"{name}-access-logs",
        bucket=bucket.id,
        policy=iam.policy_json(
            [
                {
                    "Sid": "ElbLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account.arn},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(
                        bucket.arn, f"/{name}/AWSLogs/", pulumi.Output.from_input(account_id), "/*"
                    ),
                },
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ]
        ),
        opts=child,
    )
    return bucket, [policy, public_access, ownership, encryption]
