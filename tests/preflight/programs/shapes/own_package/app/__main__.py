"""A program that imports a package installed only in the project's virtualenv (Pulumi.yaml
`runtime.options.virtualenv: venv`); the test builds that environment."""

import pulumi
import pulumi_aws as aws
import shapes_naming

bucket = aws.s3.Bucket("data", bucket=shapes_naming.bucket_name("data"))
pulumi.export("bucket", bucket.bucket)
