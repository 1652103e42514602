"""A program with an ECR Public repository: preflight must refuse it."""

import pulumi_aws as aws

aws.ecrpublic.Repository("public", repository_name="shipshape-public")
