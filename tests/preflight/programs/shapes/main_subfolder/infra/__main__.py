"""A program in infra/ (Pulumi.yaml `main: infra/`) importing a sibling module."""

import naming
import pulumi
import pulumi_aws as aws

logs = aws.cloudwatch.LogGroup(f"{naming.PREFIX}-logs", retention_in_days=30)
pulumi.export("logGroup", logs.name)
