"""A program that logs an error without raising: the engine would still fail the update."""

import pulumi

pulumi.log.warn("bucket names are auto-generated")
pulumi.log.error("no certificate for the HTTPS listener")
