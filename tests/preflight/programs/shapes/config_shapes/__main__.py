"""Reads short-hand, untyped and undeclared config keys the way most Pulumi programs do."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
for index in range(config.require_int("replicas")):
    aws.s3.Bucket(f"{config.require('team')}-{config.require('bucketSuffix')}-{index}")
pulumi.export("team", config.get("team"))
