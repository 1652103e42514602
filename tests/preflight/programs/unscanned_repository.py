"""A program that registers an unscanned repository: preflight must refuse it."""

import pulumi_aws as aws

aws.ecr.Repository("unscanned", image_scanning_configuration={"scan_on_push": False}, image_tag_mutability="IMMUTABLE")
