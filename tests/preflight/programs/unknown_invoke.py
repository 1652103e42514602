"""A program reading a data source preflight has no answer for, in both forms: the run goes on, what
depends on the output form is unknown, the plain form's fields are unset, and the data source is named."""

import pulumi
import pulumi_aws as aws

plain = aws.rds.get_engine_version(engine="postgres")
lazy = aws.rds.get_engine_version_output(engine="postgres")
aws.s3.Bucket("tagged", tags={"engine": lazy.version, "plain": plain.version or "unset"})
pulumi.export("engineVersion", lazy.version)
