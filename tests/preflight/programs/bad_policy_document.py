"""A policy document the provider refuses (two statements with one Sid), built from a secret input."""

import pulumi
import pulumi_aws as aws

bucket = pulumi.Output.secret("arn:aws:s3:::shapes-data/*")
aws.iam.get_policy_document_output(
    statements=[
        {"sid": "Read", "actions": ["s3:GetObject"], "resources": [bucket]},
        {"sid": "Read", "actions": ["s3:ListBucket"], "resources": ["arn:aws:s3:::shapes-data"]},
    ]
).json.apply(lambda document: aws.iam.Policy("reader", policy=document))
