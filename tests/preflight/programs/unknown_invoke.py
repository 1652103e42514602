"""A program calling a data source preflight has no mock answer for."""

import pulumi_aws as aws

aws.rds.get_engine_version(engine="postgres")
